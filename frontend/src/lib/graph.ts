/** Graph checks the canvas runs before it accepts an edge (SPEC §1 validation, client side). */
import { SCOPE_NAMES } from "./expressions";

export interface GraphNode {
  id: string;
  parent?: string | null;
}

export interface GraphEdge {
  source: string;
  target: string;
  source_handle?: string | null;
  target_handle?: string | null;
}

export interface Graph {
  nodes: readonly GraphNode[];
  edges: readonly GraphEdge[];
}

export type ConnectionCheck = { ok: true } | { ok: false; reason: string };

/** Whether `edge` may be added to `graph`, and if not, a reason a user can act on. */
export function validateConnection(graph: Graph, edge: GraphEdge): ConnectionCheck {
  const byId = new Map(graph.nodes.map((node) => [node.id, node]));
  const source = byId.get(edge.source);
  const target = byId.get(edge.target);
  if (!source) return refuse(`there is no node "${edge.source}"`);
  if (!target) return refuse(`there is no node "${edge.target}"`);
  if (source.id === target.id) return refuse(`a node cannot connect to itself ("${source.id}")`);
  if (isDuplicate(graph.edges, edge)) {
    return refuse(`"${source.id}" is already connected to "${target.id}" from this handle`);
  }
  const crossing = containerCrossing(source, target);
  if (crossing) return refuse(crossing);
  const path = findPath(graph.edges, target.id, source.id);
  if (path) return refuse(`this edge would make a cycle: ${[source.id, ...path].join(" -> ")}`);
  return { ok: true };
}

function refuse(reason: string): ConnectionCheck {
  return { ok: false, reason };
}

function handleOf(edge: GraphEdge): string {
  return edge.source_handle ?? "out";
}

function isDuplicate(edges: readonly GraphEdge[], edge: GraphEdge): boolean {
  return edges.some(
    (e) =>
      e.source === edge.source &&
      e.target === edge.target &&
      handleOf(e) === handleOf(edge) &&
      (e.target_handle ?? "in") === (edge.target_handle ?? "in"),
  );
}

function containerCrossing(source: GraphNode, target: GraphNode): string | null {
  const from = source.parent ?? null;
  const to = target.parent ?? null;
  if (from === to) return null;
  const where = (parent: string | null) => (parent ? `inside "${parent}"` : "outside any container");
  return `edges cannot cross a container boundary: "${source.id}" is ${where(from)}, "${target.id}" is ${where(to)}`;
}

/** A path of node ids from `from` to `to` following edges, or null. */
export function findPath(edges: readonly GraphEdge[], from: string, to: string): string[] | null {
  const next = successorsMap(edges);
  const cameFrom = new Map<string, string | null>([[from, null]]);
  const queue = [from];
  while (queue.length) {
    const current = queue.shift() as string;
    if (current === to) return unwind(cameFrom, to);
    for (const succ of next.get(current) ?? []) {
      if (!cameFrom.has(succ)) {
        cameFrom.set(succ, current);
        queue.push(succ);
      }
    }
  }
  return null;
}

function unwind(cameFrom: Map<string, string | null>, end: string): string[] {
  const path = [end];
  let current = cameFrom.get(end) ?? null;
  while (current !== null) {
    path.unshift(current);
    current = cameFrom.get(current) ?? null;
  }
  return path;
}

function successorsMap(edges: readonly GraphEdge[]): Map<string, string[]> {
  const next = new Map<string, string[]>();
  for (const edge of edges) {
    next.set(edge.source, [...(next.get(edge.source) ?? []), edge.target]);
  }
  return next;
}

/** Every node upstream of `nodeId` (the names its expressions may use), nearest first. */
export function ancestors(edges: readonly GraphEdge[], nodeId: string): string[] {
  const previous = new Map<string, string[]>();
  for (const edge of edges) {
    previous.set(edge.target, [...(previous.get(edge.target) ?? []), edge.source]);
  }
  const seen = new Set<string>();
  const queue = [...(previous.get(nodeId) ?? [])];
  while (queue.length) {
    const current = queue.shift() as string;
    if (seen.has(current) || current === nodeId) continue;
    seen.add(current);
    queue.push(...(previous.get(current) ?? []));
  }
  return [...seen];
}

export const NODE_ID_PATTERN = /^[a-z][a-z0-9_]{0,63}$/;

/** Ids validation refuses (engine/validation/shape.py RESERVED_IDS): expression scope names. */
export const RESERVED_IDS: ReadonlySet<string> = new Set([...SCOPE_NAMES, "true", "false", "null"]);

/** Why `id` cannot name a node (SPEC §1), or null when it can. */
export function nodeIdProblem(id: string, takenIds: Iterable<string>): string | null {
  if (!NODE_ID_PATTERN.test(id)) {
    return "an id starts with a lowercase letter and has only a-z, 0-9 and _ (at most 64)";
  }
  if (RESERVED_IDS.has(id)) return `"${id}" is reserved (an expression scope name)`;
  for (const taken of takenIds) {
    if (taken === id) return `another node is already called "${id}"`;
  }
  return null;
}

/** A fresh node id derived from the node type: `http`, then `http_2`, `http_3`, ...; a reserved
 * word is never used bare: `loop_1`, `loop_2`, ... */
export function nextNodeId(type: string, takenIds: Iterable<string>): string {
  const taken = new Set(takenIds);
  let base = type
    .toLowerCase()
    .replace(/[^a-z0-9_]/g, "_")
    .replace(/^[^a-z]+/, "");
  base = (base || "node").slice(0, 58);
  if (!taken.has(base) && !RESERVED_IDS.has(base)) return base;
  for (let n = RESERVED_IDS.has(base) ? 1 : 2; ; n++) {
    if (!taken.has(`${base}_${n}`)) return `${base}_${n}`;
  }
}

/** A fresh edge id: `e1`, `e2`, ... past the highest numbered one. */
export function nextEdgeId(takenIds: Iterable<string>): string {
  const taken = new Set(takenIds);
  let n = taken.size + 1;
  while (taken.has(`e${n}`)) n++;
  return `e${n}`;
}
