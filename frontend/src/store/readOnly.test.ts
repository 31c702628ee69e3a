import { describe, expect, it } from "vitest";
import { readOnlyReason } from "../lib/ownership";
import type { SavedWorkflow } from "../lib/types";
import { createCanvasStore } from "./canvasStore";

const shared: SavedWorkflow = {
  id: 5,
  revision: 2,
  valid: true,
  errors: [],
  owner: "alice",
  version: 1,
  name: "Shared",
  nodes: [
    { id: "start", type: "start", position: { x: 0, y: 0 } },
    { id: "fetch", type: "http", config: { url: "x" }, position: { x: 300, y: 0 } },
    { id: "check", type: "condition", config: { expression: "1 < 2" }, position: { x: 600, y: 0 } },
  ],
  edges: [{ id: "e1", source: "start", target: "fetch" }],
};

const reason = readOnlyReason("alice");

function readOnly() {
  const store = createCanvasStore();
  store.getState().setReadOnly(reason);
  store.getState().load(shared);
  return store;
}

describe("a read-only (shared) workflow in the store", () => {
  it("keeps the owner out of the document it would send", () => {
    const store = readOnly();
    expect(store.getState().owner).toBe("alice");
    expect(store.getState().document()).not.toHaveProperty("owner");
  });

  it("refuses every edit, with the reason as the notice, and stays clean", () => {
    const store = readOnly();
    const before = store.getState().document();
    const s = () => store.getState();
    expect(s().addNode("delay", { x: 10, y: 10 })).toBe("");
    expect(s().notice).toEqual({ kind: "error", text: reason });
    s().notify(null);
    expect(s().connect({ source: "fetch", target: "check", sourceHandle: "out", targetHandle: "in" })).toBe(false);
    expect(s().notice?.text).toBe(reason);
    s().updateNode("fetch", { name: "changed" });
    s().updateMeta({ name: "renamed" });
    expect(s().renameNode("fetch", "get")).toBe(reason);
    s().selectNode("fetch");
    s().deleteSelected();
    s().copySelection();
    s().paste();
    s().layout();
    s().beginDrag();
    s().dropNodes(["fetch"]);
    s().undo();
    expect(s().document()).toEqual(before);
    expect(s().dirty).toBe(false);
    expect(s().history.past).toHaveLength(0);
  });

  it("applies selection and measurements from React Flow, not moves, resizes or removals", () => {
    const store = readOnly();
    const s = () => store.getState();
    const before = s().document();
    s().onNodesChange([
      { type: "position", id: "fetch", position: { x: 999, y: 999 }, dragging: false },
      { type: "remove", id: "check" },
      { type: "dimensions", id: "fetch", dimensions: { width: 500, height: 500 }, resizing: false },
      { type: "select", id: "check", selected: true },
      { type: "dimensions", id: "start", dimensions: { width: 220, height: 80 } },
    ]);
    s().onEdgesChange([{ type: "remove", id: "e1" }]);
    s().onEdgesChange([{ type: "select", id: "e1", selected: true }]);
    expect(s().nodes.find((n) => n.id === "check")?.selected).toBe(true);
    expect(s().nodes.find((n) => n.id === "start")?.measured).toEqual({ width: 220, height: 80 });
    expect(s().edges.find((e) => e.id === "e1")?.selected).toBe(true);
    expect(s().document()).toEqual(before);
    expect(s().dirty).toBe(false);
  });

  it("still shows runs: the run view opens and takes events", () => {
    const store = readOnly();
    store.getState().startRunView(12);
    store.getState().applyEvents([{ seq: 1, type: "node.status", node: "start", status: "running", ts: "2024-01-01T00:00:00Z" } as never]);
    expect(store.getState().run?.runId).toBe(12);
  });

  it("lays out a document without positions on load (for showing, not an edit)", () => {
    const store = createCanvasStore();
    store.getState().setReadOnly(reason);
    store.getState().load({ ...shared, nodes: shared.nodes.map(({ position: _p, ...n }) => n) } as unknown as SavedWorkflow, true);
    expect(store.getState().dirty).toBe(false);
    expect(new Set(store.getState().nodes.map((n) => `${n.position.x},${n.position.y}`)).size).toBe(3);
  });

  it("edits again once it is not read-only", () => {
    const store = readOnly();
    store.getState().setReadOnly(null);
    store.getState().updateMeta({ name: "mine now" });
    expect(store.getState().document().name).toBe("mine now");
    expect(store.getState().dirty).toBe(true);
  });
});
