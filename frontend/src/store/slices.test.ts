import { describe, expect, it } from "vitest";
import { createCanvasStore } from "./canvasStore";
import { createAccessSlice } from "./slices/access";
import { createApprovalsSlice } from "./slices/approvals";
import { createDocumentSlice } from "./slices/document";
import { createReplaySlice } from "./slices/replay";
import { createRunViewSlice } from "./slices/runView";
import type { CanvasStore } from "./types";

describe("the store is composed of its slices", () => {
  const noStore = [() => undefined, () => ({}) as CanvasStore, {} as never] as const;
  const slices = {
    document: createDocumentSlice,
    runView: createRunViewSlice,
    approvals: createApprovalsSlice,
    access: createAccessSlice,
    replay: createReplaySlice,
  };
  const keys = Object.fromEntries(Object.entries(slices).map(([name, create]) => [name, Object.keys(create(...noStore))]));

  it("whose fields and actions do not overlap (a later slice would silently replace one)", () => {
    const all = Object.values(keys).flat();
    expect(new Set(all).size).toBe(all.length);
  });

  it("and make the whole store", () => {
    expect(new Set(Object.keys(createCanvasStore().getState()))).toEqual(new Set(Object.values(keys).flat()));
  });

  it("a read-only workflow refuses a document edit through the access slice, with the reason", () => {
    const store = createCanvasStore();
    store.getState().setReadOnly("Shared with you by alice");
    expect(store.getState().addNode("delay", { x: 0, y: 0 })).toBe("");
    expect(store.getState().nodes).toEqual([]);
    expect(store.getState().notice).toEqual({ kind: "error", text: "Shared with you by alice" });
  });

  it("a decision the server took steps the approval flow and says so in the notice", () => {
    const store = createCanvasStore();
    store.getState().startRunView(7);
    const decision = { node: "ok", iteration: "M[0]", approved: false, key: "ok|M[0]|1", sentAt: 1 };
    store.getState().dispatchApproval({ type: "decided", decision });
    expect(store.getState().decidedApprovals).toEqual({ "ok|M[0]|1": false });
    expect(store.getState().notice).toEqual({ kind: "info", text: "Rejected M[0]: the run follows the rejected branch" });
  });
});

describe("problems", () => {
  it("the same problems again (the check after opening) change nothing, so nothing redraws", () => {
    const store = createCanvasStore();
    const problem = { code: "bad_config", message: "x: required", node: "a" };
    store.getState().setProblems([problem]);
    let changes = 0;
    const unsubscribe = store.subscribe(() => changes++);
    store.getState().setProblems([{ ...problem }]);
    expect(changes).toBe(0);
    store.getState().setProblems([]);
    expect(changes).toBe(1);
    expect(store.getState().problems).toEqual([]);
    unsubscribe();
  });
});
