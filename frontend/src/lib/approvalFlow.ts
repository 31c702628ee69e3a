/**
 * The approval flow as one pure reducer: which approval the decision dialog is for, what the
 * dialog holds (the iteration chosen, the data typed, a refusal), what this browser decided, and
 * when the dialog opens by itself. The store keeps the state (`store/slices/approvals.ts`);
 * `ApprovalDialog` is a view over `approvalDialogView` that sends the decision and reports back.
 *
 * - The dialog opens by itself once per wait (node, iteration, attempt) when the shown run waits
 *   at an approval (a wait in a body once the run has paused: other items may still run);
 *   "Later" marks every wait there is as seen. The inspector or a waiting container opens it too.
 * - After a decision it stays open while other approvals wait (the same node's next iteration,
 *   else the next waiting node): they can be decided at once, while the run is queued.
 * - A decision refused because a worker holds the run (`later`) is offered again once the run
 *   has paused once more: the open dialog becomes usable, a closed one reopens on that iteration.
 */
import {
  approvalFailure,
  approvalKey,
  approvalPrompt,
  approvalWaitKeys,
  approvalWaitPaths,
  chooseApprovalIteration,
  iterationItemLabel,
  nextWaitingIteration,
  parseApprovalData,
  waitAttempt,
  type ApprovalFailure,
  type ParsedData,
} from "./approval";
import { compareIterationPaths, iterationRecord } from "./iterations";
import type { RunViewState } from "./runEvents";
import { TERMINAL_NODE_STATES, type NodeRunRecord, type NodeState } from "./types";

/** What the flow reads of the shown run and the canvas (it never changes them). */
export interface ApprovalRun {
  run: RunViewState | null;
  /** The shown run's report rows (`node_runs[]`); none before the report comes. */
  records: readonly NodeRunRecord[];
  /** The canvas's approval nodes, in canvas order (`parent`: the container a body node is in). */
  approvals: readonly { id: string; type?: string; parent?: string | null }[];
  /** Per container, the iteration picked in the inspector. */
  picks: Readonly<Record<string, string>>;
}

/** A refusal the dialog shows; `pauses`: how often the run had paused when the decision was sent. */
export type ShownFailure = ApprovalFailure & { pauses: number };

/** What the open dialog holds. */
export interface ApprovalDialogState {
  /** The iteration the user chose (or the dialog offered after a decision). */
  chosen: string | null;
  /** The iteration the dialog first showed, kept if it stops waiting. */
  first: string | null;
  /** The server asked for an iteration (409 `iteration_required`): none is taken by itself. */
  mustChoose: boolean;
  dataText: string;
  busy: boolean;
  failure: ShownFailure | null;
}

export interface ApprovalFlowState {
  /** The approval node whose decision dialog is open (null: closed). */
  approvalRequest: string | null;
  /** The body iteration that dialog offers first (one whose decision waits for the run to pause again). */
  approvalOffer: string | null;
  /**
   * Approvals decided from this browser in the shown run (`approvalKey` → approved), dropped
   * from the dialog's chooser at once: the events that say so follow only once a worker applies
   * the decision, and more may be decided before that.
   */
  decidedApprovals: Record<string, boolean>;
  /** Waits the dialog was dismissed with: it does not open by itself for them again. */
  approvalsSeen: Readonly<Record<string, true>>;
  /** What the last decision made in the open dialog was (it may have been for another node). */
  approvalLastDecision: string | null;
  /** A decision refused while a worker held the run: offered again once the run has paused more than `pauses` times. */
  approvalReopen: { pauses: number; node: string; iteration: string | null } | null;
  approvalDialog: ApprovalDialogState;
}

/** A decision as sent: `key` names the wait, `sentAt` how often the run had paused then. */
export interface ApprovalDecision {
  node: string;
  iteration: string | null;
  approved: boolean;
  key: string;
  sentAt: number;
}

export type ApprovalAction =
  /** Open the dialog for a node (`offer`: the iteration to offer first), or close it (null). */
  | { type: "open"; node: string | null; offer?: string | null }
  /** The run's waits, pauses or report changed: the dialog may open by itself. */
  | { type: "waitsChanged" }
  /** "Later" or "Close": every wait there is now counts as seen. */
  | { type: "dismiss" }
  | { type: "choose"; iteration: string | null }
  | { type: "editData"; text: string }
  | { type: "send" }
  /** The server took the decision (200). */
  | { type: "decided"; decision: ApprovalDecision }
  /** The server refused it, or the request failed. */
  | { type: "refused"; decision: ApprovalDecision; error: { status?: number; message: string; errors?: readonly { code?: string }[] } };

export const closedDialog = (): ApprovalDialogState => ({
  chosen: null,
  first: null,
  mustChoose: false,
  dataText: "",
  busy: false,
  failure: null,
});

export const initialApprovalFlow = (): ApprovalFlowState => ({
  approvalRequest: null,
  approvalOffer: null,
  decidedApprovals: {},
  approvalsSeen: {},
  approvalLastDecision: null,
  approvalReopen: null,
  approvalDialog: closedDialog(),
});

/**
 * The next state of the approval flow (`state` itself when nothing changes). After every action
 * the dialog may open by itself: for a refused decision once the run has paused again, else for
 * a wait not seen yet.
 */
export function approvalFlow(state: ApprovalFlowState, action: ApprovalAction, run: ApprovalRun): ApprovalFlowState {
  return openByItself(reopenAfterPause(step(state, action, run), run), run);
}

function step(state: ApprovalFlowState, action: ApprovalAction, run: ApprovalRun): ApprovalFlowState {
  switch (action.type) {
    case "open":
      return open(state, action.node, action.offer ?? null, run);
    case "waitsChanged":
      return state;
    case "dismiss":
      return dismiss(state, run);
    case "choose":
      return withDialog(state, {
        chosen: action.iteration || null,
        mustChoose: false,
        failure: state.approvalDialog.failure?.kind === "later" ? state.approvalDialog.failure : null,
      });
    case "editData":
      return withDialog(state, { dataText: action.text });
    case "send":
      return withDialog(state, { busy: true, failure: null });
    case "decided":
      return decided(state, action.decision, run);
    case "refused":
      return refused(state, action.decision, approvalFailure(action.error), run);
  }
}

/** The node's container (null at top level). */
const parentOf = (run: ApprovalRun, node: string) => run.approvals.find((n) => n.id === node)?.parent ?? null;

const withDialog = (state: ApprovalFlowState, patch: Partial<ApprovalDialogState>): ApprovalFlowState => ({
  ...state,
  approvalDialog: { ...state.approvalDialog, ...patch },
});

/** The iterations `node` still waits in, less those decided here (top level: none). */
function bodyWaits(state: ApprovalFlowState, run: ApprovalRun, node: string): string[] {
  return parentOf(run, node) !== null ? approvalWaitPaths(run.run, run.records, node, true, state.decidedApprovals) : [];
}

function open(state: ApprovalFlowState, node: string | null, offer: string | null, run: ApprovalRun): ApprovalFlowState {
  if (state.approvalRequest === node && state.approvalOffer === offer) return state;
  // the same node asked for again keeps what its dialog holds; another starts afresh
  if (state.approvalRequest === node) return { ...state, approvalOffer: offer };
  return {
    ...state,
    approvalRequest: node,
    approvalOffer: offer,
    approvalDialog: node === null ? closedDialog() : freshDialog(state, node, offer, run),
  };
}

function freshDialog(state: ApprovalFlowState, node: string, offer: string | null, run: ApprovalRun): ApprovalDialogState {
  const parent = parentOf(run, node);
  const waits = bodyWaits(state, run, node);
  const picked = parent ? (run.picks[parent] ?? null) : null;
  return {
    ...closedDialog(),
    chosen: offer && waits.includes(offer) ? offer : null,
    first: chooseApprovalIteration(waits, picked).iteration,
  };
}

/** One key per wait the dialog may open by itself for (a body's once the run has paused). */
const openingKeys = (state: ApprovalFlowState, run: ApprovalRun) =>
  approvalWaitKeys(run.run, run.records, run.approvals, { bodyWhenPaused: true, decided: state.decidedApprovals });

const nodeOfKey = (key: string) => key.split("|")[0];

/** A wait not seen yet opens the closed dialog (not while a refused decision waits for a pause). */
function openByItself(state: ApprovalFlowState, run: ApprovalRun): ApprovalFlowState {
  if (state.approvalReopen !== null || state.approvalRequest !== null) return state;
  const fresh = openingKeys(state, run).find((key) => !(key in state.approvalsSeen));
  return fresh ? open(state, nodeOfKey(fresh), null, run) : state;
}

/** The run has paused again since a decision was refused: offer it again (a closed dialog reopens). */
function reopenAfterPause(state: ApprovalFlowState, run: ApprovalRun): ApprovalFlowState {
  const reopen = state.approvalReopen;
  if (reopen === null || run.run?.status !== "paused" || (run.run.pauses ?? 0) <= reopen.pauses) return state;
  const cleared = { ...state, approvalReopen: null };
  if (state.approvalRequest !== null) return cleared; // still open: it offers the decision again itself
  // the refused one when it still waits, else the first that waits
  const waiting = openingKeys(state, run);
  const again = waiting.find((key) => key.startsWith(`${reopen.node}|${reopen.iteration ?? ""}|`));
  const first = again ?? waiting[0];
  if (!first) return cleared;
  return open({ ...cleared, approvalLastDecision: null }, nodeOfKey(first), again ? reopen.iteration : null, run);
}

function dismiss(state: ApprovalFlowState, run: ApprovalRun): ApprovalFlowState {
  const seen = { ...state.approvalsSeen };
  for (const key of openingKeys(state, run)) seen[key] = true;
  return { ...open(state, null, null, run), approvalsSeen: seen, approvalLastDecision: null };
}

/** After `path` of `node` was decided: offer the next iteration that still waits. */
function offerNext(state: ApprovalFlowState, run: ApprovalRun, node: string, path: string): ApprovalFlowState {
  const next = nextWaitingIteration(bodyWaits(state, run, node), path);
  return withDialog(state, { chosen: next, first: null, mustChoose: false });
}

function decided(state: ApprovalFlowState, decision: ApprovalDecision, run: ApprovalRun): ApprovalFlowState {
  let next: ApprovalFlowState = { ...state, decidedApprovals: { ...state.decidedApprovals, [decision.key]: decision.approved } };
  if (next.approvalRequest === decision.node) {
    if (parentOf(run, decision.node) !== null) next = offerNext(next, run, decision.node, decision.iteration ?? "");
    next = withDialog(next, { dataText: "", busy: false });
  }
  // what still waits, less what was just decided (the events saying so follow later)
  const left = approvalWaitKeys(run.run, run.records, run.approvals, { decided: next.decidedApprovals }).map(nodeOfKey);
  if (!left.length) return dismiss(next, run);
  const node = next.approvalRequest;
  const verb = decision.approved ? "Approved" : "Rejected";
  const where = decision.iteration ? ` in ${decision.iteration}` : "";
  const more = `${left.length} more wait${left.length > 1 ? "" : "s"} for a decision.`;
  next = { ...next, approvalLastDecision: `${verb} ${node ?? ""}${where}. ${more}` };
  return node === null || !left.includes(node) ? open(next, left[0], null, run) : next;
}

function refused(state: ApprovalFlowState, decision: ApprovalDecision, shown: ApprovalFailure, run: ApprovalRun): ApprovalFlowState {
  let next = state;
  // decided elsewhere (or no longer waiting): gone from the chooser; the others stay
  const gone = shown.kind === "decided" || shown.kind === "gone";
  if (gone) next = { ...next, decidedApprovals: { ...next.decidedApprovals, [decision.key]: decision.approved } };
  if (next.approvalRequest === decision.node) {
    if (shown.needsIteration) next = withDialog(next, { mustChoose: true, chosen: null });
    if (gone && parentOf(run, decision.node) !== null) next = offerNext(next, run, decision.node, decision.iteration ?? "");
    next = withDialog(next, { failure: { ...shown, pauses: decision.sentAt }, busy: false });
  }
  if (shown.kind === "later" && next.approvalRequest !== null) {
    next = { ...next, approvalReopen: { pauses: decision.sentAt, node: next.approvalRequest, iteration: decision.iteration } };
  }
  return next;
}

/** What the open dialog shows, and whether it can send. */
export interface ApprovalDialogView {
  body: boolean;
  /** The iteration the decision is for (null at top level, or while the user has to choose). */
  iteration: string | null;
  choices: string[];
  showChooser: boolean;
  parsed: ParsedData;
  /** A refused decision can be made now: the run has paused again. */
  pausedAgain: boolean;
  /** The run is not paused (other iterations or branches run): a decision is accepted once it pauses. */
  notPaused: boolean;
  /** Nothing is left to decide here: only "Close". */
  closed: boolean;
  /** The wait shown was decided elsewhere (another viewer, the API): who decided what, if known. */
  decidedElsewhere: string | null;
  ready: boolean;
  title: string;
  prompt: string;
  iterationText: string;
  label(path: string): string;
}

/** The dialog of `state.approvalRequest`. `kindOf` gives a container's node type; `configPrompt` the node's configured prompt. */
export function approvalDialogView(
  state: ApprovalFlowState,
  run: ApprovalRun,
  kindOf: (container: string) => string | undefined,
  configPrompt: unknown,
): ApprovalDialogView {
  const node = state.approvalRequest ?? "";
  const { chosen, first, mustChoose, dataText, failure } = state.approvalDialog;
  const parent = parentOf(run, node);
  const body = parent !== null;
  const waits = bodyWaits(state, run, node);
  const picked = parent ? (run.picks[parent] ?? null) : null;
  const auto = chooseApprovalIteration(waits, picked);
  const iteration = body ? (chosen ?? (mustChoose ? null : (auto.iteration ?? first))) : null;
  const choices = [...new Set([...waits, ...(iteration ? [iteration] : [])])].sort(compareIterationPaths);
  const label = (path: string) => iterationItemLabel(path, kindOf);
  const parsed = parseApprovalData(dataText);

  const pauses = run.run?.pauses ?? 0;
  const pausedAgain = failure?.kind === "later" && pauses > failure.pauses && run.run?.status === "paused";
  const waitingForPause = failure?.kind === "later" && !pausedAgain;
  // a top-level node decided here that still shows waiting in the events
  const topDecided = !body && approvalKey(node, "", waitAttempt(run.run, run.records, node, "")) in state.decidedApprovals;
  const nothingLeft = body ? waits.length === 0 && (iteration === null || !waits.includes(iteration)) : topDecided;
  const prompt = approvalPrompt(run.records, node, iteration ?? "", configPrompt);
  const shownKey = approvalKey(node, iteration ?? "", waitAttempt(run.run, run.records, node, iteration ?? ""));
  const elsewhere = (body && !iteration) || shownKey in state.decidedApprovals ? null : decidedElsewhere(run, node, iteration ?? "");
  return {
    body,
    iteration,
    choices,
    showChooser: body && (choices.length > 1 || iteration === null || mustChoose),
    parsed,
    pausedAgain,
    notPaused: (run.run?.status === "running" || run.run?.status === "queued") && !waitingForPause,
    // a body's other iterations that still wait stay decidable: the chooser offers them
    closed: ((failure?.conflict ?? false) && nothingLeft) || (elsewhere !== null && (!body || waits.length === 0)),
    decidedElsewhere: elsewhere,
    ready: parsed.ok && (!body || iteration !== null) && !waitingForPause && !(!body && topDecided) && elsewhere === null,
    title: !body ? `Approval: ${node}` : iteration ? `Approval: ${node} in ${label(iteration)}` : `Approval: ${node} (choose an iteration)`,
    prompt:
      body && !iteration && prompt.includes("{{")
        ? "Choose an iteration to see its prompt."
        : prompt ||
          (hasTemplate(configPrompt)
            ? "Reading the prompt from the run…"
            : `The run is paused at “${node}” until someone approves or rejects.`),
    iterationText: body ? iterationText(iteration, choices.length, iteration !== null && iteration === picked, label) : "",
    label,
  };
}

const hasTemplate = (prompt: unknown) => typeof prompt === "string" && prompt.includes("{{");

/**
 * What became of a wait the run has moved past (the node in `path`, "" at top level, ended):
 * "Approved by alice", from its output (`{approved, by}`, SPEC §3 approval); null while it waits.
 */
export function decidedElsewhere(run: ApprovalRun, node: string, path: string): string | null {
  const live = path ? run.run?.iterations[node]?.[path] : run.run?.nodes[node];
  const status = (live?.status ?? iterationRecord(run.records, node, path)?.status) as NodeState | undefined;
  if (!status || !TERMINAL_NODE_STATES.has(status)) return null;
  const liveOutput = path ? run.run?.iterationOutputs[node]?.[path] : run.run?.outputs[node];
  const output = (liveOutput ?? iterationRecord(run.records, node, path)?.output) as { approved?: unknown; by?: unknown } | undefined;
  const where = path ? ` in ${path}` : "";
  if (typeof output?.approved !== "boolean") {
    // the engine sends a decided node's `succeeded` before its output: decided, details on their way
    if (status === "succeeded" && output === undefined) return `Already decided elsewhere${where}.`;
    return `No longer waiting${where}: the run moved on (${status}).`;
  }
  const by = typeof output.by === "string" && output.by ? ` by ${output.by}` : "";
  return `Already ${output.approved ? "approved" : "rejected"}${by}${where}.`;
}

/** The decision the open dialog would send (null: not ready). */
export function pendingDecision(
  state: ApprovalFlowState,
  run: ApprovalRun,
  view: ApprovalDialogView,
  approved: boolean,
): ApprovalDecision | null {
  const node = state.approvalRequest;
  if (node === null || !view.parsed.ok || (view.body && !view.iteration)) return null;
  const path = view.iteration ?? "";
  const key = approvalKey(node, path, waitAttempt(run.run, run.records, node, path));
  return { node, iteration: view.iteration, approved, key, sentAt: run.run?.pauses ?? 0 };
}

/** What the editor's notice says after a decision. */
export function decisionNotice(approved: boolean, iteration: string | null): string {
  const where = iteration ? ` ${iteration}` : "";
  return approved ? `Approved${where}: the run goes on` : `Rejected${where}: the run follows the rejected branch`;
}

/** What the dialog says about the iteration it decides. */
function iterationText(iteration: string | null, waiting: number, picked: boolean, label: (path: string) => string): string {
  if (!iteration) {
    return waiting
      ? `This node waits for a decision in ${waiting} iterations: choose the one this decision is for.`
      : "No iteration of this node waits for a decision now.";
  }
  const others = waiting - 1;
  const why = picked ? " (picked in the inspector)" : "";
  return `Decides ${label(iteration)}${why} only${others > 0 ? `; ${others} other iteration${others > 1 ? "s" : ""} wait${others > 1 ? "" : "s"} too` : ""}.`;
}
