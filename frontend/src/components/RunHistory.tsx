/** The workflow's runs, newest first; opening one shows its states on the canvas. */
import { useEffect, useState } from "react";
import { api } from "../api/client";
import { formatDuration } from "../lib/timeline";
import type { RunReport } from "../lib/types";
import { navigate, paths } from "../router";
import { RetryButtons } from "./RetryButtons";
import { StatusBadge } from "./StatusBadge";

const HISTORY_POLL_MS = 2000;

export function RunHistory({
  workflowId,
  currentRunId,
  refreshKey,
  onClose,
}: {
  workflowId: number;
  currentRunId: number | null;
  refreshKey: unknown;
  onClose(): void;
}) {
  const [runs, setRuns] = useState<RunReport[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    const load = () => api.listRuns(workflowId).then(setRuns, (e: Error) => setError(e.message));
    void load();
    // runs a webhook or a schedule starts appear while the list is open
    const poll = window.setInterval(load, HISTORY_POLL_MS);
    return () => window.clearInterval(poll);
  }, [workflowId, refreshKey]);
  return (
    <aside className="history" data-testid="run-history">
      <header className="panel-title">
        <strong>Run history</strong>
        <button className="icon-button" title="Close" onClick={onClose}>
          ✕
        </button>
      </header>
      {error && <p className="field-error">{error}</p>}
      {runs?.length === 0 && <p className="muted small">No runs yet. Press Run.</p>}
      <ul>
        {(runs ?? []).map((run) => (
          <li key={run.id} data-testid="history-entry" data-run-id={run.id}>
            <button
              className={`history-item ${run.id === currentRunId ? "current" : ""}`}
              data-testid="history-run"
              data-run-id={run.id}
              onClick={() => navigate(paths.run(workflowId, run.id))}
            >
              <span className="history-line">
                <strong>#{run.id}</strong>
                <StatusBadge status={run.status} />
              </span>
              <span className="muted small">
                {run.trigger ?? "api"} · {run.mode ?? "normal"} ·{" "}
                {run.started_at || run.created_at ? new Date((run.started_at ?? run.created_at) as string).toLocaleString() : ""}
                {run.started_at && run.finished_at ? ` · ${formatDuration(Date.parse(run.finished_at) - Date.parse(run.started_at))}` : ""}
                {run.usage?.total_tokens ? ` · ${run.usage.total_tokens.toLocaleString("en")} tokens` : ""}
              </span>
            </button>
            {(run.status === "failed" || run.status === "cancelled") && (
              <span className="history-actions">
                <RetryButtons workflowId={workflowId} runId={run.id} failed={run.status === "failed"} testIdPrefix="history" />
              </span>
            )}
          </li>
        ))}
      </ul>
    </aside>
  );
}
