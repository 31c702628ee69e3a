/** Auto-layout (dagre, left to right): new positions for every node, edges unchanged. */
import { Graph, layout } from "@dagrejs/dagre";
import type { Position } from "./types";

export const NODE_WIDTH = 220;
export const NODE_HEIGHT = 88;

export interface LayoutInput {
  nodes: readonly { id: string }[];
  edges: readonly { source: string; target: string }[];
}

export function autoLayout(graph: LayoutInput): Record<string, Position> {
  const g = new Graph({ multigraph: true });
  g.setGraph({ rankdir: "LR", nodesep: 40, ranksep: 90, marginx: 40, marginy: 40 });
  g.setDefaultEdgeLabel(() => ({}));
  for (const node of graph.nodes) g.setNode(node.id, { width: NODE_WIDTH, height: NODE_HEIGHT });
  graph.edges.forEach((edge, i) => {
    if (g.hasNode(edge.source) && g.hasNode(edge.target)) g.setEdge(edge.source, edge.target, {}, `e${i}`);
  });
  layout(g);
  const positions: Record<string, Position> = {};
  for (const node of graph.nodes) {
    const { x, y } = g.node(node.id);
    positions[node.id] = { x: Math.round(x - NODE_WIDTH / 2), y: Math.round(y - NODE_HEIGHT / 2) };
  }
  return positions;
}
