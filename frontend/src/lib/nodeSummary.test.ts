import { describe, expect, it } from "vitest";
import { nodeSummary } from "./nodeSummary";

describe("nodeSummary", () => {
  it("delay: its duration", () => {
    expect(nodeSummary("delay", { seconds: 3 })).toBe("3 s");
    expect(nodeSummary("delay", { seconds: 2.5 })).toBe("2.5 s");
    expect(nodeSummary("delay", { seconds: 120 })).toBe("2 min");
    expect(nodeSummary("delay", { seconds: 90 })).toBe("1 min 30 s");
    expect(nodeSummary("delay", { seconds: 5400 })).toBe("1 h 30 min");
    expect(nodeSummary("delay", { seconds: "{{ inputs.wait }}" })).toBe("inputs.wait");
    expect(nodeSummary("delay", {})).toBe("");
  });

  it("condition: its expression", () => {
    expect(nodeSummary("condition", { expression: "score > 5" })).toBe("score > 5");
    expect(nodeSummary("condition", { expression: "{{ fetch.status == 200 }}" })).toBe("fetch.status == 200");
  });

  it("http: method and host", () => {
    expect(nodeSummary("http", { method: "GET", url: "https://api.x.com/v1/orders?page=2" })).toBe("GET api.x.com/v1/orders");
    expect(nodeSummary("http", { url: "https://api.x.com" })).toBe("GET api.x.com");
    expect(nodeSummary("http", { method: "POST", url: "{{ inputs.endpoint }}" })).toBe("POST inputs.endpoint");
  });

  it("router: how many routes, and the default", () => {
    const cases = [
      { handle: "big", expression: "x > 10" },
      { handle: "small", expression: "x < 3" },
    ];
    expect(nodeSummary("router", { cases, default: "other" })).toBe("2 routes + other");
    expect(nodeSummary("router", { cases: [] })).toBe("");
  });

  it("error: its condition or message", () => {
    expect(nodeSummary("error", { message: "boom" })).toBe("boom");
    expect(nodeSummary("error", { message: "negative", when: "input.total < 0" })).toBe("when input.total < 0");
  });

  it("transform, output and merge: what they produce", () => {
    expect(nodeSummary("transform", { output: "{{ fetch.body.items }}" })).toBe("fetch.body.items");
    expect(nodeSummary("transform", { output: { total: 3 } })).toBe('{"total":3}');
    expect(nodeSummary("output", { value: 42 })).toBe("42");
    expect(nodeSummary("merge", {})).toBe("object");
    expect(nodeSummary("merge", { mode: "list" })).toBe("list");
  });

  it("approval and subworkflow", () => {
    expect(nodeSummary("approval", { prompt: "Ship order {{ prep }}?" })).toBe("Ship order {{ prep }}?");
    expect(nodeSummary("approval", { timeout_s: 3600 })).toBe("decides by itself after 1 h");
    expect(nodeSummary("subworkflow", { workflow: 12 })).toBe("workflow 12");
  });

  it("containers and fan-out: what they iterate", () => {
    expect(nodeSummary("loop", { mode: "count", count: 3 })).toBe("3 times");
    expect(nodeSummary("loop", { count: 2 })).toBe("2 times");
    expect(nodeSummary("loop", { mode: "for_each", items: [1, 2] })).toBe("2 items");
    expect(nodeSummary("loop", { mode: "while", condition: "loop.index < 3" })).toBe("while loop.index < 3");
    expect(nodeSummary("map", { items: "{{ fetch.body }}" })).toBe("each of fetch.body");
    expect(nodeSummary("fan_out", { items: ["a"] })).toBe("1 item");
  });

  it("start and unknown types say nothing; long text is cut", () => {
    expect(nodeSummary("start", {})).toBe("");
    expect(nodeSummary("plugin_x", { a: 1 })).toBe("");
    const long = nodeSummary("condition", { expression: "a".repeat(80) });
    expect(long).toHaveLength(40);
    expect(long.endsWith("…")).toBe(true);
  });
});
