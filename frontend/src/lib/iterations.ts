/**
 * Iterations of container bodies in a run view: their paths (`each[2]`, nested `outer[1]/inner[0]`,
 * as events and NodeRuns name them), their order, and which one a body node shows.
 */
import type { NodeRunView, RunViewState } from "./runEvents";
import type { NodeRunRecord } from "./types";

export interface IterationStep {
  container: string;
  index: number;
}

/** `outer[1]/inner[0]` -> [{outer, 1}, {inner, 0}]; a step without an index counts as 0. */
export function parseIterationPath(path: string): IterationStep[] {
  return path
    .split("/")
    .filter(Boolean)
    .map((step) => {
      const match = /^(.*)\[(\d+)\]$/.exec(step);
      return match ? { container: match[1], index: Number(match[2]) } : { container: step, index: 0 };
    });
}

/** The container an iteration path is an iteration of (its last step). */
export function iterationContainer(path: string): string | null {
  const steps = parseIterationPath(path);
  return steps.length ? steps[steps.length - 1].container : null;
}

/** Paths in run order: outer iterations first, then by index (not as strings: 10 after 9). */
export function compareIterationPaths(a: string, b: string): number {
  const x = parseIterationPath(a);
  const y = parseIterationPath(b);
  for (let i = 0; i < Math.min(x.length, y.length); i++) {
    if (x[i].container !== y[i].container) return x[i].container < y[i].container ? -1 : 1;
    if (x[i].index !== y[i].index) return x[i].index - y[i].index;
  }
  return x.length - y.length;
}

/** A human label for a path: `each[2]` -> `each #3 (index 2)`. */
export function iterationLabel(path: string): string {
  return parseIterationPath(path)
    .map((s) => `${s.container} #${s.index + 1}`)
    .join(" › ");
}

/** Every iteration path a body node has run in, from the live events and the NodeRuns. */
export function nodeIterations(run: RunViewState | null, records: readonly NodeRunRecord[], nodeId: string): string[] {
  const paths = new Set(Object.keys(run?.iterations[nodeId] ?? {}));
  for (const record of records) if (record.node_id === nodeId && record.iteration) paths.add(record.iteration);
  return [...paths].sort(compareIterationPaths);
}

/** Every iteration of a container: the paths its body nodes ran in whose last step is it. */
export function containerIterations(
  run: RunViewState | null,
  records: readonly NodeRunRecord[],
  containerId: string,
  bodyIds: readonly string[],
): string[] {
  const paths = new Set<string>();
  for (const id of bodyIds) {
    for (const path of nodeIterations(run, records, id)) if (iterationContainer(path) === containerId) paths.add(path);
  }
  return [...paths].sort(compareIterationPaths);
}

/**
 * What the canvas shows for a node: for a body node, the iteration picked for its container
 * (nothing yet when it has not run in that one), else the one that started last.
 */
export function shownNodeView(
  run: RunViewState,
  nodeId: string,
  parent: string | null | undefined,
  picks: Readonly<Record<string, string>>,
): { view: NodeRunView | null; iteration: string | null } {
  const picked = parent ? picks[parent] : undefined;
  if (picked) return { view: run.iterations[nodeId]?.[picked] ?? null, iteration: picked };
  return { view: run.nodes[nodeId] ?? null, iteration: run.latestIteration[nodeId] ?? null };
}

/** The latest attempt recorded for a node in one iteration ("" for top level). */
export function iterationRecord(records: readonly NodeRunRecord[], nodeId: string, iteration: string): NodeRunRecord | null {
  let found: NodeRunRecord | null = null;
  for (const record of records) {
    if (record.node_id !== nodeId || (record.iteration ?? "") !== iteration) continue;
    if (!found || record.attempt >= found.attempt) found = record;
  }
  return found;
}
