import { describe, expect, it } from "vitest";
import { expressionPrefix, insertSuggestion, scopeFields, splitTemplate, suggestNames } from "./expressions";
import { emptyHistory, record, redo, undo } from "./history";
import { autoLayout } from "./layout";
import { outputHandles, paletteGroups } from "./nodeTypes";
import { buildGantt, formatDuration } from "./timeline";
import type { NodeTypeInfo } from "./types";

describe("expressions", () => {
  it("splits text into literal and {{ }} segments", () => {
    expect(splitTemplate("Hi {{ inputs.name }}!")).toEqual([
      { text: "Hi ", expression: false },
      { text: "{{ inputs.name }}", expression: true },
      { text: "!", expression: false },
    ]);
    expect(splitTemplate("open {{ x")).toEqual([{ text: "open {{ x", expression: false }]);
  });

  it("suggests upstream node ids only inside {{ }}", () => {
    expect(expressionPrefix("url {{ fe", 9)).toBe("fe");
    expect(expressionPrefix("url {{ a }} fe", 14)).toBeNull();
    expect(expressionPrefix("len(fe", 6, true)).toBe("fe");
    const scope = (upstream: string[]) => ({ upstream, fieldsOf: () => [] });
    expect(suggestNames("fe", scope(["fetch", "format"]))).toEqual(["fetch"]);
    expect(suggestNames("in", scope(["a"]))).toEqual(["inputs", "input"]);
    expect(insertSuggestion("{{ fe }}", 5, "fetch")).toEqual(["{{ fetch }}", 8]);
  });
});

describe("field suggestions", () => {
  const context = { upstreamTypes: { fetch: "http", shape: "transform" }, inputs: ["customer_id"], variables: ["threshold"] };
  const scope = { upstream: ["fetch", "shape"], fieldsOf: (base: string) => scopeFields(base, context) };

  it("suggests the known output fields of an upstream node after a dot", () => {
    expect(expressionPrefix("{{ fetch.b", 10)).toBe("fetch.b");
    expect(suggestNames("fetch.b", scope)).toEqual(["body"]);
    expect(suggestNames("fetch.", scope)).toEqual(["status", "headers", "body"]);
    expect(suggestNames("shape.", scope)).toEqual([]);
  });

  it("suggests declared inputs, variables and loop fields", () => {
    expect(suggestNames("inputs.c", scope)).toEqual(["customer_id"]);
    expect(suggestNames("vars.", scope)).toEqual(["threshold"]);
    expect(suggestNames("loop.it", scope)).toEqual(["iteration", "item"]);
  });

  it("replaces only the field being typed", () => {
    expect(insertSuggestion("{{ fetch.bo }}", 11, "body")).toEqual(["{{ fetch.body }}", 13]);
  });
});

describe("history", () => {
  it("undoes and redoes, and a new change forgets the redo list", () => {
    let h = record(emptyHistory<number>(), 1);
    h = record(h, 2);
    const [afterUndo, previous] = undo(h, 3)!;
    expect(previous).toBe(2);
    const [afterRedo, next] = redo(afterUndo, previous)!;
    expect(next).toBe(3);
    expect(afterRedo.past).toEqual([1, 2]);
    expect(record(afterUndo, 2).future).toEqual([]);
    expect(undo(emptyHistory<number>(), 0)).toBeNull();
  });
});

describe("autoLayout", () => {
  it("puts each node right of its predecessors", () => {
    const p = autoLayout({
      nodes: [{ id: "a" }, { id: "b" }, { id: "c" }],
      edges: [
        { source: "a", target: "b" },
        { source: "b", target: "c" },
      ],
    });
    expect(p.a.x).toBeLessThan(p.b.x);
    expect(p.b.x).toBeLessThan(p.c.x);
  });

  it("stacks a node's branch targets in the order of its handles, whatever the edges' order", () => {
    for (const [first, second] of [
      ["true", "false"],
      ["false", "true"],
    ]) {
      const target = { true: "yes", false: "no" } as Record<string, string>;
      const p = autoLayout({
        nodes: [{ id: "check" }, { id: "yes" }, { id: "no" }],
        edges: [first, second].map((handle) => ({ source: "check", target: target[handle], sourceHandle: handle })),
        handlesOf: (id) => (id === "check" ? ["true", "false"] : ["out"]),
      });
      expect(p.yes.x).toBe(p.no.x);
      expect(p.yes.y).toBeLessThan(p.no.y);
    }
  });
});

describe("node types", () => {
  const info = (type: string, category: string, outputs = ["out"]) =>
    ({ type, label: type, category, description: "", outputs, inputs: ["in"] }) as unknown as NodeTypeInfo;

  it("gives a router one handle per case plus its default", () => {
    const config = {
      cases: [
        { handle: "big", expression: "x" },
        { handle: "small", expression: "y" },
      ],
      default: "rest",
    };
    expect(outputHandles(info("router", "Flow"), { type: "router", config })).toEqual(["big", "small", "rest"]);
    expect(outputHandles(info("condition", "Flow", ["true", "false"]), { type: "condition" })).toEqual(["true", "false"]);
  });

  it("groups the palette by category and filters by search", () => {
    const types = [info("http", "Integrations"), info("delay", "Flow"), info("condition", "Flow")];
    expect(paletteGroups(types, "").map(([c, t]) => [c, t.length])).toEqual([
      ["Integrations", 1],
      ["Flow", 2],
    ]);
    expect(paletteGroups(types, "DEL").map(([c, t]) => [c, t.map((x) => x.type)])).toEqual([["Flow", ["delay"]]]);
  });
});

describe("timeline", () => {
  it("lays node executions out on the run's time span", () => {
    const g = buildGantt([
      { node_id: "a", attempt: 1, status: "succeeded", started_at: "2026-01-01T00:00:00Z", finished_at: "2026-01-01T00:00:01Z" },
      { node_id: "b", attempt: 1, status: "failed", started_at: "2026-01-01T00:00:01Z", finished_at: "2026-01-01T00:00:02Z" },
      { node_id: "c", attempt: 1, status: "skipped" },
    ]);
    expect(g.spanMs).toBe(2000);
    expect(g.bars.map((b) => [b.node, b.start, b.width])).toEqual([
      ["a", 0, 0.5],
      ["b", 0.5, 0.5],
    ]);
  });

  it("grows a running node's bar to now, and leaves it a sliver without a now", () => {
    const records = [
      { node_id: "a", attempt: 1, status: "succeeded" as const, started_at: "2026-01-01T00:00:00Z", finished_at: "2026-01-01T00:00:01Z" },
      { node_id: "slow", attempt: 1, status: "running" as const, started_at: "2026-01-01T00:00:01Z" },
    ];
    const later = Date.parse("2026-01-01T00:00:04Z");
    const g = buildGantt(records, null, later);
    expect(g.spanMs).toBe(4000);
    expect(g.bars.map((b) => [b.node, b.start, b.width, b.durationMs, b.running])).toEqual([
      ["a", 0, 0.25, 1000, undefined],
      ["slow", 0.25, 0.75, 3000, true],
    ]);
    expect(buildGantt(records).bars[1].width).toBe(0.004);
  });

  it("formats durations", () => {
    expect(formatDuration(850)).toBe("850 ms");
    expect(formatDuration(2400)).toBe("2.4 s");
    expect(formatDuration(65_000)).toBe("1 min 5 s");
  });
});

describe("problem counts per node", () => {
  it("counts the problems naming each node, once per list", async () => {
    const { problemCount } = await import("./status");
    const problems = [
      { code: "bad_config", message: "x", node: "a" },
      { code: "bad_reference", message: "y", node: "a" },
      { code: "cycle", message: "z", node: null },
      { code: "unreachable", message: "w", node: "b" },
    ];
    expect([problemCount(problems, "a"), problemCount(problems, "b"), problemCount(problems, "c")]).toEqual([2, 1, 0]);
    expect(problemCount([], "a")).toBe(0);
  });
});
