/**
 * Sub-workflow runs in a run view: which child runs a `subworkflow` node started (per iteration
 * and attempt), and how a run names the run that started it.
 */
import { compareIterationPaths, iterationLabel } from "./iterations";
import type { ChildRunRef, RunReport } from "./types";

/**
 * The child runs `nodeId` started, oldest first; for a body node only those of `iteration`
 * (null: every iteration).
 */
export function childRunsOf(report: RunReport | null, nodeId: string, iteration: string | null = null): ChildRunRef[] {
  const refs = (report?.child_runs ?? []).filter((c) => c.node === nodeId && (iteration === null || (c.iteration ?? "") === iteration));
  return [...refs].sort((a, b) => compareIterationPaths(a.iteration ?? "", b.iteration ?? "") || a.attempt - b.attempt || a.id - b.id);
}

/** How a child run is listed: `run #12`, with its iteration and attempt when they tell it apart. */
export function childRunLabel(ref: ChildRunRef): string {
  const parts = [`run #${ref.id}`];
  if (ref.iteration) parts.push(iterationLabel(ref.iteration));
  if (ref.attempt > 1) parts.push(`attempt ${ref.attempt}`);
  return parts.join(" · ");
}

/** The run that started this one, or null for a run started on its own. */
export function parentRunOf(report: RunReport | null): { runId: number; node: string | null } | null {
  if (!report || report.parent_run == null) return null;
  return { runId: report.parent_run, node: report.parent_node ?? null };
}
