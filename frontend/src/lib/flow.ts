/** Workflow document (SPEC §1) <-> React Flow nodes and edges, losslessly. */
import type { Edge, Node } from "@xyflow/react";
import { absolutePositions, fitContainer, parentsFirst, type Size } from "./containers";
import type { Position, WorkflowDocument, WorkflowEdge, WorkflowNode } from "./types";

export type CanvasNodeData = { node: Omit<WorkflowNode, "position"> };
export type CanvasNode = Node<CanvasNodeData>;
/** `lane`: set on the canvas only (see `withBranchLanes`), never in the document. */
export type CanvasEdgeData = { edge: WorkflowEdge; lane?: number };
export type CanvasEdge = Edge<CanvasEdgeData>;
export type DocumentMeta = Omit<WorkflowDocument, "nodes" | "edges">;

export interface CanvasGraph {
  meta: DocumentMeta;
  nodes: CanvasNode[];
  edges: CanvasEdge[];
}

/** Frames sit under other nodes: a node dragged over one stays visible, its body above it. */
export const CONTAINER_Z = -1;

/** The built-in container types; a registry entry's `container` flag says so for others. */
export const CONTAINER_TYPES: ReadonlySet<string> = new Set(["loop", "map"]);

export interface FlowOptions {
  /** Whether a node type is a container (defaults to `loop` and `map`). */
  isContainer?: (type: string) => boolean;
}

/**
 * The document's nodes as React Flow nodes: a body node whose `parent` is a container becomes
 * that container's child (`parentId`, position relative to it); containers get a frame size
 * (the node's `size` when the document has one). Linear in the number of nodes.
 */
export function docToFlow(doc: WorkflowDocument, options: FlowOptions = {}): CanvasGraph {
  const { nodes, edges, ...meta } = doc;
  const isContainer = options.isContainer ?? ((type: string) => CONTAINER_TYPES.has(type));
  const flat = (nodes ?? []).map((node, index) => toCanvasNode(node, index));
  const containers = new Set(flat.filter((n) => isContainer(n.type ?? "")).map((n) => n.id));
  const absolute = new Map(flat.map((n) => [n.id, n.position]));
  const parentOf = (n: CanvasNode) => {
    const parent = n.data.node.parent;
    return parent && containers.has(parent) ? parent : null;
  };
  const byId = new Map(flat.map((n) => [n.id, n]));
  const nested = flat.map((n) => {
    const parent = parentOf(n);
    if (!parent || inParentCycle(n.id, byId, parentOf)) return n;
    const origin = absolute.get(parent) as Position;
    return { ...n, parentId: parent, position: { x: n.position.x - origin.x, y: n.position.y - origin.y } };
  });
  const ordered = parentsFirst(nested);
  return { meta, nodes: sizeContainers(ordered, containers), edges: (edges ?? []).map(toCanvasEdge) };
}

/** A `parent` chain that loops back (an invalid document) is drawn flat, not nested. */
function inParentCycle(id: string, byId: Map<string, CanvasNode>, parentOf: (n: CanvasNode) => string | null): boolean {
  const seen = new Set([id]);
  for (let n = byId.get(id); n;) {
    const p = parentOf(n);
    if (!p) return false;
    if (seen.has(p)) return true;
    seen.add(p);
    n = byId.get(p);
  }
  return false;
}

/**
 * Frames for containers: the document's `size` (grown if the body does not fit in it), else one
 * just big enough for the body nodes; inner frames are sized before the frames around them.
 */
export function sizeContainers(nodes: CanvasNode[], containers: ReadonlySet<string>): CanvasNode[] {
  const result = new Map(nodes.map((n) => [n.id, n]));
  const children = new Map<string, CanvasNode[]>();
  for (const n of nodes) if (n.parentId) children.set(n.parentId, [...(children.get(n.parentId) ?? []), n]);
  const depths = new Map<string, number>();
  const depth = (n: CanvasNode, guard = 0): number => {
    const known = depths.get(n.id);
    if (known !== undefined) return known;
    const parent = n.parentId ? result.get(n.parentId) : undefined;
    const d = parent && guard < 64 ? 1 + depth(parent, guard + 1) : 0;
    depths.set(n.id, d);
    return d;
  };
  const frames = nodes.filter((n) => containers.has(n.id)).sort((a, b) => depth(b) - depth(a));
  for (const frame of frames) {
    const body = (children.get(frame.id) ?? []).map((n) => result.get(n.id) as CanvasNode);
    const size = fitContainer(body, validSize(frame.data.node.size) ?? undefined);
    result.set(frame.id, { ...frame, width: size.width, height: size.height, zIndex: CONTAINER_Z });
  }
  return nodes.map((n) => result.get(n.id) as CanvasNode);
}

/** A document `size` the canvas can draw (both sides positive numbers), else null. */
export function validSize(size: unknown): Size | null {
  const s = size as Size | null | undefined;
  return s && Number.isFinite(s.width) && Number.isFinite(s.height) && s.width > 0 && s.height > 0 ? s : null;
}

/** The node with its frame `size` written into the document part (rounded, as saved). */
export function withDocumentSize(node: CanvasNode, size: Size): CanvasNode {
  const rounded = { width: Math.round(size.width), height: Math.round(size.height) };
  const kept = node.data.node.size;
  if (kept && kept.width === rounded.width && kept.height === rounded.height) return node;
  return { ...node, data: { ...node.data, node: { ...node.data.node, size: rounded } } };
}

export function toCanvasNode(node: WorkflowNode, index = 0): CanvasNode {
  const { position, ...rest } = node;
  return {
    id: node.id,
    type: node.type,
    position: isPosition(position) ? { ...position } : gridPosition(index),
    data: { node: rest },
  };
}

export function toCanvasEdge(edge: WorkflowEdge): CanvasEdge {
  return {
    id: edge.id,
    source: edge.source,
    target: edge.target,
    sourceHandle: edge.source_handle ?? "out",
    targetHandle: edge.target_handle ?? "in",
    data: { edge },
  };
}

/** The document of a canvas: positions absolute again (a body node's plus its container's). */
export function flowToDoc(meta: DocumentMeta, nodes: CanvasNode[], edges: CanvasEdge[]): WorkflowDocument {
  const hasChildren = nodes.some((n) => n.parentId);
  const absolute = hasChildren ? absolutePositions(nodes) : null;
  return {
    ...meta,
    nodes: nodes.map((n) => fromCanvasNode(n, absolute?.get(n.id))),
    edges: edges.map(fromCanvasEdge),
  };
}

export function fromCanvasNode(node: CanvasNode, absolute: Position = node.position): WorkflowNode {
  const position = { x: Math.round(absolute.x), y: Math.round(absolute.y) };
  return { ...node.data.node, id: node.id, position };
}

export function fromCanvasEdge(edge: CanvasEdge): WorkflowEdge {
  const original = edge.data?.edge;
  const result: WorkflowEdge = { ...original, id: edge.id, source: edge.source, target: edge.target };
  const sourceHandle = edge.sourceHandle ?? "out";
  const targetHandle = edge.targetHandle ?? "in";
  if (original?.source_handle !== undefined || sourceHandle !== "out") result.source_handle = sourceHandle;
  if (original?.target_handle !== undefined || targetHandle !== "in") result.target_handle = targetHandle;
  return result;
}

function isPosition(value: unknown): value is Position {
  const p = value as Position | null | undefined;
  return !!p && Number.isFinite(p.x) && Number.isFinite(p.y);
}

/** Where a node without a saved position goes: a 5-wide grid. */
export function gridPosition(index: number): Position {
  return { x: 80 + (index % 5) * 260, y: 80 + Math.floor(index / 5) * 160 };
}

/** True when the document has no layout worth keeping (every node at the same spot). */
export function needsLayout(doc: WorkflowDocument): boolean {
  const positions = doc.nodes.map((n) => (isPosition(n.position) ? `${n.position.x},${n.position.y}` : "none"));
  return doc.nodes.length > 1 && new Set(positions).size === 1;
}

/**
 * Edges that leave a node by a named handle (a condition's `true`/`false`, a router's routes, an
 * approval's `approved`/`rejected`, `error`) are labelled with it, and each of a node's handles
 * gets its own lane: the offset of the edge's vertical run, so two branches never share a segment
 * (whatever order auto-layout stacks their targets in). Other edges are returned as they are.
 */
export function withBranchLanes(edges: CanvasEdge[]): CanvasEdge[] {
  const handles = new Map<string, string[]>();
  for (const edge of edges) {
    const handle = edge.sourceHandle ?? "out";
    const seen = handles.get(edge.source) ?? [];
    if (handle !== "out" && !seen.includes(handle)) handles.set(edge.source, [...seen, handle]);
  }
  return edges.map((edge) => {
    const handle = edge.sourceHandle ?? "out";
    const named = handles.get(edge.source);
    if (handle === "out" || !named) return edge;
    const lane = named.indexOf(handle) - (named.length - 1) / 2;
    return { ...edge, label: handle, data: { ...(edge.data as CanvasEdgeData), lane } };
  });
}
