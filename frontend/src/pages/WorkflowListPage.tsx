/** The workflow list at `/`: create, open, rename, duplicate, delete, import, export. */
import { useCallback, useEffect, useRef, useState } from "react";
import { api } from "../api/client";
import { Modal } from "../components/Modal";
import { StatusBadge } from "../components/StatusBadge";
import { sharedByLabel, workflowAccess } from "../lib/ownership";
import type { WorkflowDocument, WorkflowSummary } from "../lib/types";
import { navigate, paths } from "../router";
import { ListControls } from "../components/ListControls";
import { rememberNewDraft, untouchedNewDrafts } from "../lib/newDrafts";
import { filterWorkflows, type WorkflowFilter } from "../lib/workflowFilters";

const NEW_WORKFLOW: WorkflowDocument = {
  version: 1,
  name: "Untitled workflow",
  nodes: [{ id: "start", type: "start", name: "Start", position: { x: 80, y: 160 } }],
  edges: [],
};

type Dialog = { kind: "rename" | "delete"; workflow: WorkflowSummary } | null;

export function WorkflowListPage() {
  const [workflows, setWorkflows] = useState<WorkflowSummary[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [dialog, setDialog] = useState<Dialog>(null);
  // who is signed in: workflows others own are shared with them (run and duplicate, not change)
  const [me, setMe] = useState<string | null>(null);
  const [filter, setFilter] = useState<WorkflowFilter>({ query: "", tag: "", sort: "updated" });

  const reload = useCallback(() => {
    api.listWorkflows().then(
      async (list) => {
        // "+ New workflow" then back without building anything: no orphan draft stays behind
        const orphans = untouchedNewDrafts(list);
        if (orphans.length) await Promise.allSettled(orphans.map((id) => api.deleteWorkflow(id)));
        setWorkflows(orphans.length ? list.filter((w) => !orphans.includes(w.id)) : list);
      },
      (e: Error) => setError(e.message),
    );
  }, []);
  useEffect(reload, [reload]);
  useEffect(() => {
    api.me().then(
      (m) => setMe(m.username),
      () => undefined,
    );
  }, []);

  const guard = (action: () => Promise<unknown>) => () => {
    setError(null);
    action().then(reload, (e: Error) => setError(e.message));
  };
  // not through `guard`: its reload would find the new draft untouched and discard it
  const create = () => {
    setError(null);
    api.createWorkflow(NEW_WORKFLOW).then(
      (created) => {
        rememberNewDraft(created.id);
        navigate(paths.editor(created.id));
      },
      (e: Error) => setError(e.message),
    );
  };
  const duplicate = (w: WorkflowSummary) =>
    guard(async () => {
      // the copy is the user's own: its owner is whoever creates it
      const { id: _id, revision: _r, valid: _v, errors: _e, owner: _o, active: _a, triggers: _t, ...doc } = await api.getWorkflow(w.id);
      await api.createWorkflow({ ...doc, name: `${doc.name} (copy)` });
    });

  return (
    <div className="list-page">
      <header className="topbar">
        <span className="brand">⇶ Switchyard</span>
        <span className="spacer" />
        <a
          className="button ghost"
          data-testid="runs-link"
          href={paths.runs()}
          onClick={(e) => (e.preventDefault(), navigate(paths.runs()))}
        >
          Runs
        </a>
        <a
          className="button ghost"
          data-testid="secrets-link"
          href={paths.secrets()}
          onClick={(e) => (e.preventDefault(), navigate(paths.secrets()))}
        >
          Secrets
        </a>
        <ImportButton onImported={reload} onError={setError} />
        <button className="primary" data-testid="new-workflow" onClick={create}>
          + New workflow
        </button>
        <a className="button ghost" href="/accounts/logout/" onClick={logout}>
          Sign out
        </a>
      </header>
      <main className="list-main">
        <h1>Workflows</h1>
        {error && (
          <p className="error-banner" role="alert">
            {error}
          </p>
        )}
        {workflows === null ? (
          <p className="muted">Loading…</p>
        ) : workflows.length === 0 ? (
          <p className="empty">No workflows yet. Create one or import a JSON/YAML file.</p>
        ) : (
          <>
            <ListControls workflows={workflows} filter={filter} onChange={setFilter} />
            <WorkflowTable
              workflows={filterWorkflows(workflows, filter)}
              me={me}
              onRename={(w) => setDialog({ kind: "rename", workflow: w })}
              onDuplicate={(w) => duplicate(w)()}
              onDelete={(w) => setDialog({ kind: "delete", workflow: w })}
              onActivate={(w, active) => guard(() => api.setActive(w.id, active))()}
            />
          </>
        )}
      </main>
      {dialog?.kind === "rename" && (
        <RenameDialog
          workflow={dialog.workflow}
          onClose={() => setDialog(null)}
          onRename={(name) => guard(() => api.patchWorkflow(dialog.workflow.id, { name }))()}
        />
      )}
      {dialog?.kind === "delete" && (
        <Modal
          title="Delete workflow?"
          testId="confirm-delete"
          onClose={() => setDialog(null)}
          actions={
            <>
              <button onClick={() => setDialog(null)}>Cancel</button>
              <button
                className="danger"
                data-testid="confirm-delete-button"
                onClick={() => {
                  setDialog(null);
                  guard(() => api.deleteWorkflow(dialog.workflow.id))();
                }}
              >
                Delete
              </button>
            </>
          }
        >
          <p>“{dialog.workflow.name}” and all its runs will be deleted. This cannot be undone.</p>
        </Modal>
      )}
    </div>
  );
}

function logout(event: React.MouseEvent) {
  // Django's LogoutView only accepts POST.
  event.preventDefault();
  const form = document.createElement("form");
  form.method = "post";
  form.action = "/accounts/logout/";
  const token = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/)?.[1] ?? "";
  form.innerHTML = `<input type="hidden" name="csrfmiddlewaretoken" value="${decodeURIComponent(token)}">`;
  document.body.appendChild(form);
  form.submit();
}

interface TableProps {
  workflows: WorkflowSummary[];
  me: string | null;
  onRename(w: WorkflowSummary): void;
  onDuplicate(w: WorkflowSummary): void;
  onDelete(w: WorkflowSummary): void;
  onActivate(w: WorkflowSummary, active: boolean): void;
}

function WorkflowTable({ workflows, me, onRename, onDuplicate, onDelete, onActivate }: TableProps) {
  return (
    <table className="workflow-table" data-testid="workflow-list">
      <thead>
        <tr>
          <th>Name</th>
          <th>Active</th>
          <th>Nodes</th>
          <th>Last run</th>
          <th>Updated</th>
          <th />
        </tr>
      </thead>
      <tbody>
        {workflows.map((w) => {
          const lastRun = w.last_run_status ?? w.last_run?.status ?? null;
          const access = workflowAccess(me, w.owner);
          const sharedBy = sharedByLabel(access);
          const ownerOnly = access.owned ? undefined : `Shared with you by ${access.owner}: only ${access.owner} can change it`;
          return (
            <tr
              key={w.id}
              data-testid="workflow-row"
              data-workflow-id={w.id}
              data-owner={w.owner}
              data-shared={sharedBy ? "true" : undefined}
            >
              <td>
                <a href={paths.editor(w.id)} onClick={(e) => (e.preventDefault(), navigate(paths.editor(w.id)))}>
                  {w.name}
                </a>
                {sharedBy && (
                  <span className="tag shared" data-testid="shared-by" title={ownerOnly}>
                    {sharedBy}
                  </span>
                )}
                {!w.valid && (
                  <span className="tag warn" title="has validation problems">
                    draft
                  </span>
                )}
                {(w.tags ?? []).map((t) => (
                  <span className="tag" key={t}>
                    {t}
                  </span>
                ))}
                {w.description && <div className="muted small">{w.description}</div>}
              </td>
              <td>
                <input
                  type="checkbox"
                  role="switch"
                  aria-label={`${w.name}: active (its webhooks answer, its schedules fire)`}
                  data-testid="workflow-active"
                  checked={w.active ?? false}
                  disabled={!access.owned}
                  title={ownerOnly ?? (w.active ? "Active: click to turn its triggers off" : "Inactive: click to turn its triggers on")}
                  onChange={(e) => onActivate(w, e.target.checked)}
                />
              </td>
              <td>{w.node_count ?? "—"}</td>
              <td>{lastRun ? <StatusBadge status={lastRun} /> : <span className="muted">never run</span>}</td>
              <td className="muted small">{w.updated_at ? new Date(w.updated_at).toLocaleString() : ""}</td>
              <td className="row-actions">
                <button data-testid="rename-workflow" disabled={!access.owned} title={ownerOnly} onClick={() => onRename(w)}>
                  Rename
                </button>
                <button
                  data-testid="duplicate-workflow"
                  title={access.owned ? undefined : "Make a copy of your own"}
                  onClick={() => onDuplicate(w)}
                >
                  Duplicate
                </button>
                <a className="button" href={api.exportUrl(w.id, "json")} download>
                  JSON
                </a>
                <a className="button" href={api.exportUrl(w.id, "yaml")} download>
                  YAML
                </a>
                <button
                  className="danger-ghost"
                  data-testid="delete-workflow"
                  disabled={!access.owned}
                  title={ownerOnly}
                  onClick={() => onDelete(w)}
                >
                  Delete
                </button>
              </td>
            </tr>
          );
        })}
      </tbody>
    </table>
  );
}

function RenameDialog({ workflow, onClose, onRename }: { workflow: WorkflowSummary; onClose(): void; onRename(name: string): void }) {
  const [name, setName] = useState(workflow.name);
  const submit = () => {
    if (name.trim()) {
      onRename(name.trim());
      onClose();
    }
  };
  return (
    <Modal
      title="Rename workflow"
      onClose={onClose}
      actions={
        <>
          <button onClick={onClose}>Cancel</button>
          <button className="primary" disabled={!name.trim()} onClick={submit}>
            Rename
          </button>
        </>
      }
    >
      <input
        autoFocus
        aria-label="Workflow name"
        value={name}
        onChange={(e) => setName(e.target.value)}
        onKeyDown={(e) => e.key === "Enter" && submit()}
      />
    </Modal>
  );
}

function ImportButton({ onImported, onError }: { onImported(): void; onError(message: string): void }) {
  const input = useRef<HTMLInputElement>(null);
  const onFile = async (file: File | undefined) => {
    if (!file) return;
    try {
      const saved = await api.importWorkflow(file);
      onImported();
      navigate(paths.editor(saved.id));
    } catch (e) {
      onError(`Import of ${file.name} failed: ${(e as Error).message}`);
    } finally {
      if (input.current) input.current.value = "";
    }
  };
  return (
    <>
      <input
        ref={input}
        type="file"
        accept=".json,.yaml,.yml"
        hidden
        data-testid="import-file"
        onChange={(e) => onFile(e.target.files?.[0])}
      />
      <button onClick={() => input.current?.click()}>Import…</button>
    </>
  );
}
