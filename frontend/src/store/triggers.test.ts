import { describe, expect, it } from "vitest";
import { needsReload, triggerStore } from "./triggers";
import type { SavedWorkflow } from "../lib/types";

describe("the trigger store's reads", () => {
  it("is not read again for the revision the editor opened with, but after each save and for another workflow", () => {
    triggerStore.getState().show({ id: 4, revision: 7, active: true, triggers: [] } as unknown as SavedWorkflow);
    const shown = triggerStore.getState();
    expect(shown.active).toBe(true);
    expect(needsReload(shown, 4, 7)).toBe(false);
    expect(needsReload(shown, 4, 8)).toBe(true);
    expect(needsReload(shown, 5, 7)).toBe(true);
    expect(needsReload(shown, 4, 0)).toBe(false);
  });
});
