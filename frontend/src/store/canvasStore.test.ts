import { describe, expect, it } from "vitest";
import type { NodeTypeInfo, SavedWorkflow } from "../lib/types";
import { loopSchema } from "../lib/loopSchema.fixture";
import { defaultConfig } from "../lib/graphEdits";
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
  it("writes a resized frame's size into the document, kept through a rename and a reload", () => {
    const store = createCanvasStore();
    const doc = {
      ...saved,
      nodes: [
        { id: "each", type: "map", config: { items: [1] }, position: { x: 0, y: 0 }, size: { width: 500, height: 300 } },
        { id: "inner", type: "transform", parent: "each", position: { x: 30, y: 80 } },
      ],
      edges: [],
    };
    store.getState().load(doc);
    expect(store.getState().nodes[0]).toMatchObject({ width: 500, height: 300 });
    store
      .getState()
      .onNodesChange([{ id: "each", type: "dimensions", resizing: true, setAttributes: true, dimensions: { width: 640.4, height: 410 } }]);
    store
      .getState()
      .onNodesChange([
        { id: "each", type: "dimensions", resizing: false, setAttributes: true, dimensions: { width: 700.6, height: 420.2 } },
      ]);
    expect(store.getState().dirty).toBe(true);
    expect(store.getState().document().nodes[0].size).toEqual({ width: 701, height: 420 });
    expect(store.getState().renameNode("each", "per_item")).toBeNull();
    const renamed = store.getState().document();
    expect(renamed.nodes[0]).toMatchObject({ id: "per_item", size: { width: 701, height: 420 } });
    const again = createCanvasStore();
    again.getState().load({ ...saved, ...renamed, id: 7, revision: 4 });
    expect(again.getState().nodes[0]).toMatchObject({ width: 701, height: 420 });
    expect(again.getState().document()).toEqual(renamed);
  });

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
    const added = store
      .getState()
      .document()
      .nodes.find((n) => n.id === "delay_2");
    expect(added).toMatchObject({ type: "delay", name: "Delay", config: { seconds: 1 }, position: { x: 10, y: 90 } });
    expect(store.getState().dirty).toBe(true);
  });

  it("gives a dropped loop the defaults its if/then rules require, and invents none", () => {
    const loopType = (schema: unknown) =>
      ({ type: "loop", label: "Loop", container: true, config_schema: schema }) as unknown as NodeTypeInfo;
    const store = loaded();
    store.getState().setNodeTypes([delayType, loopType(loopSchema)]);
    expect(store.getState().addNode("loop", { x: 0, y: 400 })).toBe("loop_1");
    expect(
      store
        .getState()
        .document()
        .nodes.find((n) => n.id === "loop_1")?.config ?? {},
    ).toEqual({});

    const withCountDefault = { ...loopSchema, properties: { ...loopSchema.properties, count: { type: "integer", default: 3 } } };
    store.getState().setNodeTypes([delayType, loopType(withCountDefault)]);
    expect(store.getState().addNode("loop", { x: 0, y: 800 })).toBe("loop_2");
    expect(
      store
        .getState()
        .document()
        .nodes.find((n) => n.id === "loop_2")?.config,
    ).toEqual({ count: 3 });
  });

  it("defaultConfig fills a default that another filled default makes required", () => {
    const schema = {
      type: "object",
      required: ["mode"],
      properties: {
        mode: { enum: ["count", "for_each"], default: "for_each" },
        items: { type: "array", default: [] },
        count: { type: "integer", default: 1 },
      },
      allOf: [
        { if: { properties: { mode: { const: "for_each" } }, required: ["mode"] }, then: { required: ["items"] } },
        { if: { properties: { mode: { const: "count" } } }, then: { required: ["count"] } },
      ],
    };
    expect(defaultConfig({ config_schema: schema } as unknown as NodeTypeInfo)).toEqual({ mode: "for_each", items: [] });
    expect(defaultConfig(delayType)).toEqual({ seconds: 1 });
    expect(defaultConfig(undefined)).toEqual({});
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
    expect(
      store
        .getState()
        .document()
        .nodes.map((n) => n.id),
    ).toEqual(["check"]);
    expect(store.getState().edges).toHaveLength(0);
    store.getState().undo();
    expect(store.getState().document().edges).toHaveLength(1);
    store.getState().redo();
    expect(
      store
        .getState()
        .document()
        .nodes.map((n) => n.id),
    ).toEqual(["check"]);
  });

  it("undoes a node React Flow deleted (its edges removed first, then the node) in one step", () => {
    const store = loaded();
    store.getState().onEdgesChange([{ type: "remove", id: "e1" }]);
    store.getState().onNodesChange([{ type: "remove", id: "fetch" }]);
    expect(
      store
        .getState()
        .document()
        .nodes.map((n) => n.id),
    ).toEqual(["check"]);
    store.getState().undo();
    const doc = store.getState().document();
    expect(doc.nodes.map((n) => n.id)).toEqual(["fetch", "check"]);
    expect(doc.edges.map((e) => e.id)).toEqual(["e1"]);
    store.getState().redo();
    expect(store.getState().document().edges).toHaveLength(0);
    expect(
      store
        .getState()
        .document()
        .nodes.map((n) => n.id),
    ).toEqual(["check"]);
  });

  it("keeps two deletions made one after the other as two undo steps", async () => {
    const store = loaded();
    store.getState().onEdgesChange([{ type: "remove", id: "e1" }]);
    await Promise.resolve();
    store.getState().onNodesChange([{ type: "remove", id: "fetch" }]);
    store.getState().undo();
    expect(
      store
        .getState()
        .document()
        .nodes.map((n) => n.id),
    ).toEqual(["fetch", "check"]);
    expect(store.getState().document().edges).toHaveLength(0);
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
    expect(
      store
        .getState()
        .document()
        .nodes.map((n) => n.id),
    ).toEqual(["fetch", "check"]);
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

  it("rewrites references to a renamed node in expressions, parents and edges", () => {
    const store = createCanvasStore();
    store
      .getState()
      .setNodeTypes([
        { type: "condition", expression_fields: ["expression"] } as unknown as NodeTypeInfo,
        { type: "map", container: true } as unknown as NodeTypeInfo,
      ]);
    store.getState().load({
      ...saved,
      nodes: [
        { id: "fetch", type: "http", config: { url: "x" }, position: { x: 0, y: 0 } },
        { id: "check", type: "condition", config: { expression: "fetch.status == 200 and 'fetch' != 'x'" }, position: { x: 300, y: 0 } },
        { id: "each", type: "map", config: { items: "{{ fetch.body }}" }, position: { x: 600, y: 0 } },
        {
          id: "body",
          type: "transform",
          parent: "each",
          config: { output: "{{ input }} of {{ fetch.status }}" },
          position: { x: 620, y: 80 },
        },
      ],
    });
    expect(store.getState().renameNode("fetch", "load")).toBeNull();
    expect(store.getState().renameNode("each", "per_order")).toBeNull();
    const doc = store.getState().document();
    const byId = Object.fromEntries(doc.nodes.map((n) => [n.id, n]));
    expect(byId.check.config).toEqual({ expression: "load.status == 200 and 'fetch' != 'x'" });
    expect(byId.per_order.config).toEqual({ items: "{{ load.body }}" });
    expect(byId.body).toMatchObject({
      parent: "per_order",
      config: { output: "{{ input }} of {{ load.status }}" },
      position: { x: 620, y: 80 },
    });
    expect(store.getState().nodes.find((n) => n.id === "body")?.parentId).toBe("per_order");
    expect(doc.edges[0]).toMatchObject({ source: "load", target: "check" });
  });
});

describe("containers in the store", () => {
  const withMap: SavedWorkflow = {
    ...saved,
    nodes: [
      { id: "fetch", type: "http", config: { url: "x" }, position: { x: 0, y: 0 } },
      { id: "each", type: "map", config: { items: [1, 2] }, position: { x: 400, y: 0 } },
      { id: "body", type: "transform", parent: "each", position: { x: 430, y: 80 } },
    ],
    edges: [{ id: "e1", source: "fetch", target: "each" }],
  };
  const mapStore = () => {
    const store = createCanvasStore();
    store.getState().load(withMap);
    return store;
  };
  const drag = (store: ReturnType<typeof mapStore>, id: string, position: { x: number; y: number }) => {
    store.getState().beginDrag();
    store.getState().onNodesChange([{ type: "position", id, position, dragging: false }]);
    store.getState().dropNodes([id]);
  };

  it("adds a node dropped on a container to its body", () => {
    const store = mapStore();
    const id = store.getState().addNode("transform", { x: 450, y: 150 });
    const node = store.getState().nodes.find((n) => n.id === id);
    expect(node).toMatchObject({ parentId: "each", position: { x: 50, y: 150 } });
    expect(
      store
        .getState()
        .document()
        .nodes.find((n) => n.id === id),
    ).toMatchObject({ parent: "each", position: { x: 450, y: 150 } });
  });

  it("sets parent when a node is dragged into a container, dropping edges that would cross", () => {
    const store = mapStore();
    drag(store, "fetch", { x: 420, y: 160 });
    const doc = store.getState().document();
    expect(doc.nodes.find((n) => n.id === "fetch")).toMatchObject({ parent: "each", position: { x: 420, y: 160 } });
    expect(doc.edges).toEqual([]);
    expect(store.getState().notice?.text).toMatch(/"fetch" is now inside "each".*removed 1 edge/);
    expect(
      store
        .getState()
        .nodes.map((n) => n.id)
        .indexOf("each"),
    ).toBeLessThan(
      store
        .getState()
        .nodes.map((n) => n.id)
        .indexOf("fetch"),
    );
    store.getState().undo();
    expect(store.getState().document().edges).toHaveLength(1);
    expect(
      store
        .getState()
        .document()
        .nodes.find((n) => n.id === "fetch")?.parent,
    ).toBeUndefined();
  });

  it("clears parent when a body node is dragged out, keeping where it is on screen", () => {
    const store = mapStore();
    drag(store, "body", { x: -300, y: 400 }); // relative to each (400, 0)
    const body = store
      .getState()
      .document()
      .nodes.find((n) => n.id === "body");
    expect(body).toMatchObject({ parent: null, position: { x: 100, y: 400 } });
    expect(store.getState().nodes.find((n) => n.id === "body")?.parentId).toBeUndefined();
  });

  it("moves a body node within its container without changing its parent", () => {
    const store = mapStore();
    drag(store, "body", { x: 60, y: 100 });
    expect(store.getState().notice).toBeNull();
    expect(
      store
        .getState()
        .document()
        .nodes.find((n) => n.id === "body"),
    ).toMatchObject({ parent: "each", position: { x: 460, y: 100 } });
  });

  it("refuses an edge across the container boundary with the reason", () => {
    const store = mapStore();
    expect(store.getState().connect(connection("fetch", "body"))).toBe(false);
    expect(store.getState().notice?.text).toMatch(/cannot cross a container boundary/);
  });

  it("deletes a container together with its body", () => {
    const store = mapStore();
    store.getState().selectNode("each");
    store.getState().deleteSelected();
    expect(
      store
        .getState()
        .document()
        .nodes.map((n) => n.id),
    ).toEqual(["fetch"]);
  });

  it("copies a container with its body, and a body node alone to the top level", () => {
    const store = mapStore();
    store.getState().selectNode("each");
    store.getState().copySelection();
    store.getState().paste();
    const pasted = Object.fromEntries(
      store
        .getState()
        .document()
        .nodes.map((n) => [n.id, n]),
    );
    expect(pasted.body_2).toMatchObject({ parent: "each_2" });
    expect(pasted.body_2.position!.x - pasted.each_2.position!.x).toBe(30);
    store.getState().selectNode("body");
    store.getState().copySelection();
    store.getState().paste();
    const alone = store.getState().document().nodes.at(-1);
    expect(alone).toMatchObject({ parent: null, position: { x: 470, y: 120 } });
  });

  it("places nodes a running graph grew next to the node that grew them", () => {
    const store = mapStore();
    store.getState().startRunView(5);
    store.getState().applyEvents([
      {
        seq: 1,
        run: 5,
        type: "graph.changed",
        node: "fetch",
        nodes: [
          { id: "fan_0", type: "transform", position: { x: 0, y: 0 } },
          { id: "fan_1", type: "transform", position: { x: 0, y: 0 } },
        ],
        edges: [
          { id: "g0", source: "fetch", target: "fan_0" },
          { id: "g1", source: "fetch", target: "fan_1" },
        ],
      },
    ]);
    const added = store.getState().nodes.filter((n) => n.id.startsWith("fan_"));
    expect(added).toHaveLength(2);
    expect(added[0].position.x).toBeGreaterThan(0);
    expect(added[0].position).not.toEqual(added[1].position);
  });
});

describe("large graphs", () => {
  const big: SavedWorkflow = {
    ...saved,
    nodes: Array.from({ length: 250 }, (_, i) => ({
      id: `n${i}`,
      type: "transform",
      position: { x: 200 * (i % 25), y: 120 * Math.floor(i / 25) },
    })),
    edges: [],
  };

  it("gives unmeasured nodes size and handle estimates, dropped once measured and never saved", () => {
    const store = createCanvasStore();
    store.getState().load(big);
    const first = store.getState().nodes[0];
    expect(first).toMatchObject({ initialWidth: 220 });
    expect(first.handles?.map((h) => `${h.type}:${h.id}`)).toEqual(["target:in", "source:out", "source:error"]);
    store.getState().onNodesChange([{ id: "n0", type: "dimensions", dimensions: { width: 220, height: 90 } }]);
    const measured = store.getState().nodes[0];
    expect(measured.handles).toBeUndefined();
    expect(measured.initialWidth).toBeUndefined();
    expect(store.getState().nodes[1].handles).toBeDefined();
    const { id: _i, revision: _r, valid: _v, errors: _e, ...doc } = big;
    expect(store.getState().document()).toEqual(doc);
  });

  it("does not bring estimates back on undo for a node measured since", () => {
    const store = createCanvasStore();
    store.getState().load(big);
    store.getState().updateNode("n5", { name: "Five" });
    store.getState().onNodesChange([{ id: "n1", type: "dimensions", dimensions: { width: 220, height: 90 } }]);
    store.getState().undo();
    const n1 = store.getState().nodes.find((n) => n.id === "n1")!;
    expect(n1.handles).toBeUndefined();
    expect(n1.measured).toEqual({ width: 220, height: 90 });
    expect(store.getState().nodes.find((n) => n.id === "n2")!.handles).toBeDefined();
  });

  it("leaves a small graph's nodes as they are", () => {
    const store = createCanvasStore();
    store.getState().load(saved);
    expect(store.getState().nodes[0].handles).toBeUndefined();
  });
});
