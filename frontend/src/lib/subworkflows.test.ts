import { describe, expect, it } from "vitest";
import { childRunLabel, childRunTarget, childRunsOf, parentRunOf, subworkflowWait, subworkflowWaits, waitLabel } from "./subworkflows";
import type { RunReport } from "./types";

const report: RunReport = {
  id: 10,
  workflow: 1,
  status: "succeeded",
  parent_run: null,
  parent_workflow: null,
  parent_node: null,
  child_runs: [
    { id: 14, workflow: 7, node: "sub", iteration: "each[10]", attempt: 1, status: "succeeded" },
    { id: 12, workflow: 7, node: "sub", iteration: "each[9]", attempt: 2, status: "succeeded" },
    { id: 11, workflow: 7, node: "sub", iteration: "each[9]", attempt: 1, status: "failed" },
    { id: 13, workflow: 8, node: "other", iteration: null, attempt: 1, status: "succeeded" },
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

  it("links a child run to its own workflow from the report, with no lookup", () => {
    expect(childRunTarget(report.child_runs![3])).toEqual({ runId: 13, workflow: 8 });
    expect(childRunTarget({ id: 5, node: "x", attempt: 1, status: "running" })).toEqual({ runId: 5, workflow: null });
  });

  it("names the run that started a child run, with the parent's workflow", () => {
    expect(parentRunOf(report)).toBeNull();
    expect(parentRunOf({ ...report, parent_run: 10, parent_workflow: 3, parent_node: "sub" })).toEqual({
      runId: 10,
      workflow: 3,
      node: "sub",
    });
    expect(parentRunOf({ ...report, parent_run: 10, parent_workflow: undefined, parent_node: null })).toEqual({
      runId: 10,
      workflow: null,
      node: null,
    });
    expect(parentRunOf(null)).toBeNull();
  });
});

describe("a node waiting for a sub-workflow run", () => {
  const paused: RunReport = {
    id: 20,
    workflow: 1,
    status: "paused",
    child_runs: [
      { id: 21, workflow: 7, node: "call", iteration: null, attempt: 1, status: "failed" },
      { id: 22, workflow: 7, node: "call", iteration: null, attempt: 2, status: "paused" },
    ],
    node_runs: [
      { node_id: "call", attempt: 1, status: "failed", iteration: "" },
      { node_id: "call", attempt: 2, status: "waiting", iteration: "", wait: { kind: "subworkflow", data: { run: 22 } } },
      { node_id: "ok", attempt: 1, status: "waiting", iteration: "", wait: { kind: "approval", data: null } },
    ],
  };

  it("reads the child run from the node's `wait`, with the child's workflow", () => {
    expect(subworkflowWait(paused, "call", "waiting")).toEqual({ runId: 22, workflow: 7 });
    expect(waitLabel({ runId: 22, workflow: 7 })).toBe("waiting for run #22");
  });

  it("is null for an approval wait, a node not waiting, or no report", () => {
    expect(subworkflowWait(paused, "ok", "waiting")).toBeNull();
    expect(subworkflowWait(paused, "call", "running")).toBeNull();
    expect(subworkflowWait(paused, "call", undefined)).toBeNull();
    expect(subworkflowWait(null, "call", "waiting")).toBeNull();
    expect(subworkflowWait(paused, "missing", "waiting")).toBeNull();
  });

  it("names a child run missing from child_runs without its workflow", () => {
    const ahead = {
      ...paused,
      node_runs: [{ node_id: "call", attempt: 3, status: "waiting" as const, wait: { kind: "subworkflow", data: { run: 99 } } }],
    };
    expect(subworkflowWait(ahead, "call", "waiting")).toEqual({ runId: 99, workflow: null });
  });

  it("falls back to the attempt's unfinished child when the records carry no `wait`", () => {
    const bare: RunReport = { ...paused, node_runs: paused.node_runs!.map(({ wait: _wait, ...rest }) => rest) };
    expect(subworkflowWait(bare, "call", "waiting")).toEqual({ runId: 22, workflow: 7 });
    // an approval node starts no child runs
    expect(subworkflowWait(bare, "ok", "waiting")).toBeNull();
    // a node paused by on_failure=pause after its child failed waits for a person, not a run
    const failed: RunReport = {
      ...bare,
      child_runs: [paused.child_runs![0]],
      node_runs: [{ node_id: "call", attempt: 1, status: "waiting" }],
    };
    expect(subworkflowWait(failed, "call", "waiting")).toBeNull();
    // the live state may be newer than the report: no record yet, the latest child
    expect(subworkflowWait({ ...bare, node_runs: [] }, "call", "waiting")).toEqual({ runId: 22, workflow: 7 });
  });

  it("collects the waiting top-level nodes from the live states", () => {
    const states = { call: { status: "waiting" }, ok: { status: "waiting" }, first: { status: "succeeded" } };
    expect(subworkflowWaits(paused, states)).toEqual({ call: { runId: 22, workflow: 7 } });
    expect(subworkflowWaits(paused, { call: { status: "running" } })).toEqual({});
    expect(subworkflowWaits(null, states)).toEqual({});
  });

  it("finds a body node's wait in its iteration", () => {
    const body: RunReport = {
      id: 30,
      workflow: 1,
      status: "running",
      child_runs: [{ id: 31, workflow: 9, node: "call", iteration: "each[0]", attempt: 1, status: "paused" }],
      node_runs: [
        { node_id: "call", iteration: "each[0]", attempt: 1, status: "waiting", wait: { kind: "subworkflow", data: { run: 31 } } },
      ],
    };
    expect(subworkflowWait(body, "call", "waiting", "each[0]")).toEqual({ runId: 31, workflow: 9 });
    expect(subworkflowWait(body, "call", "waiting")).toBeNull();
  });
});
