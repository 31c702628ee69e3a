/** What "Retry" of a failed run restarts from (POST /api/runs/{id}/rerun/ {from_node}). */
import { NODE_ID_PATTERN } from "./graph";
import type { RunReport } from "./types";

/**
 * The run's one failed workflow node: a retry re-runs it and what follows, reusing the
 * outputs upstream of it. Undefined (re-run everything) when none or several failed, or the
 * failure is only an iteration's (`M[2]/body`).
 */
export function retryFrom(report: Pick<RunReport, "nodes">): string | undefined {
  const failed = Object.entries(report.nodes ?? {})
    .filter(([id, node]) => node.status === "failed" && NODE_ID_PATTERN.test(id))
    .map(([id]) => id);
  return failed.length === 1 ? failed[0] : undefined;
}
