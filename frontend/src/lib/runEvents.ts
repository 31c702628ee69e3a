/**
 * The run-view reducer: folds SPEC §5 events into per-node states.
 *
 * Events are applied strictly in `seq` order. A duplicate (seq already applied) is ignored; an
 * event that arrives early is held until the gap before it is filled, so a replay that overlaps
 * the live stream, or a reconnect with `?after=<lastSeq>`, converges on the same state.
 */
import type {
  NodeError,
  NodeLogEvent,
  NodeOutputEvent,
  NodeProgressEvent,
  NodeState,
  NodeStatusEvent,
  NodeStreamEvent,
  RunEvent,
  RunStatus,
  TokenUsage,
  WorkflowEdge,
  WorkflowNode,
} from "./types";

export interface NodeRunView {
  status: NodeState;
  attempt: number;
  iteration: string | null;
  startedAt: string | null;
  finishedAt: string | null;
  durationMs: number | null;
  error: NodeError | null;
  handles: string[] | null;
  reason: string | null;
}

/** One `node.log` line with where it came from (the inspector shows them per attempt). */
export interface LogLine {
  message: string;
  attempt: number | null;
  iteration: string | null;
  at: string | null;
}

export interface RunViewState {
  runId: number | null;
  lastSeq: number;
  status: RunStatus | null;
  /** How many times the run has paused (a decision refused while it ran waits for the next). */
  pauses: number;
  startedAt: string | null;
  finishedAt: string | null;
  nodes: Record<string, NodeRunView>;
  outputs: Record<string, unknown>;
  logs: Record<string, string[]>;
  /** Each node's log lines (every iteration's too) with their attempt; "" keys the run's own lines. */
  logLines: Record<string, LogLine[]>;
  progress: Record<string, { done: number; total: number | null }>;
  addedNodes: WorkflowNode[];
  addedEdges: WorkflowEdge[];
  /** Which node's `graph.changed` added each node (to place it beside that node). */
  grownFrom: Record<string, string>;
  /** Body nodes: their state, output and log lines per iteration path (`each[2]`, `a[1]/b[0]`). */
  iterations: Record<string, Record<string, NodeRunView>>;
  iterationOutputs: Record<string, Record<string, unknown>>;
  iterationLogs: Record<string, Record<string, string[]>>;
  /** Body nodes: the iteration that started last (what the canvas shows unless one is picked). */
  latestIteration: Record<string, string>;
  /** llm nodes: the text the current attempt streamed, and each attempt's tokens (`streamKey`). */
  streams: Record<string, { attempt: number; text: string }>;
  usage: Record<string, TokenUsage>;
  /** The run's tokens so far: the sum of every attempt's `usage` (null: no llm call ended yet). */
  tokens: TokenUsage | null;
  /** Events received ahead of a gap, keyed by seq. */
  held: Record<number, RunEvent>;
}

/** Where `streams` and `usage` keep a node's (in an iteration: `node@each[2]`). */
export function streamKey(node: string, iteration: string | null): string {
  return iteration ? `${node}@${iteration}` : node;
}

export function emptyRunView(runId: number | null = null): RunViewState {
  return {
    runId,
    lastSeq: 0,
    status: null,
    pauses: 0,
    startedAt: null,
    finishedAt: null,
    nodes: {},
    outputs: {},
    logs: {},
    logLines: {},
    progress: {},
    addedNodes: [],
    addedEdges: [],
    grownFrom: {},
    iterations: {},
    iterationOutputs: {},
    iterationLogs: {},
    latestIteration: {},
    streams: {},
    usage: {},
    tokens: null,
    held: {},
  };
}

/** Apply one event (in any order, any number of times); returns a new state or the same one. */
export function applyRunEvent(state: RunViewState, event: RunEvent): RunViewState {
  return applyRunEvents(state, [event]);
}

/**
 * Apply a batch (a replay page or a burst). The maps are copied once per batch and filled in
 * place, so a burst of N events costs N small writes, not N copies of every node's state.
 * `owned`: per-node maps and log lists the caller owns (a replay's private working state),
 * filled in place too; the maps this batch copies are added to it.
 */
export function applyRunEvents(state: RunViewState, events: readonly RunEvent[], owned: Set<object> = new Set()): RunViewState {
  let draft: RunViewState | null = null;
  for (const event of events) {
    const current: RunViewState = draft ?? state;
    if (!isEvent(event) || event.seq <= current.lastSeq || current.held[event.seq]) continue;
    draft ??= copyForBatch(state);
    if (event.seq > draft.lastSeq + 1) {
      draft.held[event.seq] = event;
      continue;
    }
    applyInOrder(draft, event, owned);
    while (draft.held[draft.lastSeq + 1]) {
      const ready = draft.held[draft.lastSeq + 1];
      delete draft.held[ready.seq];
      applyInOrder(draft, ready, owned);
    }
  }
  return draft ?? state;
}

function copyForBatch(state: RunViewState): RunViewState {
  return {
    ...state,
    nodes: { ...state.nodes },
    outputs: { ...state.outputs },
    logs: { ...state.logs },
    logLines: { ...state.logLines },
    progress: { ...state.progress },
    grownFrom: { ...state.grownFrom },
    iterations: { ...state.iterations },
    iterationOutputs: { ...state.iterationOutputs },
    iterationLogs: { ...state.iterationLogs },
    latestIteration: { ...state.latestIteration },
    streams: { ...state.streams },
    usage: { ...state.usage },
    held: { ...state.held },
  };
}

/** `maps[key]`, copied once per batch so the previous state's map is never written. */
function ownedMap<V>(maps: Record<string, Record<string, V>>, key: string, owned: Set<object>): Record<string, V> {
  const current = maps[key];
  if (current && owned.has(current)) return current;
  const copy = { ...current };
  owned.add(copy);
  maps[key] = copy;
  return copy;
}

/**
 * Append a log line to `logs[key]`, a list copied once per batch: a run's thousands of lines
 * cost one copy per batch, not one per line (which made a long run's replay quadratic).
 */
function logLine(event: NodeLogEvent, iteration: string | null): LogLine {
  return { message: event.message ?? event.line ?? "", attempt: event.attempt ?? null, iteration, at: event.at ?? null };
}

function appendLog<T>(logs: Record<string, T[]>, key: string, line: T, owned: Set<object>): void {
  const current = logs[key];
  if (current && owned.has(current)) {
    current.push(line);
    return;
  }
  const copy = current ? [...current, line] : [line];
  owned.add(copy);
  logs[key] = copy;
}

function iterationOf(event: { iteration?: string | number | null }): string | null {
  return event.iteration == null || event.iteration === "" ? null : String(event.iteration);
}

function isEvent(event: unknown): event is RunEvent {
  const e = event as RunEvent | null;
  return !!e && typeof e === "object" && Number.isInteger(e.seq) && typeof e.type === "string";
}

/** Apply the next event in seq order to a draft the batch owns. */
function applyInOrder(draft: RunViewState, event: RunEvent, owned: Set<object>): void {
  draft.lastSeq = event.seq;
  if (event.type === "node.stream" || event.type === "node.status") trackStream(draft, event);
  if (event.type === "node.stream") return;
  const iteration = "node" in event && event.type !== "graph.changed" ? iterationOf(event) : null;
  if (iteration !== null) return applyIterationEvent(draft, event as IterationEvent, iteration, owned);
  switch (event.type) {
    case "run.status":
      draft.status = event.status;
      if (event.status === "paused") draft.pauses += 1;
      draft.startedAt ??= event.status === "running" ? (event.at ?? null) : null;
      draft.finishedAt = isRunFinished(event.status) ? (event.at ?? null) : null;
      return;
    case "node.status":
      draft.nodes[event.node] = nextNodeView(draft, event);
      return;
    case "node.output":
      draft.outputs[event.node] = event.output ?? event.preview;
      return;
    case "node.log":
      if (event.node) appendLog(draft.logs, event.node, event.message ?? event.line ?? "", owned);
      appendLog(draft.logLines, event.node ?? "", logLine(event, null), owned);
      return;
    case "node.progress":
      draft.progress[event.node] = { done: event.done, total: event.total };
      return;
    case "graph.changed":
      draft.addedNodes = [...draft.addedNodes, ...(event.nodes ?? [])];
      draft.addedEdges = [...draft.addedEdges, ...(event.edges ?? [])];
      for (const node of event.nodes ?? []) if (event.node) draft.grownFrom[node.id] = event.node;
      return;
  }
}

type IterationEvent = NodeStatusEvent | NodeOutputEvent | NodeLogEvent | NodeProgressEvent;

/**
 * An event of a body node in one iteration: kept per iteration; the node's own view follows
 * the iteration that started last (a map's items overlap, so "last event" would flicker).
 */
function applyIterationEvent(draft: RunViewState, event: IterationEvent, path: string, owned: Set<object>): void {
  const node = event.node ?? ""; // only a node's events have an iteration
  switch (event.type) {
    case "node.status": {
      const views = ownedMap(draft.iterations, node, owned);
      const before = views[path];
      // a new iteration, or the same index run again by the container's next attempt
      const fresh = !before || (isNodeFinished(before.status) && !isNodeFinished(event.status));
      views[path] = nextView(before, event);
      if (fresh && event.status !== "pending") draft.latestIteration[node] = path;
      draft.latestIteration[node] ??= path;
      if (draft.latestIteration[node] === path) draft.nodes[node] = views[path];
      return;
    }
    case "node.output": {
      const value = event.output ?? event.preview;
      ownedMap(draft.iterationOutputs, node, owned)[path] = value;
      if (draft.latestIteration[node] === path) draft.outputs[node] = value;
      return;
    }
    case "node.log": {
      appendLog(ownedMap(draft.iterationLogs, node, owned), path, event.message ?? event.line ?? "", owned);
      appendLog(draft.logs, node, `[${path}] ${event.message ?? event.line ?? ""}`, owned);
      appendLog(draft.logLines, node, logLine(event, path), owned);
      return;
    }
    case "node.progress":
      // a container nested in another one: show the progress of its latest iteration
      draft.progress[node] = { done: event.done, total: event.total };
      return;
  }
}

/**
 * An llm node's streamed text grows with its `node.stream` events; a new attempt starts from
 * nothing (the canvas shows the second attempt's text, never a mix). The status that ends an
 * attempt carries its tokens.
 */
function trackStream(draft: RunViewState, event: NodeStreamEvent | NodeStatusEvent): void {
  const key = streamKey(event.node, iterationOf(event));
  const attempt = event.attempt ?? 1;
  const current = draft.streams[key];
  if (event.type === "node.stream") {
    const text = current && current.attempt === attempt ? current.text + event.text : event.text;
    draft.streams[key] = { attempt, text };
    return;
  }
  if (event.usage) {
    draft.usage[key] = event.usage;
    draft.tokens = addUsage(draft.tokens, event.usage);
  }
  if (event.status === "running" && current && current.attempt !== attempt) delete draft.streams[key];
}

/** Two usages added (a new object: the previous state's is never written); estimated when
 * either was. */
export function addUsage(total: TokenUsage | null, usage: TokenUsage): TokenUsage {
  const prompt = (total?.prompt_tokens ?? 0) + (Number(usage.prompt_tokens) || 0);
  const completion = (total?.completion_tokens ?? 0) + (Number(usage.completion_tokens) || 0);
  const sum: TokenUsage = { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion };
  return total?.estimated || usage.estimated ? { ...sum, estimated: true } : sum;
}

/**
 * What the status bar says about a run's tokens: the live sum of its attempts' usage, or the
 * run report's totals (with their cost) when the report counts at least as many (a finished
 * run opened later, or the report caught up). Null when the run used no tokens.
 */
export function runTokenLabel(live: TokenUsage | null, report: TokenUsage | null | undefined): string | null {
  const total = (u: TokenUsage | null | undefined) => (u ? (u.total_tokens ?? u.prompt_tokens + u.completion_tokens) : 0);
  const best = report && total(report) >= total(live) ? report : live;
  if (!best || total(best) === 0) return null;
  const tokens = `${best.estimated ? "~" : ""}${total(best).toLocaleString("en")} tokens`;
  return typeof best.cost_usd === "number" ? `${tokens} · ${costText(best.cost_usd)}` : tokens;
}

/** A cost in USD as the inspector, the status bar and the run list show it: `$0.0060`. */
export function costText(usd: number): string {
  return `$${usd.toFixed(4)}`;
}

/** A run's tokens (and their cost when priced) in the run list: ` · 1,500 tokens · $0.0060`. */
export function runListTokens(usage: TokenUsage | null | undefined): string {
  if (!usage?.total_tokens) return "";
  const tokens = `${usage.estimated ? "~" : ""}${usage.total_tokens.toLocaleString("en")} tokens`;
  return typeof usage.cost_usd === "number" ? ` · ${tokens} · ${costText(usage.cost_usd)}` : ` · ${tokens}`;
}

function isRunFinished(status: RunStatus): boolean {
  return status === "succeeded" || status === "failed" || status === "cancelled";
}

function nextNodeView(state: RunViewState, event: NodeStatusEvent): NodeRunView {
  return nextView(state.nodes[event.node], event);
}

function nextView(previous: NodeRunView | undefined, event: NodeStatusEvent): NodeRunView {
  const startsNow = event.status === "running";
  const iteration = event.iteration == null ? null : String(event.iteration);
  return {
    status: event.status,
    attempt: event.attempt ?? previous?.attempt ?? 1,
    iteration,
    startedAt: startsNow && !previous?.startedAt ? (event.at ?? null) : (previous?.startedAt ?? null),
    finishedAt: isNodeFinished(event.status) ? (event.at ?? null) : null,
    durationMs: event.duration_ms ?? (isNodeFinished(event.status) ? null : (previous?.durationMs ?? null)),
    error: event.error ?? (event.status === "failed" ? (previous?.error ?? null) : null),
    handles: event.handles ?? previous?.handles ?? null,
    reason: event.reason ?? null,
  };
}

function isNodeFinished(status: NodeState): boolean {
  return ["succeeded", "failed", "skipped", "upstream_failed", "cancelled", "reused"].includes(status);
}

/** Counts of nodes per state, for the status bar. Nodes with no event yet count as pending. */
export function countByState(state: RunViewState, nodeIds: readonly string[]): Partial<Record<NodeState, number>> {
  const counts: Partial<Record<NodeState, number>> = {};
  for (const id of nodeIds) {
    const status = state.nodes[id]?.status ?? "pending";
    counts[status] = (counts[status] ?? 0) + 1;
  }
  return counts;
}

export type EdgeRunState = "idle" | "taken" | "active" | "skipped" | "failed";

/**
 * How an edge looks during a run. Events carry node states only, so an edge's fate is read
 * from its ends: skipped/failed sources make it skipped/failed; a source that chose handles
 * (when the event names them) takes only those; a started target means the edge was taken.
 */
export function edgeRunState(state: RunViewState, edge: WorkflowEdge): EdgeRunState {
  let source = state.nodes[edge.source];
  const target = state.nodes[edge.target];
  if (!source) return "idle";
  // a reused node ended as a success would have (its output came from an earlier run)
  if (source.status === "reused") source = { ...source, status: "succeeded" };
  if (source.status === "skipped") return "skipped";
  if (source.status === "upstream_failed") return "failed";
  const handle = edge.source_handle ?? "out";
  if (source.status === "failed" && handle !== "error") return "failed";
  if (source.status === "succeeded" && handle === "error") return "skipped";
  if (source.handles && !source.handles.includes(handle)) return "skipped";
  if (!target || target.status === "pending") return source.handles ? "taken" : "idle";
  if (target.status === "skipped" && source.status === "succeeded") return "skipped";
  if (target.status === "running" || target.status === "queued") return "active";
  return "taken";
}
