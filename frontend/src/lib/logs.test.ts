import { describe, expect, it } from "vitest";
import { lastLines, logClock, logGroups } from "./logs";
import { applyRunEvents, emptyRunView } from "./runEvents";
import type { RunEvent } from "./types";

const events: RunEvent[] = [
  { seq: 1, run: 1, type: "node.status", node: "fetch", status: "running", attempt: 1 },
  { seq: 2, run: 1, type: "node.log", node: "fetch", attempt: 1, message: "GET https://api.x.com/items", at: "2026-12-06T10:00:01.250Z" },
  { seq: 3, run: 1, type: "node.log", node: "fetch", attempt: 1, message: "timed out after 3 s; retrying in 1 s" },
  { seq: 4, run: 1, type: "node.log", node: "fetch", attempt: 2, message: "GET https://api.x.com/items -> 200 in 41 ms" },
  { seq: 5, run: 1, type: "node.log", node: null, message: "no event for 30 s" },
  { seq: 6, run: 1, type: "node.log", node: "body", iteration: "each[0]", attempt: 1, message: "item 0" },
  { seq: 7, run: 1, type: "node.log", node: "body", iteration: "each[1]", attempt: 1, message: "item 1" },
];

describe("node logs", () => {
  const state = applyRunEvents(emptyRunView(1), events);

  it("keep each line's attempt, per node; the run's own lines apart", () => {
    expect(state.logLines.fetch.map((l) => [l.attempt, l.message])).toEqual([
      [1, "GET https://api.x.com/items"],
      [1, "timed out after 3 s; retrying in 1 s"],
      [2, "GET https://api.x.com/items -> 200 in 41 ms"],
    ]);
    expect(state.logLines[""].map((l) => l.message)).toEqual(["no event for 30 s"]);
    expect(state.logs.fetch).toHaveLength(3);
    expect(state.logs.null).toBeUndefined();
  });

  it("are shown per attempt, and per iteration for a body node", () => {
    expect(logGroups(state.logLines.fetch).map((g) => [g.attempt, g.lines.length])).toEqual([
      [1, 2],
      [2, 1],
    ]);
    expect(logGroups(state.logLines.body, "each[1]").map((g) => g.lines.map((l) => l.message))).toEqual([["item 1"]]);
    expect(logGroups(state.logLines.body)).toHaveLength(1);
    expect(logGroups(undefined)).toEqual([]);
  });

  it("read the time of day of a line", () => {
    expect(logClock("2026-12-06T10:00:01.250Z")).toBe("10:00:01.250");
    expect(logClock(null)).toBe("");
  });
});

describe("a long log", () => {
  it("shows its last lines, and says how many are hidden", () => {
    const line = (message: string, attempt: number) => ({ message, attempt, iteration: null, at: null });
    const groups = logGroups([line("a", 1), line("b", 1), line("c", 2), line("d", 2)]);
    const { groups: kept, hidden } = lastLines(groups, 3);
    expect(hidden).toBe(1);
    expect(kept.map((g) => [g.attempt, g.lines.map((l) => l.message)])).toEqual([
      [1, ["b"]],
      [2, ["c", "d"]],
    ]);
    expect(lastLines(groups, 10)).toEqual({ groups, hidden: 0 });
  });
});
