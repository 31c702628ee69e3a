/** The decision on an approval a paused run waits at (SPEC §3 `approval`, §6 approve). */
import { useState } from "react";
import { ApiError, api } from "../api/client";
import { approvalFailure, parseApprovalData } from "../lib/approval";
import { Modal } from "./Modal";

interface Props {
  runId: number;
  nodeId: string;
  prompt: string;
  onClose(): void;
  onDecided(approved: boolean): void;
}

export function ApprovalDialog({ runId, nodeId, prompt, onClose, onDecided }: Props) {
  const [dataText, setDataText] = useState("");
  const [busy, setBusy] = useState(false);
  const [failure, setFailure] = useState<{ conflict: boolean; text: string } | null>(null);
  const parsed = parseApprovalData(dataText);

  const decide = async (approved: boolean) => {
    if (!parsed.ok) return;
    setBusy(true);
    setFailure(null);
    try {
      await api.approve(runId, nodeId, approved, parsed.value);
      onDecided(approved);
    } catch (error) {
      setFailure(approvalFailure(error as ApiError));
      setBusy(false);
    }
  };

  const decided = failure?.conflict ?? false;
  return (
    <Modal
      title={`Approval: ${nodeId}`}
      testId="approval-dialog"
      onClose={onClose}
      actions={
        decided ? (
          <button data-testid="approval-close" onClick={onClose}>
            Close
          </button>
        ) : (
          <>
            <button onClick={onClose} disabled={busy}>
              Later
            </button>
            <button className="danger" data-testid="approval-reject" disabled={busy || !parsed.ok} onClick={() => decide(false)}>
              ✕ Reject
            </button>
            <button className="success" data-testid="approval-approve" disabled={busy || !parsed.ok} onClick={() => decide(true)}>
              ✓ Approve
            </button>
          </>
        )
      }
    >
      <p className="approval-prompt-text" data-testid="approval-text">
        {prompt || `The run is paused at “${nodeId}” until someone approves or rejects.`}
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
          disabled={busy || decided}
          onChange={(e) => setDataText(e.target.value)}
        />
        {!parsed.ok && <small className="field-error">{parsed.error}</small>}
      </div>
      {failure && (
        <p className={failure.conflict ? "approval-conflict" : "field-error"} role="alert" data-testid={failure.conflict ? "approval-conflict" : "approval-error"}>
          {failure.text}
        </p>
      )}
    </Modal>
  );
}
