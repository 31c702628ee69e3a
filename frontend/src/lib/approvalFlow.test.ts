/** The approval flow's reducer: when the dialog opens by itself, what it offers after a decision
 * or a refusal, and what the dialog shows. */
import { describe, expect, it } from "vitest";
import {
  approvalDialogView,
  approvalFlow,
  initialApprovalFlow,
  pendingDecision,
  type ApprovalAction,
  type ApprovalDecision,
  type ApprovalFlowState,
  type ApprovalRun,
} from "./approvalFlow";
import { applyRunEvents, emptyRunView, type RunViewState } from "./runEvents";
import type { RunEvent } from "./types";

const status = (seq: number, node: string, st: string, iteration: string | null = null, attempt = 1): RunEvent =>
  ({ seq, run: 7, type: "node.status", node, iteration, status: st, attempt }) as RunEvent;
const runStatus = (seq: number, st: string): RunEvent => ({ seq, run: 7, type: "run.status", status: st }) as RunEvent;

const nodes = [
  { id: "M", type: "map", parent: null },
  { id: "ok", type: "approval", parent: "M" },
  { id: "top", type: "approval", parent: null },
];
const kindOf = (id: string) => nodes.find((n) => n.id === id)?.type;

/** Items M[0], M[1] wait at "ok" (in a map body), and the top-level approval "top" waits too. */
const waitingEvents = [
  status(1, "M", "running"),
  status(2, "ok", "waiting", "M[0]"),
  status(3, "ok", "waiting", "M[1]"),
  status(4, "top", "waiting"),
  status(5, "M", "waiting"),
];
const paused = () => applyRunEvents(emptyRunView(7), [...waitingEvents, runStatus(6, "paused")]);
const running = () => applyRunEvents(emptyRunView(7), [...waitingEvents, runStatus(6, "running")]);

const runOf = (run: RunViewState | null, picks: Record<string, string> = {}): ApprovalRun => ({
  run,
  records: [],
  approvals: nodes.filter((n) => n.type === "approval"),
  picks,
});

/** The flow after `actions`, each applied against `run`. */
function after(run: ApprovalRun, ...actions: ApprovalAction[]): ApprovalFlowState {
  return actions.reduce((state, action) => approvalFlow(state, action, run), initialApprovalFlow());
}

const view = (state: ApprovalFlowState, run: ApprovalRun) => approvalDialogView(state, run, kindOf, "Ship it?");

function decision(state: ApprovalFlowState, run: ApprovalRun, approved = true): ApprovalDecision {
  const d = pendingDecision(state, run, view(state, run), approved);
  if (!d) throw new Error("the dialog is not ready to decide");
  return d;
}

const conflict = (code: string, message: string) => ({ status: 409, message, errors: [{ code }] });

describe("the dialog opens by itself", () => {
  it("once per wait: 'Later' marks every wait seen, and it does not come back for them", () => {
    const run = runOf(paused());
    const opened = after(run, { type: "waitsChanged" });
    expect(opened.approvalRequest).toBe("ok");
    const dismissed = approvalFlow(opened, { type: "dismiss" }, run);
    expect(dismissed.approvalRequest).toBeNull();
    expect(Object.keys(dismissed.approvalsSeen).sort()).toEqual(["ok|M[0]|1", "ok|M[1]|1", "top||1"]);
    expect(approvalFlow(dismissed, { type: "waitsChanged" }, run).approvalRequest).toBeNull();
    // a new attempt is a new wait
    const retried = runOf(applyRunEvents(paused(), [status(7, "top", "running", null, 2), status(8, "top", "waiting", null, 2)]));
    expect(approvalFlow(dismissed, { type: "waitsChanged" }, retried).approvalRequest).toBe("top");
  });

  it("for a wait in a body only once the run has paused (other items may still run)", () => {
    const state = after(runOf(running()), { type: "waitsChanged" });
    expect(state.approvalRequest).toBe("top");
    expect(after(runOf(running()), { type: "open", node: "ok" }).approvalRequest).toBe("ok");
  });

  it("opening the same node keeps what its dialog holds; another node starts afresh", () => {
    const run = runOf(paused());
    const typed = after(run, { type: "open", node: "ok" }, { type: "editData", text: '{"a": 1}' });
    expect(approvalFlow(typed, { type: "open", node: "ok" }, run)).toBe(typed);
    expect(approvalFlow(typed, { type: "open", node: "top" }, run).approvalDialog.dataText).toBe("");
  });
});

describe("which iteration the dialog decides", () => {
  it("the one picked in the inspector when the node waits there, else the user chooses", () => {
    const picked = runOf(paused(), { M: "M[1]" });
    const shown = view(after(picked, { type: "open", node: "ok" }), picked);
    expect(shown).toMatchObject({ iteration: "M[1]", title: "Approval: ok in item 2 (M[1])", showChooser: true, ready: true });
    expect(shown.iterationText).toBe("Decides item 2 (M[1]) (picked in the inspector) only; 1 other iteration waits too.");
    const run = runOf(paused());
    const choosing = view(after(run, { type: "open", node: "ok" }), run);
    expect(choosing).toMatchObject({ iteration: null, ready: false, title: "Approval: ok (choose an iteration)" });
    expect(view(after(run, { type: "open", node: "ok" }, { type: "choose", iteration: "M[0]" }), run)).toMatchObject({
      iteration: "M[0]",
      ready: true,
    });
  });

  it("a top-level node decides no iteration; its prompt is the node's", () => {
    const run = runOf(paused());
    expect(view(after(run, { type: "open", node: "top" }), run)).toMatchObject({
      body: false,
      iteration: null,
      ready: true,
      prompt: "Ship it?",
    });
  });

  it("data that is not JSON is refused before anything is sent", () => {
    const run = runOf(paused());
    const state = after(run, { type: "open", node: "top" }, { type: "editData", text: "{nope" });
    expect(view(state, run).ready).toBe(false);
    expect(pendingDecision(state, run, view(state, run), true)).toBeNull();
  });
});

describe("after a decision", () => {
  it("stays open offering the node's next iteration, and says what was decided", () => {
    const run = runOf(paused());
    const open = after(run, { type: "open", node: "ok" }, { type: "choose", iteration: "M[0]" }, { type: "editData", text: "1" });
    const d = decision(open, run);
    expect(d).toEqual({ node: "ok", iteration: "M[0]", approved: true, key: "ok|M[0]|1", sentAt: 1 });
    const next = after(
      run,
      { type: "open", node: "ok" },
      { type: "choose", iteration: "M[0]" },
      { type: "send" },
      { type: "decided", decision: d },
    );
    expect(next.decidedApprovals).toEqual({ "ok|M[0]|1": true });
    expect(next.approvalRequest).toBe("ok");
    expect(next.approvalDialog).toMatchObject({ chosen: "M[1]", busy: false, dataText: "" });
    expect(next.approvalLastDecision).toBe("Approved ok in M[0]. 2 more wait for a decision.");
    expect(view(next, run).choices).toEqual(["M[1]"]);
  });

  it("moves on to the next waiting node when this one has none left, and closes when none is left", () => {
    const run = runOf(paused());
    let state = after(run, { type: "open", node: "ok" }, { type: "choose", iteration: "M[0]" });
    state = approvalFlow(state, { type: "decided", decision: decision(state, run) }, run);
    state = approvalFlow(state, { type: "decided", decision: decision(state, run, false) }, run);
    expect(state.approvalRequest).toBe("top");
    expect(state.approvalLastDecision).toBe("Rejected ok in M[1]. 1 more waits for a decision.");
    state = approvalFlow(state, { type: "decided", decision: decision(state, run) }, run);
    expect(state.approvalRequest).toBeNull();
    expect(state.approvalLastDecision).toBeNull();
    expect(approvalFlow(state, { type: "waitsChanged" }, run).approvalRequest).toBeNull();
  });
});

describe("after a refusal", () => {
  it("'already decided' drops that iteration and offers the next; nothing is left: only Close", () => {
    const run = runOf(paused());
    let state = after(run, { type: "open", node: "ok" }, { type: "choose", iteration: "M[0]" });
    const refusal = conflict("already_decided", "node ok in M[0] was already decided");
    state = approvalFlow(state, { type: "refused", decision: decision(state, run), error: refusal }, run);
    expect(state.approvalDialog).toMatchObject({ chosen: "M[1]", failure: { kind: "decided", conflict: true } });
    expect(view(state, run).closed).toBe(false);
    state = approvalFlow(state, { type: "refused", decision: decision(state, run), error: refusal }, run);
    expect(view(state, run).closed).toBe(true);
  });

  it("choosing another iteration clears a refusal, but not one that waits for the run to pause", () => {
    const run = runOf(paused());
    const failed = after(run, { type: "open", node: "top" });
    const error = approvalFlow(failed, { type: "refused", decision: decision(failed, run), error: { status: 500, message: "boom" } }, run);
    expect(error.approvalDialog.failure?.kind).toBe("error");
    expect(approvalFlow(error, { type: "choose", iteration: null }, run).approvalDialog.failure).toBeNull();
  });

  it("iteration_required: the user has to choose, none is taken by itself", () => {
    const run = runOf(paused(), { M: "M[0]" });
    const state = after(run, { type: "open", node: "ok" });
    const refused = approvalFlow(
      state,
      { type: "refused", decision: decision(state, run), error: conflict("iteration_required", "which?") },
      run,
    );
    expect(view(refused, run)).toMatchObject({ iteration: null, showChooser: true, ready: false });
  });

  it("a worker holds the run: offered again once the run has paused once more; a closed dialog reopens on that iteration", () => {
    const run = runOf(paused());
    let state = after(run, { type: "open", node: "ok" }, { type: "choose", iteration: "M[1]" });
    const held = conflict("run_state", "run 7 is being resumed right now");
    state = approvalFlow(state, { type: "refused", decision: decision(state, run), error: held }, run);
    expect(view(state, run)).toMatchObject({ ready: false, pausedAgain: false });
    expect(state.approvalReopen).toEqual({ pauses: 1, node: "ok", iteration: "M[1]" });
    // still open when the run pauses again: usable again
    const again = runOf(applyRunEvents(paused(), [runStatus(7, "running"), runStatus(8, "paused")]));
    const usable = approvalFlow(state, { type: "waitsChanged" }, again);
    expect(view(usable, again)).toMatchObject({ ready: true, pausedAgain: true, iteration: "M[1]" });
    expect(usable.approvalReopen).toBeNull();
    // closed meanwhile ("Later"): reopens by itself, offering the refused iteration
    const closed = approvalFlow(state, { type: "dismiss" }, run);
    expect(approvalFlow(closed, { type: "waitsChanged" }, run).approvalRequest).toBeNull();
    const reopened = approvalFlow(closed, { type: "waitsChanged" }, again);
    expect(reopened).toMatchObject({ approvalRequest: "ok", approvalOffer: "M[1]", approvalReopen: null });
    expect(view(reopened, again).iteration).toBe("M[1]");
  });
});

describe("a wait decided elsewhere", () => {
  const output = (seq: number, node: string, value: unknown, iteration: string | null = null): RunEvent =>
    ({ seq, run: 7, type: "node.output", node, iteration, output: value }) as RunEvent;

  it("closes the open dialog and says who decided", () => {
    const opened = after(runOf(paused()), { type: "open", node: "top" });
    expect(view(opened, runOf(paused())).closed).toBe(false);
    const moved = runOf(
      applyRunEvents(paused(), [output(7, "top", { approved: true, data: null, by: "alice" }), status(8, "top", "succeeded")]),
    );
    const shown = view(opened, moved);
    expect(shown.decidedElsewhere).toBe("Already approved by alice.");
    expect(shown.closed).toBe(true);
  });

  it("says decided, not moved on, between a decided node's status and its output (the engine's order)", () => {
    const opened = after(runOf(paused()), { type: "open", node: "top" });
    const decided = applyRunEvents(paused(), [status(7, "top", "succeeded")]);
    const between = view(opened, runOf(decided));
    expect(between.decidedElsewhere).toBe("Already decided elsewhere.");
    expect(between.closed).toBe(true);
    const told = runOf(applyRunEvents(decided, [output(8, "top", { approved: true, data: null, by: "carol" })]));
    expect(view(opened, told).decidedElsewhere).toBe("Already approved by carol.");
  });

  it("says the run moved on when the node ended without a decision, and names a body's iteration", () => {
    const opened = after(runOf(paused()), { type: "open", node: "ok", offer: "M[0]" });
    const moved = runOf(applyRunEvents(paused(), [status(7, "ok", "cancelled", "M[0]")]));
    expect(view(opened, moved).decidedElsewhere).toBe("No longer waiting in M[0]: the run moved on (cancelled).");
  });

  it("keeps a body's dialog open while other iterations wait, the decided one not decidable", () => {
    const opened = after(runOf(paused()), { type: "open", node: "ok" }, { type: "choose", iteration: "M[0]" });
    const moved = runOf(
      applyRunEvents(paused(), [status(7, "ok", "succeeded", "M[0]"), output(8, "ok", { approved: false, by: "bob" }, "M[0]")]),
    );
    const shown = view(opened, moved);
    expect(shown.decidedElsewhere).toBe("Already rejected by bob in M[0].");
    expect(shown.closed).toBe(false);
    expect(shown.ready).toBe(false);
    expect(shown.choices).toContain("M[1]");
  });

  it("is not said of a decision made here", () => {
    const run = runOf(paused());
    const opened = after(run, { type: "open", node: "top" });
    const d = decision(opened, run);
    const decidedHere = { ...opened, decidedApprovals: { [d.key]: true } };
    const moved = runOf(applyRunEvents(paused(), [status(7, "top", "succeeded")]));
    expect(view(decidedHere, moved).decidedElsewhere).toBeNull();
  });

  it("never shows the prompt's raw template while the rendered one is not known", () => {
    const opened = after(runOf(paused()), { type: "open", node: "top" });
    const shown = approvalDialogView(opened, runOf(paused()), kindOf, "Ship order {{ prep }}?");
    expect(shown.prompt).not.toContain("{{");
  });
});
