/** `/runs/`: the runs of every workflow the user may see, newest first, filtered by status and
 * trigger; a row opens the run on its workflow's canvas. */
import { useEffect, useState } from "react";
import { api } from "../api/client";
import { StatusBadge } from "../components/StatusBadge";
import { RUN_STATUSES, RUN_TRIGGERS, runDurationMs, when, type RunListItem } from "../lib/runList";
import { formatDuration } from "../lib/timeline";
import { navigate, paths } from "../router";

export function RunsPage() {
  const [status, setStatus] = useState("");
  const [trigger, setTrigger] = useState("");
  const [page, setPage] = useState(1);
  const [runs, setRuns] = useState<RunListItem[] | null>(null);
  const [more, setMore] = useState(false);
  const [count, setCount] = useState(0);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    let current = true;
    api.runPage({ status, trigger, page }).then(
      (answer) => {
        if (!current) return;
        setRuns((shown) => (page === 1 ? answer.results : [...(shown ?? []), ...answer.results]));
        setMore(answer.next !== null);
        setCount(answer.count);
      },
      (e: Error) => current && setError(e.message),
    );
    return () => {
      current = false;
    };
  }, [status, trigger, page]);

  const pick = (set: (value: string) => void) => (e: React.ChangeEvent<HTMLSelectElement>) => {
    set(e.target.value);
    setPage(1);
  };
  return (
    <div className="list-page">
      <header className="topbar">
        <a className="brand" href="/" onClick={(e) => (e.preventDefault(), navigate(paths.list()))}>
          ⇶ Switchyard
        </a>
        <span className="spacer" />
        <a className="button ghost" data-testid="workflows-link" href="/" onClick={(e) => (e.preventDefault(), navigate(paths.list()))}>
          Workflows
        </a>
      </header>
      <main className="list-main">
        <h1>Runs</h1>
        <div className="list-controls">
          <select data-testid="run-status-filter" aria-label="Status" value={status} onChange={pick(setStatus)}>
            <option value="">Any status</option>
            {RUN_STATUSES.map((s) => (
              <option key={s} value={s}>
                {s}
              </option>
            ))}
          </select>
          <select data-testid="run-trigger-filter" aria-label="Started by" value={trigger} onChange={pick(setTrigger)}>
            <option value="">Any trigger</option>
            {RUN_TRIGGERS.map((t) => (
              <option key={t} value={t}>
                {t}
              </option>
            ))}
          </select>
          <span className="muted" data-testid="run-count">
            {runs === null ? "" : `${count} run${count === 1 ? "" : "s"}`}
          </span>
        </div>
        {error && (
          <p className="error-banner" role="alert">
            {error}
          </p>
        )}
        {runs === null ? (
          <p className="muted">Loading…</p>
        ) : runs.length === 0 ? (
          <p className="empty">No runs match.</p>
        ) : (
          <table className="workflow-table runs-table" data-testid="runs-list">
            <thead>
              <tr>
                <th>Run</th>
                <th>Workflow</th>
                <th>Status</th>
                <th>Started by</th>
                <th>Created</th>
                <th>Duration</th>
              </tr>
            </thead>
            <tbody>
              {runs.map((run) => (
                <tr
                  key={run.id}
                  data-testid="run-row"
                  data-run-id={run.id}
                  data-status={run.status}
                  onClick={() => navigate(paths.run(run.workflow, run.id))}
                >
                  <td>
                    <a href={paths.run(run.workflow, run.id)} onClick={(e) => e.preventDefault()}>
                      #{run.id}
                    </a>
                  </td>
                  <td>{run.workflow_name}</td>
                  <td>
                    <StatusBadge status={run.status} />
                  </td>
                  <td>{run.trigger}</td>
                  <td>{when(run.created_at)}</td>
                  <td>{formatDuration(runDurationMs(run)) || "—"}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
        {more && (
          <button data-testid="more-runs" onClick={() => setPage(page + 1)}>
            Show more
          </button>
        )}
      </main>
    </div>
  );
}
