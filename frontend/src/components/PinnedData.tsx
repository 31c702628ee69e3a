/** Pinned data and testing one node (issue 17), for the inspector: "Pin output" on a node's
 * output in a run, the pin with "Unpin", and "Test node" (run it alone, see its output here). */
import { useState } from "react";
import { api, type ApiError } from "../api/client";
import { canPin, pinnedLabel, shortJson, whyNotTestable, type NodePinned, type NodeTestAnswer } from "../lib/pins";
import type { NodeState } from "../lib/types";
import { formatDuration } from "../lib/timeline";
import { useCanvas, useCanvasApi } from "../store/context";
import { StatusBadge } from "./StatusBadge";

function usePinActions(nodeId: string) {
  const store = useCanvasApi();
  const [busy, setBusy] = useState(false);
  const act = async (work: (workflowId: number) => Promise<{ pinned: NodePinned | null; revision: number }>, done: string) => {
    const workflowId = store.getState().workflowId;
    if (workflowId === null || busy) return;
    setBusy(true);
    try {
      const answer = await work(workflowId);
      store.getState().applyPin(nodeId, answer.pinned, answer.revision);
      store.getState().notify({ kind: "info", text: done });
    } catch (error) {
      store.getState().notify({ kind: "error", text: (error as ApiError).message });
    } finally {
      setBusy(false);
    }
  };
  return {
    busy,
    pinRun: (runId: number) =>
      act(
        (id) => api.pinNode(id, nodeId, { run: runId }),
        `Pinned ${nodeId}'s output: manual runs and tests use it; triggered runs never do`,
      ),
    pinOutput: (output: unknown, handles: string[]) =>
      act((id) => api.pinNode(id, nodeId, { output, handles }), `Pinned ${nodeId}'s tested output`),
    unpin: () => act((id) => api.unpinNode(id, nodeId), `Unpinned ${nodeId}: every run runs it again`),
  };
}

/** The node's pin, if any, with "Unpin"; else "Pin output" for a node that ended with one. */
export function PinSection({
  nodeId,
  runId,
  status,
  container = false,
  iteration = null,
}: {
  nodeId: string;
  runId?: number | null;
  status?: NodeState;
  container?: boolean;
  iteration?: string | null;
}) {
  const { pinned, readOnly } = useCanvas((s) => ({
    pinned: s.nodes.find((n) => n.id === nodeId)?.data.node.pinned ?? null,
    readOnly: s.readOnly,
  }));
  const { busy, pinRun, unpin } = usePinActions(nodeId);
  const pinnable = runId != null && canPin(status, container, iteration);
  if (!pinned && !pinnable) return null;
  return (
    <section className="pin-section" data-testid="pin-section">
      {pinned ? (
        <>
          <p className="pin-note" data-testid="pinned-note">
            <span aria-hidden="true">📌</span> {pinnedLabel(pinned)}. Manual runs and tests use this output instead of running the node;
            runs a trigger starts never do.
          </p>
          <button data-testid="unpin" disabled={busy || readOnly !== null} title={readOnly ?? undefined} onClick={unpin}>
            Unpin
          </button>
          {pinnable && (
            <button data-testid="pin-output" disabled={busy || readOnly !== null} onClick={() => runId != null && pinRun(runId)}>
              Pin this run's output instead
            </button>
          )}
        </>
      ) : (
        <button
          data-testid="pin-output"
          disabled={busy || readOnly !== null}
          title={readOnly ?? "Save this output with the workflow: manual runs use it instead of running the node"}
          onClick={() => runId != null && pinRun(runId)}
        >
          📌 Pin output
        </button>
      )}
    </section>
  );
}

/** "Test node": run the saved node alone with its upstream data, and show what it did here. */
export function NodeTest({ nodeId }: { nodeId: string }) {
  const store = useCanvasApi();
  const { type, parent, dirty, readOnly } = useCanvas((s) => {
    const node = s.nodes.find((n) => n.id === nodeId)?.data.node;
    return { type: node?.type, parent: node?.parent ?? null, dirty: s.dirty, readOnly: s.readOnly };
  });
  const [answer, setAnswer] = useState<NodeTestAnswer | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [running, setRunning] = useState(false);
  const { busy, pinOutput } = usePinActions(nodeId);
  const why = readOnly ?? whyNotTestable(type, parent, dirty);
  const test = async () => {
    const workflowId = store.getState().workflowId;
    if (workflowId === null) return;
    setRunning(true);
    setError(null);
    try {
      setAnswer(await api.testNode(workflowId, nodeId));
    } catch (e) {
      setAnswer(null);
      setError((e as ApiError).message);
    } finally {
      setRunning(false);
    }
  };
  return (
    <section className="node-test" data-testid="node-test">
      <h4>Test</h4>
      <button data-testid="test-node" disabled={running || why !== null} title={why ?? undefined} onClick={test}>
        {running ? "Testing…" : "▶ Test node"}
      </button>
      <small className="hint" data-testid="test-hint">
        {why ?? "Runs this node alone with what reached it in the last run (or its upstream nodes' pinned data). No run is recorded."}
      </small>
      {error && (
        <p className="problem-inline" data-testid="test-error">
          ⚠ {error}
        </p>
      )}
      {answer && (
        <div className="test-result" data-testid="test-result" data-status={answer.status}>
          <p>
            <StatusBadge kind="node" status={answer.status} /> {formatDuration(answer.duration_ms) || ""}
            {answer.handles.length > 0 && answer.status === "succeeded" && <small> → {answer.handles.join(", ")}</small>}
          </p>
          {answer.error && <pre className="inspect-error">{answer.error.message}</pre>}
          {answer.status === "succeeded" && (
            <>
              <h4>Output</h4>
              <pre className="value" data-testid="test-output">
                {typeof answer.output === "string" && answer.truncated ? answer.output : shortJson(answer.output)}
              </pre>
              {!answer.truncated && (
                <button
                  data-testid="pin-tested"
                  disabled={busy || readOnly !== null}
                  onClick={() => pinOutput(answer.output, answer.handles)}
                >
                  📌 Pin this output
                </button>
              )}
            </>
          )}
          {answer.logs.length > 0 && <pre className="value small">{answer.logs.join("\n")}</pre>}
        </div>
      )}
    </section>
  );
}
