/** Which branch a branching node took, in words, for the inspector (issue 17). */
import type { NodeState } from "./types";

const BRANCHING = new Set(["condition", "router"]);

/** "true branch" / "case_1 branch" for a condition or router that ended with handles; else null. */
export function takenBranch(
  type: string | undefined,
  status: NodeState | undefined,
  handles: readonly string[] | null | undefined,
): string | null {
  if (!type || !BRANCHING.has(type) || !handles?.length) return null;
  if (status !== "succeeded" && status !== "reused") return null;
  const names = handles.filter((h) => h !== "error");
  if (!names.length) return null;
  return `${names.join(", ")} branch${names.length > 1 ? "es" : ""}`;
}
