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
  /** Carried over from an earlier run (a rerun's reused node): it took no time in this run. */
  carried?: boolean;
  /** Still running: it ends at the `now` the Gantt was built with. */
  running?: boolean;
}

export interface Gantt {
  bars: GanttBar[];
  spanMs: number;
  startedAt: number | null;
}

/**
 * `runStartedAt`: the run's own start. A rerun carries the nodes before its `from_node` over
 * from the run it reruns, with their old times: they are listed (`carried`) but kept off the
 * axis, which spans this run's own executions only (else a 3 s rerun reads "1 min 17 s").
 */
export function buildGantt(records: readonly NodeRunRecord[], runStartedAt: string | null = null, now: number | null = null): Gantt {
  const timed = records.filter((r) => r.started_at);
  const runStart = runStartedAt ? Date.parse(runStartedAt) : NaN;
  const isCarried = (r: NodeRunRecord) => !Number.isNaN(runStart) && Date.parse(r.started_at as string) < runStart - CLOCK_SLACK_MS;
  const own = timed.filter((r) => !isCarried(r));
  const carried = timed.filter(isCarried);
  if (!own.length && !carried.length) return { bars: [], spanMs: 0, startedAt: null };
  const starts = own.map((r) => Date.parse(r.started_at as string));
  const ends = own.map((r, i) =>
    r.finished_at ? Date.parse(r.finished_at) : isRunning(r) && now !== null ? Math.max(now, starts[i]) : starts[i],
  );
  const t0 = starts.length ? Math.min(...starts) : runStart;
  const span = Math.max(1, Math.max(t0, ...ends) - t0);
  const bars: GanttBar[] = own.map((r, i) => ({
    node: r.node_id,
    iteration: r.iteration ?? "",
    attempt: r.attempt,
    status: r.status,
    start: (starts[i] - t0) / span,
    width: Math.max((ends[i] - starts[i]) / span, 0.004),
    durationMs: r.duration_ms ?? ends[i] - starts[i],
    running: isRunning(r) || undefined,
  }));
  bars.sort((a, b) => a.start - b.start || a.node.localeCompare(b.node));
  const kept = carried.map((r) => ({
    node: r.node_id,
    iteration: r.iteration ?? "",
    attempt: r.attempt,
    status: r.status,
    start: 0,
    width: 0,
    durationMs: 0,
    carried: true,
  }));
  return { bars: [...kept, ...bars], spanMs: span, startedAt: t0 };
}

/** An attempt still under way: its bar grows to "now" (`buildGantt`'s `now`) until it ends. */
export function isRunning(record: Pick<NodeRunRecord, "status" | "finished_at">): boolean {
  return record.status === "running" && !record.finished_at;
}

/** Clocks of the API and the worker may differ a little: a start this much before the run's is its own. */
const CLOCK_SLACK_MS = 50;

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
