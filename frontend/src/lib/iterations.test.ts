import { describe, expect, it } from "vitest";
import { compareIterationPaths, containerIterations, iterationLabel, iterationRecord, nodeIterations, shownNodeView } from "./iterations";
import { applyRunEvents, emptyRunView } from "./runEvents";
import type { NodeRunRecord, RunEvent } from "./types";

const status = (seq: number, node: string, st: string, iteration: string | null = null): RunEvent =>
  ({ seq, run: 1, type: "node.status", node, iteration, status: st, attempt: 1 }) as RunEvent;
const output = (seq: number, node: string, value: unknown, iteration: string | null = null): RunEvent =>
  ({ seq, run: 1, type: "node.output", node, iteration, output: value }) as RunEvent;

// a map "each" over 3 items, run 2 at a time: item 1 starts before item 0 ends
const mapRun: RunEvent[] = [
  status(1, "each", "running"),
  { seq: 2, run: 1, type: "node.progress", node: "each", done: 0, total: 3 },
  status(3, "double", "running", "each[0]"),
  status(4, "double", "running", "each[1]"),
  status(5, "double", "succeeded", "each[1]"),
  output(6, "double", 4, "each[1]"),
  status(7, "double", "failed", "each[0]"),
  { seq: 8, run: 1, type: "node.progress", node: "each", done: 2, total: 3 },
  status(9, "double", "running", "each[2]"),
  status(10, "double", "succeeded", "each[2]"),
  output(11, "double", 6, "each[2]"),
  { seq: 12, run: 1, type: "node.progress", node: "each", done: 3, total: 3 },
  status(13, "each", "succeeded"),
];

describe("iterations in the run view", () => {
  it("keeps each iteration's state and output, and shows the latest started one", () => {
    const run = applyRunEvents(emptyRunView(1), mapRun.slice(0, 7));
    expect(run.iterations.double["each[0]"].status).toBe("failed");
    expect(run.iterations.double["each[1]"].status).toBe("succeeded");
    // item 0 failing after item 1 started does not repaint the node: it shows item 1
    expect(run.nodes.double.status).toBe("succeeded");
    expect(run.latestIteration.double).toBe("each[1]");
    expect(run.iterationOutputs.double["each[1]"]).toBe(4);
  });

  it("folds node.progress into done/total for the container", () => {
    const run = applyRunEvents(emptyRunView(1), mapRun);
    expect(run.progress.each).toEqual({ done: 3, total: 3 });
    expect(run.nodes.each.status).toBe("succeeded");
    expect(run.outputs.double).toBe(6);
  });

  it("shows the picked iteration for body nodes of that container only", () => {
    const run = applyRunEvents(emptyRunView(1), mapRun);
    expect(shownNodeView(run, "double", "each", {}).view?.status).toBe("succeeded");
    expect(shownNodeView(run, "double", "each", { each: "each[0]" })).toMatchObject({ iteration: "each[0]", view: { status: "failed" } });
    expect(shownNodeView(run, "double", "each", { each: "each[7]" }).view).toBeNull();
    expect(shownNodeView(run, "each", null, { each: "each[0]" }).view?.status).toBe("succeeded");
  });

  it("lists iterations in run order from events and NodeRuns", () => {
    const run = applyRunEvents(emptyRunView(1), mapRun);
    const records = [{ node_id: "double", iteration: "each[10]", attempt: 1, status: "succeeded" }] as NodeRunRecord[];
    expect(nodeIterations(run, records, "double")).toEqual(["each[0]", "each[1]", "each[2]", "each[10]"]);
    expect(containerIterations(run, [], "each", ["double"])).toEqual(["each[0]", "each[1]", "each[2]"]);
    expect(["b[0]/x[1]", "a[2]", "b[0]/x[0]", "a[10]"].sort(compareIterationPaths)).toEqual(["a[2]", "a[10]", "b[0]/x[0]", "b[0]/x[1]"]);
    expect(iterationLabel("outer[1]/inner[0]")).toBe("outer #2 › inner #1");
  });

  it("finds an iteration's latest attempt among the NodeRuns", () => {
    const records = [
      { node_id: "double", iteration: "each[0]", attempt: 1, status: "failed", input: 1 },
      { node_id: "double", iteration: "each[0]", attempt: 2, status: "succeeded", input: 1, output: 2 },
      { node_id: "double", iteration: "each[1]", attempt: 1, status: "succeeded", input: 2, output: 4 },
    ] as NodeRunRecord[];
    expect(iterationRecord(records, "double", "each[0]")).toMatchObject({ attempt: 2, output: 2 });
    expect(iterationRecord(records, "double", "each[1]")?.input).toBe(2);
    expect(iterationRecord(records, "double", "")).toBeNull();
  });

  it("does not change a previous state while applying a batch", () => {
    const first = applyRunEvents(emptyRunView(1), mapRun.slice(0, 4));
    const snapshot = JSON.stringify(first);
    applyRunEvents(first, mapRun.slice(4));
    expect(JSON.stringify(first)).toBe(snapshot);
  });
});
