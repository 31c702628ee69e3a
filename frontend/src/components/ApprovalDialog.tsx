/** The decision on an approval a paused run waits at (SPEC §3 `approval`, §6 approve). An
 * approval inside a loop or map body is decided per iteration: the dialog says which one. */
import { useMemo, useState } from "react";
import { ApiError, api } from "../api/client";
import {
  approvalFailure,
  approvalPrompt,
  approvalWaitPaths,
  chooseApprovalIteration,
  iterationItemLabel,
  parseApprovalData,
} from "../lib/approval";
import { compareIterationPaths } from "../lib/iterations";
import type { NodeRunRecord } from "../lib/types";
import { useCanvas } from "../store/context";
import { Modal } from "./Modal";

const NO_RECORDS: NodeRunRecord[] = [];

interface Props {
  runId: number;
  nodeId: string;
  onClose(): void;
  /** `iteration`: the body iteration decided (null at top level). */
  onDecided(approved: boolean, iteration: string | null): void;
}

export function ApprovalDialog({ runId, nodeId, onClose, onDecided }: Props) {
  const s = useCanvas((st) => {
    const node = st.nodes.find((n) => n.id === nodeId)?.data.node;
    const parent = node?.parent ?? null;
    return {
      run: st.run,
      report: st.runReport && st.runReport.id === st.run?.runId ? st.runReport : null,
      nodes: st.nodes,
      parent,
      picked: parent ? (st.iterationPicks[parent] ?? null) : null,
      configPrompt: (node?.config as { prompt?: unknown } | undefined)?.prompt,
    };
  });
  const records = s.report?.node_runs ?? NO_RECORDS;
  const body = s.parent !== null;
  const waits = useMemo(() => (body ? approvalWaitPaths(s.run, records, nodeId) : []), [body, s.run, records, nodeId]);
  const auto = chooseApprovalIteration(waits, s.picked);
  const kindOf = (container: string) => s.nodes.find((n) => n.id === container)?.type;
  const label = (path: string) => iterationItemLabel(path, kindOf);

  // the iteration the user chose; else the one the dialog first showed (kept if it stops waiting)
  const [chosen, setChosen] = useState<string | null>(null);
  const [first] = useState<string | null>(() => auto.iteration);
  const [mustChoose, setMustChoose] = useState(false);
  const iteration = body ? (chosen ?? (mustChoose ? null : (auto.iteration ?? first))) : null;
  const choices = [...new Set([...waits, ...(iteration ? [iteration] : [])])].sort(compareIterationPaths);
  const showChooser = body && (choices.length > 1 || iteration === null || mustChoose);

  const [dataText, setDataText] = useState("");
  const [busy, setBusy] = useState(false);
  const [failure, setFailure] = useState<ReturnType<typeof approvalFailure> | null>(null);
  const parsed = parseApprovalData(dataText);

  const decide = async (approved: boolean) => {
    if (!parsed.ok || (body && !iteration)) return;
    setBusy(true);
    setFailure(null);
    try {
      await api.approve(runId, nodeId, approved, parsed.value, iteration);
      onDecided(approved, iteration);
    } catch (error) {
      const shown = approvalFailure(error as ApiError);
      if (shown.needsIteration) {
        setMustChoose(true);
        setChosen(null);
      }
      setFailure(shown);
      setBusy(false);
    }
  };

  const decided = failure?.conflict ?? false;
  const ready = parsed.ok && (!body || iteration !== null);
  const prompt = approvalPrompt(records, nodeId, iteration ?? "", s.configPrompt);
  const title = !body ? `Approval: ${nodeId}` : iteration ? `Approval: ${nodeId} in ${label(iteration)}` : `Approval: ${nodeId} (choose an iteration)`;
  return (
    <Modal
      title={title}
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
      {body && (
        <p className="approval-iteration" data-testid="approval-iteration-text" data-iteration={iteration ?? ""}>
          {iterationText(iteration, choices.length, iteration !== null && iteration === s.picked, label)}
        </p>
      )}
      {body && (s.run?.status === "running" || s.run?.status === "queued") && (
        <p className="muted small" data-testid="approval-not-paused">
          The run has not paused yet (other iterations or branches are still running): a decision is accepted once it pauses.
        </p>
      )}
      {showChooser && (
        <div className="field">
          <label htmlFor="approval-iteration">
            Iteration <small className="muted">each iteration is decided on its own</small>
          </label>
          <select
            id="approval-iteration"
            data-testid="approval-iteration"
            value={iteration ?? ""}
            disabled={busy || decided}
            onChange={(e) => {
              setChosen(e.target.value || null);
              setMustChoose(false);
            }}
          >
            <option value="">choose an iteration…</option>
            {choices.map((path) => (
              <option key={path} value={path}>
                {label(path)}
              </option>
            ))}
          </select>
        </div>
      )}
      <p className="approval-prompt-text" data-testid="approval-text">
        {body && !iteration && prompt.includes("{{")
          ? "Choose an iteration to see its prompt."
          : prompt || `The run is paused at “${nodeId}” until someone approves or rejects.`}
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

/** What the dialog says about the iteration it decides. */
function iterationText(iteration: string | null, waiting: number, picked: boolean, label: (path: string) => string): string {
  if (!iteration) {
    return waiting ? `This node waits for a decision in ${waiting} iterations: choose the one this decision is for.` : "No iteration of this node waits for a decision now.";
  }
  const others = waiting - 1;
  const why = picked ? " (picked in the inspector)" : "";
  return `Decides ${label(iteration)}${why} only${others > 0 ? `; ${others} other iteration${others > 1 ? "s" : ""} wait${others > 1 ? "" : "s"} too` : ""}.`;
}
