/** The decision on an approval a paused run waits at (SPEC §3 `approval`, §6 approve). An
 * approval inside a loop or map body is decided per iteration: the dialog says which one.
 * After a decision the dialog stays for the other iterations that still wait: they can be
 * decided at once, while the run is still queued for the first (the worker applies them
 * together); a decision refused because a worker holds the run is offered again when it pauses. */
import { useMemo, useState } from "react";
import { ApiError, api } from "../api/client";
import {
  approvalFailure,
  approvalKey,
  approvalPrompt,
  approvalWaitPaths,
  chooseApprovalIteration,
  iterationItemLabel,
  nextWaitingIteration,
  parseApprovalData,
  waitAttempt,
  type ApprovalFailure,
} from "../lib/approval";
import { compareIterationPaths } from "../lib/iterations";
import type { NodeRunRecord } from "../lib/types";
import { useCanvas, useCanvasApi } from "../store/context";
import { Modal } from "./Modal";

const NO_RECORDS: NodeRunRecord[] = [];

interface Props {
  runId: number;
  nodeId: string;
  /** What the last decision made in this dialog was (it may have been for another node). */
  lastDecision?: string | null;
  onClose(): void;
  /** `iteration`: the body iteration decided (null at top level). */
  onDecided(approved: boolean, iteration: string | null): void;
  /** A worker holds the run (409 `run_state`): offer the decision again once the run has paused more than `pauses` times. */
  onDeferred(pauses: number, iteration: string | null): void;
}

export function ApprovalDialog({ runId, nodeId, lastDecision = null, onClose, onDecided, onDeferred }: Props) {
  const store = useCanvasApi();
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
      decidedApprovals: st.decidedApprovals,
      // the iteration to offer first (one whose decision was refused while a worker held the run)
      offered: st.approvalRequest === nodeId ? st.approvalOffer : null,
    };
  });
  const records = s.report?.node_runs ?? NO_RECORDS;
  const body = s.parent !== null;
  // the iterations that still wait, less those decided here (the events saying so come later)
  const waits = useMemo(
    () => (body ? approvalWaitPaths(s.run, records, nodeId, true, s.decidedApprovals) : []),
    [body, s.run, records, nodeId, s.decidedApprovals],
  );
  const auto = chooseApprovalIteration(waits, s.picked);
  const kindOf = (container: string) => s.nodes.find((n) => n.id === container)?.type;
  const label = (path: string) => iterationItemLabel(path, kindOf);

  // the iteration the user chose (or the dialog offered after a decision); else the one the
  // dialog first showed (kept if it stops waiting)
  const [chosen, setChosen] = useState<string | null>(() => (s.offered && waits.includes(s.offered) ? s.offered : null));
  const [first, setFirst] = useState<string | null>(() => auto.iteration);
  const [mustChoose, setMustChoose] = useState(false);
  const iteration = body ? (chosen ?? (mustChoose ? null : (auto.iteration ?? first))) : null;
  const choices = [...new Set([...waits, ...(iteration ? [iteration] : [])])].sort(compareIterationPaths);
  const showChooser = body && (choices.length > 1 || iteration === null || mustChoose);

  const [dataText, setDataText] = useState("");
  const [busy, setBusy] = useState(false);
  const [failure, setFailure] = useState<(ApprovalFailure & { pauses: number }) | null>(null);
  const parsed = parseApprovalData(dataText);

  const pauses = s.run?.pauses ?? 0;
  const pausedAgain = failure?.kind === "later" && pauses > failure.pauses && s.run?.status === "paused";
  const waitingForPause = failure?.kind === "later" && !pausedAgain;
  // a top-level node decided here that still shows waiting in the events
  const topDecided = !body && approvalKey(nodeId, "", waitAttempt(s.run, records, nodeId, "")) in s.decidedApprovals;

  const decide = async (approved: boolean) => {
    if (!parsed.ok || (body && !iteration)) return;
    const path = iteration ?? "";
    const key = approvalKey(nodeId, path, waitAttempt(store.getState().run, records, nodeId, path));
    const sentAt = store.getState().run?.pauses ?? 0;
    setBusy(true);
    setFailure(null);
    try {
      await api.approve(runId, nodeId, approved, parsed.value, iteration);
      store.getState().markApprovalDecided(key, approved);
      offerNext(path);
      setDataText("");
      setBusy(false);
      onDecided(approved, iteration);
    } catch (error) {
      const shown = approvalFailure(error as ApiError);
      if (shown.needsIteration) {
        setMustChoose(true);
        setChosen(null);
      }
      if (shown.kind === "decided" || shown.kind === "gone") {
        // decided elsewhere (or no longer waiting): gone from the chooser; the others stay
        store.getState().markApprovalDecided(key, approved);
        if (body) offerNext(path);
      }
      if (shown.kind === "later") onDeferred(sentAt, iteration);
      setFailure({ ...shown, pauses: sentAt });
      setBusy(false);
    }
  };

  /** After `path` was decided: offer the next iteration that still waits (read afresh from the store). */
  const offerNext = (path: string) => {
    if (!body) return;
    const st = store.getState();
    const remaining = approvalWaitPaths(st.run, records, nodeId, true, st.decidedApprovals);
    const next = nextWaitingIteration(remaining, path);
    setChosen(next);
    setFirst(null);
    setMustChoose(false);
  };

  // nothing left to decide here: a refusal that says so leaves only "Close"
  const nothingLeft = body ? waits.length === 0 && (iteration === null || !waits.includes(iteration)) : topDecided;
  const closed = (failure?.conflict ?? false) && nothingLeft;
  const ready = parsed.ok && (!body || iteration !== null) && !waitingForPause && !(!body && topDecided);
  const prompt = approvalPrompt(records, nodeId, iteration ?? "", s.configPrompt);
  const title = !body
    ? `Approval: ${nodeId}`
    : iteration
      ? `Approval: ${nodeId} in ${label(iteration)}`
      : `Approval: ${nodeId} (choose an iteration)`;
  const running = s.run?.status === "running" || s.run?.status === "queued";
  return (
    <Modal
      title={title}
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
      {lastDecision && (
        <p className="approval-decided" role="status" data-testid="approval-decided">
          {lastDecision}
        </p>
      )}
      {body && (
        <p className="approval-iteration" data-testid="approval-iteration-text" data-iteration={iteration ?? ""}>
          {iterationText(iteration, choices.length, iteration !== null && iteration === s.picked, label)}
        </p>
      )}
      {running && !waitingForPause && (
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
            disabled={busy || closed}
            onChange={(e) => {
              setChosen(e.target.value || null);
              setMustChoose(false);
              if (failure && failure.kind !== "later") setFailure(null);
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
          disabled={busy || closed}
          onChange={(e) => setDataText(e.target.value)}
        />
        {!parsed.ok && <small className="field-error">{parsed.error}</small>}
      </div>
      {failure && pausedAgain ? (
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
