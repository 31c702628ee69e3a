/**
 * A stale save (409) merged three ways (issue 17 #9): `base` (the document as last loaded or
 * saved here), `mine` (the editor's document) and `theirs` (the server's current one). A node,
 * edge or workflow field changed on one side only takes that side; changed the same way on both,
 * either; changed differently on both sides, it is a conflict, which keeps mine unless the user
 * takes theirs. A node that only moved on one side is not a conflict (the other side's position
 * is kept with its change). Local edits are never dropped without the user's choice.
 */
import type { WorkflowDocument, WorkflowEdge, WorkflowNode } from "./types";

export type MergeSide = "mine" | "theirs";

export interface Conflict {
  /** `node:<id>`, `edge:<id>`, `field:<name>`. */
  key: string;
  kind: "node" | "edge" | "field";
  id: string;
  mine: unknown;
  theirs: unknown;
  /** The fields of the node or edge that differ between the two sides (`config`, `position`…). */
  fields: string[];
}

export interface MergeResult {
  conflicts: Conflict[];
  /** What changed on the server and was taken (`node:fetch`, `field:name`…). */
  taken: string[];
  /** What changed here and is kept. */
  kept: string[];
}

const FIELDS = ["name", "description", "tags", "inputs", "variables", "settings", "ui"] as const;

/** Canonical JSON (keys sorted) for comparing documents' parts. */
export function canonical(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v && typeof v === "object" && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : v,
  );
}

const same = (a: unknown, b: unknown) => canonical(a) === canonical(b);

function byId<T extends { id: string }>(items: readonly T[]): Map<string, T> {
  return new Map(items.map((item) => [item.id, item]));
}

/** The fields of two objects that differ (either may be missing: every field of the other). */
export function differingFields(a: object | undefined, b: object | undefined): string[] {
  const left = (a ?? {}) as Record<string, unknown>;
  const right = (b ?? {}) as Record<string, unknown>;
  return [...new Set([...Object.keys(left), ...Object.keys(right)])].filter((k) => !same(left[k], right[k])).sort();
}

interface Outcome<T> {
  value: T | undefined;
  conflict: boolean;
  side: MergeSide | null;
}

/** One part three ways; a node that only moved on one side keeps the other side's change. */
function mergeOne<T>(base: T | undefined, mine: T | undefined, theirs: T | undefined, movable = false): Outcome<T> {
  if (same(mine, theirs)) return { value: mine, conflict: false, side: null };
  if (same(mine, base)) return { value: theirs, conflict: false, side: "theirs" };
  if (same(theirs, base)) return { value: mine, conflict: false, side: "mine" };
  if (movable && mine && theirs && base) {
    const unmoved = (n: T) => ({ ...(n as object), position: undefined, size: undefined });
    const [b, m, t] = [unmoved(base), unmoved(mine), unmoved(theirs)];
    if (same(m, b) && !same(t, b))
      return {
        value: { ...(theirs as object), position: (mine as unknown as WorkflowNode).position } as T,
        conflict: false,
        side: "theirs",
      };
    if (same(t, b) && !same(m, b)) return { value: mine, conflict: false, side: "mine" };
    if (same(m, t)) return { value: mine, conflict: false, side: null };
  }
  return { value: mine, conflict: true, side: null };
}

/**
 * Merge; `choices` (conflict key → side) resolve conflicts, mine by default. Edges whose node
 * the merge removed are dropped (they would point nowhere).
 */
export function mergeDocuments(
  base: WorkflowDocument,
  mine: WorkflowDocument,
  theirs: WorkflowDocument,
  choices: Record<string, MergeSide> = {},
): { document: WorkflowDocument; result: MergeResult } {
  const result: MergeResult = { conflicts: [], taken: [], kept: [] };
  const pick = <T>(
    key: string,
    kind: Conflict["kind"],
    id: string,
    outcome: Outcome<T>,
    m: T | undefined,
    t: T | undefined,
  ): T | undefined => {
    if (outcome.side === "theirs") result.taken.push(key);
    if (outcome.side === "mine") result.kept.push(key);
    if (!outcome.conflict) return outcome.value;
    const fields = kind === "field" ? [] : differingFields(m as object | undefined, t as object | undefined);
    result.conflicts.push({ key, kind, id, mine: m, theirs: t, fields });
    return choices[key] === "theirs" ? t : m;
  };

  const document: WorkflowDocument = { ...mine };
  const doc = document as unknown as Record<string, unknown>;
  for (const field of FIELDS) {
    const [b, m, t] = [base, mine, theirs].map((d) => (d as unknown as Record<string, unknown>)[field]);
    const value = pick(`field:${field}`, "field", field, mergeOne(b, m, t), m, t);
    if (value === undefined) delete doc[field];
    else doc[field] = value;
  }

  const nodes = mergeList(base.nodes, mine.nodes, theirs.nodes, (id, b, m, t) =>
    pick(`node:${id}`, "node", id, mergeOne(b, m, t, true), m, t),
  );
  const ids = new Set(nodes.map((n) => n.id));
  const edges = mergeList(base.edges, mine.edges, theirs.edges, (id, b, m, t) => pick(`edge:${id}`, "edge", id, mergeOne(b, m, t), m, t));
  document.nodes = nodes.map((n) => (n.parent && !ids.has(n.parent) ? { ...n, parent: null } : n));
  document.edges = edges.filter((e) => ids.has(e.source) && ids.has(e.target));
  return { document, result };
}

/** Merge two lists by id, in mine's order, then theirs' new ones in their order. */
function mergeList<T extends { id: string }>(
  base: readonly T[],
  mine: readonly T[],
  theirs: readonly T[],
  merge: (id: string, b: T | undefined, m: T | undefined, t: T | undefined) => T | undefined,
): T[] {
  const [b, m, t] = [byId(base), byId(mine), byId(theirs)];
  const order = [...m.keys(), ...[...t.keys()].filter((id) => !m.has(id)), ...[...b.keys()].filter((id) => !m.has(id) && !t.has(id))];
  const merged: T[] = [];
  for (const id of order) {
    const value = merge(id, b.get(id), m.get(id), t.get(id));
    if (value !== undefined) merged.push(value);
  }
  return merged;
}

/** A short line for a conflict: `node fetch: config, retry`; deleted on one side says so. */
export function conflictText(conflict: Conflict): string {
  const side = (v: unknown, who: string) => (v === undefined ? `deleted ${who}` : "");
  const deleted = [side(conflict.mine, "here"), side(conflict.theirs, "on the server")].filter(Boolean).join(", ");
  if (conflict.kind === "field") return `workflow ${conflict.id}`;
  return `${conflict.kind} ${conflict.id}: ${deleted || conflict.fields.join(", ")}`;
}

export type { WorkflowEdge };
