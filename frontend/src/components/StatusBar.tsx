/** The run status bar: run state, counts per node state (icon + colour + number), elapsed time,
 * model tokens (and their cost when the server prices them). */
import { useEffect, useState } from "react";
import { countByState, runTokenLabel } from "../lib/runEvents";
import { NODE_STATE_LOOK } from "../lib/status";
import { formatDuration } from "../lib/timeline";
import { NODE_STATES, type TokenUsage } from "../lib/types";
import { useCanvas } from "../store/context";
import { StatusBadge } from "./StatusBadge";

/** `reportUsage`: the run read's totals (with `cost_usd`), for a run opened after it ended. */
export function StatusBar({ socket, reportUsage = null }: { socket: string; reportUsage?: TokenUsage | null }) {
  const { run, nodes, replaying } = useCanvas((s) => ({ run: s.run, nodes: s.nodes, replaying: s.replay !== null }));
  const nodeIds = nodes.map((n) => n.id);
  const now = useNow(run?.status === "running" || run?.status === "queued");
  if (!run) return null;
  const counts = countByState(run, nodeIds);
  const start = run.startedAt ? Date.parse(run.startedAt) : null;
  // a past moment of a run (the scrubber) has no "now": its elapsed time is not shown
  // a past moment counts the tokens spent up to it, not the run's final totals
  const tokens = runTokenLabel(run.tokens, replaying ? null : reportUsage);
  const end = run.finishedAt ? Date.parse(run.finishedAt) : replaying ? null : now;
  return (
    <div className="status-bar" data-testid="status-bar" data-run-status={run.status ?? "queued"} data-run-pauses={run.pauses}>
      <span>Run #{run.runId}</span>
      <StatusBadge status={run.status ?? "queued"} />
      {NODE_STATES.filter((st) => counts[st]).map((st) => (
        <span key={st} className="count" style={{ "--state": NODE_STATE_LOOK[st].color } as React.CSSProperties} data-count-state={st}>
          <span aria-hidden="true">{NODE_STATE_LOOK[st].icon}</span> {counts[st]} {NODE_STATE_LOOK[st].label}
        </span>
      ))}
      <span className="spacer" />
      {tokens && (
        <span className="muted" data-testid="run-tokens" title="model tokens of this run's llm nodes">
          {tokens}
        </span>
      )}
      {start !== null && end !== null && <span className="muted">elapsed {formatDuration(end - start)}</span>}
      <span className={`socket socket-${socket}`} title="live connection">
        ● {socket === "open" ? "live" : socket === "done" ? "finished" : socket}
      </span>
    </div>
  );
}

function useNow(ticking: boolean): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    if (!ticking) return;
    const timer = window.setInterval(() => setNow(Date.now()), 500);
    return () => window.clearInterval(timer);
  }, [ticking]);
  return now;
}
