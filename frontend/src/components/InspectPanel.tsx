/** Inspect one node of the shown run: state, input, output, error and log lines. */
import { useState } from "react";
import { api } from "../api/client";
import { formatDuration } from "../lib/timeline";
import type { RunReport } from "../lib/types";
import { useCanvas } from "../store/context";
import { StatusBadge } from "./StatusBadge";

const NO_LOGS: string[] = [];

export function InspectPanel({ nodeId, report }: { nodeId: string; report: RunReport | null }) {
  const { view, logs, preview, runId, type } = useCanvas((s) => ({
    view: s.run?.nodes[nodeId] ?? null,
    logs: s.run?.logs[nodeId] ?? NO_LOGS,
    preview: s.run?.outputs[nodeId],
    runId: s.run?.runId ?? null,
    type: s.nodes.find((n) => n.id === nodeId)?.type,
  }));
  const full = report?.nodes?.[nodeId];
  const attempts = (report?.node_runs ?? []).filter((r) => r.node_id === nodeId);
  const latest = attempts[attempts.length - 1];
  const error = view?.error ?? full?.error ?? null;
  const reason = view?.reason ?? full?.reason ?? latest?.reason ?? null;
  return (
    <div className="panel-section" data-testid="inspect-panel">
      <header className="panel-title">
        <div>
          <strong>{nodeId}</strong>
          <small>{type}</small>
        </div>
        <StatusBadge kind="node" status={view?.status ?? full?.status ?? "pending"} />
      </header>
      <dl className="facts">
        <dt>Attempt</dt>
        <dd>{view?.attempt ?? full?.attempts ?? "—"}</dd>
        <dt>Duration</dt>
        <dd>{formatDuration(view?.durationMs ?? latest?.duration_ms) || "—"}</dd>
        {view?.iteration && (
          <>
            <dt>Iteration</dt>
            <dd>{view.iteration}</dd>
          </>
        )}
        {reason && (
          <>
            <dt>Why</dt>
            <dd data-testid="inspect-reason">{reason}</dd>
          </>
        )}
        {full?.handled && (
          <>
            <dt>Handled</dt>
            <dd>left through its error edge</dd>
          </>
        )}
      </dl>
      {view?.status === "waiting" && type === "approval" && runId !== null && <ApprovalPrompt runId={runId} nodeId={nodeId} />}
      {error && (
        <section className="inspect-error" data-testid="inspect-error">
          <h4>Error{error.type && error.type !== "error" ? ` (${error.type})` : ""}</h4>
          <pre>{error.message}</pre>
        </section>
      )}
      <ValueBlock title="Input" value={latest ? latest.input : full?.input} />
      <ValueBlock title="Output" value={full?.output !== undefined ? full.output : preview} />
      <section>
        <h4>Log</h4>
        {logs.length ? <pre className="log">{logs.join("\n")}</pre> : <p className="muted small">No log lines.</p>}
      </section>
    </div>
  );
}

const COLLAPSE_CHARS = 600;

function ValueBlock({ title, value }: { title: string; value: unknown }) {
  const [open, setOpen] = useState(false);
  if (value === undefined) {
    return (
      <section>
        <h4>{title}</h4>
        <p className="muted small">Not available yet.</p>
      </section>
    );
  }
  const text = JSON.stringify(value, null, 2) ?? "null";
  const long = text.length > COLLAPSE_CHARS;
  return (
    <section>
      <h4>
        {title}
        {long && (
          <button className="link-button" onClick={() => setOpen(!open)}>
            {open ? "collapse" : `expand (${text.length} chars)`}
          </button>
        )}
      </h4>
      <pre className="value">{long && !open ? `${text.slice(0, COLLAPSE_CHARS)}…` : text}</pre>
    </section>
  );
}

function ApprovalPrompt({ runId, nodeId }: { runId: number; nodeId: string }) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const decide = (approved: boolean) => {
    setBusy(true);
    api.approve(runId, nodeId, approved).then(
      () => setBusy(false),
      (e: Error) => (setBusy(false), setError(e.message)),
    );
  };
  return (
    <section className="approval" data-testid="approval-prompt">
      <h4>Waiting for approval</h4>
      <div className="button-row">
        <button className="success" disabled={busy} onClick={() => decide(true)}>
          Approve
        </button>
        <button className="danger" disabled={busy} onClick={() => decide(false)}>
          Reject
        </button>
      </div>
      {error && <p className="field-error">{error}</p>}
    </section>
  );
}
