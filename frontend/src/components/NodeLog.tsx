/** The inspector's LOG section: a node's `node.log` lines per attempt (of the iteration
 * picked), live or at the moment the scrubber shows; and the run's own lines. */
import { useState } from "react";
import { lastLines, logClock, logGroups } from "../lib/logs";
import type { LogLine } from "../lib/runEvents";
import { useCanvas } from "../store/context";

const NO_LINES: LogLine[] = [];
const SHOWN = 300;

export function NodeLog({ nodeId, iteration }: { nodeId: string; iteration: string | null }) {
  const lines = useCanvas((s) => s.run?.logLines?.[nodeId] ?? NO_LINES);
  const [all, setAll] = useState(false);
  const every = logGroups(lines, iteration);
  const attempts = new Set(every.map((g) => g.attempt)).size;
  const { groups, hidden } = all ? { groups: every, hidden: 0 } : lastLines(every, SHOWN);
  return (
    <section data-testid="node-log">
      <h4>Log</h4>
      {groups.length === 0 && <p className="muted small">No log lines.</p>}
      {hidden > 0 && (
        <button className="small" data-testid="log-show-all" onClick={() => setAll(true)}>
          Show {hidden} earlier lines
        </button>
      )}
      {groups.map((group, i) => (
        <div key={i} className="log-group" data-attempt={group.attempt ?? ""}>
          {attempts > 1 && group.attempt !== null && <div className="muted small">Attempt {group.attempt}</div>}
          <pre className="log">
            {group.lines.map((line, j) => (
              <div key={j} data-testid="log-line">
                {line.at && <span className="muted">{logClock(line.at)} </span>}
                {line.iteration && iteration === null && <span className="muted">[{line.iteration}] </span>}
                {line.message}
              </div>
            ))}
          </pre>
        </div>
      ))}
    </section>
  );
}

/** The run's own log lines (runtime warnings), shown when no node is inspected. */
export function RunLog() {
  const lines = useCanvas((s) => s.run?.logLines?.[""] ?? NO_LINES);
  if (!lines.length) return null;
  return (
    <section className="panel-section" data-testid="run-log">
      <h4>Run log</h4>
      <pre className="log">
        {lines.map((line, j) => (
          <div key={j}>
            {line.at && <span className="muted">{logClock(line.at)} </span>}
            {line.message}
          </div>
        ))}
      </pre>
    </section>
  );
}
