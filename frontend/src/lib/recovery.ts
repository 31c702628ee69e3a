/** A failed node's recovery (its `on_failure.run`), as the engine notes it in the node's error. */
import type { NodeError } from "./types";

export interface Recovery {
  workflow: string | number;
  run?: number;
  status: string;
  message?: string;
}

/** The recovery noted in a node's error, or null (none, or not of the expected shape). */
export function recoveryOf(error: NodeError | null | undefined): Recovery | null {
  const value = error?.recovery;
  if (!value || typeof value !== "object") return null;
  const recovery = value as Partial<Recovery>;
  if (typeof recovery.status !== "string" || recovery.workflow === undefined) return null;
  return recovery as Recovery;
}

/** One line for the inspector: `Recovery workflow cleanup (run #12): succeeded`. */
export function recoveryLine(recovery: Recovery): string {
  const run = recovery.run !== undefined ? ` (run #${recovery.run})` : "";
  const why = recovery.message ? ` — ${recovery.message}` : "";
  return `Recovery workflow ${recovery.workflow}${run}: ${recovery.status}${why}`;
}
