/**
 * Where the canvas opens. A graph up to `LARGE_GRAPH` nodes is fitted whole; a larger one opens
 * at a readable zoom on its start (the nodes nearest its top-left corner), and only the nodes in
 * view are drawn: fitted whole, 500 nodes are unreadable specks that cost a second to draw.
 * "Fit" (Shift+F) still shows everything.
 */
import { NODE_HEIGHT, NODE_WIDTH } from "./containers";
import type { Position as HandleSide } from "@xyflow/react";
import type { Position } from "./types";

interface Rect {
  x: number;
  y: number;
  width: number;
  height: number;
}

export const LARGE_GRAPH = 200;
/** How many nodes the opening view of a large graph is fitted to, and its zoom range. */
export const START_NODES = 30;
export const START_ZOOM = { min: 0.5, max: 1 };
const PAD = 40;

export interface Viewport {
  x: number;
  y: number;
  zoom: number;
}

interface Placed {
  position: Position;
  width?: number | null;
  height?: number | null;
}

export function isLargeGraph(count: number): boolean {
  return count > LARGE_GRAPH;
}

/**
 * The opening viewport of a large graph in a `width` x `height` canvas: the `START_NODES` nodes
 * nearest the graph's top-left corner, top-left aligned, zoomed into `START_ZOOM`. Positions are
 * absolute. Null for a graph small enough to fit whole.
 */
export function startViewport(nodes: readonly Placed[], width: number, height: number): Viewport | null {
  if (!isLargeGraph(nodes.length) || width <= 0 || height <= 0) return null;
  let minX = Infinity;
  let minY = Infinity;
  for (const n of nodes) {
    minX = Math.min(minX, n.position.x);
    minY = Math.min(minY, n.position.y);
  }
  const near = [...nodes]
    .sort((a, b) => a.position.x - minX + (a.position.y - minY) - (b.position.x - minX + (b.position.y - minY)))
    .slice(0, START_NODES);
  let maxX = -Infinity;
  let maxY = -Infinity;
  for (const n of near) {
    maxX = Math.max(maxX, n.position.x + (n.width ?? NODE_WIDTH));
    maxY = Math.max(maxY, n.position.y + (n.height ?? NODE_HEIGHT));
  }
  const fit = Math.min((width - 2 * PAD) / (maxX - minX), (height - 2 * PAD) / (maxY - minY));
  const zoom = Math.min(START_ZOOM.max, Math.max(START_ZOOM.min, fit));
  return { x: PAD - minX * zoom, y: PAD - minY * zoom, zoom };
}

/**
 * A large graph's nodes carry an estimated size (`initialWidth`/`initialHeight`) and handle
 * places (`handles`, as BaseNode draws them) until React Flow measures them. Without them React
 * Flow renders every node once just to measure it, even with `onlyRenderVisibleElements`; with
 * them it draws only the nodes in view. The store drops the estimates once a node is measured.
 */
export interface HandleEstimate {
  id: string;
  type: "source" | "target";
  position: HandleSide;
  x: number;
  y: number;
  width: number;
  height: number;
}

const HANDLE = 10;

export function estimatedHandles(
  size: { width: number; height: number },
  inputs: readonly string[],
  outputs: readonly string[],
  container: boolean,
): HandleEstimate[] {
  // BaseNode spreads handles over its side; a container stacks them under its header
  const top = (i: number, count: number) => (container ? 30 + i * 22 : ((i + 1) / (count + 1)) * size.height);
  const at = (id: string, type: "source" | "target", position: HandleSide, cx: number, cy: number): HandleEstimate => ({
    id,
    type,
    position,
    x: cx - HANDLE / 2,
    y: cy - HANDLE / 2,
    width: HANDLE,
    height: HANDLE,
  });
  return [
    ...inputs.map((id, i) => at(id, "target", "left" as HandleSide, 0, top(i, inputs.length))),
    ...outputs.map((id, i) => at(id, "source", "right" as HandleSide, size.width, top(i, outputs.length))),
    at("error", "source", "bottom" as HandleSide, size.width / 2, size.height),
  ];
}

/** BaseNode's height for its outputs before it is measured (the CSS min-height, a header row). */
export function estimatedHeight(outputs: number): number {
  return Math.max(NODE_HEIGHT, outputs * 26 + 22);
}

/** The box around every node (absolute positions; a node not measured yet by its estimate). */
export function graphBounds(
  nodes: readonly (Placed & { initialWidth?: number; initialHeight?: number; measured?: { width?: number; height?: number } })[],
): Rect | null {
  if (!nodes.length) return null;
  let minX = Infinity;
  let minY = Infinity;
  let maxX = -Infinity;
  let maxY = -Infinity;
  for (const n of nodes) {
    const width = n.measured?.width ?? n.width ?? n.initialWidth ?? NODE_WIDTH;
    const height = n.measured?.height ?? n.height ?? n.initialHeight ?? NODE_HEIGHT;
    minX = Math.min(minX, n.position.x);
    minY = Math.min(minY, n.position.y);
    maxX = Math.max(maxX, n.position.x + width);
    maxY = Math.max(maxY, n.position.y + height);
  }
  return { x: minX, y: minY, width: maxX - minX, height: maxY - minY };
}

/**
 * "Fit" (button and Shift+F) shows the whole graph at once, by its bounds: React Flow's own
 * `fitView` waits until every node is measured, which a large graph's undrawn nodes never are.
 */
export const FIT_ALL = { padding: 0.2, duration: 300 } as const;
