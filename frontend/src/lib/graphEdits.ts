/** Pure edits of the canvas graph the document slice applies: reparenting, pasting, renaming,
 * a new node's config, size estimates of a large graph, layout. */
import { absolutePositions, fitContainer, nodeSize, NODE_WIDTH, parentsFirst, relativeTo } from "./containers";
import { withDocumentSize, type CanvasEdge, type CanvasNode } from "./flow";
import { nextEdgeId, nextNodeId } from "./graph";
import { layoutWithContainers } from "./layout";
import { inputHandles, outputHandles } from "./nodeTypes";
import { renameInConfig } from "./rename";
import { requiredKeys } from "./schemaForm";
import type { NodeTypeInfo } from "./types";
import { estimatedHandles, estimatedHeight } from "./viewport";

export function graphOf(nodes: CanvasNode[], edges: CanvasEdge[]) {
  return {
    nodes: nodes.map((n) => ({ id: n.id, parent: n.data.node.parent ?? null })),
    edges: edges.map((e) => ({
      source: e.source,
      target: e.target,
      source_handle: e.sourceHandle ?? "out",
      target_handle: e.targetHandle ?? "in",
    })),
  };
}

/** `id` moved to `parent` (null: top level), staying where it is on screen. */
export function reparent(nodes: CanvasNode[], id: string, parent: string | null): CanvasNode[] {
  const absolute = absolutePositions(nodes);
  const moved = nodes.map((n) => {
    if (n.id !== id) return n;
    const { parentId: _old, ...rest } = n;
    const position = relativeTo(absolute.get(id) ?? n.position, parent, absolute);
    const data = { node: { ...n.data.node, parent: parent } };
    return parent ? { ...rest, parentId: parent, position, data } : { ...rest, position, data };
  });
  const ordered = parentsFirst(moved);
  return parent ? growToHold(ordered, parent) : ordered;
}

/** A container frame grown (never shrunk) to hold its body nodes. */
export function growToHold(nodes: CanvasNode[], container: string): CanvasNode[] {
  const frame = nodes.find((n) => n.id === container);
  if (!frame) return nodes;
  const current = nodeSize(frame);
  const size = fitContainer(
    nodes.filter((n) => n.parentId === container),
    current,
  );
  if (size.width === current.width && size.height === current.height) return nodes;
  const grown = (n: CanvasNode) => ({ ...n, width: size.width, height: size.height });
  // a frame whose size the document keeps keeps the grown one; others are fitted again on load
  return nodes.map((n) => (n !== frame ? n : n.data.node.size ? withDocumentSize(grown(n), size) : grown(n)));
}

/** An edge whose ends are in different containers (SPEC `container_edge`). */
export function crossesContainer(nodes: CanvasNode[], edge: CanvasEdge): boolean {
  const parent = (id: string) => nodes.find((n) => n.id === id)?.data.node.parent ?? null;
  return parent(edge.source) !== parent(edge.target);
}

/** Size and handle estimates for a large graph's nodes until measured (see lib/viewport). */
export function withEstimates(
  nodes: CanvasNode[],
  nodeTypes: Record<string, NodeTypeInfo>,
  isContainer: (type: string | undefined) => boolean,
): CanvasNode[] {
  return nodes.map((n) => {
    const info = nodeTypes[n.type ?? ""];
    const container = isContainer(n.type);
    const outputs = outputHandles(info, n.data.node);
    const size = container ? nodeSize(n) : { width: NODE_WIDTH, height: estimatedHeight(outputs.length) };
    const handles = estimatedHandles(size, inputHandles(info), outputs, container);
    return container ? { ...n, handles } : { ...n, initialWidth: size.width, initialHeight: size.height, handles };
  });
}

/** Measured nodes lose their estimates: React Flow keeps the measured handles from then on. */
export function withoutEstimates(nodes: CanvasNode[], measured: ReadonlySet<string>): CanvasNode[] {
  if (!measured.size) return nodes;
  return nodes.map((n) => {
    if (!measured.has(n.id) || !n.handles) return n;
    const { handles: _h, initialWidth: _w, initialHeight: _ht, ...rest } = n;
    return rest;
  });
}

/**
 * Nodes of an undo/redo snapshot taken before they were measured must not bring their estimates
 * back (React Flow would take the estimated handles over the measured ones): they take the
 * measurement the canvas has now.
 */
export function keepMeasured(nodes: CanvasNode[], current: CanvasNode[]): CanvasNode[] {
  if (!nodes.some((n) => n.handles)) return nodes;
  const now = new Map(current.map((n) => [n.id, n]));
  return nodes.map((n) => {
    const measured = now.get(n.id)?.measured;
    if (!n.handles || !measured || now.get(n.id)?.handles) return n;
    const { handles: _h, initialWidth: _w, initialHeight: _ht, ...rest } = n;
    return { ...rest, measured };
  });
}

export function pruneEdges(edges: CanvasEdge[], nodes: CanvasNode[]): CanvasEdge[] {
  const ids = new Set(nodes.map((n) => n.id));
  return edges.filter((e) => ids.has(e.source) && ids.has(e.target));
}

/**
 * A new node's config: the defaults of its required fields, counting fields that an `allOf`
 * if/then rule requires of that config (a loop without `mode` requires `count`). A filled
 * default can change which rules match (a required `mode` defaulting to `for_each` requires
 * `items`, not `count`), so the config is rebuilt from the previous one's required fields until
 * it settles (a schema whose rules never settle keeps the last attempt).
 */
export function defaultConfig(info: NodeTypeInfo | undefined): Record<string, unknown> {
  const schema = info?.config_schema;
  const properties = Object.entries(schema?.properties ?? {});
  let config: Record<string, unknown> = {};
  for (let round = 0; round <= properties.length; round++) {
    const required = requiredKeys(schema, config);
    const next = Object.fromEntries(
      properties.filter(([key, sub]) => sub.default !== undefined && required.has(key)).map(([key, sub]) => [key, sub.default]),
    );
    const settled = Object.keys(next).length === Object.keys(config).length && Object.keys(next).every((key) => key in config);
    config = next;
    if (settled) break;
  }
  return config;
}

/** A node after `id` became `newId`: its own id, its `parent`, and references in its config. */
export function renameInNode(node: CanvasNode, id: string, newId: string, expressionFields: readonly string[] = []): CanvasNode {
  const data = node.data.node;
  const parent = data.parent === id ? newId : data.parent;
  const config = data.config ? renameInConfig(data.config, id, newId, expressionFields) : data.config;
  if (node.id !== id && parent === data.parent && config === data.config) return node;
  const nextId = node.id === id ? newId : node.id;
  const renamed = { ...data, id: nextId, ...(data.parent !== undefined ? { parent } : {}), ...(config !== undefined ? { config } : {}) };
  return { ...node, id: nextId, ...(node.parentId === id ? { parentId: newId } : {}), data: { node: renamed } };
}

export function renameInEdge(edge: CanvasEdge, id: string, newId: string): CanvasEdge {
  if (edge.source !== id && edge.target !== id) return edge;
  const source = edge.source === id ? newId : edge.source;
  const target = edge.target === id ? newId : edge.target;
  const original = edge.data?.edge ?? { id: edge.id, source, target };
  return { ...edge, source, target, data: { edge: { ...original, source, target } } };
}

export function reparentedCopy(node: CanvasNode, absolute: { x: number; y: number }): CanvasNode {
  const { parentId: _parent, ...rest } = node;
  return { ...rest, position: absolute, data: { node: { ...node.data.node, parent: null } } };
}

export function pasteClipboard(clipboard: { nodes: CanvasNode[]; edges: CanvasEdge[] }, nodes: CanvasNode[], edges: CanvasEdge[]) {
  const taken = nodes.map((n) => n.id);
  const renamed = new Map<string, string>();
  const added = clipboard.nodes
    .map((node) => {
      const id = nextNodeId(node.id.replace(/_\d+$/, ""), [...taken, ...renamed.values()]);
      renamed.set(node.id, id);
      // body nodes keep their place in their (pasted) container; the rest shift a little
      const position = node.parentId ? node.position : { x: node.position.x + 40, y: node.position.y + 40 };
      return { ...node, id, position, selected: true, data: { node: { ...node.data.node, id } } };
    })
    .map((node) => {
      if (!node.parentId) return node;
      const parent = renamed.get(node.parentId) as string;
      return { ...node, parentId: parent, data: { node: { ...node.data.node, parent } } };
    });
  const edgeIds = edges.map((e) => e.id);
  const addedEdges = clipboard.edges.map((edge) => {
    const id = nextEdgeId(edgeIds);
    edgeIds.push(id);
    const source = renamed.get(edge.source) as string;
    const target = renamed.get(edge.target) as string;
    return { ...edge, id, source, target, selected: false, data: { edge: { ...edge.data?.edge, id, source, target } } };
  });
  return { nodes: added, edges: addedEdges };
}

/** The graph laid out (dagre, containers sized to their body), sizes kept in the document. */
export function laidOut(nodes: CanvasNode[], edges: CanvasEdge[], nodeTypes: Record<string, NodeTypeInfo> = {}): CanvasNode[] {
  const byId = new Map(nodes.map((n) => [n.id, n]));
  const handlesOf = (id: string) => {
    const node = byId.get(id);
    return node ? outputHandles(nodeTypes[node.type ?? ""], node.data.node) : [];
  };
  const { positions, sizes } = layoutWithContainers({ nodes, edges, handlesOf });
  return nodes.map((n) => {
    const moved = { ...n, position: positions[n.id] ?? n.position };
    const size = sizes[n.id];
    return size ? withDocumentSize({ ...moved, ...size }, size) : moved;
  });
}
