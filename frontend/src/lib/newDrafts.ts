/** "+ New workflow" leaves no orphan drafts: the list remembers the workflows it created in
 * this tab, and when it shows again, deletes those still untouched (their first revision, never
 * run) — someone who clicked "+ New" and came back without building anything. */
import type { WorkflowSummary } from "./types";

const KEY = "switchyard:new-drafts";

function stored(storage: Pick<Storage, "getItem">): number[] {
  try {
    const ids = JSON.parse(storage.getItem(KEY) ?? "[]");
    return Array.isArray(ids) ? ids.filter((id): id is number => typeof id === "number") : [];
  } catch {
    return [];
  }
}

export function rememberNewDraft(id: number, storage: Pick<Storage, "getItem" | "setItem"> = sessionStorage): void {
  storage.setItem(KEY, JSON.stringify([...stored(storage), id]));
}

/** The remembered workflows that are still untouched (to delete); forgets every remembered one. */
export function untouchedNewDrafts(
  workflows: readonly WorkflowSummary[],
  storage: Pick<Storage, "getItem" | "removeItem"> = sessionStorage,
): number[] {
  const remembered = new Set(stored(storage));
  storage.removeItem(KEY);
  return workflows.filter((w) => remembered.has(w.id) && w.revision === 1 && !(w.last_run_status ?? w.last_run?.status)).map((w) => w.id);
}
