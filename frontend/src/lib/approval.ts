/** The pure parts of the approval dialog: its optional JSON data and what a refusal means. */

export type ParsedData = { ok: true; value: unknown } | { ok: false; error: string };

/** Empty means no data (null); anything else must be JSON. */
export function parseApprovalData(text: string): ParsedData {
  if (!text.trim()) return { ok: true, value: null };
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch (error) {
    return { ok: false, error: `not JSON: ${(error as Error).message}` };
  }
}

/**
 * What to tell the user when the approve request fails. A 409 means the decision was already
 * made (by someone else, in another tab) or the run no longer waits: nothing was changed.
 */
export function approvalFailure(error: { status?: number; message: string }): { conflict: boolean; text: string } {
  if (error.status === 409) {
    return { conflict: true, text: `Already decided — your decision was not applied. The server said: ${error.message}` };
  }
  return { conflict: false, text: `The decision failed: ${error.message}` };
}

/** The approval node a run waits at (the first one, in canvas order), or null. */
export function waitingApproval(
  nodes: readonly { id: string; type?: string }[],
  states: Readonly<Record<string, { status: string } | undefined>>,
): string | null {
  return nodes.find((n) => n.type === "approval" && states[n.id]?.status === "waiting")?.id ?? null;
}
