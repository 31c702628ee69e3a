/**
 * Two runs of one workflow compared (SPEC §8, `GET /api/runs/{a}/diff/{b}/`): what the canvas
 * shows of it. Pure functions; the panel and the canvas highlight read them.
 */
import type { NodeState } from "./types";
import { formatDuration } from "./timeline";

export type NodeChange = "added" | "removed" | "changed" | "same";

export interface JsonChange {
  path: string;
  op: "changed" | "added" | "removed";
  a?: unknown;
  b?: unknown;
}

export interface JsonDiff {
  changes: JsonChange[];
  total: number;
  truncated: boolean;
}

export interface NodeDiff {
  change: NodeChange;
  status: [NodeState | null, NodeState | null];
  duration_ms: [number | null, number | null];
  output_changed: boolean;
  output_diff?: JsonDiff;
}

export interface RunDiff {
  a: number;
  b: number;
  workflow?: number;
  revisions?: [number, number];
  summary?: Record<string, number>;
  nodes: Record<string, NodeDiff>;
}

export interface DiffRow extends NodeDiff {
  id: string;
  statusChanged: boolean;
  /** Worth a look: its definition, status or output differs. */
  differs: boolean;
}

const CHANGE_ORDER: Record<NodeChange, number> = { changed: 0, added: 1, removed: 2, same: 3 };

/** The nodes, those that differ first (definition changes, then status or output), each group in the diff's order. */
export function diffRows(diff: RunDiff): DiffRow[] {
  const rows = Object.entries(diff.nodes).map(([id, entry], order) => {
    const statusChanged = entry.status[0] !== entry.status[1];
    return { id, ...entry, statusChanged, differs: entry.change !== "same" || statusChanged || entry.output_changed, order };
  });
  rows.sort((x, y) => CHANGE_ORDER[x.change] - CHANGE_ORDER[y.change] || Number(y.differs) - Number(x.differs) || x.order - y.order);
  return rows.map(({ order: _order, ...row }) => row);
}

/** Counts for the panel's summary line (the server's `summary`, else counted here). */
export function diffSummary(diff: RunDiff): Record<string, number> {
  if (diff.summary) return diff.summary;
  const rows = diffRows(diff);
  const count = (f: (r: DiffRow) => boolean) => rows.filter(f).length;
  return {
    added: count((r) => r.change === "added"),
    removed: count((r) => r.change === "removed"),
    changed: count((r) => r.change === "changed"),
    same: count((r) => r.change === "same"),
    status_changed: count((r) => r.statusChanged),
    output_changed: count((r) => r.output_changed),
  };
}

/** "3.2 s → 4.1 s (+900 ms)", "— → 12 ms", "" when neither ran. */
export function durationText([a, b]: [number | null, number | null]): string {
  if (a == null && b == null) return "";
  const side = (v: number | null) => (v == null ? "—" : formatDuration(v) || "0 ms");
  if (a == null || b == null || a === b) return a === b ? side(a) : `${side(a)} → ${side(b)}`;
  const delta = b - a;
  return `${side(a)} → ${side(b)} (${delta > 0 ? "+" : "−"}${formatDuration(Math.abs(delta)) || "0 ms"})`;
}

/** One JSON change as a line: `$.items[2].name: 3 → 4`, `$.extra: added "x"`. */
export function changeText(change: JsonChange, maxChars = 120): string {
  const show = (v: unknown) => clip(typeof v === "string" && v.endsWith("…") ? v : JSON.stringify(v), maxChars);
  if (change.op === "added") return `${change.path}: added ${show(change.b)}`;
  if (change.op === "removed") return `${change.path}: removed ${show(change.a)}`;
  return `${change.path}: ${show(change.a)} → ${show(change.b)}`;
}

function clip(text: string | undefined, max: number): string {
  const value = text ?? "undefined";
  return value.length > max ? `${value.slice(0, max - 1)}…` : value;
}

/** The two runs picked in the run history, older first; null unless exactly two. */
export function comparePair(picked: readonly number[]): [number, number] | null {
  if (picked.length !== 2) return null;
  const [x, y] = [...picked].sort((p, q) => p - q);
  return [x, y];
}

const CHANGE_COLOUR: Record<NodeChange, string> = { added: "#22c55e", removed: "#ef4444", changed: "#f59e0b", same: "transparent" };

/** A label for a node on the canvas: "changed · succeeded → failed". */
export function nodeDiffLabel(entry: NodeDiff): string {
  const parts: string[] = [];
  if (entry.change !== "same") parts.push(entry.change);
  if (entry.status[0] !== entry.status[1]) parts.push(`${entry.status[0] ?? "—"} → ${entry.status[1] ?? "—"}`);
  if (entry.output_changed) parts.push("output differs");
  return parts.join(" · ");
}

/**
 * The canvas highlight as CSS (no change to the node component): an outline in the change's
 * colour and a label under each node that differs; nodes that are the same are dimmed.
 */
export function diffStyles(diff: RunDiff): string {
  const rules: string[] = [];
  for (const [id, entry] of Object.entries(diff.nodes)) {
    if (!/^[a-z][a-z0-9_]*$/.test(id)) continue; // node ids are plain (SPEC §1); anything else is not ours to style
    const selector = `.react-flow__node [data-node-id="${id}"]`;
    const label = nodeDiffLabel(entry);
    if (!label) {
      rules.push(`${selector} { opacity: 0.55; }`);
      continue;
    }
    const colour = entry.change === "same" ? "#38bdf8" : CHANGE_COLOUR[entry.change];
    rules.push(`${selector} { outline: 3px solid ${colour}; outline-offset: 3px; }`);
    rules.push(`${selector}::after { content: ${JSON.stringify(label)}; ${LABEL_CSS} color: ${colour}; }`);
  }
  return rules.join("\n");
}

const LABEL_CSS = "position: absolute; left: 0; top: calc(100% + 8px); font-size: 11px; white-space: nowrap; font-weight: 600;";
