import { describe, expect, it } from "vitest";
import { changeText, comparePair, diffRows, diffStyles, diffSummary, durationText, nodeDiffLabel, type RunDiff } from "./runDiff";

const diff: RunDiff = {
  a: 3,
  b: 5,
  nodes: {
    start: { change: "same", status: ["succeeded", "succeeded"], duration_ms: [1, 1], output_changed: false },
    fetch: {
      change: "changed",
      status: ["succeeded", "failed"],
      duration_ms: [1200, 3400],
      output_changed: true,
      output_diff: { changes: [{ path: "$.status", op: "changed", a: 200, b: 500 }], total: 31, truncated: true },
    },
    done: { change: "same", status: ["succeeded", "upstream_failed"], duration_ms: [2, null], output_changed: true },
    extra: { change: "added", status: [null, "succeeded"], duration_ms: [null, 5], output_changed: true },
    old: { change: "removed", status: ["succeeded", null], duration_ms: [7, null], output_changed: true },
  },
};

describe("run diff", () => {
  it("lists what differs first: definition changes, then status or output changes, then the rest", () => {
    const rows = diffRows(diff);
    expect(rows.map((r) => r.id)).toEqual(["fetch", "extra", "old", "done", "start"]);
    expect(rows.find((r) => r.id === "done")).toMatchObject({ statusChanged: true, differs: true });
    expect(rows.find((r) => r.id === "start")).toMatchObject({ statusChanged: false, differs: false });
  });

  it("counts when the server gave no summary", () => {
    expect(diffSummary(diff)).toEqual({ added: 1, removed: 1, changed: 1, same: 2, status_changed: 4, output_changed: 4 });
    expect(diffSummary({ ...diff, summary: { added: 9 } })).toEqual({ added: 9 });
  });

  it("says how durations moved", () => {
    expect(durationText([1200, 3400])).toBe("1.2 s → 3.4 s (+2.2 s)");
    expect(durationText([3400, 1200])).toBe("3.4 s → 1.2 s (−2.2 s)");
    expect(durationText([null, 5])).toBe("— → 5 ms");
    expect(durationText([7, 7])).toBe("7 ms");
    expect(durationText([null, null])).toBe("");
  });

  it("writes a JSON change as one line, values cut", () => {
    expect(changeText({ path: "$.status", op: "changed", a: 200, b: 500 })).toBe("$.status: 200 → 500");
    expect(changeText({ path: "$.x", op: "added", b: { y: 1 } })).toBe('$.x: added {"y":1}');
    expect(changeText({ path: "$.x", op: "removed", a: "gone" })).toBe('$.x: removed "gone"');
    expect(changeText({ path: "$.long", op: "added", b: "a".repeat(300) }, 20)).toBe(`$.long: added "${"a".repeat(18)}…`);
    // a value the server already cut keeps its ellipsis, unquoted
    expect(changeText({ path: "$.cut", op: "added", b: '{"a": 1, …' })).toBe('$.cut: added {"a": 1, …');
  });

  it("compares exactly two runs, older first", () => {
    expect(comparePair([9, 4])).toEqual([4, 9]);
    expect(comparePair([9])).toBeNull();
    expect(comparePair([1, 2, 3])).toBeNull();
  });

  it("highlights on the canvas what differs, with its label, and dims the rest", () => {
    expect(nodeDiffLabel(diff.nodes.fetch)).toBe("changed · succeeded → failed · output differs");
    const css = diffStyles(diff);
    expect(css).toContain('.react-flow__node [data-node-id="fetch"] { outline: 3px solid #f59e0b;');
    expect(css).toContain('content: "changed · succeeded → failed · output differs"');
    expect(css).toContain('[data-node-id="start"] { opacity: 0.55; }');
    expect(css).toContain('[data-node-id="done"] { outline: 3px solid #38bdf8;');
    expect(diffStyles({ a: 1, b: 2, nodes: { 'x"] { } body { color: red } [y="': diff.nodes.fetch } })).toBe("");
  });
});
