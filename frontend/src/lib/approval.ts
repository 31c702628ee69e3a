/** The pure parts of the approval dialog: its optional JSON data, what a refusal means, and
 * which iteration of a loop or map body a decision is for. */
import { compareIterationPaths, iterationRecord, parseIterationPath } from "./iterations";
import type { RunViewState } from "./runEvents";
import type { NodeRunRecord } from "./types";

export type ParsedData = { ok: true; value: unknown } | { ok: false; error: string };

/** Empty means no data (null); anything else must be JSON. */
export function parseApprovalData(text: string): ParsedData {
  if (!text.trim()) return { ok: true, value: null };
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch (error) {
    return { ok: false, error: `not JSON: ${(error as Error).message}` };
  }
}

/**
 * What a refused decision means, and so what the dialog does next:
 * - `decided`: that approval (node and iteration) was already decided — by someone else, in
 *   another tab, or by this dialog a moment ago (`already_decided`, or a 409 that names no code);
 * - `gone`: the node no longer waits (`node_state`): the run moved on without it;
 * - `later`: a worker holds the run right now, continuing from an earlier decision
 *   (`run_state`): nothing was changed, and this decision can be made once the run pauses again;
 * - `ended`: the run ended (`run_state` naming a final state): nothing waits any more;
 * - `iteration`: the node waits in several iterations and the request named none;
 * - `error`: anything else (the network, a 400, a 500).
 */
export type ApprovalFailureKind = "decided" | "gone" | "later" | "ended" | "iteration" | "error";

export interface ApprovalFailure {
  kind: ApprovalFailureKind;
  /** The decision was not applied and never will be: retrying this one makes no sense. */
  conflict: boolean;
  text: string;
  needsIteration?: boolean;
}

const ENDED = /\bis (succeeded|failed|cancelled)\b/;

/** What to tell the user when the approve request fails (see `ApprovalFailureKind`). */
export function approvalFailure(error: { status?: number; message: string; errors?: readonly { code?: string }[] }): ApprovalFailure {
  const said = `The server said: ${error.message}`;
  if (error.status !== 409) return { kind: "error", conflict: false, text: `The decision failed: ${error.message}` };
  const codes = new Set((error.errors ?? []).map((e) => e.code));
  if (codes.has("iteration_required")) {
    return {
      kind: "iteration",
      conflict: false,
      needsIteration: true,
      text: `This node waits in several iterations: choose the one this decision is for, then decide again. ${said}`,
    };
  }
  if (codes.has("run_state")) {
    const ended = ENDED.exec(error.message);
    if (ended)
      return { kind: "ended", conflict: true, text: `The run has ended (${ended[1]}): nothing waits for a decision any more. ${said}` };
    return {
      kind: "later",
      conflict: false,
      text: `The run is continuing from an earlier decision; decide this one when it pauses again. Your decision was not applied. ${said}`,
    };
  }
  if (codes.has("node_state")) {
    return {
      kind: "gone",
      conflict: true,
      text: `No longer waiting — your decision was not applied (decided elsewhere, or the run moved on). ${said}`,
    };
  }
  return { kind: "decided", conflict: true, text: `Already decided — your decision was not applied. ${said}` };
}

/** The approval node a run waits at (the first one, in canvas order), or null. */
export function waitingApproval(
  nodes: readonly { id: string; type?: string }[],
  states: Readonly<Record<string, { status: string } | undefined>>,
): string | null {
  return nodes.find((n) => n.type === "approval" && states[n.id]?.status === "waiting")?.id ?? null;
}

/* ---- approvals inside loop and map bodies ------------------------------------------------- */

/**
 * Whether a node waits for an approval in one iteration. `live` is the state the run's events
 * say (newer than the report, so it wins); the report's row (`node_runs[]`, latest attempt)
 * says what it waits for: a row waiting for something else (`on_failure: pause`) is no approval.
 */
export function isApprovalWait(live: string | null | undefined, record: Pick<NodeRunRecord, "status" | "wait"> | null): boolean {
  const status = live ?? record?.status;
  if (status !== "waiting") return false;
  if (record && record.status === "waiting" && record.wait && record.wait.kind !== "approval") return false;
  return true;
}

/**
 * Approvals this browser decided (answered 200, or refused as decided already), by
 * `approvalKey`: dropped from every chooser at once, before the events that follow say so.
 */
export type DecidedApprovals = Readonly<Record<string, unknown>>;

/** One wait: `node|iteration|attempt` (iteration "" at top level). */
export function approvalKey(node: string, iteration: string, attempt: number): string {
  return `${node}|${iteration}|${attempt}`;
}

/** The attempt of the node's wait in `path` ("" at top level): the events' view, else the report's row. */
export function waitAttempt(run: RunViewState | null, records: readonly NodeRunRecord[], nodeId: string, path: string): number {
  const view = path ? run?.iterations[nodeId]?.[path] : run?.nodes[nodeId];
  return view?.attempt ?? iterationRecord(records, nodeId, path)?.attempt ?? 1;
}

/**
 * The iterations in which `nodeId` waits for an approval, in run order: from the live event
 * state (`run.iterations`) and the report's NodeRun rows (status `waiting`, `wait.kind`
 * `approval`). A top-level node (`body` false) gives `[""]` when it waits. Waits in `decided`
 * are left out.
 */
export function approvalWaitPaths(
  run: RunViewState | null,
  records: readonly NodeRunRecord[],
  nodeId: string,
  body = true,
  decided: DecidedApprovals | null = null,
): string[] {
  const undecided = (path: string) => !decided || !(approvalKey(nodeId, path, waitAttempt(run, records, nodeId, path)) in decided);
  if (!body) return isApprovalWait(run?.nodes[nodeId]?.status, iterationRecord(records, nodeId, "")) && undecided("") ? [""] : [];
  const live = run?.iterations[nodeId] ?? {};
  // the latest attempt's row per iteration, in one pass
  const latest = new Map<string, NodeRunRecord>();
  for (const record of records) {
    if (record.node_id !== nodeId || !record.iteration) continue;
    const held = latest.get(record.iteration);
    if (!held || record.attempt >= held.attempt) latest.set(record.iteration, record);
  }
  const paths = new Set([...Object.keys(live), ...latest.keys()]);
  return [...paths]
    .filter((path) => isApprovalWait(live[path]?.status, latest.get(path) ?? null) && undecided(path))
    .sort(compareIterationPaths);
}

/**
 * One key per approval the run waits for (`approvalKey`), so a dialog can open by itself once
 * per wait. `nodes` are the canvas nodes. With `bodyWhenPaused`, waits in a body count only
 * once the run has paused (until then other items may still run, and a decision is refused).
 * Waits in `decided` are left out.
 */
export function approvalWaitKeys(
  run: RunViewState | null,
  records: readonly NodeRunRecord[],
  nodes: readonly { id: string; type?: string; parent?: string | null }[],
  { bodyWhenPaused = false, decided = null }: { bodyWhenPaused?: boolean; decided?: DecidedApprovals | null } = {},
): string[] {
  if (!run) return [];
  const keys: string[] = [];
  for (const node of nodes) {
    if (node.type !== "approval") continue;
    if (node.parent && bodyWhenPaused && run.status !== "paused") continue;
    for (const path of approvalWaitPaths(run, records, node.id, !!node.parent, decided)) {
      keys.push(approvalKey(node.id, path, waitAttempt(run, records, node.id, path)));
    }
  }
  return keys;
}

/**
 * The iteration a dialog offers after one was decided: the next one that still waits after it
 * in run order, else the first one that still waits (null when none does).
 */
export function nextWaitingIteration(remaining: readonly string[], decided: string | null): string | null {
  if (!remaining.length) return null;
  if (decided) {
    const after = [...remaining].sort(compareIterationPaths).find((path) => compareIterationPaths(path, decided) > 0);
    if (after !== undefined) return after;
  }
  return [...remaining].sort(compareIterationPaths)[0];
}

export interface IterationChoice {
  /** The iteration the decision is for (null: the user has to choose one of `choices`). */
  iteration: string | null;
  choices: string[];
  /** picked: the inspector's iteration picker; only: the one iteration that waits. */
  reason: "picked" | "only" | "choose" | "none";
}

/**
 * Which iteration an approval dialog decides: the one picked in the inspector when the node
 * waits there, else the only one it waits in, else the user chooses among all it waits in.
 */
export function chooseApprovalIteration(waits: readonly string[], picked: string | null | undefined): IterationChoice {
  const choices = [...waits];
  if (picked && waits.includes(picked)) return { iteration: picked, choices, reason: "picked" };
  if (waits.length === 1) return { iteration: waits[0], choices, reason: "only" };
  return { iteration: null, choices, reason: waits.length ? "choose" : "none" };
}

/**
 * A person's name for an iteration: `item 3 (M[2])` for a map's, `iteration 2 (L[1])` for a
 * loop's, nested `item 3 › iteration 2 (M[2]/L[1])`. `kindOf` gives a container's node type.
 */
export function iterationItemLabel(path: string, kindOf: (container: string) => string | undefined): string {
  const steps = parseIterationPath(path);
  if (!steps.length) return "top level";
  const words = steps.map((s) => `${kindOf(s.container) === "map" ? "item" : "iteration"} ${s.index + 1}`);
  return `${words.join(" › ")} (${path})`;
}

export interface BodyApprovalWait {
  node: string;
  iteration: string;
}

/**
 * Every approval a container's body (at any depth) waits for, by node and iteration, in run
 * order. `nodes` are the canvas nodes (`parent` names the container a node is in).
 */
export function containerApprovalWaits(
  run: RunViewState | null,
  records: readonly NodeRunRecord[],
  containerId: string,
  nodes: readonly { id: string; type?: string; parent?: string | null }[],
  decided: DecidedApprovals | null = null,
): BodyApprovalWait[] {
  const parentOf = new Map(nodes.map((n) => [n.id, n.parent ?? null]));
  const inside = (id: string) => {
    const seen = new Set<string>();
    for (let p = parentOf.get(id) ?? null; p && !seen.has(p); p = parentOf.get(p) ?? null) {
      if (p === containerId) return true;
      seen.add(p);
    }
    return false;
  };
  const waits: BodyApprovalWait[] = [];
  for (const node of nodes) {
    if (node.type !== "approval" || !inside(node.id)) continue;
    for (const path of approvalWaitPaths(run, records, node.id, true, decided)) {
      if (parseIterationPath(path).some((s) => s.container === containerId)) waits.push({ node: node.id, iteration: path });
    }
  }
  return waits.sort((a, b) => compareIterationPaths(a.iteration, b.iteration) || (a.node < b.node ? -1 : a.node > b.node ? 1 : 0));
}

/** Why a waiting container waits: `waiting: approval in M[2]`, `3 iterations wait for approval`. */
export function containerWaitText(waits: readonly BodyApprovalWait[]): string | null {
  if (!waits.length) return null;
  const iterations = new Set(waits.map((w) => w.iteration));
  if (iterations.size === 1) {
    const [path] = iterations;
    return waits.length === 1 ? `waiting: approval in ${path}` : `waiting: ${waits.length} approvals in ${path}`;
  }
  return `${iterations.size} iterations wait for approval`;
}

/** The prompt a waiting approval shows: rendered by the run (`wait.data.prompt`), else the config's. */
export function approvalPrompt(records: readonly NodeRunRecord[], nodeId: string, iteration: string, configPrompt: unknown): string {
  const rendered = iterationRecord(records, nodeId, iteration)?.wait?.data?.prompt;
  if (typeof rendered === "string" && rendered) return rendered;
  // a template is never shown raw: only the run's rendered prompt says what it asks
  const configured = typeof configPrompt === "string" ? configPrompt : configPrompt == null ? "" : String(configPrompt);
  return configured.includes("{{") ? "" : configured;
}
