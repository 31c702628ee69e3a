import { describe, expect, it } from "vitest";
import {
  approvalFailure,
  approvalPrompt,
  approvalWaitKeys,
  approvalWaitPaths,
  chooseApprovalIteration,
  containerApprovalWaits,
  containerWaitText,
  iterationItemLabel,
} from "./approval";
import { applyRunEvents, emptyRunView } from "./runEvents";
import type { NodeRunRecord, RunEvent } from "./types";

const status = (seq: number, node: string, st: string, iteration: string | null = null): RunEvent =>
  ({ seq, run: 7, type: "node.status", node, iteration, status: st, attempt: 1 }) as RunEvent;

const waitingRow = (iteration: string, prompt = "Ship it?"): NodeRunRecord => ({
  node_id: "ok",
  iteration,
  attempt: 1,
  status: "waiting",
  wait: { kind: "approval", wake_at: null, data: { prompt } },
});
const row = (node: string, iteration: string, st: string): NodeRunRecord =>
  ({ node_id: node, iteration, attempt: 1, status: st, wait: null }) as NodeRunRecord;

// a map "M" over 3 items whose body is approval "ok" then transform "t"
const nodes = [
  { id: "start", type: "start", parent: null },
  { id: "M", type: "map", parent: null },
  { id: "ok", type: "approval", parent: "M" },
  { id: "t", type: "transform", parent: "M" },
];
const kindOf = (id: string) => nodes.find((n) => n.id === id)?.type;

/** The run paused with all three items waiting at the approval. */
const pausedRun = () =>
  applyRunEvents(emptyRunView(7), [
    status(1, "M", "running"),
    status(2, "ok", "running", "M[0]"),
    status(3, "ok", "running", "M[1]"),
    status(4, "ok", "running", "M[2]"),
    status(5, "ok", "waiting", "M[0]"),
    status(6, "ok", "waiting", "M[1]"),
    status(7, "ok", "waiting", "M[2]"),
    status(8, "M", "waiting"),
    { seq: 9, run: 7, type: "run.status", status: "paused" },
  ]);

describe("which iteration an approval in a body decides", () => {
  it("lists the iterations a node waits in, from the report's waiting approval rows", () => {
    const records = [waitingRow("M[2]"), row("ok", "M[0]", "succeeded"), waitingRow("M[10]"), row("t", "M[0]", "succeeded")];
    expect(approvalWaitPaths(null, records, "ok")).toEqual(["M[2]", "M[10]"]);
    // a row waiting for something else (on_failure: pause) is no approval
    const paused = { ...waitingRow("M[1]"), wait: { kind: "failure" } } as NodeRunRecord;
    expect(approvalWaitPaths(null, [paused], "ok")).toEqual([]);
  });

  it("one iteration waiting: the dialog decides that one", () => {
    const choice = chooseApprovalIteration(approvalWaitPaths(null, [waitingRow("M[2]"), row("ok", "M[0]", "succeeded")], "ok"), null);
    expect(choice).toEqual({ iteration: "M[2]", choices: ["M[2]"], reason: "only" });
    expect(iterationItemLabel("M[2]", kindOf)).toBe("item 3 (M[2])");
  });

  it("several iterations waiting and none picked: the user chooses among all of them", () => {
    const waits = approvalWaitPaths(pausedRun(), [], "ok");
    expect(waits).toEqual(["M[0]", "M[1]", "M[2]"]);
    expect(chooseApprovalIteration(waits, null)).toEqual({ iteration: null, choices: ["M[0]", "M[1]", "M[2]"], reason: "choose" });
    expect(waits.map((path) => iterationItemLabel(path, kindOf))).toEqual(["item 1 (M[0])", "item 2 (M[1])", "item 3 (M[2])"]);
  });

  it("takes the iteration picked in the inspector when it waits there, else lets the user choose", () => {
    const waits = approvalWaitPaths(pausedRun(), [], "ok");
    expect(chooseApprovalIteration(waits, "M[1]")).toMatchObject({ iteration: "M[1]", reason: "picked" });
    // from the report alone too
    const fromReport = approvalWaitPaths(null, [waitingRow("M[0]"), waitingRow("M[1]"), row("ok", "M[2]", "succeeded")], "ok");
    expect(chooseApprovalIteration(fromReport, "M[1]")).toEqual({ iteration: "M[1]", choices: ["M[0]", "M[1]"], reason: "picked" });
    expect(chooseApprovalIteration(fromReport, "M[2]")).toEqual({ iteration: null, choices: ["M[0]", "M[1]"], reason: "choose" });
    // the picked item has gone on already: not that one
    const after = applyRunEvents(pausedRun(), [status(10, "ok", "running", "M[1]"), status(11, "ok", "succeeded", "M[1]")]);
    const left = approvalWaitPaths(after, [], "ok");
    expect(left).toEqual(["M[0]", "M[2]"]);
    expect(chooseApprovalIteration(left, "M[1]")).toMatchObject({ iteration: null, reason: "choose", choices: ["M[0]", "M[2]"] });
  });

  it("believes the run's events over a report that still says waiting", () => {
    const after = applyRunEvents(pausedRun(), [status(10, "ok", "succeeded", "M[0]")]);
    const staleReport = [waitingRow("M[0]"), waitingRow("M[1]"), waitingRow("M[2]")];
    expect(approvalWaitPaths(after, staleReport, "ok")).toEqual(["M[1]", "M[2]"]);
    expect(approvalWaitKeys(after, staleReport, nodes)).toEqual(["ok|M[1]|1", "ok|M[2]|1"]);
  });

  it("opens the dialog by itself for a body wait only once the run has paused", () => {
    const first = applyRunEvents(emptyRunView(7), [
      status(1, "M", "running"),
      status(2, "ok", "running", "M[0]"),
      status(3, "ok", "waiting", "M[0]"),
    ]);
    expect(approvalWaitKeys(first, [], nodes)).toEqual(["ok|M[0]|1"]);
    expect(approvalWaitKeys(first, [], nodes, { bodyWhenPaused: true })).toEqual([]);
    expect(approvalWaitKeys(pausedRun(), [], nodes, { bodyWhenPaused: true })).toEqual(["ok|M[0]|1", "ok|M[1]|1", "ok|M[2]|1"]);
  });

  it("labels nested iterations by their containers' kinds", () => {
    const nested = (id: string) => ({ M: "map", L: "loop" })[id];
    expect(iterationItemLabel("M[2]/L[1]", nested)).toBe("item 3 › iteration 2 (M[2]/L[1])");
    expect(iterationItemLabel("L[0]", nested)).toBe("iteration 1 (L[0])");
  });

  it("shows the prompt the run rendered for that iteration", () => {
    const records = [waitingRow("M[0]", "Ship order 1?"), waitingRow("M[1]", "Ship order 2?")];
    expect(approvalPrompt(records, "ok", "M[1]", "Ship order {{ input }}?")).toBe("Ship order 2?");
    expect(approvalPrompt([], "ok", "M[1]", "Ship it?")).toBe("Ship it?");
    expect(approvalPrompt([], "ok", "M[1]", "Ship order {{ input }}?")).toBe("");
  });
});

describe("a waiting container says why", () => {
  it("one approval: names the iteration", () => {
    const waits = containerApprovalWaits(null, [waitingRow("M[2]")], "M", nodes);
    expect(waits).toEqual([{ node: "ok", iteration: "M[2]" }]);
    expect(containerWaitText(waits)).toBe("waiting: approval in M[2]");
  });

  it("several: counts the iterations; the count drops as the events say they go on", () => {
    const run = pausedRun();
    expect(containerWaitText(containerApprovalWaits(run, [], "M", nodes))).toBe("3 iterations wait for approval");
    const later = applyRunEvents(run, [status(10, "ok", "succeeded", "M[0]"), status(11, "ok", "succeeded", "M[2]")]);
    expect(containerWaitText(containerApprovalWaits(later, [], "M", nodes))).toBe("waiting: approval in M[1]");
    const done = applyRunEvents(later, [status(12, "ok", "succeeded", "M[1]")]);
    expect(containerWaitText(containerApprovalWaits(done, [], "M", nodes))).toBeNull();
  });

  it("an outer container counts approvals nested in an inner one", () => {
    const deep = [
      { id: "M", type: "map" },
      { id: "L", type: "loop", parent: "M" },
      { id: "ok", type: "approval", parent: "L" },
    ];
    const records = [waitingRow("M[1]/L[0]")];
    expect(containerApprovalWaits(null, records, "M", deep)).toEqual([{ node: "ok", iteration: "M[1]/L[0]" }]);
    expect(containerApprovalWaits(null, records, "L", deep)).toEqual([{ node: "ok", iteration: "M[1]/L[0]" }]);
    expect(containerWaitText(containerApprovalWaits(null, records, "M", deep))).toBe("waiting: approval in M[1]/L[0]");
  });
});

describe("the 409 iteration_required answer", () => {
  it("asks the user to choose an iteration, with the server's list, and is not 'Already decided'", () => {
    const shown = approvalFailure({
      status: 409,
      message: "node ok waits in 3 iterations (M[0], M[1], M[2]): name one in `iteration`",
      errors: [{ code: "iteration_required" }],
    });
    expect(shown.conflict).toBe(false);
    expect(shown.needsIteration).toBe(true);
    expect(shown.text).toMatch(/^This node waits in several iterations: choose the one this decision is for/);
    expect(shown.text).toContain("M[0], M[1], M[2]");
    // other 409s still read as decided elsewhere
    expect(approvalFailure({ status: 409, message: "already", errors: [{ code: "already_decided" }] }).conflict).toBe(true);
  });
});
