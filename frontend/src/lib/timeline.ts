/** Gantt rows of a run's node executions: offsets and widths as fractions of the run's span. */
import type { NodeRunRecord, NodeState } from "./types";

export interface GanttBar {
  node: string;
  iteration: string;
  attempt: number;
  status: NodeState;
  start: number;
  width: number;
  durationMs: number;
}

export interface Gantt {
  bars: GanttBar[];
  spanMs: number;
  startedAt: number | null;
}

export function buildGantt(records: readonly NodeRunRecord[]): Gantt {
  const timed = records.filter((r) => r.started_at);
  if (!timed.length) return { bars: [], spanMs: 0, startedAt: null };
  const starts = timed.map((r) => Date.parse(r.started_at as string));
  const ends = timed.map((r, i) => (r.finished_at ? Date.parse(r.finished_at) : starts[i]));
  const t0 = Math.min(...starts);
  const span = Math.max(1, Math.max(...ends) - t0);
  const bars = timed.map((r, i) => ({
    node: r.node_id,
    iteration: r.iteration ?? "",
    attempt: r.attempt,
    status: r.status,
    start: (starts[i] - t0) / span,
    width: Math.max((ends[i] - starts[i]) / span, 0.004),
    durationMs: r.duration_ms ?? ends[i] - starts[i],
  }));
  bars.sort((a, b) => a.start - b.start || a.node.localeCompare(b.node));
  return { bars, spanMs: span, startedAt: t0 };
}

/** "850 ms", "2.4 s", "1 min 5 s": a duration at the precision people read. */
export function formatDuration(ms: number | null | undefined): string {
  if (ms == null || !Number.isFinite(ms)) return "";
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(ms < 10_000 ? 1 : 0)} s`;
  const minutes = Math.floor(ms / 60_000);
  return `${minutes} min ${Math.round((ms % 60_000) / 1000)} s`;
}

/** `GET /api/runs/{id}/timeline/` (see workflows/observability/timeline.py for the definitions). */
export interface RunTimeline {
  run: number;
  status: string;
  wall_ms: number;
  busy_ms: number;
  max_parallel_used: number;
  efficiency: number | null;
  critical_path: string[];
  critical_path_ms: number;
  spans: { node: string; iteration: string; attempt: number; status: NodeState; offset_ms: number; duration_ms: number }[];
}

/** Whether a Gantt bar lies on the critical path: top-level executions of a path node only. */
export function isCritical(bar: Pick<GanttBar, "node" | "iteration">, path: ReadonlySet<string>): boolean {
  return !bar.iteration && path.has(bar.node);
}

/** "Critical path: a → b → d (6.5 s) · parallel efficiency 58%", or null with no path yet. */
export function timelineSummary(timeline: RunTimeline | null): string | null {
  if (!timeline || !timeline.critical_path.length) return null;
  const efficiency = timeline.efficiency === null ? "n/a" : `${Math.round(timeline.efficiency * 100)}%`;
  const path = timeline.critical_path.join(" → ");
  return `Critical path: ${path} (${formatDuration(timeline.critical_path_ms)}) · parallel efficiency ${efficiency}`;
}
