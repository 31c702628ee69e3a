/** Inspect one node of the shown run: state, input, output, error and log lines; for a body
 * node or a container, of the iteration picked (the latest unless one is chosen). */
import { useState } from "react";
import { approvalWaitPaths, containerApprovalWaits, iterationItemLabel } from "../lib/approval";
import { containerIterations, iterationLabel, iterationRecord, nodeIterations } from "../lib/iterations";
import { costText, streamKey, type NodeRunView } from "../lib/runEvents";
import { childRunsOf, subworkflowWait, waitLabel } from "../lib/subworkflows";
import { recoveryLine, recoveryOf } from "../lib/recovery";
import { formatDuration } from "../lib/timeline";
import type { NodeError, NodeRunRecord, RunReport, TokenUsage } from "../lib/types";
import { useCanvas } from "../store/context";
import { NodeLog } from "./NodeLog";
import { PinSection } from "./PinnedData";
import { takenBranch } from "../lib/branches";
import { AgentTurnsOf } from "./AgentTurns";
import { ChildRuns, RunLink } from "./RunLink";
import { StatusBadge } from "./StatusBadge";

const NO_RECORDS: NodeRunRecord[] = [];

interface Props {
  nodeId: string;
  report: RunReport | null;
  /** Open the approval dialog for this node (it waits for a decision). */
  onDecide?: (nodeId: string) => void;
}

export function InspectPanel({ nodeId, report, onDecide }: Props) {
  const s = useCanvas((st) => {
    const canvasNode = st.nodes.find((n) => n.id === nodeId);
    const parent = canvasNode?.data.node.parent ?? null;
    const container = st.isContainer(canvasNode?.type);
    return {
      run: st.run,
      type: canvasNode?.type,
      parent,
      container,
      bodyIds: container
        ? st.nodes
            .filter((n) => n.data.node.parent === nodeId)
            .map((n) => n.id)
            .join(" ")
        : "",
      pick: st.iterationPicks[container ? nodeId : (parent ?? "")] ?? null,
      pickIteration: st.pickIteration,
    };
  });
  const records = report?.node_runs ?? NO_RECORDS;
  const scope = s.container ? nodeId : s.parent; // the container whose iterations apply
  const bodyIds = s.bodyIds ? s.bodyIds.split(" ") : [];
  const paths = s.container ? containerIterations(s.run, records, nodeId, bodyIds) : s.parent ? nodeIterations(s.run, records, nodeId) : [];
  const latest = s.parent ? (s.run?.latestIteration[nodeId] ?? paths[paths.length - 1] ?? null) : null;
  const iteration = s.parent ? (s.pick ?? latest) : null;
  return (
    <div className="panel-section" data-testid="inspect-panel">
      {scope && paths.length > 0 && (
        <IterationPicker
          paths={paths}
          value={s.pick}
          latest={s.container ? null : latest}
          onPick={(path) => s.pickIteration(scope, path)}
        />
      )}
      <NodeDetails
        nodeId={nodeId}
        type={s.type}
        iteration={iteration}
        report={report}
        onDecide={onDecide}
        body={s.parent !== null}
        container={s.container}
      />
      {s.container && s.pick && <IterationBody path={s.pick} bodyIds={bodyIds} records={records} />}
    </div>
  );
}

function IterationPicker({
  paths,
  value,
  latest,
  onPick,
}: {
  paths: string[];
  value: string | null;
  latest: string | null;
  onPick(path: string | null): void;
}) {
  return (
    <div className="field iteration-picker">
      <label htmlFor="iteration-picker">Iteration ({paths.length})</label>
      <select id="iteration-picker" data-testid="iteration-picker" value={value ?? ""} onChange={(e) => onPick(e.target.value || null)}>
        <option value="">{latest ? `latest (${iterationLabel(latest)})` : "latest"}</option>
        {paths.map((path) => (
          <option key={path} value={path}>
            {iterationLabel(path)}
          </option>
        ))}
      </select>
      <small className="hint">The canvas shows the body nodes in the iteration picked here.</small>
    </div>
  );
}

interface DetailsProps {
  nodeId: string;
  type: string | undefined;
  /** The iteration path of a body node, null at top level. */
  iteration: string | null;
  report: RunReport | null;
  onDecide?: (nodeId: string) => void;
  /** In a loop or map body. */
  body?: boolean;
  /** A loop or map itself. */
  container?: boolean;
}

function NodeDetails({ nodeId, type, iteration, report, onDecide, body = false, container = false }: DetailsProps) {
  const live = useCanvas((st) => ({
    view: iteration ? (st.run?.iterations[nodeId]?.[iteration] ?? null) : (st.run?.nodes[nodeId] ?? null),
    preview: iteration ? st.run?.iterationOutputs[nodeId]?.[iteration] : st.run?.outputs[nodeId],
    stream: st.run?.streams[streamKey(nodeId, iteration)] ?? null,
    usage: st.run?.usage[streamKey(nodeId, iteration)] ?? null,
    schema: st.nodes.find((n) => n.id === nodeId)?.data.node.output_schema ?? null,
    name: st.nodes.find((n) => n.id === nodeId)?.data.node.name ?? "",
  }));
  const view: NodeRunView | null = live.view;
  const records = report?.node_runs ?? NO_RECORDS;
  const full = iteration ? null : report?.nodes?.[nodeId];
  const record = iterationRecord(records, nodeId, iteration ?? "");
  const error: NodeError | null = view?.error ?? full?.error ?? record?.error ?? null;
  const recovery = recoveryOf(error);
  const reason = view?.reason ?? full?.reason ?? record?.reason ?? null;
  const childRuns = childRunsOf(report, nodeId, iteration ?? "");
  const waitingFor = subworkflowWait(report, nodeId, view?.status, iteration ?? "");
  const branch = takenBranch(type, view?.status ?? record?.status ?? full?.status, view?.handles ?? record?.handles ?? null);
  const output =
    record?.output !== undefined && record?.output !== null ? record.output : full?.output !== undefined ? full.output : live.preview;
  return (
    <>
      <header className="panel-title">
        <div>
          <strong data-testid="inspect-name">{live.name || nodeId}</strong>
          <small>
            {live.name && live.name !== nodeId ? `${nodeId} · ` : ""}
            {type}
          </small>
        </div>
        <StatusBadge kind="node" status={view?.status ?? record?.status ?? full?.status ?? "pending"} />
      </header>
      <dl className="facts">
        {iteration && (
          <>
            <dt>Iteration</dt>
            <dd data-testid="inspect-iteration">{iterationLabel(iteration)}</dd>
          </>
        )}
        <dt>Attempt</dt>
        <dd>{view?.attempt ?? record?.attempt ?? full?.attempts ?? "—"}</dd>
        <dt>Duration</dt>
        <dd>{formatDuration(view?.durationMs ?? record?.duration_ms) || "—"}</dd>
        {branch && (
          <>
            <dt>Took</dt>
            <dd data-testid="inspect-branch">{branch}</dd>
          </>
        )}
        {reason && (
          <>
            <dt>Why</dt>
            <dd data-testid="inspect-reason">{reason}</dd>
          </>
        )}
        {(full?.handled || record?.handled) && (
          <>
            <dt>Handled</dt>
            <dd>left through its error edge</dd>
          </>
        )}
      </dl>
      {view?.status === "waiting" && type === "approval" && !body && onDecide && (
        <section className="approval" data-testid="approval-prompt">
          <h4>Waiting for approval</h4>
          <button className="primary" data-testid="approval-open" onClick={() => onDecide(nodeId)}>
            Approve or reject…
          </button>
        </section>
      )}
      {onDecide && ((type === "approval" && body) || container) && (
        <BodyApprovals nodeId={nodeId} container={container} records={records} onDecide={onDecide} />
      )}
      {waitingFor && (
        <section className="subworkflow-wait" data-testid="subworkflow-wait">
          <h4>{waitLabel(waitingFor)}</h4>
          <p>
            The node goes on when{" "}
            <RunLink target={waitingFor} testId="wait-run-link">
              run #{waitingFor.runId}
            </RunLink>{" "}
            ends. That run is parked (an approval, a pause or a delay inside it): open it to go on.
          </p>
        </section>
      )}
      {error && (
        <section className="inspect-error" data-testid="inspect-error">
          <h4>Error{error.type && error.type !== "error" ? ` (${error.type})` : ""}</h4>
          <pre>{error.message}</pre>
          {recovery && (
            <p className="small" data-testid="inspect-recovery" data-recovery-status={recovery.status}>
              {recoveryLine(recovery)}
            </p>
          )}
        </section>
      )}
      {(type === "subworkflow" || (childRuns.length > 0 && type !== "llm")) && <ChildRuns refs={childRuns} />}
      {type === "llm" && (
        <AgentTurnsOf
          nodeId={nodeId}
          iteration={iteration}
          attempt={view?.attempt ?? record?.attempt ?? null}
          ended={view?.status !== "running" && view?.status !== "waiting"}
          output={output}
          childRuns={childRuns}
        />
      )}
      <StreamedAnswer
        text={live.stream?.text ?? null}
        usage={live.usage ?? record?.usage ?? null}
        cost={record?.usage?.cost_usd ?? null}
        streaming={view?.status === "running"}
      />
      <ValueBlock title="Input" value={record ? record.input : full?.input} testId="inspect-input" />
      <ValueBlock title="Output" value={output} testId="inspect-output" />
      {live.schema && <ValueBlock title="Declared output schema" value={live.schema} testId="inspect-output-schema" />}
      <PinSection
        nodeId={nodeId}
        runId={report?.id ?? null}
        status={view?.status ?? record?.status ?? full?.status}
        container={container}
        iteration={iteration}
      />
      <NodeLog nodeId={nodeId} iteration={iteration} />
    </>
  );
}

/**
 * Approvals waiting in a loop or map body: for a body approval node, the iterations it waits in;
 * for a container, every body approval that waits (by node and iteration). Each is decided on
 * its own, from the dialog.
 */
function BodyApprovals({
  nodeId,
  container,
  records,
  onDecide,
}: {
  nodeId: string;
  container: boolean;
  records: readonly NodeRunRecord[];
  onDecide(nodeId: string): void;
}) {
  const { run, nodes, decided } = useCanvas((st) => ({ run: st.run, nodes: st.nodes, decided: st.decidedApprovals }));
  const plain = nodes.map((n) => ({ id: n.id, type: n.type, parent: n.data.node.parent }));
  const waits = container
    ? containerApprovalWaits(run, records, nodeId, plain, decided)
    : approvalWaitPaths(run, records, nodeId, true, decided).map((iteration) => ({ node: nodeId, iteration }));
  if (!waits.length) return null;
  const kindOf = (id: string) => nodes.find((n) => n.id === id)?.type;
  const deciders = [...new Set(waits.map((w) => w.node))];
  return (
    <section className="approval" data-testid="approval-prompt">
      <h4>
        Waiting for approval in {waits.length} iteration{waits.length > 1 ? "s" : ""}
      </h4>
      <ul className="approval-waits" data-testid="approval-waits">
        {waits.map((w) => (
          <li key={`${w.node}|${w.iteration}`} data-iteration={w.iteration}>
            {container && <span className="code">{w.node}</span>} {iterationItemLabel(w.iteration, kindOf)}
          </li>
        ))}
      </ul>
      {deciders.map((id) => (
        <button key={id} className="primary" data-testid="approval-open" onClick={() => onDecide(id)}>
          {deciders.length > 1 || container ? `Decide ${id}…` : "Approve or reject…"}
        </button>
      ))}
    </section>
  );
}

/** A container's picked iteration: each body node's state and result in it. */
function IterationBody({ path, bodyIds, records }: { path: string; bodyIds: string[]; records: readonly NodeRunRecord[] }) {
  const views = useCanvas((st) => Object.fromEntries(bodyIds.map((id) => [id, st.run?.iterations[id]?.[path]?.status ?? null])));
  return (
    <section data-testid="iteration-body">
      <h4>Body in {iterationLabel(path)}</h4>
      <table className="iteration-table">
        <tbody>
          {bodyIds.map((id) => {
            const record = iterationRecord(records, id, path);
            return (
              <tr key={id}>
                <td className="code">{id}</td>
                <td>
                  <StatusBadge kind="node" status={views[id] ?? record?.status ?? "pending"} />
                </td>
                <td className="code small">{record?.output !== undefined ? JSON.stringify(record.output)?.slice(0, 80) : ""}</td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </section>
  );
}

const COLLAPSE_CHARS = 600;

function ValueBlock({ title, value, testId }: { title: string; value: unknown; testId?: string }) {
  const [open, setOpen] = useState(false);
  if (value === undefined) {
    return (
      <section data-testid={testId}>
        <h4>{title}</h4>
        <p className="muted small">Not available yet.</p>
      </section>
    );
  }
  const text = JSON.stringify(value, null, 2) ?? "null";
  const long = text.length > COLLAPSE_CHARS;
  return (
    <section data-testid={testId}>
      <h4>
        {title}
        {long && (
          <button className="link-button" onClick={() => setOpen(!open)}>
            {open ? "collapse" : `expand (${text.length} chars)`}
          </button>
        )}
      </h4>
      <pre className="value">{long && !open ? `${text.slice(0, COLLAPSE_CHARS)}…` : text}</pre>
    </section>
  );
}

/** An llm node's answer as it streams in, and the tokens its attempt used (their cost when the
 * server prices its model; "estimated" when counted locally, the provider having said none). */
function StreamedAnswer({
  text,
  usage,
  cost,
  streaming,
}: {
  text: string | null;
  usage: TokenUsage | null;
  cost: number | null;
  streaming: boolean;
}) {
  if (text === null && !usage) return null;
  return (
    <section data-testid="inspect-stream">
      <h4>Answer{streaming ? " (streaming…)" : ""}</h4>
      {text !== null && (
        <pre className="log" data-testid="inspect-stream-text">
          {text}
        </pre>
      )}
      {usage && (
        <p className="muted small" data-testid="inspect-tokens">
          {usage.prompt_tokens.toLocaleString("en")} prompt + {usage.completion_tokens.toLocaleString("en")} completion tokens
          {usage.estimated ? " (estimated)" : ""}
          {cost !== null ? ` · ${costText(cost)}` : ""}
        </p>
      )}
    </section>
  );
}
