import { describe, expect, it } from "vitest";
import { docToFlow, flowToDoc, fromCanvasEdge, needsLayout, toCanvasEdge, withBranchLanes } from "./flow";
import type { WorkflowDocument } from "./types";

const doc: WorkflowDocument = {
  version: 1,
  name: "Order pipeline",
  description: "Fetch, check and store orders",
  tags: ["etl"],
  inputs: { customer_id: { type: "string", default: "c-1" } },
  variables: { threshold: 10 },
  settings: { max_parallel: 16, on_failure: "continue", timeout_s: null },
  nodes: [
    {
      id: "fetch",
      type: "http",
      name: "Fetch orders",
      config: { method: "GET", url: "https://api.example.com/{{ inputs.customer_id }}" },
      retry: { max_attempts: 3, backoff: "exponential", delay_s: 1, max_delay_s: 60 },
      timeout_s: 30,
      join: "none_failed_min_one_success",
      parent: null,
      position: { x: 120, y: 80 },
      disabled: false,
      breakpoint: false,
    },
    { id: "big", type: "condition", config: { expression: "len(fetch.body) > 1" }, position: { x: 400, y: 80 } },
    { id: "each", type: "map", config: { items: "{{ fetch.body }}" }, position: { x: 600, y: 80 } },
    { id: "body", type: "transform", parent: "each", position: { x: 620, y: 120 } },
  ],
  edges: [
    { id: "e1", source: "fetch", source_handle: "out", target: "big" },
    { id: "e2", source: "big", source_handle: "true", target: "each", target_handle: "in" },
    { id: "e3", source: "big", target: "each", label: "kept" },
  ],
};

describe("document <-> React Flow", () => {
  it("round-trips a document losslessly", () => {
    const { meta, nodes, edges } = docToFlow(doc);
    expect(flowToDoc(meta, nodes, edges)).toEqual(doc);
  });

  it("maps handles and positions onto React Flow fields", () => {
    const { nodes, edges } = docToFlow(doc);
    expect(nodes[0]).toMatchObject({ id: "fetch", type: "http", position: { x: 120, y: 80 } });
    expect(edges[1]).toMatchObject({ sourceHandle: "true", targetHandle: "in" });
    expect(edges[2]).toMatchObject({ sourceHandle: "out", targetHandle: "in" });
  });

  it("carries canvas edits back into the document", () => {
    const { meta, nodes, edges } = docToFlow(doc);
    nodes[1] = { ...nodes[1], position: { x: 410.6, y: 99.2 } };
    edges[2] = { ...edges[2], sourceHandle: "false" };
    const out = flowToDoc(meta, nodes, edges);
    expect(out.nodes[1].position).toEqual({ x: 411, y: 99 });
    expect(out.edges[2]).toEqual({ id: "e3", source: "big", target: "each", label: "kept", source_handle: "false" });
  });

  it("places nodes without a position on a grid and flags unlaid documents", () => {
    const bare: WorkflowDocument = {
      name: "x",
      nodes: [
        { id: "a", type: "start" },
        { id: "b", type: "start" },
      ],
      edges: [],
    };
    const { nodes } = docToFlow(bare);
    expect(nodes[0].position).not.toEqual(nodes[1].position);
    expect(needsLayout(bare)).toBe(true);
    expect(needsLayout(doc)).toBe(false);
  });
});

describe("branch edges on the canvas", () => {
  const edge = (id: string, source: string, sourceHandle: string, target: string) =>
    toCanvasEdge({ id, source, target, source_handle: sourceHandle });

  it("label a named handle's edges and give each handle of a node its own lane", () => {
    const plain = edge("e1", "start", "out", "check");
    const shown = withBranchLanes([
      plain,
      edge("e2", "check", "true", "yes"),
      edge("e3", "check", "false", "no"),
      edge("e4", "check", "true", "log"),
    ]);
    expect(shown[0]).toBe(plain);
    expect(shown.slice(1).map((e) => [e.label, e.data?.lane])).toEqual([
      ["true", -0.5],
      ["false", 0.5],
      ["true", -0.5],
    ]);
  });

  it("keep a lone branch in the middle, and leave the document's edge alone", () => {
    const [only] = withBranchLanes([edge("e1", "gate", "approved", "ship")]);
    expect(only.label).toBe("approved");
    expect(only.data?.lane).toBe(0);
    expect(fromCanvasEdge(only)).toEqual({ id: "e1", source: "gate", target: "ship", source_handle: "approved" });
  });
});
