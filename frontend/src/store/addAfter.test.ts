import { describe, expect, it } from "vitest";
import type { NodeTypeInfo, SavedWorkflow } from "../lib/types";
import { createCanvasStore } from "./canvasStore";

const saved: SavedWorkflow = {
  id: 7,
  revision: 3,
  valid: true,
  errors: [],
  version: 1,
  name: "Orders",
  nodes: [{ id: "check", type: "condition", config: { expression: "1 > 0" }, position: { x: 0, y: 0 } }],
  edges: [],
};

const types = [
  { type: "condition", label: "Condition", inputs: ["in"], outputs: ["true", "false"], config_schema: { type: "object" } },
  { type: "delay", label: "Delay", inputs: ["in"], outputs: ["out"], config_schema: { type: "object" } },
] as unknown as NodeTypeInfo[];

function loaded() {
  const store = createCanvasStore();
  store.getState().setNodeTypes(types);
  store.getState().load(saved);
  return store;
}

describe("a node added from an output handle's +", () => {
  it("is placed to the right and connected from that handle, in one undo step", () => {
    const store = loaded();
    store.getState().openPicker({ node: "check", handle: "false", x: 0, y: 0 });
    const id = store.getState().addConnectedNode("delay", "check", "false");
    expect(id).toBe("delay");
    expect(store.getState().picker).toBeNull();
    const added = store.getState().nodes.find((n) => n.id === id)!;
    expect(added.position.x).toBeGreaterThan(200);
    expect(added.position.y).toBeGreaterThan(0); // the lower of two handles
    expect(store.getState().document().edges).toEqual([{ id: "e1", source: "check", target: "delay", source_handle: "false" }]);
    store.getState().undo();
    expect(
      store
        .getState()
        .document()
        .nodes.map((n) => n.id),
    ).toEqual(["check"]);
    expect(store.getState().document().edges).toEqual([]);
  });
});

describe("sticky notes in the store", () => {
  it("are part of the document and each edit is an undo step (typing in one note is one)", () => {
    const store = loaded();
    store.getState().setNotes([{ id: "note_1", text: "", position: { x: 0, y: 0 } }]);
    store.getState().setNotes([{ id: "note_1", text: "h", position: { x: 0, y: 0 } }], "text:note_1");
    store.getState().setNotes([{ id: "note_1", text: "hi", position: { x: 0, y: 0 } }], "text:note_1");
    expect(store.getState().document().notes).toEqual([{ id: "note_1", text: "hi", position: { x: 0, y: 0 } }]);
    store.getState().undo();
    expect(store.getState().document().notes).toEqual([{ id: "note_1", text: "", position: { x: 0, y: 0 } }]);
    store.getState().undo();
    expect(store.getState().document().notes).toBeUndefined();
  });
});
