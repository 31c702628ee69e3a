import { describe, expect, it } from "vitest";
import { reuseText, rootCauseText } from "./rootCauses";
import { applyRunEvents, edgeRunState, emptyRunView } from "./runEvents";
import { NODE_STATE_LOOK } from "./status";
import { NODE_STATES, TERMINAL_NODE_STATES } from "./types";

describe("rootCauseText", () => {
  it("names the failing node, its error and the nodes it took down", () => {
    const text = rootCauseText({ node: "fetch", error: { message: "HTTP 503", type: "http" }, affected: ["parse", "store"], failures: 1 });
    expect(text).toEqual({ where: "fetch", why: "HTTP 503", tookDown: "took down 2 nodes: parse, store" });
  });

  it("names a body node's iteration and how many more failed alike", () => {
    const text = rootCauseText({
      node: "check",
      iteration: "each[1]",
      iterations: ["each[1]", "each[4]", "each[7]"],
      error: { message: "bad item", type: "error" },
      affected: ["each"],
      failures: 3,
    });
    expect(text.where).toBe("check in each[1] (and 2 more)");
    expect(text.tookDown).toBe("took down 1 node: each");
  });
});

describe("reused nodes", () => {
  it("are teal, terminal, and listed with the other states", () => {
    expect(NODE_STATE_LOOK.reused.color).toBe("#14b8a6");
    expect(NODE_STATES).toContain("reused");
    expect(TERMINAL_NODE_STATES.has("reused")).toBe(true);
  });

  it("take their edges as a success would", () => {
    const at = "2026-12-06T10:00:00.000Z";
    const state = applyRunEvents(emptyRunView(1), [
      { seq: 1, type: "node.status", run: 1, at, node: "a", status: "running", attempt: 1 },
      { seq: 2, type: "node.status", run: 1, at, node: "a", status: "reused", attempt: 1, reused_from: 7 },
      { seq: 3, type: "node.status", run: 1, at, node: "b", status: "running", attempt: 1 },
    ]);
    expect(state.nodes.a.status).toBe("reused");
    expect(state.nodes.a.finishedAt).toBe(at);
    expect(edgeRunState(state, { id: "e", source: "a", target: "b", source_handle: "out" })).toBe("active");
    expect(edgeRunState(state, { id: "f", source: "a", target: "c", source_handle: "error" })).toBe("skipped");
  });

  it("are summed up in the run summary", () => {
    expect(reuseText({ nodes: 3, saved_ms: 4500 })).toBe("3 nodes reused, 4.5 s saved");
    expect(reuseText({ nodes: 0, saved_ms: 0 })).toBe("");
  });
});
