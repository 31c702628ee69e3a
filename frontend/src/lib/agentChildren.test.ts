import { describe, expect, it } from "vitest";
import { childRunsOf } from "./subworkflows";
import type { RunReport } from "./types";

const report = {
  id: 1,
  workflow: 1,
  status: "succeeded",
  child_runs: [
    { id: 11, workflow: 7, node: "ask", iteration: "ask[0]", attempt: 1, status: "succeeded" },
    { id: 12, workflow: 8, node: "ask", iteration: "ask[1]", attempt: 1, status: "succeeded" },
    { id: 13, workflow: 7, node: "ask", iteration: "each[0]/ask[0]", attempt: 1, status: "succeeded" },
  ],
} as unknown as RunReport;

describe("an llm agent's tool calls", () => {
  it("are the child runs of its node, at top level and in an iteration", () => {
    expect(childRunsOf(report, "ask", "").map((c) => c.id)).toEqual([11, 12]);
    expect(childRunsOf(report, "ask", "each[0]").map((c) => c.id)).toEqual([13]);
    expect(childRunsOf(report, "other", "")).toEqual([]);
  });
});
