/** Approvals decided while the run is queued for an earlier decision: what a refusal means, and
 * the chooser dropping what this browser decided before the events say so. */
import { describe, expect, it } from "vitest";
import {
  approvalFailure,
  approvalKey,
  approvalWaitKeys,
  approvalWaitPaths,
  chooseApprovalIteration,
  containerApprovalWaits,
  containerWaitText,
  nextWaitingIteration,
  waitAttempt,
} from "./approval";
import { applyRunEvents, emptyRunView } from "./runEvents";
import type { NodeRunRecord, RunEvent } from "./types";
import { createCanvasStore } from "../store/canvasStore";

const status = (seq: number, node: string, st: string, iteration: string | null = null, attempt = 1): RunEvent =>
  ({ seq, run: 7, type: "node.status", node, iteration, status: st, attempt }) as RunEvent;
const runStatus = (seq: number, st: string): RunEvent => ({ seq, run: 7, type: "run.status", status: st }) as RunEvent;

const nodes = [
  { id: "start", type: "start", parent: null },
  { id: "M", type: "map", parent: null },
  { id: "ok", type: "approval", parent: "M" },
  { id: "t", type: "transform", parent: "M" },
  { id: "top", type: "approval", parent: null },
];

/** Paused: items M[0..2] wait at "ok", and the top-level approval "top" waits too. */
const pausedRun = () =>
  applyRunEvents(emptyRunView(7), [
    status(1, "M", "running"),
    status(2, "ok", "waiting", "M[0]"),
    status(3, "ok", "waiting", "M[1]"),
    status(4, "ok", "waiting", "M[2]"),
    status(5, "top", "waiting"),
    status(6, "M", "waiting"),
    runStatus(7, "paused"),
  ]);
const NO_ROWS: NodeRunRecord[] = [];

describe("what a refused decision means", () => {
  const conflict = (code: string, message: string) => approvalFailure({ status: 409, message, errors: [{ code }] });

  it("already_decided stays 'Already decided': nothing to retry", () => {
    const shown = conflict("already_decided", "node ok in M[1] was already decided");
    expect(shown).toMatchObject({ kind: "decided", conflict: true });
    expect(shown.text).toMatch(/^Already decided — your decision was not applied\. .*node ok in M\[1\] was already decided/);
    // a 409 naming no code reads the same
    expect(approvalFailure({ status: 409, message: "run 4 was already resumed" }).kind).toBe("decided");
  });

  it("run_state while a worker holds the run: decide it when the run pauses again", () => {
    for (const message of ["run 9 is being resumed right now", "run 9 is running, not waiting for an approval"]) {
      const shown = conflict("run_state", message);
      expect(shown).toMatchObject({ kind: "later", conflict: false });
      expect(shown.text).toMatch(/^The run is continuing from an earlier decision; decide this one when it pauses again\./);
      expect(shown.text).toContain(message);
      expect(shown.text).not.toMatch(/Already decided/);
    }
  });

  it("run_state for a run that ended: nothing waits any more", () => {
    const shown = conflict("run_state", "run 9 is cancelled, not waiting for an approval");
    expect(shown).toMatchObject({ kind: "ended", conflict: true });
    expect(shown.text).toMatch(/^The run has ended \(cancelled\)/);
  });

  it("node_state: the node does not wait (any more)", () => {
    const shown = conflict("node_state", "node ok in M[1] is not waiting for an approval");
    expect(shown).toMatchObject({ kind: "gone", conflict: true });
    expect(shown.text).toMatch(/^No longer waiting/);
  });

  it("iteration_required asks to choose; other failures are errors", () => {
    expect(conflict("iteration_required", "node ok waits in iterations M[0], M[1]: name the iteration")).toMatchObject({
      kind: "iteration",
      needsIteration: true,
      conflict: false,
    });
    expect(approvalFailure({ status: 400, message: "bad data" })).toMatchObject({ kind: "error", conflict: false });
  });
});

describe("the chooser drops the iterations decided here, before the events say so", () => {
  it("leaves a decided iteration out of the waits, the keys and the container's count", () => {
    const run = pausedRun();
    const decided = { [approvalKey("ok", "M[0]", waitAttempt(run, NO_ROWS, "ok", "M[0]"))]: true };
    expect(approvalWaitPaths(run, NO_ROWS, "ok")).toEqual(["M[0]", "M[1]", "M[2]"]);
    expect(approvalWaitPaths(run, NO_ROWS, "ok", true, decided)).toEqual(["M[1]", "M[2]"]);
    expect(approvalWaitKeys(run, NO_ROWS, nodes, { bodyWhenPaused: true, decided })).toEqual(["ok|M[1]|1", "ok|M[2]|1", "top||1"]);
    const waits = containerApprovalWaits(run, NO_ROWS, "M", nodes, decided);
    expect(waits.map((w) => w.iteration)).toEqual(["M[1]", "M[2]"]);
    expect(containerWaitText(waits)).toBe("2 iterations wait for approval");
  });

  it("two decided back-to-back: only the last iteration is left, chosen by itself", () => {
    const run = pausedRun();
    const decided = { "ok|M[0]|1": true, "ok|M[1]|0": false, "ok|M[1]|1": false };
    const left = approvalWaitPaths(run, NO_ROWS, "ok", true, decided);
    expect(left).toEqual(["M[2]"]);
    expect(chooseApprovalIteration(left, "M[1]")).toMatchObject({ iteration: "M[2]", reason: "only" });
    expect(containerWaitText(containerApprovalWaits(run, NO_ROWS, "M", nodes, decided))).toBe("waiting: approval in M[2]");
  });

  it("a top-level approval decided here is no longer offered; the other one is", () => {
    const run = pausedRun();
    expect(approvalWaitPaths(run, NO_ROWS, "top", false, { "top||1": true })).toEqual([]);
    expect(approvalWaitKeys(run, NO_ROWS, nodes, { decided: { "top||1": true, "ok|M[0]|1": true } })).toEqual(["ok|M[1]|1", "ok|M[2]|1"]);
  });

  it("a later attempt of the same iteration waits again: a decision on the earlier one does not hide it", () => {
    const run = applyRunEvents(pausedRun(), [status(8, "ok", "running", "M[0]", 2), status(9, "ok", "waiting", "M[0]", 2)]);
    expect(approvalWaitPaths(run, NO_ROWS, "ok", true, { "ok|M[0]|1": true })).toEqual(["M[0]", "M[1]", "M[2]"]);
  });

  it("the report's waiting rows are dropped the same way (attempt read from the row)", () => {
    const rows: NodeRunRecord[] = ["M[0]", "M[1]"].map((iteration) => ({
      node_id: "ok",
      iteration,
      attempt: 3,
      status: "waiting",
      wait: { kind: "approval", wake_at: null, data: {} },
    })) as NodeRunRecord[];
    expect(approvalWaitPaths(null, rows, "ok", true, { "ok|M[1]|3": true })).toEqual(["M[0]"]);
  });

  it("offers the next iteration that waits after the decided one, else the first", () => {
    expect(nextWaitingIteration(["M[1]", "M[2]"], "M[0]")).toBe("M[1]");
    expect(nextWaitingIteration(["M[0]", "M[2]"], "M[1]")).toBe("M[2]");
    expect(nextWaitingIteration(["M[0]", "M[1]"], "M[2]")).toBe("M[0]");
    expect(nextWaitingIteration(["M[10]", "M[2]"], "M[3]")).toBe("M[10]");
    expect(nextWaitingIteration([], "M[0]")).toBeNull();
    expect(nextWaitingIteration(["M[2]"], null)).toBe("M[2]");
  });
});

describe("the run's pauses are counted (a refused decision waits for the next one)", () => {
  it("counts each run.status paused once, duplicates and replays included", () => {
    const run = pausedRun();
    expect(run.pauses).toBe(1);
    const again = applyRunEvents(run, [runStatus(8, "running"), status(9, "ok", "succeeded", "M[0]"), runStatus(10, "paused")]);
    expect(again.pauses).toBe(2);
    expect(applyRunEvents(again, [runStatus(10, "paused"), runStatus(8, "running")]).pauses).toBe(2);
  });
});

describe("the store keeps the decisions of the shown run only", () => {
  it("marks decisions and forgets them with a new run view", () => {
    const store = createCanvasStore();
    store.getState().startRunView(7);
    store.getState().markApprovalDecided("ok|M[0]|1", true);
    store.getState().markApprovalDecided("ok|M[1]|1", false);
    expect(store.getState().decidedApprovals).toEqual({ "ok|M[0]|1": true, "ok|M[1]|1": false });
    store.getState().startRunView(8);
    expect(store.getState().decidedApprovals).toEqual({});
    store.getState().markApprovalDecided("top||1", true);
    store.getState().closeRunView();
    expect(store.getState().decidedApprovals).toEqual({});
  });
});
