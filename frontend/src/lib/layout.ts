/** Auto-layout (dagre, left to right): new positions for every node, edges unchanged. */
import { Graph, layout } from "@dagrejs/dagre";
import { CONTAINER_HEADER, CONTAINER_PAD, NODE_HEIGHT, NODE_WIDTH, fitContainer, type Size } from "./containers";
import type { Position } from "./types";

export { NODE_HEIGHT, NODE_WIDTH };

export interface LayoutInput {
  /** `width`/`height`: a frame's size (containers); other nodes take the standard size. */
  nodes: readonly { id: string; parentId?: string; width?: number | null; height?: number | null }[];
  edges: readonly LayoutEdge[];
  /** A node's output handles, top to bottom: its branches' targets are stacked in that order. */
  handlesOf?: (id: string) => readonly string[];
}

type LayoutEdge = { source: string; target: string; sourceHandle?: string | null };

export interface Layout {
  /** Per node: absolute for top-level nodes, relative to the container for body nodes. */
  positions: Record<string, Position>;
  /** Container frames sized to hold their laid-out bodies. */
  sizes: Record<string, Size>;
}

/** Positions of every node, as React Flow wants them (body nodes relative to their container). */
export function autoLayout(graph: LayoutInput): Record<string, Position> {
  return layoutWithContainers(graph).positions;
}

/**
 * Lay out each container's body on its own (deepest containers first), size the frame to fit,
 * then lay out the level above with the frames as large nodes.
 */
export function layoutWithContainers(graph: LayoutInput): Layout {
  const parentOf = new Map(graph.nodes.map((n) => [n.id, n.parentId ?? null]));
  const given = new Map(
    graph.nodes.filter((n) => n.width && n.height).map((n) => [n.id, { width: n.width as number, height: n.height as number }]),
  );
  const scopes = new Map<string | null, string[]>();
  for (const node of graph.nodes) scopes.set(node.parentId ?? null, [...(scopes.get(node.parentId ?? null) ?? []), node.id]);
  const depth = (id: string | null): number => (id === null ? 0 : 1 + depth(parentOf.get(id) ?? null));
  const order = [...scopes.keys()].sort((a, b) => depth(b) - depth(a));
  const positions: Record<string, Position> = {};
  const sizes: Record<string, Size> = {};
  for (const scope of order) {
    const ids = scopes.get(scope) ?? [];
    const inScope = new Set(ids);
    const edges = graph.edges.filter((e) => inScope.has(e.source) && inScope.has(e.target));
    const offset = scope === null ? { x: 0, y: 0 } : { x: CONTAINER_PAD - 40, y: CONTAINER_HEADER - 40 };
    const sizeOf = (id: string) => sizes[id] ?? given.get(id) ?? { width: NODE_WIDTH, height: NODE_HEIGHT };
    const placed = stackBranches(layoutScope(ids, edges, sizeOf), edges, graph.handlesOf);
    for (const id of ids) positions[id] = { x: placed[id].x + offset.x, y: placed[id].y + offset.y };
    if (scope !== null) {
      const children = ids.map((id) => ({ id, position: positions[id], ...(sizes[id] ?? {}) }));
      sizes[scope] = fitContainer(children, { width: 0, height: 0 });
    }
  }
  return { positions, sizes };
}

function layoutScope(ids: readonly string[], edges: readonly LayoutEdge[], sizeOf: (id: string) => Size): Record<string, Position> {
  const g = new Graph({ multigraph: true });
  g.setGraph({ rankdir: "LR", nodesep: 40, ranksep: 90, marginx: 40, marginy: 40 });
  g.setDefaultEdgeLabel(() => ({}));
  for (const id of ids) g.setNode(id, { ...sizeOf(id) });
  edges.forEach((edge, i) => g.setEdge(edge.source, edge.target, {}, `e${i}`));
  layout(g);
  const positions: Record<string, Position> = {};
  for (const id of ids) {
    const { x, y, width, height } = g.node(id);
    positions[id] = { x: Math.round(x - width / 2), y: Math.round(y - height / 2) };
  }
  return positions;
}

/**
 * Dagre does not know handles: the targets of a node's branches (a condition's `true` above its
 * `false`) that share a column are re-stacked in the order of the handles they hang from, so the
 * branches do not cross on their way out.
 */
export function stackBranches(
  positions: Record<string, Position>,
  edges: readonly LayoutEdge[],
  handlesOf: ((id: string) => readonly string[]) | undefined,
): Record<string, Position> {
  if (!handlesOf) return positions;
  const bySource = new Map<string, LayoutEdge[]>();
  for (const edge of edges)
    if ((edge.sourceHandle ?? "out") !== "out") bySource.set(edge.source, [...(bySource.get(edge.source) ?? []), edge]);
  const result = { ...positions };
  for (const [source, branches] of bySource) {
    const order = handlesOf(source);
    const rank = (e: LayoutEdge) => order.indexOf(e.sourceHandle ?? "out");
    const targets = [...new Set(branches.map((e) => e.target))];
    // a target two handles lead to has no one place in the order
    if (targets.length !== branches.length) continue;
    const columns = new Map<number, LayoutEdge[]>();
    for (const e of branches) columns.set(result[e.target].x, [...(columns.get(result[e.target].x) ?? []), e]);
    for (const column of columns.values()) {
      const ys = column.map((e) => result[e.target].y).sort((a, b) => a - b);
      [...column].sort((a, b) => rank(a) - rank(b)).forEach((e, i) => (result[e.target] = { ...result[e.target], y: ys[i] }));
    }
  }
  return result;
}

/**
 * Where nodes a running graph grew go (SPEC §4 dynamic growth): in columns to the right of the
 * node that grew them, by their distance from it, and below its row so they do not cover its
 * existing successors.
 */
export function placeGrownNodes(
  anchor: Position,
  source: string,
  added: readonly string[],
  edges: readonly { source: string; target: string }[],
): Record<string, Position> {
  const ids = new Set(added);
  const level = new Map<string, number>([[source, 0]]);
  let changed = true;
  for (let round = 0; changed && round <= added.length; round++) {
    changed = false;
    for (const edge of edges) {
      const from = level.get(edge.source);
      if (from === undefined || !ids.has(edge.target)) continue;
      if ((level.get(edge.target) ?? -1) < from + 1) {
        level.set(edge.target, from + 1);
        changed = true;
      }
    }
  }
  const columns = new Map<number, string[]>();
  for (const id of added) {
    const column = level.get(id) ?? 1;
    columns.set(column, [...(columns.get(column) ?? []), id]);
  }
  const positions: Record<string, Position> = {};
  for (const [column, members] of columns) {
    members.forEach((id, row) => {
      positions[id] = { x: anchor.x + column * (NODE_WIDTH + 60), y: anchor.y + NODE_HEIGHT + 50 + row * (NODE_HEIGHT + 30) };
    });
  }
  return positions;
}
