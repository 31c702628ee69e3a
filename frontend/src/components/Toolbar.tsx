/** The editor's top bar: name, unsaved indicator, edit tools, Save, Run; in a run: Pause, Resume, Cancel. */
import { useState } from "react";
import { api } from "../api/client";
import type { SaveState } from "../hooks/useEditorActions";
import { runControls, type RunControlsShown } from "../lib/runControls";
import { TERMINAL_RUN_STATES, type RunStatus } from "../lib/types";
import { useFitAll } from "../hooks/useFitAll";
import { navigate, paths } from "../router";
import { useCanvas } from "../store/context";
import { ActivationToggle } from "./ActivationToggle";
import { RetryButtons } from "./RetryButtons";
import { StatusBadge } from "./StatusBadge";

interface Props {
  workflowId: number;
  runId: number | null;
  saveState: SaveState;
  onSave(): void;
  onRun(): void;
  onHistory(): void;
  /** Show or hide the workflow's saved revisions. */
  onVersions?(): void;
  onHelp(): void;
  /** Open the share dialog (owned workflows only). */
  onShare(): void;
}

export function Toolbar({ workflowId, runId, saveState, onSave, onRun, onHistory, onVersions, onHelp, onShare }: Props) {
  const s = useCanvas((st) => ({
    name: st.meta.name,
    dirty: st.dirty,
    canUndo: st.history.past.length > 0,
    canRedo: st.history.future.length > 0,
    runStatus: st.run?.status ?? null,
    pauses: st.run?.pauses ?? 0,
    // booleans, not an object: the selector's result is compared shallowly
    ...runControls({ status: st.run?.status ?? null, nodes: st.run?.nodes, iterations: st.run?.iterations }),
    problems: st.problems.filter((p) => p.severity !== "warning").length,
    updateMeta: st.updateMeta,
    undo: st.undo,
    redo: st.redo,
    layout: st.layout,
    readOnly: st.readOnly,
  }));
  const fitAll = useFitAll();
  const leave = (path: string) => {
    if (!s.dirty || window.confirm("You have unsaved changes. Leave anyway?")) navigate(path);
  };
  return (
    <header className="topbar">
      <a className="brand" href="/" onClick={(e) => (e.preventDefault(), leave(paths.list()))} title="All workflows">
        ⇶
      </a>
      <input
        className="name-input"
        aria-label="Workflow name"
        data-testid="workflow-name"
        value={s.name}
        disabled={runId !== null || s.readOnly !== null}
        title={s.readOnly ?? undefined}
        onChange={(e) => s.updateMeta({ name: e.target.value })}
      />
      {runId === null && s.readOnly !== null ? (
        <span className="save-indicator" data-testid="save-indicator" data-state="read-only" title={s.readOnly}>
          Read-only
        </span>
      ) : runId === null ? (
        <span
          className={`save-indicator ${s.dirty ? "dirty" : ""}`}
          data-testid="save-indicator"
          data-state={saveState === "saving" ? "saving" : s.dirty ? "dirty" : "saved"}
        >
          {saveState === "saving" ? "Saving…" : s.dirty ? "● Unsaved changes" : "✓ Saved"}
        </span>
      ) : (
        <span className="run-label">
          Run #{runId} {s.runStatus && <StatusBadge status={s.runStatus} />}
        </span>
      )}
      <span className="spacer" />
      <ActivationToggle workflowId={workflowId} />
      {runId === null ? (
        <>
          <button className="icon-button" title="Undo (Ctrl+Z)" disabled={!s.canUndo || s.readOnly !== null} onClick={s.undo}>
            ↶
          </button>
          <button className="icon-button" title="Redo (Ctrl+Shift+Z)" disabled={!s.canRedo || s.readOnly !== null} onClick={s.redo}>
            ↷
          </button>
          <button title={s.readOnly ?? "Auto-layout (Shift+L)"} disabled={s.readOnly !== null} onClick={s.layout}>
            Auto-layout
          </button>
          <button title="Fit view (Shift+F)" onClick={fitAll}>
            Fit
          </button>
          <button
            data-testid="save-button"
            title={s.readOnly ?? "Save (Ctrl+S)"}
            disabled={saveState === "saving" || s.readOnly !== null}
            onClick={onSave}
          >
            Save
          </button>
        </>
      ) : (
        <RunControls
          workflowId={workflowId}
          runId={runId}
          status={s.runStatus}
          controls={{ cancel: s.cancel, pause: s.pause, resume: s.resume }}
          pauses={s.pauses}
          onEdit={() => navigate(paths.editor(workflowId))}
        />
      )}
      {s.readOnly === null && (
        <button data-testid="share-button" title="Share it with other users: they can run it and see its runs" onClick={onShare}>
          Share
        </button>
      )}
      <button
        data-testid="secrets-link"
        title="Your stored secrets (API keys for llm, http and webhook nodes)"
        onClick={() => leave(paths.secrets())}
      >
        Secrets
      </button>
      <button onClick={onHistory} data-testid="history-button">
        History
      </button>
      {onVersions && runId === null && (
        <button onClick={onVersions} data-testid="versions-button" title="Saved revisions: compare, restore">
          Versions
        </button>
      )}
      <button className="icon-button" title="Keyboard shortcuts (?)" onClick={onHelp}>
        ?
      </button>
      <button
        className="primary run"
        data-testid="run-button"
        title={s.problems ? "Fix the problems before running" : "Run (Ctrl+Enter)"}
        onClick={onRun}
      >
        ▶ Run
      </button>
    </header>
  );
}

function RunControls({
  workflowId,
  runId,
  status,
  controls,
  pauses,
  onEdit,
}: {
  workflowId: number;
  runId: number;
  status: RunStatus | null;
  controls: RunControlsShown;
  pauses: number;
  onEdit(): void;
}) {
  const [error, setError] = useState<string | null>(null);
  // Between Pause and the run parking, running nodes finish (the run still says running).
  // Keyed by the run's pause count: once it parks (the count goes up), it is no longer pausing.
  const [pausingAt, setPausingAt] = useState<number | null>(null);
  const pausing = pausingAt === pauses;
  const finished = status !== null && TERMINAL_RUN_STATES.has(status);
  const act = (call: () => Promise<unknown>) => {
    setError(null);
    return call().catch((e: Error) => setError(e.message));
  };
  return (
    <>
      {error && <span className="field-error">{error}</span>}
      {controls.pause && (
        <button
          data-testid="pause-button"
          disabled={pausing}
          title="Pause: running nodes finish, nothing new starts; Resume continues"
          onClick={() => {
            setPausingAt(pauses);
            void api.pauseRun(runId).catch((e: Error) => (setPausingAt(null), setError(e.message)));
          }}
        >
          {pausing ? "⏸ Pausing…" : "⏸ Pause"}
        </button>
      )}
      {controls.resume && (
        <button data-testid="resume-button" title="Continue the paused run" onClick={() => void act(() => api.resumeRun(runId))}>
          ▶ Resume
        </button>
      )}
      {controls.cancel && (
        <button className="danger" data-testid="cancel-button" onClick={() => void act(() => api.cancelRun(runId))}>
          ■ Cancel
        </button>
      )}
      {finished && <RetryButtons workflowId={workflowId} runId={runId} failed={status === "failed"} testIdPrefix="run" />}
      <button data-testid="back-to-editor" onClick={onEdit}>
        ✎ Edit workflow
      </button>
    </>
  );
}
