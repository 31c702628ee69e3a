/** The editor's store: one factory, State and Actions kept apart, provided through context. */
import { addEdge, applyEdgeChanges, applyNodeChanges, type Connection, type EdgeChange, type NodeChange } from "@xyflow/react";
import { createStore } from "zustand/vanilla";
import { docToFlow, flowToDoc, toCanvasEdge, toCanvasNode, type CanvasEdge, type CanvasNode, type DocumentMeta } from "../lib/flow";
import { nextEdgeId, nextNodeId, nodeIdProblem, validateConnection } from "../lib/graph";
import { emptyHistory, record, redo, undo, type History } from "../lib/history";
import { autoLayout } from "../lib/layout";
import { applyRunEvents, emptyRunView, type RunViewState } from "../lib/runEvents";
import type { NodeTypeInfo, Position, Problem, RunEvent, SavedWorkflow, WorkflowDocument, WorkflowNode } from "../lib/types";

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
  inspecting: string | null;
}

export interface CanvasActions {
  load(workflow: SavedWorkflow, layout?: boolean): void;
  setNodeTypes(types: NodeTypeInfo[]): void;
  onNodesChange(changes: NodeChange<CanvasNode>[]): void;
  onEdgesChange(changes: EdgeChange<CanvasEdge>[]): void;
  beginDrag(): void;
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
  closeRunView(): void;
  inspect(nodeId: string | null): void;
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
  inspecting: null,
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
      set({ ...target, history, dirty: true, lastEditKey: null });

    return {
      ...initialState(),
      ...initial,

      load(workflow, layout = false) {
        const { id, revision, valid: _valid, errors, ...doc } = workflow;
        const graph = docToFlow(doc as WorkflowDocument);
        set({
          ...graph,
          workflowId: id,
          revision,
          problems: errors ?? [],
          dirty: false,
          history: emptyHistory(),
          lastEditKey: null,
        });
        if (layout) get().layout();
        if (layout) set({ dirty: false, history: emptyHistory() });
      },

      setNodeTypes(types) {
        set({ nodeTypes: Object.fromEntries(types.map((t) => [t.type, t])) });
      },

      onNodesChange(changes) {
        const structural = changes.some((c) => c.type === "remove" || c.type === "add");
        const moved = changes.some((c) => c.type === "position" && c.dragging === false);
        const nodes = applyNodeChanges(changes, get().nodes);
        if (structural) edit({ nodes, edges: pruneEdges(get().edges, nodes) });
        else set(moved ? { nodes, dirty: true } : { nodes });
      },

      onEdgesChange(changes) {
        const edges = applyEdgeChanges(changes, get().edges);
        if (changes.some((c) => c.type === "remove")) edit({ edges });
        else set({ edges });
      },

      beginDrag() {
        set({ history: record(get().history, snapshot()), lastEditKey: null });
      },

      connect(connection) {
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
        const { nodes, nodeTypes } = get();
        const id = nextNodeId(type, nodes.map((n) => n.id));
        const config = defaultConfig(nodeTypes[type]);
        const node = toCanvasNode({ id, type, name: nodeTypes[type]?.label ?? type, config, position });
        edit({ nodes: [...nodes.map((n) => ({ ...n, selected: false })), { ...node, selected: true }] });
        return id;
      },

      updateNode(id, patch, editKey) {
        const nodes = get().nodes.map((n) =>
          n.id === id ? { ...n, type: patch.type ?? n.type, data: { node: { ...n.data.node, ...patch } } } : n,
        );
        edit({ nodes }, editKey ? `${id}:${editKey}` : null);
      },

      renameNode(id, newId) {
        if (id === newId) return null;
        const { nodes, edges } = get();
        const problem = nodeIdProblem(newId, nodes.filter((n) => n.id !== id).map((n) => n.id));
        if (problem) return problem;
        edit({
          nodes: nodes.map((n) => renameInNode(n, id, newId)),
          edges: edges.map((e) => renameInEdge(e, id, newId)),
          inspecting: get().inspecting === id ? newId : get().inspecting,
        });
        return null;
      },

      updateMeta(patch) {
        edit({ meta: { ...get().meta, ...patch } }, `meta:${Object.keys(patch).join(",")}`);
      },

      selectNode(id) {
        set({ nodes: get().nodes.map((n) => (n.selected === (n.id === id) ? n : { ...n, selected: n.id === id })) });
      },

      deleteSelected() {
        const { nodes, edges } = get();
        const gone = new Set(nodes.filter((n) => n.selected).map((n) => n.id));
        const keptEdges = edges.filter((e) => !e.selected && !gone.has(e.source) && !gone.has(e.target));
        if (!gone.size && keptEdges.length === edges.length) return;
        edit({ nodes: nodes.filter((n) => !gone.has(n.id)), edges: keptEdges });
      },

      copySelection() {
        const { nodes, edges } = get();
        const picked = nodes.filter((n) => n.selected);
        const ids = new Set(picked.map((n) => n.id));
        const inner = edges.filter((e) => ids.has(e.source) && ids.has(e.target));
        if (picked.length) set({ clipboard: { nodes: picked, edges: inner }, notice: { kind: "info", text: `Copied ${picked.length} node(s)` } });
      },

      paste() {
        const { clipboard, nodes, edges } = get();
        if (!clipboard) return;
        const { nodes: added, edges: addedEdges } = pasteClipboard(clipboard, nodes, edges);
        edit({ nodes: [...nodes.map((n) => ({ ...n, selected: false })), ...added], edges: [...edges, ...addedEdges] });
      },

      undo() {
        const result = undo(get().history, snapshot());
        if (result) restore(result[1], result[0]);
      },

      redo() {
        const result = redo(get().history, snapshot());
        if (result) restore(result[1], result[0]);
      },

      layout() {
        const { nodes, edges } = get();
        const positions = autoLayout({ nodes, edges });
        edit({ nodes: nodes.map((n) => ({ ...n, position: positions[n.id] ?? n.position })) });
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
        set({ run: emptyRunView(runId) });
      },

      applyEvents(events) {
        const run = get().run;
        if (!run) return;
        const next = applyRunEvents(run, events);
        const grown = next.addedNodes.length !== run.addedNodes.length || next.addedEdges.length !== run.addedEdges.length;
        set(grown ? { run: next, ...withRunAdditions(get().nodes, get().edges, next) } : { run: next });
      },

      closeRunView() {
        const run = get().run;
        if (!run) return set({ inspecting: null });
        // Nodes a running graph grew belong to that run, not to the document.
        const added = new Set(run.addedNodes.map((n) => n.id));
        const addedEdges = new Set(run.addedEdges.map((e) => e.id));
        set({
          run: null,
          inspecting: null,
          nodes: get().nodes.filter((n) => !added.has(n.id)),
          edges: get().edges.filter((e) => !addedEdges.has(e.id)),
        });
      },

      inspect(nodeId) {
        set({ inspecting: nodeId });
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

/** Show what `graph.changed` events added to a running graph (SPEC §4 dynamic growth). */
function withRunAdditions(nodes: CanvasNode[], edges: CanvasEdge[], run: RunViewState) {
  const nodeIds = new Set(nodes.map((n) => n.id));
  const edgeIds = new Set(edges.map((e) => e.id));
  const newNodes = run.addedNodes.filter((n) => !nodeIds.has(n.id));
  return {
    nodes: [...nodes, ...newNodes.map((n, i) => toCanvasNode(n, nodes.length + i))],
    edges: [...edges, ...run.addedEdges.filter((e) => !edgeIds.has(e.id)).map(toCanvasEdge)],
  };
}

function pruneEdges(edges: CanvasEdge[], nodes: CanvasNode[]): CanvasEdge[] {
  const ids = new Set(nodes.map((n) => n.id));
  return edges.filter((e) => ids.has(e.source) && ids.has(e.target));
}

function defaultConfig(info: NodeTypeInfo | undefined): Record<string, unknown> {
  const properties = info?.config_schema?.properties ?? {};
  const required = new Set(info?.config_schema?.required ?? []);
  const config: Record<string, unknown> = {};
  for (const [key, schema] of Object.entries(properties)) {
    if (schema.default !== undefined && required.has(key)) config[key] = schema.default;
  }
  return config;
}

function renameInNode(node: CanvasNode, id: string, newId: string): CanvasNode {
  const data = node.data.node;
  const parent = data.parent === id ? newId : data.parent;
  if (node.id !== id && parent === data.parent) return node;
  const nextId = node.id === id ? newId : node.id;
  return { ...node, id: nextId, data: { node: { ...data, id: nextId, ...(data.parent !== undefined ? { parent } : {}) } } };
}

function renameInEdge(edge: CanvasEdge, id: string, newId: string): CanvasEdge {
  if (edge.source !== id && edge.target !== id) return edge;
  const source = edge.source === id ? newId : edge.source;
  const target = edge.target === id ? newId : edge.target;
  const original = edge.data?.edge ?? { id: edge.id, source, target };
  return { ...edge, source, target, data: { edge: { ...original, source, target } } };
}

function pasteClipboard(
  clipboard: { nodes: CanvasNode[]; edges: CanvasEdge[] },
  nodes: CanvasNode[],
  edges: CanvasEdge[],
) {
  const taken = nodes.map((n) => n.id);
  const renamed = new Map<string, string>();
  const added = clipboard.nodes.map((node) => {
    const id = nextNodeId(node.id.replace(/_\d+$/, ""), [...taken, ...renamed.values()]);
    renamed.set(node.id, id);
    const position = { x: node.position.x + 40, y: node.position.y + 40 };
    return { ...node, id, position, selected: true, data: { node: { ...node.data.node, id } } };
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
