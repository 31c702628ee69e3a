import { describe, expect, it } from "vitest";
import { ancestors, nextEdgeId, nextNodeId, nodeIdProblem, validateConnection } from "./graph";

const graph = {
  nodes: [{ id: "a" }, { id: "b" }, { id: "c" }, { id: "each", parent: null }, { id: "body", parent: "each" }],
  edges: [
    { source: "a", target: "b" },
    { source: "b", target: "c" },
  ],
};

describe("validateConnection", () => {
  it("accepts an edge that keeps the graph acyclic", () => {
    expect(validateConnection(graph, { source: "a", target: "c" })).toEqual({ ok: true });
  });

  it("refuses a self-loop", () => {
    const check = validateConnection(graph, { source: "a", target: "a" });
    expect(check).toEqual({ ok: false, reason: 'a node cannot connect to itself ("a")' });
  });

  it("refuses a cycle and names it", () => {
    const check = validateConnection(graph, { source: "c", target: "a" });
    expect(check.ok).toBe(false);
    expect(!check.ok && check.reason).toBe("this edge would make a cycle: c -> a -> b -> c");
  });

  it("refuses an edge crossing a container boundary", () => {
    const check = validateConnection(graph, { source: "c", target: "body" });
    expect(!check.ok && check.reason).toMatch(/container boundary.*"body" is inside "each"/);
  });

  it("refuses a duplicate edge from the same handle but allows another handle", () => {
    expect(validateConnection(graph, { source: "a", target: "b" }).ok).toBe(false);
    expect(validateConnection(graph, { source: "a", target: "b", source_handle: "error" }).ok).toBe(true);
  });

  it("refuses an endpoint that does not exist", () => {
    const check = validateConnection(graph, { source: "a", target: "ghost" });
    expect(!check.ok && check.reason).toBe('there is no node "ghost"');
  });
});

describe("node ids", () => {
  it("derives a unique id from the type", () => {
    expect(nextNodeId("http", [])).toBe("http");
    expect(nextNodeId("http", ["http", "http_2"])).toBe("http_3");
    expect(nextNodeId("Sub-Workflow", [])).toBe("sub_workflow");
  });

  it("never generates a reserved word", () => {
    expect(nextNodeId("loop", [])).toBe("loop_1");
    expect(nextNodeId("loop", ["loop_1"])).toBe("loop_2");
    for (const word of ["inputs", "vars", "input", "node", "run", "env", "secrets", "true", "false", "null"]) {
      expect(nextNodeId(word, [])).toBe(`${word}_1`);
    }
  });

  it("explains why an id is refused", () => {
    expect(nodeIdProblem("fetch_1", ["a"])).toBeNull();
    expect(nodeIdProblem("1fetch", [])).toMatch(/starts with a lowercase letter/);
    expect(nodeIdProblem("Fetch", [])).toMatch(/lowercase/);
    expect(nodeIdProblem("a".repeat(65), [])).not.toBeNull();
    expect(nodeIdProblem("a", ["a"])).toBe('another node is already called "a"');
    expect(nodeIdProblem("loop", [])).toMatch(/reserved/);
  });

  it("numbers edges past the existing ones", () => {
    expect(nextEdgeId(["e1", "e2"])).toBe("e3");
    expect(nextEdgeId(["e1", "e3"])).toBe("e4");
  });
});

describe("ancestors", () => {
  it("lists every upstream node, the names an expression may use", () => {
    expect(ancestors(graph.edges, "c").sort()).toEqual(["a", "b"]);
    expect(ancestors(graph.edges, "a")).toEqual([]);
  });
});
