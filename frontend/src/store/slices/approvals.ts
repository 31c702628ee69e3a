/** The approvals slice: which approval the decision dialog is for, and what this browser decided. */
import type { ApprovalsActions, ApprovalsState, SliceCreator } from "../types";

export const initialApprovals = (): ApprovalsState => ({ approvalRequest: null, approvalOffer: null, decidedApprovals: {} });

/** A new run view: nothing of it decided here yet. */
export const approvalsForNewRun = (): Partial<ApprovalsState> => ({ decidedApprovals: {} });

/** The run view closed: no dialog, nothing decided. */
export const approvalsClosed = (): Partial<ApprovalsState> => ({ approvalRequest: null, decidedApprovals: {} });

export const createApprovalsSlice: SliceCreator<ApprovalsState & ApprovalsActions> = (set, get) => ({
  ...initialApprovals(),

  requestApproval(nodeId, offer = null) {
    if (get().approvalRequest !== nodeId || get().approvalOffer !== offer) set({ approvalRequest: nodeId, approvalOffer: offer });
  },

  markApprovalDecided(key, approved) {
    if (get().decidedApprovals[key] !== approved) set({ decidedApprovals: { ...get().decidedApprovals, [key]: approved } });
  },
});
