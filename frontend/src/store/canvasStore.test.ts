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
  nodes: [
    { id: "fetch", type: "http", config: { url: "x" }, position: { x: 0, y: 0 } },
    { id: "check", type: "condition", config: { expression: "fetch.status == 200" }, position: { x: 300, y: 0 } },
  ],
  edges: [{ id: "e1", source: "fetch", target: "check" }],
};

const delayType = {
  type: "delay",
  label: "Delay",
  config_schema: { type: "object", required: ["seconds"], properties: { seconds: { type: "number", default: 1 } } },
} as unknown as NodeTypeInfo;

function loaded() {
  const store = createCanvasStore();
  store.getState().setNodeTypes([delayType]);
  store.getState().load(saved);
  return store;
}

const connection = (source: string, target: string, sourceHandle = "out") => ({ source, target, sourceHandle, targetHandle: "in" });

describe("canvas store", () => {
  it("loads a saved workflow clean and gives the same document back", () => {
    const store = loaded();
    const { id: _id, revision: _r, valid: _v, errors: _e, ...doc } = saved;
    expect(store.getState().dirty).toBe(false);
    expect(store.getState().revision).toBe(3);
    expect(store.getState().document()).toEqual(doc);
  });

  it("adds a node with an id from its type and the schema's required defaults", () => {
    const store = loaded();
    expect(store.getState().addNode("delay", { x: 10, y: 20 })).toBe("delay");
    expect(store.getState().addNode("delay", { x: 10, y: 90 })).toBe("delay_2");
    const added = store.getState().document().nodes.find((n) => n.id === "delay_2");
    expect(added).toMatchObject({ type: "delay", name: "Delay", config: { seconds: 1 }, position: { x: 10, y: 90 } });
    expect(store.getState().dirty).toBe(true);
  });

  it("refuses a connection that closes a cycle and says why", () => {
    const store = loaded();
    expect(store.getState().connect(connection("check", "fetch", "true"))).toBe(false);
    expect(store.getState().notice?.text).toBe("Cannot connect: this edge would make a cycle: check -> fetch -> check");
    expect(store.getState().edges).toHaveLength(1);
    expect(store.getState().dirty).toBe(false);
  });

  it("connects from a named handle into the document", () => {
    const store = loaded();
    store.getState().addNode("delay", { x: 600, y: 0 });
    expect(store.getState().connect(connection("check", "delay", "true"))).toBe(true);
    expect(store.getState().document().edges[1]).toEqual({ id: "e2", source: "check", target: "delay", source_handle: "true" });
  });

  it("renames a node and its edges, refusing a bad or taken id", () => {
    const store = loaded();
    expect(store.getState().renameNode("fetch", "Fetch!")).toMatch(/lowercase letter/);
    expect(store.getState().renameNode("fetch", "check")).toBe('another node is already called "check"');
    expect(store.getState().renameNode("fetch", "load")).toBeNull();
    const doc = store.getState().document();
    expect(doc.nodes.map((n) => n.id)).toEqual(["load", "check"]);
    expect(doc.edges[0]).toMatchObject({ source: "load", target: "check" });
  });

  it("deletes the selection with its edges, and undo/redo walk the change back and forth", () => {
    const store = loaded();
    store.getState().selectNode("fetch");
    store.getState().deleteSelected();
    expect(store.getState().document().nodes.map((n) => n.id)).toEqual(["check"]);
    expect(store.getState().edges).toHaveLength(0);
    store.getState().undo();
    expect(store.getState().document().edges).toHaveLength(1);
    store.getState().redo();
    expect(store.getState().document().nodes.map((n) => n.id)).toEqual(["check"]);
  });

  it("coalesces typing in one field into one undo step", () => {
    const store = loaded();
    for (const url of ["h", "ht", "htt"]) store.getState().updateNode("fetch", { config: { url } }, "config.url");
    store.getState().undo();
    expect(store.getState().document().nodes[0].config).toEqual({ url: "x" });
  });

  it("pastes copied nodes under fresh ids with the edges between them", () => {
    const store = loaded();
    store.getState().onNodesChange([
      { type: "select", id: "fetch", selected: true },
      { type: "select", id: "check", selected: true },
    ]);
    store.getState().copySelection();
    store.getState().paste();
    const doc = store.getState().document();
    expect(doc.nodes.map((n) => n.id)).toEqual(["fetch", "check", "fetch_2", "check_2"]);
    expect(doc.edges.map((e) => [e.id, e.source, e.target])).toEqual([
      ["e1", "fetch", "check"],
      ["e2", "fetch_2", "check_2"],
    ]);
  });

  it("marks the document saved with the server's revision and problems", () => {
    const store = loaded();
    store.getState().updateMeta({ name: "Renamed" });
    expect(store.getState().dirty).toBe(true);
    store.getState().markSaved({ ...saved, revision: 4, errors: [{ code: "unreachable", message: "m", severity: "warning" }] });
    expect(store.getState().dirty).toBe(false);
    expect(store.getState().revision).toBe(4);
    expect(store.getState().problems).toHaveLength(1);
  });

  it("shows nodes a running graph grew, and drops them from the document after the run", () => {
    const store = loaded();
    store.getState().startRunView(5);
    store.getState().applyEvents([
      {
        seq: 1,
        run: 5,
        type: "graph.changed",
        nodes: [{ id: "extra", type: "transform" }],
        edges: [{ id: "gx", source: "check", source_handle: "true", target: "extra" }],
      },
    ]);
    expect(store.getState().nodes.map((n) => n.id)).toEqual(["fetch", "check", "extra"]);
    expect(store.getState().edges.map((e) => e.id)).toEqual(["e1", "gx"]);
    store.getState().closeRunView();
    expect(store.getState().document().nodes.map((n) => n.id)).toEqual(["fetch", "check"]);
    expect(store.getState().edges.map((e) => e.id)).toEqual(["e1"]);
  });

  it("shows a run's events and forgets them when the run view closes", () => {
    const store = loaded();
    store.getState().startRunView(5);
    store.getState().applyEvents([{ seq: 1, run: 5, type: "node.status", node: "fetch", status: "running" }]);
    expect(store.getState().run?.nodes.fetch.status).toBe("running");
    store.getState().closeRunView();
    expect(store.getState().run).toBeNull();
  });
});
