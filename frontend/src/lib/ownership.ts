/**
 * Owned or shared (SPEC §6): a workflow belongs to its `owner`; others it is shared with see and
 * run it, and only the owner changes it (the server answers 403 `read_only` otherwise).
 */
import type { Problem } from "./types";

export interface Access {
  /** The current user may change it (rename, save, delete, share). */
  owned: boolean;
  /** Its owner, when the server names one. */
  owner: string | null;
}

/**
 * What the current user (`me`) may do with a workflow whose owner is `owner`. When either is
 * unknown (an older server, `/api/me/` failed) it counts as owned: the server still refuses a
 * change that is not allowed, and that refusal is shown (`readOnlyError`).
 */
export function workflowAccess(me: string | null | undefined, owner: string | null | undefined): Access {
  if (!owner) return { owned: true, owner: null };
  if (!me) return { owned: true, owner };
  return { owned: me === owner, owner };
}

/** The editor's banner, and the reason Save and editing are disabled. */
export function readOnlyReason(owner: string): string {
  return `Shared with you by ${owner} — you can run it and see its runs; only ${owner} can change it`;
}

/** The list's badge for a workflow someone else owns. */
export function sharedByLabel(access: Access): string | null {
  return access.owned || !access.owner ? null : `shared by ${access.owner}`;
}

/** The message of a 403 `read_only` refusal (shown as it is), else null. */
export function readOnlyError(error: unknown): string | null {
  const errors = (error as { status?: number; errors?: Problem[] } | null)?.errors;
  const refusal = Array.isArray(errors) ? errors.find((e) => e.code === "read_only") : undefined;
  return refusal ? refusal.message : null;
}
