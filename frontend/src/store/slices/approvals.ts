/** The approvals slice: the approval flow's state, stepped by its pure reducer (`lib/approvalFlow.ts`). */
import { approvalFlow, decisionNotice, initialApprovalFlow, type ApprovalFlowState, type ApprovalRun } from "../../lib/approvalFlow";
import type { ApprovalsActions, ApprovalsState, CanvasState, SliceCreator } from "../types";

/** A new run view: nothing of it decided here yet. */
export const approvalsForNewRun = (): Partial<ApprovalsState> => ({ decidedApprovals: {} });

/** The run view closed: no dialog, nothing decided. */
export const approvalsClosed = (): Partial<ApprovalsState> => ({ approvalRequest: null, decidedApprovals: {} });

/** What the approval flow reads of the store: the shown run, its report's rows, the approval nodes. */
export function approvalRunOf(
  state: Pick<CanvasState, "run" | "runReport" | "nodes" | "iterationPicks" | "replay" | "liveRun">,
): ApprovalRun {
  // approvals are decided on the live run, whatever moment the scrubber shows
  const run = state.replay ? state.liveRun : state.run;
  const report = state.runReport && state.runReport.id === run?.runId ? state.runReport : null;
  return {
    run,
    records: report?.node_runs ?? [],
    approvals: state.nodes.filter((n) => n.type === "approval").map((n) => ({ id: n.id, type: n.type, parent: n.data.node.parent })),
    picks: state.iterationPicks,
  };
}

function flowOf(state: CanvasState): ApprovalFlowState {
  const { approvalRequest, approvalOffer, decidedApprovals, approvalsSeen, approvalLastDecision, approvalReopen, approvalDialog } = state;
  return { approvalRequest, approvalOffer, decidedApprovals, approvalsSeen, approvalLastDecision, approvalReopen, approvalDialog };
}

export const createApprovalsSlice: SliceCreator<ApprovalsState & ApprovalsActions> = (set, get) => ({
  ...initialApprovalFlow(),

  dispatchApproval(action) {
    const flow = flowOf(get());
    const next = approvalFlow(flow, action, approvalRunOf(get()));
    const notice =
      action.type === "decided"
        ? { notice: { kind: "info" as const, text: decisionNotice(action.decision.approved, action.decision.iteration) } }
        : {};
    if (next !== flow || action.type === "decided") set({ ...next, ...notice });
  },

  requestApproval(nodeId, offer = null) {
    get().dispatchApproval({ type: "open", node: nodeId, offer });
  },

  markApprovalDecided(key, approved) {
    if (get().decidedApprovals[key] !== approved) set({ decidedApprovals: { ...get().decidedApprovals, [key]: approved } });
  },
});
