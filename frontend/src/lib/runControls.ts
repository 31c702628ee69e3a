/**
 * Which run-level controls the run toolbar offers: Pause while the run runs (SPEC §8 pause on
 * demand: running nodes finish, nothing new starts, the run parks) and Resume once it is
 * paused on demand. A run paused on a waiting node (approval, breakpoint, failure pause) is
 * resumed by deciding that node, so Resume shows only while no node waits.
 */
import type { NodeState, RunStatus } from "./types";
import { TERMINAL_RUN_STATES } from "./types";

interface RunLike {
  status: RunStatus | null;
  nodes?: Record<string, { status: NodeState }>;
  iterations?: Record<string, Record<string, { status: NodeState }>>;
}

export interface RunControlsShown {
  cancel: boolean;
  pause: boolean;
  resume: boolean;
}

export function runControls(run: RunLike): RunControlsShown {
  const finished = run.status !== null && TERMINAL_RUN_STATES.has(run.status);
  const waits = (views: Record<string, { status: NodeState }> | undefined) =>
    Object.values(views ?? {}).some((view) => view.status === "waiting");
  const someWait = waits(run.nodes) || Object.values(run.iterations ?? {}).some(waits);
  return {
    cancel: !finished,
    pause: run.status === "running",
    resume: run.status === "paused" && !someWait,
  };
}
