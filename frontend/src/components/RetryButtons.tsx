/** Retry (from the failed node, reusing upstream outputs) and Re-run (everything) of an ended
 * run: POST /api/runs/{id}/rerun/, then the new run is shown. */
import { useState } from "react";
import { api } from "../api/client";
import { retryFrom } from "../lib/retry";
import { navigate, paths } from "../router";

export function RetryButtons({
  workflowId,
  runId,
  failed,
  testIdPrefix,
}: {
  workflowId: number;
  runId: number;
  failed: boolean;
  testIdPrefix: string;
}) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const start = (fromFailed: boolean) => {
    setBusy(true);
    setError(null);
    const from = fromFailed ? api.getRun(runId).then(retryFrom) : Promise.resolve(undefined);
    from
      .then((node) => api.rerun(runId, node))
      .then(
        (run) => navigate(paths.run(workflowId, run.id)),
        (e: Error) => setError(e.message),
      )
      .finally(() => setBusy(false));
  };
  return (
    <>
      {error && <span className="field-error">{error}</span>}
      {failed && (
        <button
          data-testid={`${testIdPrefix}-retry`}
          disabled={busy}
          title="Run the failed node and what follows it again, reusing this run's upstream outputs"
          onClick={() => start(true)}
        >
          ↻ Retry
        </button>
      )}
      <button
        data-testid={`${testIdPrefix}-rerun`}
        disabled={busy}
        title="Run the whole workflow again with the same inputs"
        onClick={() => start(false)}
      >
        ⟳ Re-run
      </button>
    </>
  );
}
