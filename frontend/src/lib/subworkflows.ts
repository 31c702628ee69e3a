/**
 * Sub-workflow runs in a run view: which child runs a `subworkflow` node started (per iteration
 * and attempt), how a run names the run that started it, and which child run a waiting node
 * waits for. The run API names each run's workflow (`child_runs[].workflow`,
 * `parent_workflow`), so a link needs no further request.
 */
import { compareIterationPaths, iterationLabel, iterationRecord } from "./iterations";
import { TERMINAL_RUN_STATES, type ChildRunRef, type RunReport } from "./types";

/** A run on its workflow's canvas: where a link to it goes (`workflow` null: not known). */
export interface RunTarget {
  runId: number;
  workflow: number | null;
}

/**
 * The child runs `nodeId` started, oldest first; for a body node only those of `iteration`
 * (null: every iteration).
 */
export function childRunsOf(report: RunReport | null, nodeId: string, iteration: string | null = null): ChildRunRef[] {
  const refs = (report?.child_runs ?? []).filter(
    (c) =>
      c.node === nodeId && (iteration === null || (c.iteration ?? "") === iteration || isToolCall(c.iteration ?? "", nodeId, iteration)),
  );
  return [...refs].sort((a, b) => compareIterationPaths(a.iteration ?? "", b.iteration ?? "") || a.attempt - b.attempt || a.id - b.id);
}

/** An llm agent's tool call runs as a child of its node keyed `<node>[k]` (inside the node's
 * own iteration path when it is a body node). */
function isToolCall(path: string, nodeId: string, iteration: string): boolean {
  const prefix = iteration ? `${iteration}/${nodeId}[` : `${nodeId}[`;
  return path.startsWith(prefix) && !path.slice(prefix.length).includes("/");
}

/** How a child run is listed: `run #12`, with its iteration and attempt when they tell it apart. */
export function childRunLabel(ref: ChildRunRef): string {
  const parts = [`run #${ref.id}`];
  if (ref.iteration) parts.push(iterationLabel(ref.iteration));
  if (ref.attempt > 1) parts.push(`attempt ${ref.attempt}`);
  return parts.join(" · ");
}

/** A child run as a link target (its workflow from the report). */
export function childRunTarget(ref: ChildRunRef): RunTarget {
  return { runId: ref.id, workflow: ref.workflow ?? null };
}

/** The run that started this one (and its workflow), or null for a run started on its own. */
export function parentRunOf(report: RunReport | null): (RunTarget & { node: string | null }) | null {
  if (!report || report.parent_run == null) return null;
  return { runId: report.parent_run, workflow: report.parent_workflow ?? null, node: report.parent_node ?? null };
}

/**
 * The child run a waiting node waits for, or null when it waits for something else (an
 * approval, a breakpoint, a durable delay) or does not wait. Read from the node's latest attempt
 * (`node_runs[].wait` = `{kind: "subworkflow", data: {run}}`); a report whose records carry no
 * `wait` at all falls back to the node's latest child run while that run has not ended (a
 * `subworkflow` node parks only while its child is parked). `status` is the node's live state, which may be newer than the report.
 */
export function subworkflowWait(
  report: RunReport | null,
  nodeId: string,
  status: string | null | undefined,
  iteration = "",
): RunTarget | null {
  if (!report || status !== "waiting") return null;
  const record = iterationRecord(report.node_runs ?? [], nodeId, iteration);
  const refs = childRunsOf(report, nodeId, iteration);
  let runId: number | null = null;
  if (record && record.wait !== undefined) {
    if (record.wait?.kind !== "subworkflow") return null;
    const child = record.wait.data?.run;
    runId = typeof child === "number" ? child : null;
  }
  if (runId === null) {
    const attempt = record?.attempt;
    const own = attempt === undefined ? refs : refs.filter((r) => r.attempt === attempt);
    const latest = (own.length ? own : refs).at(-1);
    // an ended child no longer holds the node (it waits for something else: on_failure=pause)
    if (!latest || TERMINAL_RUN_STATES.has(latest.status)) return null;
    runId = latest.id;
  }
  const ref = refs.find((r) => r.id === runId) ?? report.child_runs?.find((r) => r.id === runId);
  return { runId, workflow: ref?.workflow ?? null };
}

/**
 * Every top-level node of the run that waits for a child run, by node id (for the canvas, which
 * reads node states live and this from the report). `states` are the live node states.
 */
export function subworkflowWaits(
  report: RunReport | null,
  states: Readonly<Record<string, { status: string } | undefined>>,
): Record<string, RunTarget> {
  const waits: Record<string, RunTarget> = {};
  if (!report) return waits;
  for (const [nodeId, state] of Object.entries(states)) {
    const wait = subworkflowWait(report, nodeId, state?.status);
    if (wait) waits[nodeId] = wait;
  }
  return waits;
}

/** The text of a node that waits for a child run. */
export function waitLabel(target: RunTarget): string {
  return `waiting for run #${target.runId}`;
}
