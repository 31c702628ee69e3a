/** The editor's store: one factory, State and Actions kept apart, provided through context. */
import { addEdge, applyEdgeChanges, applyNodeChanges, type Connection, type EdgeChange, type NodeChange } from "@xyflow/react";
import { createStore } from "zustand/vanilla";
import {
  CONTAINER_DEFAULT,
  absolutePositions,
  containerAt,
  descendantsOf,
  parentOnDrop,
  parentsFirst,
  relativeTo,
  fitContainer,
  nodeSize,
  NODE_WIDTH,
} from "../lib/containers";
import {
  CONTAINER_TYPES,
  CONTAINER_Z,
  docToFlow,
  flowToDoc,
  toCanvasEdge,
  toCanvasNode,
  withDocumentSize,
  type CanvasEdge,
  type CanvasNode,
  type DocumentMeta,
} from "../lib/flow";
import { nextEdgeId, nextNodeId, nodeIdProblem, validateConnection } from "../lib/graph";
import { emptyHistory, record, redo, undo, type History } from "../lib/history";
import { layoutWithContainers, placeGrownNodes } from "../lib/layout";
import { renameInConfig } from "../lib/rename";
import { requiredKeys } from "../lib/schemaForm";
import { inputHandles, outputHandles } from "../lib/nodeTypes";
import { estimatedHandles, estimatedHeight, isLargeGraph } from "../lib/viewport";
import { applyRunEvents, emptyRunView, type RunViewState } from "../lib/runEvents";
import type { NodeTypeInfo, Position, Problem, RunEvent, RunReport, SavedWorkflow, WorkflowDocument, WorkflowNode } from "../lib/types";

export interface Snapshot {
  meta: DocumentMeta;
  nodes: CanvasNode[];
  edges: CanvasEdge[];
}

export interface Notice {
  kind: "error" | "info";
  text: string;
}

export interface CanvasState extends Snapshot {
  workflowId: number | null;
  revision: number;
  nodeTypes: Record<string, NodeTypeInfo>;
  problems: Problem[];
  dirty: boolean;
  history: History<Snapshot>;
  lastEditKey: string | null;
  clipboard: { nodes: CanvasNode[]; edges: CanvasEdge[] } | null;
  notice: Notice | null;
  run: RunViewState | null;
  /** The shown run's latest fetched report (full values, every attempt; lags the live events). */
  runReport: RunReport | null;
  inspecting: string | null;
  /** Per container: the iteration path its body nodes show in the run view (else the latest). */
  iterationPicks: Record<string, string>;
  /** The approval node whose decision dialog is asked for (by the inspector or a waiting container). */
  approvalRequest: string | null;
  /** The body iteration that dialog offers first (one whose decision waits for the run to pause again). */
  approvalOffer: string | null;
  /**
   * Approvals decided from this browser in the shown run (`approvalKey` → approved), dropped
   * from the dialog's chooser at once: the events that say so follow only once a worker applies
   * the decision, and more may be decided before that.
   */
  decidedApprovals: Record<string, boolean>;
  /** Who owns the loaded workflow (null: the server did not say). */
  owner: string | null;
  /**
   * Why the workflow cannot be changed here (shared with the current user by its owner), else
   * null: every edit is refused, with this as the notice. Runs, inspection and approvals work.
   */
  readOnly: string | null;
}

export interface CanvasActions {
  load(workflow: SavedWorkflow, layout?: boolean): void;
  /** Make the editor read-only (the reason) or editable again (null). */
  setReadOnly(reason: string | null): void;
  setNodeTypes(types: NodeTypeInfo[]): void;
  onNodesChange(changes: NodeChange<CanvasNode>[]): void;
  onEdgesChange(changes: EdgeChange<CanvasEdge>[]): void;
  beginDrag(): void;
  /** After a drag: body nodes dropped outside their container leave it, others dropped on one join it. */
  dropNodes(ids: string[]): void;
  connect(connection: Connection): boolean;
  addNode(type: string, position: Position): string;
  updateNode(id: string, patch: Partial<WorkflowNode>, editKey?: string): void;
  renameNode(id: string, newId: string): string | null;
  updateMeta(patch: Partial<DocumentMeta>): void;
  selectNode(id: string | null): void;
  deleteSelected(): void;
  copySelection(): void;
  paste(): void;
  undo(): void;
  redo(): void;
  layout(): void;
  document(): WorkflowDocument;
  markSaved(saved: SavedWorkflow): void;
  setProblems(problems: Problem[]): void;
  notify(notice: Notice | null): void;
  startRunView(runId: number): void;
  applyEvents(events: RunEvent[]): void;
  /** The shown run's report, as fetched. */
  setRunReport(report: RunReport | null): void;
  closeRunView(): void;
  inspect(nodeId: string | null): void;
  pickIteration(container: string, path: string | null): void;
  /** Open (a node id; `offer`: the iteration to offer first) or close (null) the approval dialog. */
  requestApproval(nodeId: string | null, offer?: string | null): void;
  /** Note an approval (`approvalKey`) as decided, before the events say so. */
  markApprovalDecided(key: string, approved: boolean): void;
  isContainer(type: string | undefined): boolean;
}

export type CanvasStore = CanvasState & CanvasActions;

const initialState = (): CanvasState => ({
  meta: { name: "" },
  nodes: [],
  edges: [],
  workflowId: null,
  revision: 0,
  nodeTypes: {},
  problems: [],
  dirty: false,
  history: emptyHistory(),
  lastEditKey: null,
  clipboard: null,
  notice: null,
  run: null,
  runReport: null,
  inspecting: null,
  iterationPicks: {},
  approvalRequest: null,
  approvalOffer: null,
  decidedApprovals: {},
  owner: null,
  readOnly: null,
});

export function createCanvasStore(initial: Partial<CanvasState> = {}) {
  return createStore<CanvasStore>()((set, get) => {
    const snapshot = (): Snapshot => ({ meta: get().meta, nodes: get().nodes, edges: get().edges });
    /** Record the current graph for undo, then apply an edit that makes the document dirty. */
    const edit = (change: Partial<CanvasState>, editKey: string | null = null) => {
      const state = get();
      const coalesce = editKey !== null && editKey === state.lastEditKey;
      set({
        ...change,
        history: coalesce ? state.history : record(state.history, snapshot()),
        lastEditKey: editKey,
        dirty: true,
      });
    };
    const restore = (target: Snapshot, history: History<Snapshot>) =>
      set({ ...target, nodes: keepMeasured(target.nodes, get().nodes), history, dirty: true, lastEditKey: null });
    /** True (and the reason shown) when the workflow is read-only here: the edit is refused. */
    const refused = (quiet = false) => {
      const reason = get().readOnly;
      if (reason !== null && !quiet) set({ notice: { kind: "error", text: reason } });
      return reason !== null;
    };
    const laidOut = (nodes: CanvasNode[], edges: CanvasEdge[]) => {
      const { positions, sizes } = layoutWithContainers({ nodes, edges });
      return nodes.map((n) => {
        const moved = { ...n, position: positions[n.id] ?? n.position };
        const size = sizes[n.id];
        return size ? withDocumentSize({ ...moved, ...size }, size) : moved;
      });
    };

    return {
      ...initialState(),
      ...initial,

      load(workflow, layout = false) {
        // `owner` is not part of the document (SPEC §6 adds it to the body): not sent back
        const { id, revision, valid: _valid, errors, owner, ...doc } = workflow;
        const flow = docToFlow(doc as WorkflowDocument, { isContainer: (type) => get().isContainer(type) });
        const graph = isLargeGraph(flow.nodes.length)
          ? { ...flow, nodes: withEstimates(flow.nodes, get().nodeTypes, get().isContainer) }
          : flow;
        set({
          ...graph,
          // a document without positions is laid out for showing, read-only or not; not an edit
          ...(layout ? { nodes: laidOut(graph.nodes, graph.edges) } : {}),
          workflowId: id,
          revision,
          owner: owner ?? null,
          problems: errors ?? [],
          dirty: false,
          history: emptyHistory(),
          lastEditKey: null,
        });
      },

      setReadOnly(reason) {
        if (reason !== get().readOnly) set({ readOnly: reason });
      },

      setNodeTypes(types) {
        set({ nodeTypes: Object.fromEntries(types.map((t) => [t.type, t])) });
      },

      onNodesChange(allChanges) {
        // read-only: selection and React Flow's own measurements only (no move, resize, add, remove)
        const changes =
          get().readOnly === null
            ? allChanges
            : allChanges.filter((c) => c.type === "select" || (c.type === "dimensions" && c.resizing === undefined));
        if (!changes.length) return;
        const structural = changes.some((c) => c.type === "remove" || c.type === "add");
        const moved = changes.some((c) => c.type === "position" && c.dragging === false);
        const resizedIds = new Set(changes.flatMap((c) => (c.type === "dimensions" && c.resizing === false ? [c.id] : [])));
        const resized = resizedIds.size > 0;
        const measured = new Set(changes.flatMap((c) => (c.type === "dimensions" ? [c.id] : [])));
        const applied = withoutEstimates(applyNodeChanges(changes, get().nodes), measured);
        // a resized frame's size goes into the document (SPEC §1 node `size`)
        const nodes = resized
          ? applied.map((n) => (resizedIds.has(n.id) && get().isContainer(n.type) ? withDocumentSize(n, nodeSize(n)) : n))
          : applied;
        if (structural) edit({ nodes, edges: pruneEdges(get().edges, nodes) });
        else set(moved || resized ? { nodes, dirty: true } : { nodes });
      },

      onEdgesChange(allChanges) {
        const changes = get().readOnly === null ? allChanges : allChanges.filter((c) => c.type === "select");
        if (!changes.length) return;
        const edges = applyEdgeChanges(changes, get().edges);
        if (changes.some((c) => c.type === "remove")) edit({ edges });
        else set({ edges });
      },

      beginDrag() {
        if (refused(true)) return;
        set({ history: record(get().history, snapshot()), lastEditKey: null });
      },

      dropNodes(ids) {
        if (refused(true)) return;
        const { nodes, edges } = get();
        const isContainer = (n: CanvasNode) => get().isContainer(n.type);
        const dragged = new Set(ids);
        let next = nodes;
        const moves: string[] = [];
        for (const id of ids) {
          const node = next.find((n) => n.id === id);
          // a body node dragged along with its container stays where it is
          if (!node || (node.parentId && dragged.has(node.parentId))) continue;
          const target = parentOnDrop(id, next, isContainer);
          if (target === (node.parentId ?? null)) continue;
          next = reparent(next, id, target);
          moves.push(target ? `"${id}" is now inside "${target}"` : `"${id}" left "${node.parentId}"`);
        }
        if (!moves.length) return;
        const kept = edges.filter((e) => !crossesContainer(next, e));
        const dropped = edges.length - kept.length;
        const text =
          moves.join("; ") + (dropped ? `; removed ${dropped} edge(s) that would cross the container boundary (undo to restore)` : "");
        set({ nodes: next, edges: kept, dirty: true, lastEditKey: null, notice: { kind: "info", text } });
      },

      connect(connection) {
        if (refused()) return false;
        const { nodes, edges } = get();
        const candidate = {
          source: connection.source,
          target: connection.target,
          source_handle: connection.sourceHandle ?? "out",
          target_handle: connection.targetHandle ?? "in",
        };
        const check = validateConnection(graphOf(nodes, edges), candidate);
        if (!check.ok) {
          set({ notice: { kind: "error", text: `Cannot connect: ${check.reason}` } });
          return false;
        }
        const id = nextEdgeId(edges.map((e) => e.id));
        const edge = { id, source: candidate.source, target: candidate.target };
        const withHandle = candidate.source_handle === "out" ? edge : { ...edge, source_handle: candidate.source_handle };
        edit({
          edges: addEdge({ ...connection, id, data: { edge: withHandle } }, edges) as CanvasEdge[],
          notice: null,
        });
        return true;
      },

      addNode(type, position) {
        if (refused()) return "";
        const { nodes, nodeTypes } = get();
        const id = nextNodeId(
          type,
          nodes.map((n) => n.id),
        );
        const config = defaultConfig(nodeTypes[type]);
        const container = get().isContainer(type);
        const size = container ? CONTAINER_DEFAULT : nodeSize({ id, position });
        const centre = { x: position.x + size.width / 2, y: position.y + Math.min(size.height, 88) / 2 };
        const parent = containerAt(centre, nodes, (n) => get().isContainer(n.type));
        const absolute = absolutePositions(nodes);
        const node = toCanvasNode({ id, type, name: nodeTypes[type]?.label ?? type, config, position, ...(parent ? { parent } : {}) });
        const placed: CanvasNode = {
          ...node,
          ...(parent ? { parentId: parent, position: relativeTo(position, parent, absolute) } : {}),
          ...(container ? { ...size, zIndex: CONTAINER_Z } : {}),
          selected: true,
        };
        const others = nodes.map((n) => ({ ...n, selected: false }));
        edit({ nodes: parent ? growToHold(parentsFirst([...others, placed]), parent) : [...others, placed] });
        return id;
      },

      updateNode(id, patch, editKey) {
        if (refused()) return;
        const nodes = get().nodes.map((n) =>
          n.id === id ? { ...n, type: patch.type ?? n.type, data: { node: { ...n.data.node, ...patch } } } : n,
        );
        edit({ nodes }, editKey ? `${id}:${editKey}` : null);
      },

      renameNode(id, newId) {
        if (id === newId) return null;
        if (refused()) return get().readOnly;
        const { nodes, edges, nodeTypes } = get();
        const problem = nodeIdProblem(
          newId,
          nodes.filter((n) => n.id !== id).map((n) => n.id),
        );
        if (problem) return problem;
        const expressionFields = (n: CanvasNode) => nodeTypes[n.type ?? ""]?.expression_fields ?? [];
        edit({
          nodes: nodes.map((n) => renameInNode(n, id, newId, expressionFields(n))),
          edges: edges.map((e) => renameInEdge(e, id, newId)),
          inspecting: get().inspecting === id ? newId : get().inspecting,
        });
        return null;
      },

      updateMeta(patch) {
        if (refused()) return;
        edit({ meta: { ...get().meta, ...patch } }, `meta:${Object.keys(patch).join(",")}`);
      },

      selectNode(id) {
        set({ nodes: get().nodes.map((n) => (n.selected === (n.id === id) ? n : { ...n, selected: n.id === id })) });
      },

      deleteSelected() {
        if (refused()) return;
        const { nodes, edges } = get();
        // a container goes with its body
        const gone = new Set(nodes.filter((n) => n.selected).flatMap((n) => [...descendantsOf(nodes, n.id)]));
        const keptEdges = edges.filter((e) => !e.selected && !gone.has(e.source) && !gone.has(e.target));
        if (!gone.size && keptEdges.length === edges.length) return;
        edit({ nodes: nodes.filter((n) => !gone.has(n.id)), edges: keptEdges });
      },

      copySelection() {
        const { nodes, edges } = get();
        const ids = new Set(nodes.filter((n) => n.selected).flatMap((n) => [...descendantsOf(nodes, n.id)]));
        const absolute = absolutePositions(nodes);
        // a body node copied without its container is pasted at the top level
        const picked = nodes
          .filter((n) => ids.has(n.id))
          .map((n) => (n.parentId && !ids.has(n.parentId) ? reparentedCopy(n, absolute.get(n.id) ?? n.position) : n));
        const inner = edges.filter((e) => ids.has(e.source) && ids.has(e.target));
        if (picked.length)
          set({ clipboard: { nodes: picked, edges: inner }, notice: { kind: "info", text: `Copied ${picked.length} node(s)` } });
      },

      paste() {
        if (refused()) return;
        const { clipboard, nodes, edges } = get();
        if (!clipboard) return;
        const { nodes: added, edges: addedEdges } = pasteClipboard(clipboard, nodes, edges);
        edit({ nodes: [...nodes.map((n) => ({ ...n, selected: false })), ...added], edges: [...edges, ...addedEdges] });
      },

      undo() {
        if (refused(true)) return;
        const result = undo(get().history, snapshot());
        if (result) restore(result[1], result[0]);
      },

      redo() {
        if (refused(true)) return;
        const result = redo(get().history, snapshot());
        if (result) restore(result[1], result[0]);
      },

      layout() {
        if (refused()) return;
        const { nodes, edges } = get();
        edit({ nodes: laidOut(nodes, edges) });
      },

      document() {
        const { meta, nodes, edges } = get();
        return flowToDoc(meta, nodes, edges);
      },

      markSaved(saved) {
        set({ revision: saved.revision, problems: saved.errors ?? [], dirty: false, lastEditKey: null });
      },

      setProblems(problems) {
        set({ problems });
      },

      notify(notice) {
        set({ notice });
      },

      startRunView(runId) {
        const report = get().runReport;
        set({ run: emptyRunView(runId), runReport: report?.id === runId ? report : null, decidedApprovals: {} });
      },

      applyEvents(events) {
        const run = get().run;
        if (!run) return;
        const next = applyRunEvents(run, events);
        const grown = next.addedNodes.length !== run.addedNodes.length || next.addedEdges.length !== run.addedEdges.length;
        set(grown ? { run: next, ...withRunAdditions(get().nodes, get().edges, next, get().isContainer) } : { run: next });
      },

      setRunReport(report) {
        // kept even before the run view starts (a report may come first); readers match run ids
        if (report !== get().runReport) set({ runReport: report });
      },

      closeRunView() {
        const run = get().run;
        if (!run) return set({ inspecting: null, iterationPicks: {}, runReport: null, approvalRequest: null, decidedApprovals: {} });
        // Nodes a running graph grew belong to that run, not to the document.
        const added = new Set(run.addedNodes.map((n) => n.id));
        const addedEdges = new Set(run.addedEdges.map((e) => e.id));
        set({
          run: null,
          runReport: null,
          inspecting: null,
          iterationPicks: {},
          approvalRequest: null,
          decidedApprovals: {},
          nodes: get().nodes.filter((n) => !added.has(n.id)),
          edges: get().edges.filter((e) => !addedEdges.has(e.id)),
        });
      },

      inspect(nodeId) {
        set({ inspecting: nodeId });
      },

      pickIteration(container, path) {
        const { [container]: _old, ...rest } = get().iterationPicks;
        set({ iterationPicks: path ? { ...rest, [container]: path } : rest });
      },

      requestApproval(nodeId, offer = null) {
        if (get().approvalRequest !== nodeId || get().approvalOffer !== offer) set({ approvalRequest: nodeId, approvalOffer: offer });
      },

      markApprovalDecided(key, approved) {
        if (get().decidedApprovals[key] !== approved) set({ decidedApprovals: { ...get().decidedApprovals, [key]: approved } });
      },

      isContainer(type) {
        if (!type) return false;
        const info = get().nodeTypes[type];
        return info ? !!info.container : CONTAINER_TYPES.has(type);
      },
    };
  });
}

export type CanvasStoreApi = ReturnType<typeof createCanvasStore>;

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

/**
 * Show what `graph.changed` events added to a running graph (SPEC §4 dynamic growth), placed
 * beside the node that grew them (the engine gives added nodes no position).
 */
function withRunAdditions(nodes: CanvasNode[], edges: CanvasEdge[], run: RunViewState, isContainer: (type: string) => boolean) {
  const nodeIds = new Set(nodes.map((n) => n.id));
  const edgeIds = new Set(edges.map((e) => e.id));
  const newNodes = run.addedNodes.filter((n, i, all) => !nodeIds.has(n.id) && all.findIndex((m) => m.id === n.id) === i);
  const absolute = absolutePositions(nodes);
  const bySource = new Map<string, string[]>();
  for (const n of newNodes) {
    const source = run.grownFrom[n.id] ?? "";
    bySource.set(source, [...(bySource.get(source) ?? []), n.id]);
  }
  const positions: Record<string, { x: number; y: number }> = {};
  for (const [source, ids] of bySource) {
    const anchor = absolute.get(source) ?? { x: 80, y: 80 };
    Object.assign(positions, placeGrownNodes(anchor, source, ids, run.addedEdges));
  }
  const added = newNodes.map((n, i) => {
    const node = toCanvasNode({ ...n, position: positions[n.id] ?? n.position }, nodes.length + i);
    return isContainer(n.type) ? { ...node, ...CONTAINER_DEFAULT, zIndex: CONTAINER_Z } : node;
  });
  return {
    nodes: [...nodes, ...added],
    edges: [...edges, ...run.addedEdges.filter((e) => !edgeIds.has(e.id)).map(toCanvasEdge)],
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
function growToHold(nodes: CanvasNode[], container: string): CanvasNode[] {
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
function crossesContainer(nodes: CanvasNode[], edge: CanvasEdge): boolean {
  const parent = (id: string) => nodes.find((n) => n.id === id)?.data.node.parent ?? null;
  return parent(edge.source) !== parent(edge.target);
}

/** Size and handle estimates for a large graph's nodes until measured (see lib/viewport). */
function withEstimates(
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
function withoutEstimates(nodes: CanvasNode[], measured: ReadonlySet<string>): CanvasNode[] {
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
function keepMeasured(nodes: CanvasNode[], current: CanvasNode[]): CanvasNode[] {
  if (!nodes.some((n) => n.handles)) return nodes;
  const now = new Map(current.map((n) => [n.id, n]));
  return nodes.map((n) => {
    const measured = now.get(n.id)?.measured;
    if (!n.handles || !measured || now.get(n.id)?.handles) return n;
    const { handles: _h, initialWidth: _w, initialHeight: _ht, ...rest } = n;
    return { ...rest, measured };
  });
}

function pruneEdges(edges: CanvasEdge[], nodes: CanvasNode[]): CanvasEdge[] {
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

function renameInEdge(edge: CanvasEdge, id: string, newId: string): CanvasEdge {
  if (edge.source !== id && edge.target !== id) return edge;
  const source = edge.source === id ? newId : edge.source;
  const target = edge.target === id ? newId : edge.target;
  const original = edge.data?.edge ?? { id: edge.id, source, target };
  return { ...edge, source, target, data: { edge: { ...original, source, target } } };
}

function reparentedCopy(node: CanvasNode, absolute: { x: number; y: number }): CanvasNode {
  const { parentId: _parent, ...rest } = node;
  return { ...rest, position: absolute, data: { node: { ...node.data.node, parent: null } } };
}

function pasteClipboard(clipboard: { nodes: CanvasNode[]; edges: CanvasEdge[] }, nodes: CanvasNode[], edges: CanvasEdge[]) {
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
