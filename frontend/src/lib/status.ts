/** How each state looks (SPEC §4): a colour and, never colour alone, an icon and a label. */
import type { NodeState, Problem, RunStatus } from "./types";

export interface StateLook {
  color: string;
  icon: string;
  label: string;
}

export const NODE_STATE_LOOK: Record<NodeState, StateLook> = {
  pending: { color: "#94a3b8", icon: "○", label: "pending" },
  queued: { color: "#7dd3fc", icon: "◔", label: "queued" },
  running: { color: "#3b82f6", icon: "⟳", label: "running" },
  retrying: { color: "#f59e0b", icon: "↻", label: "retrying" },
  waiting: { color: "#a855f7", icon: "‖", label: "waiting" },
  succeeded: { color: "#22c55e", icon: "✓", label: "succeeded" },
  failed: { color: "#ef4444", icon: "✕", label: "failed" },
  skipped: { color: "#cbd5e1", icon: "↷", label: "skipped" },
  upstream_failed: { color: "#f97316", icon: "⚠", label: "upstream failed" },
  cancelled: { color: "#475569", icon: "⊘", label: "cancelled" },
  reused: { color: "#14b8a6", icon: "⧉", label: "reused" },
};

export const RUN_STATE_LOOK: Record<RunStatus, StateLook> = {
  queued: NODE_STATE_LOOK.queued,
  running: NODE_STATE_LOOK.running,
  paused: { ...NODE_STATE_LOOK.waiting, label: "paused" },
  succeeded: NODE_STATE_LOOK.succeeded,
  failed: NODE_STATE_LOOK.failed,
  cancelled: NODE_STATE_LOOK.cancelled,
};

const problemCounts = new WeakMap<readonly Problem[], Map<string, number>>();

/** How many problems name `nodeId`: counted once per problems list, not once per node. */
export function problemCount(problems: readonly Problem[], nodeId: string): number {
  let counts = problemCounts.get(problems);
  if (!counts) {
    counts = new Map();
    for (const p of problems) if (p.node) counts.set(p.node, (counts.get(p.node) ?? 0) + 1);
    problemCounts.set(problems, counts);
  }
  return counts.get(nodeId) ?? 0;
}
