/* Generated from engine/schema/document.json by `npm run types`: do not edit by hand. */

/**
 * null reads as the default policy
 */
export type RetryPolicy = {
  max_attempts?: number;
  backoff?: "fixed" | "linear" | "exponential";
  delay_s?: number | null;
  max_delay_s?: number | null;
  /**
   * exponential backoff: delay_s * multiplier ** (attempt - 1); 2 when null
   */
  multiplier?: number | null;
  /**
   * the error types retried (e.g. timeout, http_status); when null, every error its node type calls retryable
   *
   * @maxItems 32
   */
  on?: string[] | null;
  /**
   * true (full jitter), false, or the fraction of the delay to spread
   */
  jitter?: boolean | number;
} | null;
/**
 * the canvas frame of a container
 */
export type Size = {
  width: number;
  height: number;
} | null;
/**
 * reuse an earlier successful attempt with the same handler type and version, rendered config and input (a content hash) that finished at most ttl_s seconds ago: the node ends `reused` without running
 */
export type NodeCache = {
  /**
   * how old a reused result may be (seconds, at most 30 days)
   */
  ttl_s: number;
  /**
   * also for a node that talks to the world (http, subworkflow): its earlier answer is reused
   */
  external?: boolean;
} | null;
/**
 * recovery: when the node fails after its last attempt, run this saved workflow as a linked child run with the failure as its inputs (`node`, `error`, `input`, `run`); the node stays failed
 */
export type NodeOnFailure = {
  /**
   * the recovery workflow: its id, or its name among the owner's workflows
   */
  run: number | string;
} | null;
/**
 * pinned data: manual runs (and testing one node) use this output instead of running the node, which ends `reused`; runs a trigger starts (webhook, schedule) never do
 */
export type NodePinned = {
  /**
   * the node's output as JSON, storable (no NaN, no NUL) and at most x-max-bytes bytes
   */
  output: {
    [k: string]: unknown;
  };
  /**
   * the output handles it chose (a condition's branch); default ["out"]
   *
   * @maxItems 32
   */
  handles?: string[];
  /**
   * when it was pinned (ISO 8601)
   */
  pinned_at?: string;
  /**
   * the run whose output was pinned
   */
  run?: number | null;
} | null;

/**
 * A workflow document (SPEC §1). The one description of its shape: the engine's validation, the API's shape check, the OpenAPI description and the canvas's TypeScript types are derived from this file. Maxima are engine/limits.py's (a test keeps them equal).
 */
export interface WorkflowDocument {
  version?: 1;
  name?: string;
  description?: string;
  tags?: string[];
  /**
   * the run's inputs by name
   */
  inputs?: {
    [k: string]: InputDeclaration;
  };
  /**
   * values expressions read as vars.<name>
   */
  variables?: {
    [k: string]: unknown;
  };
  settings?: Settings;
  /**
   * facts about the workflow the engine does not read (author, signature, source); a dagger-style import keeps its extra top-level fields here
   */
  metadata?: {
    [k: string]: unknown;
  };
  nodes?: WorkflowNode[];
  edges?: WorkflowEdge[];
  /**
   * sticky notes on the canvas: saved with the workflow, never executed
   *
   * @maxItems 200
   */
  notes?: StickyNote[];
}
export interface InputDeclaration {
  /**
   * what a run's value must be (any: not checked)
   */
  type?: "any" | "string" | "number" | "integer" | "boolean" | "object" | "array" | "list";
  default?: unknown;
  description?: string;
  required?: boolean;
  [k: string]: unknown;
}
export interface Settings {
  max_parallel?: number;
  on_failure?: "continue" | "halt" | "pause";
  /**
   * bounds the whole run, paused time included (at most 30 days)
   */
  timeout_s?: number | null;
  env?: string[];
  /**
   * the run's token budget: a model call that could pass it fails the run (budget_exceeded)
   */
  max_tokens?: number | null;
}
export interface WorkflowNode {
  id: string;
  type: string;
  name?: string;
  /**
   * checked with the node type's config_schema
   */
  config?: {
    [k: string]: unknown;
  } | null;
  retry?: RetryPolicy;
  /**
   * bounds one attempt (seconds, at most 7 days)
   */
  timeout_s?: number | null;
  join?: "none_failed_min_one_success" | "all_success" | "one_success" | "all_done" | "none_failed" | "one_failed" | "all_failed" | null;
  /**
   * the id of the container it is in
   */
  parent?: string | null;
  position?: Position;
  size?: Size;
  disabled?: boolean;
  breakpoint?: boolean;
  /**
   * its unhandled failure halts the run, whatever settings.on_failure says
   */
  critical?: boolean;
  cache?: NodeCache;
  on_failure?: NodeOnFailure;
  /**
   * a JSON Schema (draft 2020-12, at most 16 KB and 16 levels deep) its output must match, else the node fails with invalid_output; expressions reading its output are checked against it and a dry run fabricates an output from it
   */
  output_schema?: {
    [k: string]: unknown;
  } | null;
  pinned?: NodePinned;
}
export interface Position {
  x: number;
  y: number;
}
export interface WorkflowEdge {
  id?: string;
  source: string;
  source_handle?: string | null;
  target: string;
  target_handle?: string | null;
}
/**
 * a plain-text note on the canvas
 */
export interface StickyNote {
  id: string;
  text?: string;
  position: Position;
  size?: NoteSize;
}
export interface NoteSize {
  width: number;
  height: number;
}
