/** Workflow document (SPEC §1) <-> React Flow nodes and edges, losslessly. */
import type { Edge, Node } from "@xyflow/react";
import type { Position, WorkflowDocument, WorkflowEdge, WorkflowNode } from "./types";

export type CanvasNodeData = { node: Omit<WorkflowNode, "position"> };
export type CanvasNode = Node<CanvasNodeData>;
export type CanvasEdgeData = { edge: WorkflowEdge };
export type CanvasEdge = Edge<CanvasEdgeData>;
export type DocumentMeta = Omit<WorkflowDocument, "nodes" | "edges">;

export interface CanvasGraph {
  meta: DocumentMeta;
  nodes: CanvasNode[];
  edges: CanvasEdge[];
}

export function docToFlow(doc: WorkflowDocument): CanvasGraph {
  const { nodes, edges, ...meta } = doc;
  return {
    meta,
    nodes: (nodes ?? []).map((node, index) => toCanvasNode(node, index)),
    edges: (edges ?? []).map(toCanvasEdge),
  };
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

export function flowToDoc(meta: DocumentMeta, nodes: CanvasNode[], edges: CanvasEdge[]): WorkflowDocument {
  return { ...meta, nodes: nodes.map(fromCanvasNode), edges: edges.map(fromCanvasEdge) };
}

export function fromCanvasNode(node: CanvasNode): WorkflowNode {
  const position = { x: Math.round(node.position.x), y: Math.round(node.position.y) };
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
