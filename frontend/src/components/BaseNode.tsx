/** The one node component: label, type icon, labelled handles, state (colour + icon + text).
 * A container (`loop`, `map`) is the same node drawn as a resizable frame around its body. */
import { PINNED_REASON } from "../lib/pins";
import { Handle, NodeResizer, Position, type NodeProps } from "@xyflow/react";
import { memo } from "react";
import { containerApprovalWaits, containerWaitText } from "../lib/approval";
import { CONTAINER_MIN } from "../lib/containers";
import type { CanvasNode } from "../lib/flow";
import { iterationLabel, shownNodeView } from "../lib/iterations";
import { nodeSummary } from "../lib/nodeSummary";
import { inputHandles, outputHandles } from "../lib/nodeTypes";
import { NODE_STATE_LOOK, problemCount } from "../lib/status";
import { formatDuration } from "../lib/timeline";
import { subworkflowWait, waitLabel } from "../lib/subworkflows";
import type { CanvasStore } from "../store/canvasStore";
import { useCanvas, useCanvasApi } from "../store/context";
import { RunLink } from "./RunLink";
import { TypeIcon } from "./TypeIcon";

function useNodeLook(id: string, type: string, parent: string | null | undefined) {
  return useCanvas((s) => {
    const shown = s.run ? shownNodeView(s.run, id, parent, s.iterationPicks) : null;
    return {
      info: s.nodeTypes[type],
      view: shown?.view ?? null,
      iteration: shown?.iteration ?? null,
      picked: !!(parent && s.iterationPicks[parent]),
      progress: s.run?.progress[id] ?? null,
      inRun: s.run !== null,
      readOnly: s.readOnly !== null,
      problems: problemCount(s.problems, id),
      ...waitingFor(s, id, shown?.view?.status, shown?.iteration),
    };
  });
}

/**
 * Why a waiting container waits, when approvals in its body do (`waiting: approval in M[2]`),
 * and the approval node to open the dialog for; as primitives.
 */
function useContainerApprovals(id: string, status: string) {
  return useCanvas((s) => {
    if (status !== "waiting" || !s.run) return { approvalText: null, approvalNode: null, approvalCount: 0 };
    const report = s.runReport && s.runReport.id === s.run.runId ? s.runReport : null;
    const nodes = s.nodes.map((n) => ({ id: n.id, type: n.type, parent: n.data.node.parent }));
    const waits = containerApprovalWaits(s.run, report?.node_runs ?? [], id, nodes, s.decidedApprovals);
    return { approvalText: containerWaitText(waits), approvalNode: waits[0]?.node ?? null, approvalCount: waits.length };
  });
}

/** The child run a waiting node waits for (from the report, which names it), as primitives. */
function waitingFor(s: CanvasStore, id: string, status: string | undefined, iteration: string | null | undefined) {
  if (status !== "waiting" || !s.run || s.runReport?.id !== s.run.runId) return { waitRun: null, waitWorkflow: null };
  const wait = subworkflowWait(s.runReport, id, status, iteration ?? "");
  return { waitRun: wait?.runId ?? null, waitWorkflow: wait?.workflow ?? null };
}

/** The state text: "waiting for run #N" (a link to that run) for a node waiting for a child run. */
function StateLabel({ label, waitRun, waitWorkflow }: { label: string; waitRun: number | null; waitWorkflow: number | null }) {
  if (waitRun === null) return <span>{label}</span>;
  const target = { runId: waitRun, workflow: waitWorkflow };
  return (
    <RunLink target={target} testId="node-wait-link" className="nodrag nopan wf-node-wait-link">
      {waitLabel(target)}
    </RunLink>
  );
}

function BaseNodeView({ id, type, data, selected }: NodeProps<CanvasNode>) {
  const node = data.node;
  const { info, view, iteration, picked, progress, inRun, readOnly, problems, waitRun, waitWorkflow } = useNodeLook(id, type, node.parent);
  const status = inRun ? (view?.status ?? "pending") : "idle";
  const look = inRun ? NODE_STATE_LOOK[view?.status ?? "pending"] : null;
  const outputs = outputHandles(info, node);
  const inputs = inputHandles(info);
  const classes = ["wf-node", `status-${status}`, selected ? "selected" : "", node.disabled ? "disabled" : "", info ? "" : "unknown-type"];
  return (
    <div
      className={classes.join(" ")}
      data-node-id={id}
      data-status={status}
      data-wait={waitRun !== null ? "subworkflow" : undefined}
      data-iteration={iteration ?? undefined}
      data-testid="canvas-node"
      style={
        {
          "--accent": info?.color ?? "#64748b",
          "--state": look?.color ?? "transparent",
          minHeight: Math.max(76, outputs.length * 26 + 20),
        } as React.CSSProperties
      }
    >
      <InputHandles names={inputs.join(" ")} />
      <div className="wf-node-head">
        <TypeIcon className="wf-node-icon" icon={info?.icon} type={type} />
        <div className="wf-node-titles">
          <div className="wf-node-name">{node.name || id}</div>
          <div className="wf-node-sub">
            {id} · {info?.label ?? `unknown type “${type}”`}
          </div>
        </div>
        {problems > 0 && (
          <span className="wf-node-problems" title={`${problems} problem(s): see the problems list`}>
            ! {problems}
          </span>
        )}
      </div>
      <NodeSummary type={type} config={node.config ?? undefined} />
      {look && (
        <div className="wf-node-state" data-testid="node-state">
          <span aria-hidden="true" className={status === "running" ? "spin" : ""}>
            {look.icon}
          </span>
          <StateLabel label={look.label} waitRun={waitRun} waitWorkflow={waitWorkflow} />
          {view && view.attempt > 1 && <span className="chip">attempt {view.attempt}</span>}
          {progress && (
            <span className="chip" data-testid="node-progress">
              {progress.done}/{progress.total ?? "?"}
            </span>
          )}
          {view?.durationMs != null && <span className="chip">{formatDuration(view.durationMs)}</span>}
        </div>
      )}
      {node.disabled && <div className="wf-node-flag">disabled · passes input through</div>}
      {node.pinned && (
        <div
          className="wf-node-flag wf-node-pin"
          data-testid="pin-mark"
          data-used={view?.reason === PINNED_REASON ? "true" : undefined}
          title="Pinned data: manual runs use this output instead of running the node; triggered runs never do"
        >
          📌 {view?.reason === PINNED_REASON ? "pinned output used" : "pinned output"}
        </div>
      )}
      {node.parent && !inRun && <div className="wf-node-parent">in {node.parent}</div>}
      {inRun && iteration && (
        <div
          className="wf-node-parent"
          data-testid="node-iteration"
          title={picked ? "the iteration picked in the inspector" : "the latest iteration"}
        >
          {picked ? "shown: " : "latest: "}
          {iterationLabel(iteration)}
        </div>
      )}
      {outputs.map((handle, i) =>
        handle === "out" && outputs.length === 1 ? null : (
          <span className={`wf-node-port port-${handle}`} key={handle} style={{ top: spread(i, outputs.length) }}>
            {handle}
          </span>
        ),
      )}
      <OutputHandles names={outputs.join(" ")} addFrom={inRun || readOnly ? undefined : id} />
    </div>
  );
}

/** The node's config in one line ("3 s", "score > 5"), the whole of it in the tooltip. */
function NodeSummary({ type, config }: { type: string | undefined; config: Record<string, unknown> | undefined }) {
  const summary = nodeSummary(type, config);
  if (!summary) return null;
  return (
    <div className="wf-node-summary" data-testid="node-summary" title={summary}>
      {summary}
    </div>
  );
}

/*
 * A node's handles depend on its type and config only: kept apart (memoised on their names) so
 * a node whose run state changes does not re-render its handles, each subscribed to React Flow.
 */
const InputHandles = memo(function InputHandles({ names, top }: { names: string; top?: (i: number, count: number) => string | number }) {
  const inputs = names ? names.split(" ") : [];
  return inputs.map((handle, i) => (
    <Handle key={handle} type="target" position={Position.Left} id={handle} style={{ top: (top ?? spread)(i, inputs.length) }} />
  ));
});

const OutputHandles = memo(function OutputHandles({
  names,
  top,
  addFrom,
}: {
  names: string;
  top?: (i: number, count: number) => string | number;
  /** The node's id while it can be edited: each output handle gets a "+" that adds a node after it. */
  addFrom?: string;
}) {
  const outputs = names ? names.split(" ") : [];
  return (
    <>
      {outputs.map((handle, i) => (
        <Handle
          key={handle}
          type="source"
          position={Position.Right}
          id={handle}
          className={`handle-${handle}`}
          style={{ top: (top ?? spread)(i, outputs.length) }}
        />
      ))}
      {addFrom !== undefined &&
        outputs.map((handle, i) => <AddAfter key={handle} node={addFrom} handle={handle} top={(top ?? spread)(i, outputs.length)} />)}
      <Handle type="source" position={Position.Bottom} id="error" className="handle-error" title="error: taken when this node fails" />
      <span className="wf-node-error-label">error</span>
    </>
  );
});

/** The "+" beside an output handle: opens the node-type picker for a node connected from it. */
function AddAfter({ node, handle, top }: { node: string; handle: string; top: string | number }) {
  const store = useCanvasApi();
  return (
    <button
      className="nodrag nopan wf-add-after"
      data-testid="add-after"
      data-handle={handle}
      title={`Add a node after ${handle}`}
      style={{ top }}
      onClick={(e) => {
        e.stopPropagation();
        store.getState().openPicker({ node, handle, x: e.clientX, y: e.clientY });
      }}
    >
      +
    </button>
  );
}

/** A container's handles sit in its header, one under the other. */
function headerTop(i: number): number {
  return 30 + i * 22;
}

function spread(index: number, count: number): string {
  return `${((index + 1) / (count + 1)) * 100}%`;
}

export const BaseNode = memo(BaseNodeView);

/**
 * A `loop` or `map`: a frame whose inside is its body (React Flow children), with its header,
 * state and `done/total` progress on top; resizable while editing.
 */
function ContainerNodeView({ id, type, data, selected }: NodeProps<CanvasNode>) {
  const node = data.node;
  const { info, view, iteration, progress, inRun, readOnly, problems, waitRun, waitWorkflow } = useNodeLook(id, type, node.parent);
  const beginResize = useCanvas((st) => st.beginDrag); // one undo step per resize
  const requestApproval = useCanvas((st) => st.requestApproval);
  const status = inRun ? (view?.status ?? "pending") : "idle";
  const { approvalText, approvalNode, approvalCount } = useContainerApprovals(id, status);
  const look = inRun ? NODE_STATE_LOOK[view?.status ?? "pending"] : null;
  const outputs = outputHandles(info, node);
  const inputs = inputHandles(info);
  const classes = ["wf-node", "wf-container", `status-${status}`, selected ? "selected" : "", node.disabled ? "disabled" : ""];
  return (
    <div
      className={classes.join(" ")}
      data-node-id={id}
      data-status={status}
      data-container="true"
      data-wait={approvalNode ? "approval" : undefined}
      data-testid="canvas-node"
      style={{ "--accent": info?.color ?? "#64748b", "--state": look?.color ?? "transparent" } as React.CSSProperties}
    >
      <NodeResizer
        isVisible={!!selected && !inRun && !readOnly}
        minWidth={CONTAINER_MIN.width}
        minHeight={CONTAINER_MIN.height}
        color="var(--primary)"
        onResizeStart={beginResize}
      />
      <InputHandles names={inputs.join(" ")} top={headerTop} />
      <div className="wf-node-head wf-container-head">
        <TypeIcon className="wf-node-icon" icon={info?.icon} type={type} />
        <div className="wf-node-titles">
          <div className="wf-node-name">{node.name || id}</div>
          <div className="wf-node-sub">
            {id} · {info?.label ?? type} · body
          </div>
          <NodeSummary type={type} config={node.config ?? undefined} />
        </div>
        {look && (
          <div className="wf-node-state" data-testid="node-state">
            <span aria-hidden="true" className={status === "running" ? "spin" : ""}>
              {look.icon}
            </span>
            {approvalText ? (
              <span data-testid="container-wait">{approvalText}</span>
            ) : (
              <StateLabel label={look.label} waitRun={waitRun} waitWorkflow={waitWorkflow} />
            )}
            {progress && (
              <span className="chip" data-testid="node-progress" title="iterations done / total">
                {progress.done}/{progress.total ?? "?"}
              </span>
            )}
            {view?.durationMs != null && <span className="chip">{formatDuration(view.durationMs)}</span>}
            {iteration && <span className="chip">{iterationLabel(iteration)}</span>}
            {approvalNode && (
              <button
                className="nodrag nopan primary wf-container-wait"
                data-testid="container-approval-open"
                title="Decide the approvals this container's body waits for, one iteration at a time"
                onClick={(e) => {
                  e.stopPropagation();
                  requestApproval(approvalNode);
                }}
              >
                {approvalCount > 1 ? "Decide…" : "Approve or reject…"}
              </button>
            )}
          </div>
        )}
        {problems > 0 && (
          <span className="wf-node-problems" title={`${problems} problem(s): see the problems list`}>
            ! {problems}
          </span>
        )}
      </div>
      {!inRun && <div className="wf-container-hint">drop nodes here: they run once per {type === "map" ? "item" : "iteration"}</div>}
      <OutputHandles names={outputs.join(" ")} top={headerTop} />
    </div>
  );
}

export const ContainerNode = memo(ContainerNodeView);

/** React Flow's `nodeTypes`: one entry per registered node type (and any unknown type in use). */
export function buildNodeTypes(typeNames: readonly string[], containerTypes: ReadonlySet<string> = new Set()) {
  return Object.fromEntries(typeNames.map((name) => [name, containerTypes.has(name) ? ContainerNode : BaseNode]));
}
