import { describe, expect, it } from "vitest";
import { absolutePositions, containerAt, parentOnDrop, parentsFirst } from "./containers";
import { docToFlow, flowToDoc } from "./flow";
import { layoutWithContainers, placeGrownNodes } from "./layout";
import type { WorkflowDocument } from "./types";

type N = { id: string; type: string; parentId?: string; position: { x: number; y: number }; width?: number; height?: number };
const isContainer = (n: N) => n.type === "map" || n.type === "loop";
const box = (id: string, x: number, y: number, extra: Partial<N> = {}): N => ({ id, type: "transform", position: { x, y }, ...extra });

// outer (0,0 600x400) holds inner at (40,80) relative, 300x200; "free" is outside both
const nodes: N[] = [
  box("outer", 0, 0, { type: "map", width: 600, height: 400 }),
  box("inner", 40, 80, { type: "loop", parentId: "outer", width: 300, height: 200 }),
  box("body", 20, 70, { parentId: "inner" }),
  box("free", 900, 0),
];

describe("containers on the canvas", () => {
  it("resolves absolute positions through nested parents", () => {
    const abs = absolutePositions(nodes);
    expect(abs.get("inner")).toEqual({ x: 40, y: 80 });
    expect(abs.get("body")).toEqual({ x: 60, y: 150 });
  });

  it("drops a node into the innermost container under its centre", () => {
    const moved = nodes.map((n) => (n.id === "free" ? { ...n, position: { x: 60, y: 100 } } : n));
    expect(parentOnDrop("free", moved, isContainer)).toBe("inner");
    const onOuterOnly = nodes.map((n) => (n.id === "free" ? { ...n, position: { x: 360, y: 300 } } : n));
    expect(parentOnDrop("free", onOuterOnly, isContainer)).toBe("outer");
  });

  it("takes a body node dragged out of its container to the top level", () => {
    const out = nodes.map((n) => (n.id === "body" ? { ...n, position: { x: 900, y: 600 } } : n));
    expect(parentOnDrop("body", out, isContainer)).toBeNull();
  });

  it("never makes a container its own parent or its body's child", () => {
    expect(parentOnDrop("inner", nodes, isContainer)).toBe("outer");
    expect(parentOnDrop("outer", nodes, isContainer)).toBeNull();
    expect(containerAt({ x: 100, y: 200 }, nodes, isContainer, new Set(["inner"]))).toBe("outer");
  });

  it("orders parents before their children, keeping the rest in place", () => {
    const shuffled = [nodes[2], nodes[3], nodes[1], nodes[0]];
    expect(parentsFirst(shuffled).map((n) => n.id)).toEqual(["outer", "inner", "body", "free"]);
  });
});

describe("documents with containers", () => {
  const doc: WorkflowDocument = {
    name: "nested",
    nodes: [
      { id: "body", type: "transform", parent: "each", position: { x: 530, y: 190 } },
      { id: "each", type: "map", position: { x: 500, y: 100 } },
      { id: "orphan", type: "transform", parent: "nope", position: { x: 10, y: 10 } },
    ],
    edges: [],
  };

  it("makes body nodes React Flow children at relative positions, and back to absolute", () => {
    const { meta, nodes: flow, edges } = docToFlow(doc);
    expect(flow.map((n) => n.id)).toEqual(["each", "body", "orphan"]);
    expect(flow[1]).toMatchObject({ parentId: "each", position: { x: 30, y: 90 } });
    expect(flow[2].parentId).toBeUndefined();
    const back = flowToDoc(meta, flow, edges);
    expect(Object.fromEntries(back.nodes.map((n) => [n.id, n.position]))).toEqual({
      body: { x: 530, y: 190 },
      each: { x: 500, y: 100 },
      orphan: { x: 10, y: 10 },
    });
    expect(back.nodes.find((n) => n.id === "orphan")?.parent).toBe("nope");
  });

  it("sizes a frame to hold its body, or to the document's size, and saves that size unchanged", () => {
    const fitted = docToFlow(doc).nodes[0];
    expect(fitted.width).toBeGreaterThanOrEqual(30 + 220);
    expect(flowToDoc(docToFlow(doc).meta, docToFlow(doc).nodes, []).nodes.every((n) => n.size === undefined)).toBe(true);
    const sized: WorkflowDocument = {
      ...doc,
      nodes: doc.nodes.map((n) => (n.id === "each" ? { ...n, size: { width: 700, height: 333 } } : n)),
    };
    const flow = docToFlow(sized);
    expect([flow.nodes[0].width, flow.nodes[0].height]).toEqual([700, 333]);
    const byId = (d: WorkflowDocument) => Object.fromEntries(d.nodes.map((n) => [n.id, n]));
    expect(byId(flowToDoc(flow.meta, flow.nodes, flow.edges))).toEqual(byId(sized));
    // a size too small for the body is drawn grown; a broken one is ignored
    const small = docToFlow({ ...doc, nodes: doc.nodes.map((n) => (n.id === "each" ? { ...n, size: { width: 50, height: 40 } } : n)) });
    expect([small.nodes[0].width, small.nodes[0].height]).toEqual([30 + 220 + 24, 90 + 88 + 24]);
    const broken = docToFlow({ ...doc, nodes: doc.nodes.map((n) => (n.id === "each" ? { ...n, size: { width: -1, height: 0 } } : n)) });
    expect(broken.nodes[0].width).toBe(fitted.width);
  });

  it("keeps a size on a node that is not a container as it is", () => {
    const plain: WorkflowDocument = {
      name: "s",
      nodes: [{ id: "a", type: "transform", position: { x: 1, y: 2 }, size: { width: 10, height: 20 } }],
      edges: [],
    };
    const flow = docToFlow(plain);
    expect(flow.nodes[0].width).toBeUndefined();
    expect(flowToDoc(flow.meta, flow.nodes, flow.edges)).toEqual(plain);
  });

  it("lays out a body inside its frame and the frame among the top level", () => {
    const { positions, sizes } = layoutWithContainers({
      nodes: [
        { id: "a" },
        { id: "each", width: 480, height: 260 },
        { id: "x", parentId: "each" },
        { id: "y", parentId: "each" },
        { id: "empty", width: 480, height: 260 },
      ],
      edges: [
        { source: "a", target: "each" },
        { source: "x", target: "y" },
      ],
    });
    expect(positions.x.y).toBeGreaterThanOrEqual(40);
    expect(positions.y.x).toBeGreaterThan(positions.x.x);
    expect(sizes.each.width).toBeGreaterThan(2 * 220);
    expect(positions.each.x).toBeGreaterThan(positions.a.x);
    // an empty frame keeps its size, and the level is laid out around it
    expect(sizes.empty).toBeUndefined();
    const overlap = (p: string, q: string, w: number, h: number) =>
      Math.abs(positions[p].y - positions[q].y) < h && Math.abs(positions[p].x - positions[q].x) < w;
    expect(overlap("empty", "a", 480, 260) && overlap("empty", "each", 480, 260)).toBe(false);
  });

  it("places nodes a running graph grew beside the node that grew them, by distance", () => {
    const placed = placeGrownNodes(
      { x: 100, y: 100 },
      "fan",
      ["fan_join", "fan_0", "fan_1"],
      [
        { source: "fan", target: "fan_0" },
        { source: "fan", target: "fan_1" },
        { source: "fan_0", target: "fan_join" },
        { source: "fan_1", target: "fan_join" },
      ],
    );
    expect(placed.fan_0.x).toBe(placed.fan_1.x);
    expect(placed.fan_0.y).not.toBe(placed.fan_1.y);
    expect(placed.fan_join.x).toBeGreaterThan(placed.fan_0.x);
    expect(placed.fan_0.x).toBeGreaterThan(100);
  });
});
