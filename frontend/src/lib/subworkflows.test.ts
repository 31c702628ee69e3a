import { describe, expect, it } from "vitest";
import { childRunLabel, childRunsOf, parentRunOf } from "./subworkflows";
import type { RunReport } from "./types";

const report: RunReport = {
  id: 10,
  workflow: 1,
  status: "succeeded",
  parent_run: null,
  parent_node: null,
  child_runs: [
    { id: 14, node: "sub", iteration: "each[10]", attempt: 1, status: "succeeded" },
    { id: 12, node: "sub", iteration: "each[9]", attempt: 2, status: "succeeded" },
    { id: 11, node: "sub", iteration: "each[9]", attempt: 1, status: "failed" },
    { id: 13, node: "other", iteration: null, attempt: 1, status: "succeeded" },
  ],
};

describe("sub-workflow runs", () => {
  it("lists a node's child runs in iteration then attempt order, or one iteration's", () => {
    expect(childRunsOf(report, "sub").map((c) => c.id)).toEqual([11, 12, 14]);
    expect(childRunsOf(report, "sub", "each[9]").map((c) => c.id)).toEqual([11, 12]);
    expect(childRunsOf(report, "other").map((c) => c.id)).toEqual([13]);
    expect(childRunsOf(report, "other", "")).toHaveLength(1);
    expect(childRunsOf(report, "missing")).toEqual([]);
    expect(childRunsOf(null, "sub")).toEqual([]);
  });

  it("labels a child run with what tells it apart", () => {
    expect(childRunLabel(report.child_runs![1])).toBe("run #12 · each #10 · attempt 2");
    expect(childRunLabel(report.child_runs![3])).toBe("run #13");
  });

  it("names the run that started a child run", () => {
    expect(parentRunOf(report)).toBeNull();
    expect(parentRunOf({ ...report, parent_run: 10, parent_node: "sub" })).toEqual({ runId: 10, node: "sub" });
    expect(parentRunOf(null)).toBeNull();
  });
});
