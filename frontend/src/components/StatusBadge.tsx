import { NODE_STATE_LOOK, RUN_STATE_LOOK } from "../lib/status";
import type { NodeState, RunStatus } from "../lib/types";

/** A state shown as colour, icon and text together. */
export function StatusBadge({ status, kind = "run" }: { status: string; kind?: "run" | "node" }) {
  const look = kind === "run" ? RUN_STATE_LOOK[status as RunStatus] : NODE_STATE_LOOK[status as NodeState];
  if (!look) return <span className="badge">{status}</span>;
  return (
    <span className={`badge badge-${status}`} style={{ "--state": look.color } as React.CSSProperties} data-status={status}>
      <span aria-hidden="true">{look.icon}</span> {look.label}
    </span>
  );
}
