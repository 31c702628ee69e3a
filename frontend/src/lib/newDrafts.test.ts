import { describe, expect, it } from "vitest";
import { rememberNewDraft, untouchedNewDrafts } from "./newDrafts";
import type { WorkflowSummary } from "./types";

function memory() {
  const items = new Map<string, string>();
  return {
    getItem: (k: string) => items.get(k) ?? null,
    setItem: (k: string, v: string) => void items.set(k, v),
    removeItem: (k: string) => void items.delete(k),
  };
}
const W = (id: number, revision: number, last: WorkflowSummary["last_run_status"] = null): WorkflowSummary => ({
  id,
  name: "Untitled workflow",
  revision,
  valid: true,
  last_run_status: last,
});

describe("new drafts", () => {
  it("discards only the untouched workflows this tab created, once", () => {
    const storage = memory();
    rememberNewDraft(1, storage);
    rememberNewDraft(2, storage);
    rememberNewDraft(3, storage);
    const list = [W(1, 1), W(2, 2), W(3, 1, "succeeded"), W(4, 1)];
    expect(untouchedNewDrafts(list, storage)).toEqual([1]);
    expect(untouchedNewDrafts(list, storage)).toEqual([]);
  });
});
