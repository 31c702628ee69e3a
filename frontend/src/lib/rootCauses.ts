import type { NodeError } from "./types";

/** One root cause of a failed run (`root_causes` of the run report, SPEC §8). */
export interface RootCause {
  node: string | null;
  iteration?: string;
  iterations?: string[];
  error: NodeError;
  affected: string[];
  failures: number;
}

/** What the run summary says of a cause: where it failed, why, and what it took down. */
export function rootCauseText(cause: RootCause): { where: string; why: string; tookDown: string } {
  let where = cause.node ?? "the run";
  if (cause.iteration) {
    const more = (cause.iterations?.length ?? 1) - 1;
    where += ` in ${cause.iteration}` + (more > 0 ? ` (and ${more} more)` : "");
  }
  const count = cause.affected.length;
  const named = cause.affected.slice(0, 5).join(", ") + (count > 5 ? `, … ${count - 5} more` : "");
  return {
    where,
    why: cause.error?.message ?? "failed",
    tookDown: count ? `took down ${count} node${count > 1 ? "s" : ""}: ${named}` : "",
  };
}

/** The run summary's note on reused work: "3 nodes reused, 4.5 s saved"; "" when none was. */
export function reuseText(reuse: { nodes: number; saved_ms: number } | undefined): string {
  if (!reuse?.nodes) return "";
  const seconds = reuse.saved_ms / 1000;
  const saved = seconds >= 10 ? seconds.toFixed(0) : seconds.toFixed(1);
  return `${reuse.nodes} node${reuse.nodes > 1 ? "s" : ""} reused, ${saved} s saved`;
}
