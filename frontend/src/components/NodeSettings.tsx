/** The side panel for one node: id, name, config form, retry / timeout / join / disabled. */
import { useMemo, useState } from "react";
import { scopeFields, type ExpressionScope } from "../lib/expressions";
import { ancestors } from "../lib/graph";
import { setIn } from "../lib/schemaForm";
import { JOIN_RULES, type RetryPolicy, type WorkflowNode } from "../lib/types";
import { useCanvas } from "../store/context";
import { ConfigForm } from "./ConfigForm";
import { TypeIcon } from "./TypeIcon";
import { TRIGGER_TYPES } from "../lib/triggers";
import { TriggerDetails } from "./TriggerDetails";
import { NodeTest, PinSection } from "./PinnedData";
import { joinLabel } from "../lib/labels";
import { SubworkflowPicker } from "./SubworkflowPicker";

export function NodeSettings({ nodeId }: { nodeId: string }) {
  const { node, info, nodes, edges, meta, allProblems, updateNode } = useCanvas((s) => ({
    node: s.nodes.find((n) => n.id === nodeId)?.data.node,
    info: s.nodeTypes[s.nodes.find((n) => n.id === nodeId)?.type ?? ""],
    nodes: s.nodes,
    edges: s.edges,
    meta: s.meta,
    allProblems: s.problems,
    updateNode: s.updateNode,
  }));
  const problems = allProblems.filter((p) => p.node === nodeId);
  const scope = useMemo<ExpressionScope>(() => {
    const upstream = ancestors(edges, nodeId);
    const types = Object.fromEntries(nodes.map((n) => [n.id, n.type ?? ""]));
    const context = {
      upstreamTypes: Object.fromEntries(upstream.map((id) => [id, types[id]])),
      inputs: Object.keys(meta.inputs ?? {}),
      variables: Object.keys(meta.variables ?? {}),
    };
    return { upstream, fieldsOf: (base: string) => scopeFields(base, context) };
  }, [nodes, edges, meta, nodeId]);
  if (!node) return null;
  const update = (patch: Partial<WorkflowNode>, key?: string) => updateNode(nodeId, patch, key);
  const config = node.config ?? {};
  return (
    <div className="panel-section" data-testid="node-settings">
      <header className="panel-title" style={{ "--accent": info?.color } as React.CSSProperties}>
        <TypeIcon className="palette-icon" icon={info?.icon} type={node.type} />
        <div>
          <strong>{info?.label ?? node.type}</strong>
          <small>{info?.description}</small>
        </div>
      </header>
      {problems.map((p, i) => (
        <p key={i} className="problem-inline">
          ⚠ {p.message}
        </p>
      ))}
      <NodeIdField key={nodeId} nodeId={nodeId} />
      <div className="field">
        <label htmlFor="node-name">Name</label>
        <input id="node-name" value={node.name ?? ""} onChange={(e) => update({ name: e.target.value }, "name")} />
      </div>
      {TRIGGER_TYPES.has(node.type) && <TriggerDetails nodeId={nodeId} type={node.type} />}
      <h4>Settings</h4>
      {node.type === "subworkflow" && (
        <SubworkflowPicker value={config.workflow} onPick={(id) => update({ config: { ...config, workflow: id } }, "config.workflow")} />
      )}
      <ConfigForm
        schema={info?.config_schema}
        expressionFields={info?.expression_fields ?? []}
        value={config}
        scope={scope}
        onChange={(path, value) => update({ config: setIn(config, path, value) }, `config.${path.join(".")}`)}
      />
      <h4>Execution</h4>
      <ExecutionSettings node={node} update={update} />
      <PinSection nodeId={nodeId} />
      <NodeTest nodeId={nodeId} />
    </div>
  );
}

function NodeIdField({ nodeId }: { nodeId: string }) {
  const rename = useCanvas((s) => s.renameNode);
  const [draft, setDraft] = useState(nodeId);
  const [error, setError] = useState<string | null>(null);
  const commit = () => setError(rename(nodeId, draft.trim()));
  return (
    <div className="field">
      <label htmlFor="node-id">ID (used in expressions)</label>
      <input
        id="node-id"
        data-testid="node-id-input"
        className={`code ${error ? "invalid" : ""}`}
        value={draft}
        onChange={(e) => setDraft(e.target.value)}
        onBlur={commit}
        onKeyDown={(e) => e.key === "Enter" && commit()}
      />
      {error && (
        <small className="field-error" role="alert">
          {error}
        </small>
      )}
    </div>
  );
}

type Update = (patch: Partial<WorkflowNode>, key?: string) => void;

function ExecutionSettings({ node, update }: { node: Omit<WorkflowNode, "position">; update: Update }) {
  const retry: RetryPolicy = node.retry ?? {};
  const setRetry = (patch: RetryPolicy) => update({ retry: { ...retry, ...patch } }, `retry.${Object.keys(patch)[0]}`);
  const num = (text: string) => (text.trim() === "" ? undefined : Math.max(0, Number(text)));
  return (
    <div className="exec-settings">
      <div className="field-row">
        <div className="field">
          <label htmlFor="retry-attempts">Max attempts</label>
          <input
            id="retry-attempts"
            type="number"
            min={1}
            value={retry.max_attempts ?? 1}
            onChange={(e) => setRetry({ max_attempts: Math.max(1, Number(e.target.value) || 1) })}
          />
        </div>
        <div className="field">
          <label htmlFor="retry-backoff">Backoff</label>
          <select
            id="retry-backoff"
            value={retry.backoff ?? "fixed"}
            onChange={(e) => setRetry({ backoff: e.target.value as RetryPolicy["backoff"] })}
          >
            <option value="fixed">fixed</option>
            <option value="linear">linear</option>
            <option value="exponential">exponential</option>
          </select>
        </div>
        <div className="field">
          <label htmlFor="retry-delay">Delay (s)</label>
          <input
            id="retry-delay"
            type="number"
            min={0}
            step="any"
            value={retry.delay_s ?? ""}
            onChange={(e) => setRetry({ delay_s: num(e.target.value) })}
          />
        </div>
      </div>
      <div className="field-row">
        <div className="field">
          <label htmlFor="node-timeout">Timeout (s)</label>
          <input
            id="node-timeout"
            type="number"
            min={0}
            step="any"
            placeholder="none"
            value={node.timeout_s ?? ""}
            onChange={(e) => update({ timeout_s: num(e.target.value) ?? null }, "timeout")}
          />
        </div>
        <div className="field grow">
          <label htmlFor="node-join">Join rule</label>
          <select
            id="node-join"
            value={node.join ?? "none_failed_min_one_success"}
            onChange={(e) => update({ join: e.target.value as WorkflowNode["join"] })}
          >
            {JOIN_RULES.map((rule) => (
              <option key={rule} value={rule} title={rule}>
                {joinLabel(rule)}
              </option>
            ))}
          </select>
        </div>
      </div>
      <div className="field field-inline">
        <input id="node-disabled" type="checkbox" checked={!!node.disabled} onChange={(e) => update({ disabled: e.target.checked })} />
        <label htmlFor="node-disabled">Disabled (passes its input through)</label>
      </div>
      <div className="field field-inline">
        <input
          id="node-breakpoint"
          type="checkbox"
          checked={!!node.breakpoint}
          onChange={(e) => update({ breakpoint: e.target.checked })}
        />
        <label htmlFor="node-breakpoint">Breakpoint (debug runs pause here)</label>
      </div>
    </div>
  );
}
