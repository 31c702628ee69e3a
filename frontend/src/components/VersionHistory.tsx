/** The workflow's kept revisions (who saved, when); one picked shows what changed since, node by
 * node, and can be restored: saved again as a new revision (history is never rewritten). */
import { useEffect, useState } from "react";
import { api, type ApiError } from "../api/client";
import { diffLines, savedAtText, type VersionDiff, type VersionSummary } from "../lib/versions";
import { useCanvas, useCanvasApi } from "../store/context";

export function VersionHistory({ workflowId, onClose }: { workflowId: number; onClose(): void }) {
  const store = useCanvasApi();
  const { revision, readOnly } = useCanvas((s) => ({ revision: s.revision, readOnly: s.readOnly }));
  const [versions, setVersions] = useState<VersionSummary[] | null>(null);
  const [more, setMore] = useState<number | null>(null);
  const [picked, setPicked] = useState<number | null>(null);
  const [diff, setDiff] = useState<VersionDiff | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [restoring, setRestoring] = useState(false);

  useEffect(() => {
    let current = true;
    api.listVersions(workflowId).then(
      (page) => current && (setVersions(page.results), setMore(page.next ? 2 : null)),
      (e: Error) => current && setError(e.message),
    );
    return () => {
      current = false;
    };
  }, [workflowId, revision]);

  useEffect(() => {
    if (picked === null) return;
    let current = true;
    api.versionDiff(workflowId, picked).then(
      (d) => current && setDiff(d),
      (e: Error) => current && setError(e.message),
    );
    return () => {
      current = false;
    };
  }, [workflowId, picked, revision]);

  const loadMore = () => {
    if (more === null) return;
    api.listVersions(workflowId, more).then(
      (page) => (setVersions((now) => [...(now ?? []), ...page.results]), setMore(page.next ? more + 1 : null)),
      (e: Error) => setError(e.message),
    );
  };

  const restore = async (target: number) => {
    const state = store.getState();
    if (state.dirty && !window.confirm("Restoring discards your unsaved changes. Restore anyway?")) return;
    setRestoring(true);
    setError(null);
    try {
      const saved = await api.restoreVersion(workflowId, target, state.revision);
      store.getState().load(saved);
      store.getState().notify({ kind: "info", text: `Restored revision ${target} as revision ${saved.revision}` });
    } catch (e) {
      const problem = e as ApiError;
      setError(problem.status === 409 ? `${problem.message} (reload the workflow first)` : problem.message);
    } finally {
      setRestoring(false);
    }
  };

  const shown = diff && diff.revision === picked ? diff : null;
  return (
    <aside className="history versions" data-testid="version-history">
      <header className="panel-title">
        <strong>Versions</strong>
        <button className="icon-button" title="Close" onClick={onClose}>
          ✕
        </button>
      </header>
      {error && <p className="field-error">{error}</p>}
      <ul>
        {(versions ?? []).map((v) => (
          <li key={v.revision}>
            <button
              className={`history-item ${picked === v.revision ? "current" : ""}`}
              data-testid="version-entry"
              data-revision={v.revision}
              onClick={() => setPicked(v.revision === picked ? null : v.revision)}
            >
              <span className="history-line">
                <strong>Revision {v.revision}</strong>
                {v.revision === revision && <span className="chip">current</span>}
              </span>
              <span className="muted small">
                {v.saved_by ?? "a removed user"} · {savedAtText(v.saved_at)}
              </span>
            </button>
            {picked === v.revision && (
              <div className="version-detail" data-testid="version-detail">
                {shown === null ? <p className="muted small">Comparing…</p> : <VersionChanges diff={shown} />}
                {readOnly === null && v.revision !== revision && (
                  <button
                    className="small primary"
                    data-testid="version-restore"
                    disabled={restoring}
                    title="Save this revision's document as a new revision"
                    onClick={() => void restore(v.revision)}
                  >
                    Restore revision {v.revision}
                  </button>
                )}
              </div>
            )}
          </li>
        ))}
      </ul>
      {more !== null && (
        <button className="small" onClick={loadMore}>
          Older revisions…
        </button>
      )}
    </aside>
  );
}

function VersionChanges({ diff }: { diff: VersionDiff }) {
  const lines = diffLines(diff);
  if (!lines.length) return <p className="muted small">Same as the current document (revision {diff.current_revision}).</p>;
  return (
    <>
      <p className="muted small">Since then (now revision {diff.current_revision}):</p>
      <ul className="version-diff">
        {lines.map((line) => (
          <li
            key={line.key}
            className={`diff-${line.change}`}
            data-testid="version-diff-line"
            data-kind={line.kind}
            data-id={line.id}
            data-change={line.change}
          >
            {line.text}
          </li>
        ))}
      </ul>
    </>
  );
}
