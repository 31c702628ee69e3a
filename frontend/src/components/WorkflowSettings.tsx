/** The side panel when no node is selected: the workflow's name, inputs, variables, settings. */
import { useState } from "react";
import type { DocumentMeta } from "../lib/flow";
import { useCanvas } from "../store/context";

export function WorkflowSettings() {
  const { meta, updateMeta, nodeCount } = useCanvas((s) => ({ meta: s.meta, updateMeta: s.updateMeta, nodeCount: s.nodes.length }));
  const settings = (meta.settings ?? {}) as Record<string, unknown>;
  return (
    <div className="panel-section" data-testid="workflow-settings">
      <header className="panel-title">
        <div>
          <strong>Workflow</strong>
          <small>{nodeCount} nodes · select a node to edit it</small>
        </div>
      </header>
      <div className="field">
        <label htmlFor="wf-description">Description</label>
        <textarea
          id="wf-description"
          rows={2}
          value={meta.description ?? ""}
          onChange={(e) => updateMeta({ description: e.target.value })}
        />
      </div>
      <div className="field">
        <label htmlFor="wf-tags">Tags (comma-separated)</label>
        <input
          id="wf-tags"
          value={(meta.tags ?? []).join(", ")}
          onChange={(e) =>
            updateMeta({
              tags: e.target.value
                .split(",")
                .map((t) => t.trim())
                .filter(Boolean),
            })
          }
        />
      </div>
      <div className="field-row">
        <div className="field">
          <label htmlFor="wf-parallel">Max parallel</label>
          <input
            id="wf-parallel"
            type="number"
            min={1}
            value={Number(settings.max_parallel ?? 16)}
            onChange={(e) => updateMeta({ settings: { ...settings, max_parallel: Math.max(1, Number(e.target.value) || 1) } })}
          />
        </div>
        <div className="field grow">
          <label htmlFor="wf-failure">On failure</label>
          <select
            id="wf-failure"
            value={String(settings.on_failure ?? "continue")}
            onChange={(e) => updateMeta({ settings: { ...settings, on_failure: e.target.value } })}
          >
            <option value="continue">continue</option>
            <option value="halt">halt</option>
            <option value="pause">pause</option>
          </select>
        </div>
      </div>
      <JsonField
        label="Inputs (declared run inputs)"
        field="inputs"
        meta={meta}
        updateMeta={updateMeta}
        example='{"customer_id": {"type": "string", "default": "c-1"}}'
      />
      <JsonField label="Variables" field="variables" meta={meta} updateMeta={updateMeta} example='{"threshold": 10}' />
    </div>
  );
}

interface JsonFieldProps {
  label: string;
  field: "inputs" | "variables";
  meta: DocumentMeta;
  updateMeta(patch: Partial<DocumentMeta>): void;
  example: string;
}

function JsonField({ label, field, meta, updateMeta, example }: JsonFieldProps) {
  const [text, setText] = useState(() => JSON.stringify(meta[field] ?? {}, null, 2));
  const [error, setError] = useState<string | null>(null);
  const onChange = (next: string) => {
    setText(next);
    try {
      const value = next.trim() ? JSON.parse(next) : {};
      if (!value || typeof value !== "object" || Array.isArray(value)) throw new Error("must be a JSON object");
      setError(null);
      updateMeta({ [field]: value });
    } catch (e) {
      setError(`${label.split(" ")[0]}: ${(e as Error).message}`);
    }
  };
  return (
    <div className="field">
      <label htmlFor={`wf-${field}`}>{label}</label>
      <textarea
        id={`wf-${field}`}
        className={`code ${error ? "invalid" : ""}`}
        rows={4}
        placeholder={example}
        value={text}
        onChange={(e) => onChange(e.target.value)}
      />
      {error && <small className="field-error">{error}</small>}
    </div>
  );
}
