/** The shapes of SPEC §1 (workflow document), §5 (run events) and §6 (API bodies). */

import type * as Generated from "./document.generated";
import type { RootCause } from "./rootCauses";

export const NODE_STATES = [
  "pending",
  "queued",
  "running",
  "retrying",
  "waiting",
  "succeeded",
  "failed",
  "skipped",
  "upstream_failed",
  "cancelled",
  "reused",
] as const;
export type NodeState = (typeof NODE_STATES)[number];

export const RUN_STATES = ["queued", "running", "paused", "succeeded", "failed", "cancelled"] as const;
export type RunStatus = (typeof RUN_STATES)[number];

export const TERMINAL_NODE_STATES: ReadonlySet<NodeState> = new Set([
  "succeeded",
  "failed",
  "skipped",
  "upstream_failed",
  "cancelled",
  "reused",
]);
export const TERMINAL_RUN_STATES: ReadonlySet<RunStatus> = new Set(["succeeded", "failed", "cancelled"]);

export const JOIN_RULES = [
  "none_failed_min_one_success",
  "all_success",
  "one_success",
  "all_done",
  "none_failed",
  "one_failed",
  "all_failed",
] as const;
export type JoinRule = (typeof JOIN_RULES)[number];

// The workflow document's types are generated from its JSON Schema (`npm run types`); these
// are the document as the API returns it and the canvas holds it: its defaults applied (a name,
// the node and edge lists, every edge's id), settings edited as plain values (the server checks
// them), and fields a newer server adds to an edge kept.
export type RetryPolicy = NonNullable<Generated.RetryPolicy>;
export type Position = Generated.Position;
export type InputDeclaration = Generated.InputDeclaration;
export type WorkflowNode = Generated.WorkflowNode;
export type WorkflowEdge = Generated.WorkflowEdge & { id: string; [extra: string]: unknown };
export type WorkflowDocument = Omit<Generated.WorkflowDocument, "name" | "settings" | "nodes" | "edges"> & {
  name: string;
  settings?: Record<string, unknown>;
  nodes: WorkflowNode[];
  edges: WorkflowEdge[];
};

export interface Problem {
  code: string;
  message: string;
  node?: string | null;
  edge?: string | null;
  field?: string | null;
  severity?: "error" | "warning";
}

export interface SavedWorkflow extends WorkflowDocument {
  id: number;
  revision: number;
  valid: boolean;
  errors: Problem[];
  /** Who may change it (read-only; absent from an older server). */
  owner?: string;
  /** Its webhooks answer and its schedules fire (SPEC §8; read-only here, see activate). */
  active?: boolean;
  triggers?: TriggerInfo[];
}

/** A webhook or schedule node as the server arms it (SPEC §8). */
export interface TriggerInfo {
  node: string;
  type: "webhook" | "schedule";
  armed: boolean;
  /** webhooks: the path `/hooks/<token>/` (no login: the token is the credential) */
  url?: string;
  next_fire_at?: string | null;
  /** schedules: the next five fire times */
  upcoming?: string[];
  last_fire_at: string | null;
}

export interface WorkflowSummary {
  id: number;
  name: string;
  description?: string;
  tags?: string[];
  revision: number;
  valid: boolean;
  updated_at?: string;
  node_count?: number;
  last_run_status?: RunStatus | null;
  last_run?: { id: number; status: RunStatus } | null;
  owner?: string;
  active?: boolean;
}

/** `GET|PUT /api/workflows/{id}/sharing/`. */
export interface Sharing {
  owner: string;
  shared_with: string[];
}

export interface NodeTypeInfo {
  type: string;
  label: string;
  category: string;
  description: string;
  icon: string;
  color: string;
  inputs: string[];
  outputs: string[];
  error_handle: string;
  config_schema: JsonSchema;
  expression_fields: string[];
  container: boolean;
}

export interface JsonSchema {
  type?: string | string[];
  title?: string;
  description?: string;
  default?: unknown;
  enum?: unknown[];
  const?: unknown;
  properties?: Record<string, JsonSchema>;
  required?: string[];
  items?: JsonSchema;
  additionalProperties?: boolean | JsonSchema;
  minimum?: number;
  maximum?: number;
  minLength?: number;
  format?: string;
  oneOf?: JsonSchema[];
  anyOf?: JsonSchema[];
  allOf?: JsonSchema[];
  if?: JsonSchema | boolean;
  then?: JsonSchema | boolean;
  [extra: string]: unknown;
}

export interface NodeError {
  message: string;
  type?: string;
  [extra: string]: unknown;
}

interface EventBase {
  seq: number;
  run: number;
  at?: string;
}

export interface RunStatusEvent extends EventBase {
  type: "run.status";
  status: RunStatus;
  error?: NodeError | null;
}

export interface NodeStatusEvent extends EventBase {
  type: "node.status";
  node: string;
  iteration?: string | number | null;
  status: NodeState;
  attempt?: number;
  error?: NodeError | null;
  duration_ms?: number | null;
  handles?: string[];
  reason?: string;
  /** Ended `reused` (cache): the run whose output it took. */
  reused_from?: number;
  /** On the status that ends an llm node's attempt: the tokens it used. */
  usage?: TokenUsage | null;
}

/** Model tokens (llm nodes): per attempt, and per run with `total_tokens` and `cost_usd`. */
export interface TokenUsage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens?: number;
  cost_usd?: number | null;
  model?: string;
  /** Counted locally with a tokenizer: the provider reported no usage. */
  estimated?: boolean;
}

/** The next piece of the text an llm node's attempt streams. */
export interface NodeStreamEvent extends EventBase {
  type: "node.stream";
  node: string;
  iteration?: string | number | null;
  attempt?: number;
  text: string;
}

export interface NodeOutputEvent extends EventBase {
  type: "node.output";
  node: string;
  iteration?: string | number | null;
  output?: unknown;
  preview?: unknown;
  truncated?: boolean;
}

export interface NodeLogEvent extends EventBase {
  type: "node.log";
  /** null: a line of the run itself (a warning of the runtime). */
  node: string | null;
  iteration?: string | number | null;
  attempt?: number | null;
  message?: string;
  line?: string;
}

export interface NodeProgressEvent extends EventBase {
  type: "node.progress";
  node: string;
  iteration?: string | number | null;
  done: number;
  total: number | null;
}

export interface GraphChangedEvent extends EventBase {
  type: "graph.changed";
  /** The node whose result grew the graph. */
  node?: string | null;
  nodes?: WorkflowNode[];
  edges?: WorkflowEdge[];
}

export type RunEvent =
  RunStatusEvent | NodeStatusEvent | NodeOutputEvent | NodeLogEvent | NodeProgressEvent | GraphChangedEvent | NodeStreamEvent;

export interface NodeReport {
  status: NodeState;
  attempts?: number;
  started_at?: string | null;
  finished_at?: string | null;
  output?: unknown;
  error?: NodeError | null;
  handled?: boolean;
  reason?: string;
  input?: unknown;
}

export interface NodeRunRecord {
  node_id: string;
  iteration?: string;
  attempt: number;
  status: NodeState;
  started_at?: string | null;
  finished_at?: string | null;
  duration_ms?: number | null;
  input?: unknown;
  output?: unknown;
  error?: NodeError | null;
  handled?: boolean;
  /** The output handles it chose on success (a condition's branch). */
  handles?: string[];
  reason?: string;
  /** While the attempt waits: what for (`approval`, `subworkflow` with `data.run`, `delay`...). */
  wait?: NodeWait | null;
  usage?: TokenUsage | null;
}

/** What a waiting node waits for (a NodeRun's `wait`). */
export interface NodeWait {
  kind: string;
  wake_at?: string | null;
  data?: { run?: number; [key: string]: unknown } | null;
}

/** A sub-workflow run a node started (`child_runs` of the run report). */
export interface ChildRunRef {
  id: number;
  /** The child run's workflow (the workflow the sub-workflow node names). */
  workflow?: number | null;
  node: string;
  iteration?: string | null;
  attempt: number;
  status: RunStatus;
}

export interface RunReport {
  id: number;
  run?: number;
  /** Model tokens of the run's llm nodes (and their cost when prices are configured). */
  usage?: TokenUsage;
  workflow: number;
  status: RunStatus;
  mode?: string;
  trigger?: string;
  created_at?: string;
  started_at?: string | null;
  finished_at?: string | null;
  inputs?: Record<string, unknown>;
  outputs?: Record<string, unknown>;
  error?: NodeError | null;
  nodes?: Record<string, NodeReport>;
  node_runs?: NodeRunRecord[];
  /** Set on a sub-workflow's run: the run and node that started it. */
  parent_run?: number | null;
  /** The parent run's workflow (set with `parent_run`). */
  parent_workflow?: number | null;
  parent_node?: string | null;
  child_runs?: ChildRunRef[];
  /** A failed run's first failures and what each took down (SPEC §8). */
  root_causes?: RootCause[];
  /** Nodes that ended `reused` (cache) and the time their original attempts took. */
  reuse?: { nodes: number; saved_ms: number };
}
