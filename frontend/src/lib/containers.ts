/**
 * Containers (`loop`, `map`) as React Flow sub-flows, in pure functions.
 *
 * The document keeps absolute positions (SPEC §1 `position` is a canvas point, and the CLI's
 * pictures read it); on the canvas a body node is a React Flow child (`parentId`) whose
 * `position` is relative to its container. These functions convert between the two, pick the
 * container a dropped node lands in, and size container frames.
 */
import type { Position } from "./types";

export const NODE_WIDTH = 220;
export const NODE_HEIGHT = 88;
/** Room above a container's body for its header, and around its body nodes. */
export const CONTAINER_HEADER = 64;
export const CONTAINER_PAD = 24;
export const CONTAINER_MIN = { width: 320, height: 180 };
export const CONTAINER_DEFAULT = { width: 480, height: 260 };

export interface Size {
  width: number;
  height: number;
}

export interface Rect extends Position, Size {}

/** The part of a canvas node these functions read. */
export interface PlacedNode {
  id: string;
  parentId?: string;
  position: Position;
  width?: number | null;
  height?: number | null;
  measured?: { width?: number; height?: number };
}

export function nodeSize(node: PlacedNode): Size {
  return {
    width: node.measured?.width ?? node.width ?? NODE_WIDTH,
    height: node.measured?.height ?? node.height ?? NODE_HEIGHT,
  };
}

/** Absolute canvas positions of every node (a child's position is relative to its parent). */
export function absolutePositions<N extends PlacedNode>(nodes: readonly N[]): Map<string, Position> {
  const byId = new Map(nodes.map((n) => [n.id, n]));
  const result = new Map<string, Position>();
  const resolve = (node: N, depth: number): Position => {
    const known = result.get(node.id);
    if (known) return known;
    const parent = node.parentId ? byId.get(node.parentId) : undefined;
    const origin = parent && depth < 64 ? resolve(parent, depth + 1) : { x: 0, y: 0 };
    const absolute = { x: origin.x + node.position.x, y: origin.y + node.position.y };
    result.set(node.id, absolute);
    return absolute;
  };
  for (const node of nodes) resolve(node, 0);
  return result;
}

export function absoluteRect(node: PlacedNode, absolute: Map<string, Position>): Rect {
  return { ...(absolute.get(node.id) ?? node.position), ...nodeSize(node) };
}

/** React Flow needs a parent before its children: a stable order with that property. */
export function parentsFirst<N extends { id: string; parentId?: string }>(nodes: readonly N[]): N[] {
  const byId = new Map(nodes.map((n) => [n.id, n]));
  const placed = new Set<string>();
  const result: N[] = [];
  const place = (node: N, trail: Set<string>) => {
    if (placed.has(node.id) || trail.has(node.id)) return;
    const parent = node.parentId ? byId.get(node.parentId) : undefined;
    if (parent) place(parent, new Set([...trail, node.id]));
    placed.add(node.id);
    result.push(node);
  };
  for (const node of nodes) place(node, new Set());
  return result;
}

/** `id` and every node inside it, at any depth. */
export function descendantsOf(nodes: readonly { id: string; parentId?: string }[], id: string): Set<string> {
  const found = new Set([id]);
  let grew = true;
  while (grew) {
    grew = false;
    for (const node of nodes) {
      if (node.parentId && found.has(node.parentId) && !found.has(node.id)) {
        found.add(node.id);
        grew = true;
      }
    }
  }
  return found;
}

function contains(rect: Rect, point: Position): boolean {
  return point.x >= rect.x && point.x <= rect.x + rect.width && point.y >= rect.y && point.y <= rect.y + rect.height;
}

/**
 * The container a point falls in: the innermost (smallest) one whose frame holds it, skipping
 * `exclude` (a dragged node and what is inside it), or null for the top level.
 */
export function containerAt<N extends PlacedNode>(
  point: Position,
  nodes: readonly N[],
  isContainer: (node: N) => boolean,
  exclude: ReadonlySet<string> = new Set(),
  absolute: Map<string, Position> = absolutePositions(nodes),
): string | null {
  let best: { id: string; area: number } | null = null;
  for (const node of nodes) {
    if (!isContainer(node) || exclude.has(node.id)) continue;
    const rect = absoluteRect(node, absolute);
    if (!contains(rect, point)) continue;
    const area = rect.width * rect.height;
    if (!best || area < best.area) best = { id: node.id, area };
  }
  return best?.id ?? null;
}

/**
 * Where a dragged node belongs once dropped: the container under its centre (never itself or
 * one of its own body nodes). Returns the new parent (null: top level).
 */
export function parentOnDrop<N extends PlacedNode>(nodeId: string, nodes: readonly N[], isContainer: (node: N) => boolean): string | null {
  const absolute = absolutePositions(nodes);
  const node = nodes.find((n) => n.id === nodeId);
  if (!node) return null;
  const rect = absoluteRect(node, absolute);
  const centre = { x: rect.x + rect.width / 2, y: rect.y + rect.height / 2 };
  return containerAt(centre, nodes, isContainer, descendantsOf(nodes, nodeId), absolute);
}

/** A node's position relative to `parent` (null: absolute), given its absolute position. */
export function relativeTo(absolutePosition: Position, parent: string | null, absolute: Map<string, Position>): Position {
  const origin = parent ? (absolute.get(parent) ?? { x: 0, y: 0 }) : { x: 0, y: 0 };
  return { x: absolutePosition.x - origin.x, y: absolutePosition.y - origin.y };
}

/** A container frame big enough for its body nodes (relative positions), at least `base`. */
export function fitContainer(children: readonly PlacedNode[], base: Size = CONTAINER_DEFAULT): Size {
  let width = base.width;
  let height = base.height;
  for (const child of children) {
    const size = nodeSize(child);
    width = Math.max(width, child.position.x + size.width + CONTAINER_PAD);
    height = Math.max(height, child.position.y + size.height + CONTAINER_PAD);
  }
  return { width: Math.round(width), height: Math.round(height) };
}
