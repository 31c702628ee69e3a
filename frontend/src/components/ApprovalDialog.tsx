/** The decision on an approval a paused run waits at (SPEC §3 `approval`, §6 approve): a view
 * over the approval flow (`lib/approvalFlow.ts`), which decides what it shows and what happens
 * after a decision; this sends the decision and reports the answer back to the flow. */
import { useCallback, useMemo } from "react";
import { ApiError, api } from "../api/client";
import { approvalDialogView, pendingDecision } from "../lib/approvalFlow";
import { approvalRunOf } from "../store/slices/approvals";
import { useCanvas, useCanvasApi } from "../store/context";
import { Modal } from "./Modal";

export function ApprovalDialog({ runId }: { runId: number }) {
  const store = useCanvasApi();
  // the flow's state and what it reads of the run (a new value of any of these shows anew)
  const s = useCanvas((st) => ({
    approvalRequest: st.approvalRequest,
    approvalOffer: st.approvalOffer,
    decidedApprovals: st.decidedApprovals,
    approvalsSeen: st.approvalsSeen,
    approvalLastDecision: st.approvalLastDecision,
    approvalReopen: st.approvalReopen,
    approvalDialog: st.approvalDialog,
    run: st.run,
    replay: st.replay,
    liveRun: st.liveRun,
    runReport: st.runReport,
    nodes: st.nodes,
    iterationPicks: st.iterationPicks,
  }));
  const flowRun = useMemo(() => approvalRunOf(s), [s]);
  const nodeId = s.approvalRequest ?? "";
  const node = s.nodes.find((n) => n.id === nodeId)?.data.node;
  const kindOf = (container: string) => s.nodes.find((n) => n.id === container)?.type;
  const view = approvalDialogView(s, flowRun, kindOf, (node?.config as { prompt?: unknown } | undefined)?.prompt);
  const { busy, dataText, failure } = s.approvalDialog;
  const { iteration, parsed, closed, ready, label } = view;
  const onClose = useCallback(() => store.getState().dispatchApproval({ type: "dismiss" }), [store]);

  const decide = async (approved: boolean) => {
    const st = store.getState();
    const decision = pendingDecision(st, approvalRunOf(st), view, approved);
    if (!decision || !view.parsed.ok) return;
    st.dispatchApproval({ type: "send" });
    try {
      await api.approve(runId, decision.node, approved, view.parsed.value, decision.iteration);
      store.getState().dispatchApproval({ type: "decided", decision });
    } catch (error) {
      store.getState().dispatchApproval({ type: "refused", decision, error: error as ApiError });
    }
  };

  return (
    <Modal
      title={node?.name && node.name !== nodeId ? view.title.replace(`Approval: ${nodeId}`, `Approval: ${node.name}`) : view.title}
      testId="approval-dialog"
      onClose={onClose}
      actions={
        closed ? (
          <button data-testid="approval-close" onClick={onClose}>
            Close
          </button>
        ) : (
          <>
            <button data-testid="approval-later" onClick={onClose} disabled={busy}>
              Later
            </button>
            <button className="danger" data-testid="approval-reject" disabled={busy || !ready} onClick={() => decide(false)}>
              ✕ Reject
            </button>
            <button className="success" data-testid="approval-approve" disabled={busy || !ready} onClick={() => decide(true)}>
              ✓ Approve
            </button>
          </>
        )
      }
    >
      {s.approvalLastDecision && (
        <p className="approval-decided" role="status" data-testid="approval-decided">
          {s.approvalLastDecision}
        </p>
      )}
      {view.decidedElsewhere && (
        <p className="approval-conflict" role="status" data-testid="approval-decided-elsewhere">
          {view.decidedElsewhere}
        </p>
      )}
      {view.body && (
        <p className="approval-iteration" data-testid="approval-iteration-text" data-iteration={iteration ?? ""}>
          {view.iterationText}
        </p>
      )}
      {view.notPaused && (
        <p className="muted small" data-testid="approval-not-paused">
          The run has not paused yet (other iterations or branches are still running): a decision is accepted once it pauses.
        </p>
      )}
      {view.showChooser && (
        <div className="field">
          <label htmlFor="approval-iteration">
            Iteration <small className="muted">each iteration is decided on its own</small>
          </label>
          <select
            id="approval-iteration"
            data-testid="approval-iteration"
            value={iteration ?? ""}
            disabled={busy || closed}
            onChange={(e) => {
              store.getState().dispatchApproval({ type: "choose", iteration: e.target.value || null });
            }}
          >
            <option value="">choose an iteration…</option>
            {view.choices.map((path) => (
              <option key={path} value={path}>
                {label(path)}
              </option>
            ))}
          </select>
        </div>
      )}
      <p className="approval-prompt-text" data-testid="approval-text">
        {view.prompt}
      </p>
      <div className="field">
        <label htmlFor="approval-data">
          Data <small className="muted">optional JSON, the node's output `data`</small>
        </label>
        <textarea
          id="approval-data"
          data-testid="approval-data"
          className={`code ${parsed.ok ? "" : "invalid"}`}
          rows={4}
          placeholder='{"reason": "looks good"}'
          value={dataText}
          disabled={busy || closed}
          onChange={(e) => store.getState().dispatchApproval({ type: "editData", text: e.target.value })}
        />
        {!parsed.ok && <small className="field-error">{parsed.error}</small>}
      </div>
      {failure && view.pausedAgain ? (
        <p className="approval-resumable" role="status" data-testid="approval-paused-again">
          The run has paused again: this decision can be made now.
        </p>
      ) : failure ? (
        <p
          className={failure.conflict || failure.kind === "later" ? "approval-conflict" : "field-error"}
          role="alert"
          data-testid={failure.kind === "later" ? "approval-later-notice" : failure.conflict ? "approval-conflict" : "approval-error"}
          data-kind={failure.kind}
        >
          {failure.text}
        </p>
      ) : null}
    </Modal>
  );
}
