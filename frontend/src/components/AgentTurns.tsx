/** The inspector's TURNS section of an agent `llm` node: each model turn as its own entry, the
 * workflows it asked for (with their arguments) linked to the child runs they started, and the
 * turn that answered. */
import { type AgentTurn, agentTurns, toolCallLabel } from "../lib/agentTurns";
import type { LogLine } from "../lib/runEvents";
import type { ChildRunRef } from "../lib/types";
import { useCanvas } from "../store/context";
import { childRunTarget } from "../lib/subworkflows";
import { RunLink } from "./RunLink";
import { StatusBadge } from "./StatusBadge";

export function AgentTurns({ turns }: { turns: AgentTurn[] }) {
  if (!turns.length) return null;
  return (
    <section data-testid="agent-turns">
      <h4>Turns</h4>
      <ol className="agent-turns">
        {turns.map((turn) => (
          <li key={turn.turn} data-testid="agent-turn" data-turn={turn.turn}>
            <span className="muted">turn {turn.turn}:</span>{" "}
            {turn.answered ? (
              "the model answered"
            ) : (
              <>
                the model asked for
                <ul>
                  {turn.calls.map((call, i) => (
                    <li key={i} data-testid="agent-tool-call">
                      <code>{toolCallLabel(call)}</code>
                      {call.child && (
                        <>
                          {" → "}
                          <RunLink target={childRunTarget(call.child)} testId="agent-child-link">
                            run #{call.child.id}
                          </RunLink>{" "}
                          <StatusBadge status={call.child.status} />
                        </>
                      )}
                      {call.error && <span className="error-text"> — {call.error}</span>}
                    </li>
                  ))}
                </ul>
              </>
            )}
          </li>
        ))}
      </ol>
    </section>
  );
}

const NO_LINES: LogLine[] = [];

/** An llm node's turns in the inspector: from its ended attempt's output, or live from its log
 * lines and the child runs of the attempt that runs. */
export function AgentTurnsOf({ nodeId, iteration, attempt, ended, output, childRuns }: TurnsOfProps) {
  const lines = useCanvas((st) => st.run?.logLines?.[nodeId] ?? NO_LINES);
  const mine = lines.filter(
    (l) => (l.iteration ?? null) === iteration && (attempt === null || l.attempt === null || l.attempt === attempt),
  );
  const children = childRuns.filter((c) => attempt === null || c.attempt === attempt);
  return <AgentTurns turns={agentTurns(ended ? output : undefined, mine, children)} />;
}

interface TurnsOfProps {
  nodeId: string;
  iteration: string | null;
  attempt: number | null;
  /** The attempt ended: its output says every turn. */
  ended: boolean;
  output: unknown;
  childRuns: ChildRunRef[];
}
