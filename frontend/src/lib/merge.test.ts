import { describe, expect, it } from "vitest";
import { canonical, conflictText, mergeDocuments } from "./merge";
import type { WorkflowDocument } from "./types";

const base: WorkflowDocument = {
  version: 1,
  name: "Orders",
  nodes: [
    { id: "fetch", type: "http", config: { url: "a" }, position: { x: 0, y: 0 } },
    { id: "check", type: "condition", config: { expression: "x > 1" }, position: { x: 300, y: 0 } },
    { id: "store", type: "transform", config: { output: 1 }, position: { x: 600, y: 0 } },
  ],
  edges: [
    { id: "e1", source: "fetch", target: "check" },
    { id: "e2", source: "check", target: "store", source_handle: "true" },
  ],
};

const edit = (doc: WorkflowDocument, id: string, patch: object): WorkflowDocument => ({
  ...doc,
  nodes: doc.nodes.map((n) => (n.id === id ? { ...n, ...patch } : n)),
});

describe("a stale save merged three ways", () => {
  it("takes changes to different nodes from both sides, without asking", () => {
    const mine = edit(base, "fetch", { config: { url: "mine" } });
    const theirs = edit({ ...base, name: "Orders v2" }, "store", { config: { output: 2 } });
    const { document, result } = mergeDocuments(base, mine, theirs);
    expect(result.conflicts).toEqual([]);
    expect(result.taken.sort()).toEqual(["field:name", "node:store"]);
    expect(result.kept).toEqual(["node:fetch"]);
    expect(document.name).toBe("Orders v2");
    expect(document.nodes.map((n) => n.config)).toEqual([{ url: "mine" }, { expression: "x > 1" }, { output: 2 }]);
  });

  it("asks about a node changed differently on both sides, keeping mine unless theirs is chosen", () => {
    const mine = edit(base, "check", { config: { expression: "x > 5" } });
    const theirs = edit(base, "check", { config: { expression: "x > 9" }, name: "Check" });
    const first = mergeDocuments(base, mine, theirs);
    expect(first.result.conflicts.map(conflictText)).toEqual(["node check: config, name"]);
    expect(first.document.nodes[1].config).toEqual({ expression: "x > 5" });
    const chosen = mergeDocuments(base, mine, theirs, { "node:check": "theirs" });
    expect(chosen.document.nodes[1]).toMatchObject({ config: { expression: "x > 9" }, name: "Check" });
  });

  it("a node moved here and edited on the server is no conflict: their change at my position", () => {
    const mine = edit(base, "store", { position: { x: 700, y: 40 } });
    const theirs = edit(base, "store", { config: { output: 3 } });
    const { document, result } = mergeDocuments(base, mine, theirs);
    expect(result.conflicts).toEqual([]);
    expect(document.nodes[2]).toMatchObject({ config: { output: 3 }, position: { x: 700, y: 40 } });
  });

  it("adds both sides' new nodes; a node deleted on the server but edited here is a conflict", () => {
    const mine = edit({ ...base, nodes: [...base.nodes, { id: "mine_new", type: "transform" }] }, "store", { config: { output: 9 } });
    const theirs = {
      ...base,
      nodes: [...base.nodes.filter((n) => n.id !== "store"), { id: "their_new", type: "delay" }],
      edges: base.edges.filter((e) => e.id !== "e2"),
    };
    const { document, result } = mergeDocuments(base, mine, theirs);
    expect(document.nodes.map((n) => n.id)).toEqual(["fetch", "check", "store", "mine_new", "their_new"]);
    expect(result.conflicts.map(conflictText)).toEqual(["node store: deleted on the server"]);
    // the server deleted e2 and I did not touch it: deleted
    expect(document.edges.map((e) => e.id)).toEqual(["e1"]);
    const theirsChosen = mergeDocuments(base, mine, theirs, { "node:store": "theirs" });
    expect(theirsChosen.document.nodes.map((n) => n.id)).toEqual(["fetch", "check", "mine_new", "their_new"]);
  });

  it("drops edges that would point at a node the merge removed", () => {
    const mine = { ...base, edges: [...base.edges, { id: "e3", source: "store", target: "fetch" }] };
    const theirs = { ...base, nodes: base.nodes.filter((n) => n.id !== "store"), edges: [base.edges[0]] };
    const { document } = mergeDocuments(base, mine, theirs);
    expect(document.nodes.map((n) => n.id)).toEqual(["fetch", "check"]);
    expect(document.edges.map((e) => e.id)).toEqual(["e1"]);
  });

  it("compares parts regardless of key order", () => {
    expect(canonical({ b: 1, a: { d: 1, c: 2 } })).toBe(canonical({ a: { c: 2, d: 1 }, b: 1 }));
  });
});
