/** A node's context menu in a run: "Run from here" re-runs the node and everything downstream
 * of it, reusing the upstream outputs of this run (POST /api/runs/{id}/rerun/ {from_node}). */
import { useEffect, useState } from "react";
import { api } from "../api/client";
import { navigate, paths } from "../router";

export interface NodeMenuAt {
  node: string;
  x: number;
  y: number;
}

interface Props {
  at: NodeMenuAt;
  workflowId: number;
  runId: number;
  onClose(): void;
  onError(message: string): void;
}

export function NodeMenu({ at, workflowId, runId, onClose, onError }: Props) {
  const [busy, setBusy] = useState(false);
  useEffect(() => {
    const onKey = (event: KeyboardEvent) => event.key === "Escape" && onClose();
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  }, [onClose]);
  const runFromHere = () => {
    setBusy(true);
    api.rerun(runId, at.node).then(
      (run) => (onClose(), navigate(paths.run(workflowId, run.id))),
      (e: Error) => (setBusy(false), onClose(), onError(`Cannot re-run from ${at.node}: ${e.message}`)),
    );
  };
  return (
    <div className="menu-backdrop" onClick={onClose} onContextMenu={(e) => (e.preventDefault(), onClose())}>
      <div className="node-menu" role="menu" data-testid="node-menu" style={{ left: at.x, top: at.y }} onClick={(e) => e.stopPropagation()}>
        <div className="node-menu-title">{at.node}</div>
        <button
          role="menuitem"
          data-testid="run-from-here"
          disabled={busy}
          onClick={runFromHere}
          title="Run this node and everything after it again, reusing this run's upstream outputs"
        >
          ▶ Run from here
        </button>
      </div>
    </div>
  );
}
