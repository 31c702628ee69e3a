/** A timeline of a run's node executions (one bar per attempt), coloured by final state. */
import { useEffect, useMemo, useState } from "react";
import { NODE_STATE_LOOK } from "../lib/status";
import { buildGantt, formatDuration, isCritical, isRunning } from "../lib/timeline";
import type { NodeRunRecord } from "../lib/types";
import { useCanvas } from "../store/context";

const NO_PATH: ReadonlySet<string> = new Set();

interface Props {
  records: NodeRunRecord[];
  onPick(node: string): void;
  /** Nodes on the run's critical path (highlighted) and a one-line summary of it. */
  critical?: ReadonlySet<string>;
  summary?: string | null;
  /** The run's own start: executions from before it (a rerun's carried nodes) stay off the axis. */
  runStartedAt?: string | null;
}

export function Gantt({ records, onPick, critical = NO_PATH, summary = null, runStartedAt = null }: Props) {
  const now = useNowWhile(useMemo(() => records.some(isRunning), [records]));
  const gantt = useMemo(() => buildGantt(records, runStartedAt, now), [records, runStartedAt, now]);
  // bars read as the nodes' names (their ids in the tooltip); one string so renders stay cheap
  const namesKey = useCanvas((s) => JSON.stringify(s.nodes.filter((n) => n.data.node.name).map((n) => [n.id, n.data.node.name])));
  const names = useMemo(() => new Map<string, string>(JSON.parse(namesKey)), [namesKey]);
  if (!gantt.bars.length) return <p className="muted small">No node has started yet.</p>;
  return (
    <div className="gantt" data-testid="gantt">
      {summary && (
        <p className="gantt-summary" data-testid="critical-path">
          {summary}
        </p>
      )}
      <div className="gantt-scale">
        <span>0</span>
        <span>{formatDuration(gantt.spanMs / 2)}</span>
        <span>{formatDuration(gantt.spanMs)}</span>
      </div>
      {gantt.bars.map((bar) => {
        const look = NODE_STATE_LOOK[bar.status] ?? NODE_STATE_LOOK.pending;
        const onPath = isCritical(bar, critical);
        const label = `${names.get(bar.node) || bar.node}${bar.iteration ? ` [${bar.iteration}]` : ""}${bar.attempt > 1 ? ` #${bar.attempt}` : ""}`;
        return (
          <button
            key={`${bar.node}-${bar.iteration}-${bar.attempt}`}
            className={`gantt-row${onPath ? " critical" : ""}`}
            data-critical={onPath}
            onClick={() => onPick(bar.node)}
            title={`${label} (${bar.node}): ${look.label}, ${formatDuration(bar.durationMs)}${onPath ? " (critical path)" : ""}`}
          >
            <span className="gantt-label">{label}</span>
            <span className="gantt-track" data-carried={bar.carried ? "true" : undefined}>
              {bar.carried ? (
                <span className="muted small">from the run it reruns</span>
              ) : (
                <span
                  className="gantt-bar"
                  data-running={bar.running ? "true" : undefined}
                  style={{ left: `${bar.start * 100}%`, width: `${bar.width * 100}%`, background: look.color }}
                />
              )}
            </span>
            <span className="gantt-duration">
              {look.icon} {bar.carried ? "reused" : formatDuration(bar.durationMs)}
            </span>
          </button>
        );
      })}
    </div>
  );
}

/** Time, moving every TICK_MS while `moving` (a node is running: its bar grows), else null. */
function useNowWhile(moving: boolean): number | null {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    if (!moving) return;
    const timer = window.setInterval(() => setNow(Date.now()), TICK_MS);
    return () => window.clearInterval(timer);
  }, [moving]);
  return moving ? now : null;
}

const TICK_MS = 250;
