/** A sub-workflow node's "which workflow": a picker of the saved workflows instead of a typed id. */
import { useEffect, useState } from "react";
import { api } from "../api/client";
import type { WorkflowSummary } from "../lib/types";
import { paths } from "../router";
import { useCanvas } from "../store/context";

export function SubworkflowPicker({ value, onPick }: { value: unknown; onPick(id: number): void }) {
  const self = useCanvas((s) => s.workflowId);
  const [workflows, setWorkflows] = useState<WorkflowSummary[] | null>(null);
  useEffect(() => {
    let current = true;
    api.listWorkflows().then(
      (list) => current && setWorkflows(list),
      () => current && setWorkflows([]),
    );
    return () => {
      current = false;
    };
  }, []);
  const picked = typeof value === "number" ? value : typeof value === "string" && /^\d+$/.test(value) ? Number(value) : null;
  const others = (workflows ?? []).filter((w) => w.id !== self).sort((a, b) => a.name.localeCompare(b.name));
  const known = picked === null || others.some((w) => w.id === picked);
  return (
    <div className="field">
      <label htmlFor="subworkflow-picker">Workflow to run</label>
      <select
        id="subworkflow-picker"
        data-testid="subworkflow-picker"
        value={picked ?? ""}
        disabled={workflows === null}
        onChange={(e) => e.target.value && onPick(Number(e.target.value))}
      >
        <option value="">{workflows === null ? "Loading…" : "Pick a saved workflow…"}</option>
        {!known && picked !== null && <option value={picked}>#{picked} (not one of yours)</option>}
        {others.map((w) => (
          <option key={w.id} value={w.id}>
            {w.name} (#{w.id}){w.valid ? "" : " · draft"}
          </option>
        ))}
      </select>
      {picked !== null && (
        <small className="hint">
          <a href={paths.editor(picked)} target="_blank" rel="noreferrer" data-testid="subworkflow-open">
            Open workflow #{picked} ↗
          </a>
        </small>
      )}
    </div>
  );
}
