/** The workflow's runs, newest first; opening one shows its states on the canvas. */
import { useEffect, useState } from "react";
import { api } from "../api/client";
import { comparePair } from "../lib/runDiff";
import { runListTokens } from "../lib/runEvents";
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
  const [picked, setPicked] = useState<number[]>([]);
  const pair = comparePair(picked);
  const togglePick = (id: number) => setPicked((now) => (now.includes(id) ? now.filter((p) => p !== id) : [...now.slice(-1), id]));
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
      {(runs?.length ?? 0) > 1 && (
        <div className="history-compare muted small">
          {pair ? (
            <button className="small" data-testid="compare-runs" onClick={() => navigate(paths.diff(workflowId, pair[0], pair[1]))}>
              Compare #{pair[0]} → #{pair[1]}
            </button>
          ) : (
            <span>Tick two runs to compare them.</span>
          )}
        </div>
      )}
      <ul>
        {(runs ?? []).map((run) => (
          <li key={run.id} data-testid="history-entry" data-run-id={run.id}>
            <input
              type="checkbox"
              className="history-pick"
              data-testid="history-compare"
              aria-label={`Compare run #${run.id}`}
              checked={picked.includes(run.id)}
              onChange={() => togglePick(run.id)}
            />
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
                {runListTokens(run.usage)}
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
