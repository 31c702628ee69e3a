/** The document slice: the workflow being edited (nodes, edges, meta), its undo history, the
 * node types, problems and the notice. Every edit is refused while the access slice says read-only. */
import { addEdge, applyEdgeChanges, applyNodeChanges } from "@xyflow/react";
import {
  CONTAINER_DEFAULT,
  absolutePositions,
  containerAt,
  descendantsOf,
  nodeSize,
  parentOnDrop,
  parentsFirst,
  relativeTo,
} from "../../lib/containers";
import {
  CONTAINER_TYPES,
  CONTAINER_Z,
  docToFlow,
  flowToDoc,
  toCanvasNode,
  withDocumentSize,
  type CanvasEdge,
  type CanvasNode,
} from "../../lib/flow";
import { nextEdgeId, nextNodeId, nodeIdProblem, validateConnection } from "../../lib/graph";
import {
  crossesContainer,
  defaultConfig,
  graphOf,
  growToHold,
  keepMeasured,
  laidOut,
  pasteClipboard,
  pruneEdges,
  renameInEdge,
  renameInNode,
  reparent,
  reparentedCopy,
  withEstimates,
  withoutEstimates,
} from "../../lib/graphEdits";
import { placeAfter } from "../../lib/addAfter";
import { emptyHistory, record, redo, undo, type History } from "../../lib/history";
import { inputHandles, outputHandles } from "../../lib/nodeTypes";
import type { WorkflowDocument } from "../../lib/types";
import { isLargeGraph } from "../../lib/viewport";
import type { CanvasState, DocumentActions, DocumentState, SliceCreator, Snapshot } from "../types";

export const initialDocument = (): DocumentState => ({
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
  picker: null,
});

export const createDocumentSlice: SliceCreator<DocumentState & DocumentActions> = (set, get) => {
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
  /**
   * One key for the removals of one task: React Flow deletes a node by removing its edges, then
   * the node, in two calls; together they are one undo step.
   */
  let removalKey: string | null = null;
  let removals = 0;
  const removalEditKey = () => {
    if (removalKey === null) {
      removalKey = `remove:${++removals}`;
      queueMicrotask(() => (removalKey = null));
    }
    return removalKey;
  };
  const restore = (target: Snapshot, history: History<Snapshot>) =>
    set({ ...target, nodes: keepMeasured(target.nodes, get().nodes), history, dirty: true, lastEditKey: null });

  return {
    ...initialDocument(),

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
        ...(layout ? { nodes: laidOut(graph.nodes, graph.edges, get().nodeTypes) } : {}),
        workflowId: id,
        revision,
        owner: owner ?? null,
        problems: errors ?? [],
        dirty: false,
        history: emptyHistory(),
        lastEditKey: null,
      });
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
      const removed = changes.some((c) => c.type === "remove");
      if (structural) edit({ nodes, edges: pruneEdges(get().edges, nodes) }, removed ? removalEditKey() : null);
      else set(moved || resized ? { nodes, dirty: true } : { nodes });
    },

    onEdgesChange(allChanges) {
      const changes = get().readOnly === null ? allChanges : allChanges.filter((c) => c.type === "select");
      if (!changes.length) return;
      const edges = applyEdgeChanges(changes, get().edges);
      if (changes.some((c) => c.type === "remove")) edit({ edges }, removalEditKey());
      else set({ edges });
    },

    beginDrag() {
      if (get().refusedEdit(true)) return;
      set({ history: record(get().history, snapshot()), lastEditKey: null });
    },

    dropNodes(ids) {
      if (get().refusedEdit(true)) return;
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
      if (get().refusedEdit()) return false;
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
      if (get().refusedEdit()) return "";
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

    openPicker(at) {
      set({ picker: at });
    },

    addConnectedNode(type, source, handle) {
      set({ picker: null });
      const from = get().nodes.find((n) => n.id === source);
      if (!from || get().refusedEdit()) return "";
      const handles = outputHandles(get().nodeTypes[from.type ?? ""], { type: from.type ?? "", config: from.data.node.config });
      const position = placeAfter(get().nodes, source, Math.max(0, handles.indexOf(handle)), handles.length);
      const target = inputHandles(get().nodeTypes[type])[0];
      if (!position || !target) return "";
      const id = get().addNode(type, position); // the undo step: the edge joins it below
      const { nodes, edges } = get();
      const candidate = { source, target: id, source_handle: handle, target_handle: target };
      const check = validateConnection(graphOf(nodes, edges), candidate);
      if (!check.ok) {
        set({ notice: { kind: "error", text: `Added ${id} but cannot connect it: ${check.reason}` } });
        return id;
      }
      const edgeId = nextEdgeId(edges.map((e) => e.id));
      const edge = { id: edgeId, source, target: id, ...(handle === "out" ? {} : { source_handle: handle }) };
      const connection = { source, target: id, sourceHandle: handle, targetHandle: target };
      set({ edges: addEdge({ ...connection, id: edgeId, data: { edge } }, edges) as CanvasEdge[] });
      return id;
    },

    setNotes(notes, editKey) {
      if (get().refusedEdit()) return;
      edit({ meta: { ...get().meta, notes } }, editKey ? `notes:${editKey}` : null);
    },

    updateNode(id, patch, editKey) {
      if (get().refusedEdit()) return;
      const nodes = get().nodes.map((n) =>
        n.id === id ? { ...n, type: patch.type ?? n.type, data: { node: { ...n.data.node, ...patch } } } : n,
      );
      edit({ nodes }, editKey ? `${id}:${editKey}` : null);
    },

    renameNode(id, newId) {
      if (id === newId) return null;
      if (get().refusedEdit()) return get().readOnly;
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
      if (get().refusedEdit()) return;
      edit({ meta: { ...get().meta, ...patch } }, `meta:${Object.keys(patch).join(",")}`);
    },

    selectNode(id) {
      set({ nodes: get().nodes.map((n) => (n.selected === (n.id === id) ? n : { ...n, selected: n.id === id })) });
    },

    deleteSelected() {
      if (get().refusedEdit()) return;
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
      if (get().refusedEdit()) return;
      const { clipboard, nodes, edges } = get();
      if (!clipboard) return;
      const { nodes: added, edges: addedEdges } = pasteClipboard(clipboard, nodes, edges);
      edit({ nodes: [...nodes.map((n) => ({ ...n, selected: false })), ...added], edges: [...edges, ...addedEdges] });
    },

    undo() {
      if (get().refusedEdit(true)) return;
      const result = undo(get().history, snapshot());
      if (result) restore(result[1], result[0]);
    },

    redo() {
      if (get().refusedEdit(true)) return;
      const result = redo(get().history, snapshot());
      if (result) restore(result[1], result[0]);
    },

    layout() {
      if (get().refusedEdit()) return;
      const { nodes, edges } = get();
      edit({ nodes: laidOut(nodes, edges, get().nodeTypes) });
    },

    document() {
      const { meta, nodes, edges } = get();
      return flowToDoc(meta, nodes, edges);
    },

    markSaved(saved) {
      set({ revision: saved.revision, problems: saved.errors ?? [], dirty: false, lastEditKey: null });
    },

    applyPin(nodeId, pinned, revision) {
      const nodes = get().nodes.map((n) => {
        if (n.id !== nodeId) return n;
        const { pinned: _old, ...rest } = n.data.node;
        return { ...n, data: { ...n.data, node: pinned ? { ...rest, pinned } : rest } };
      });
      set({ nodes, revision });
    },

    setProblems(problems) {
      // the same problems again (the check after opening, most often none): nothing to redraw
      if (JSON.stringify(problems) === JSON.stringify(get().problems)) return;
      set({ problems });
    },

    notify(notice) {
      set({ notice });
    },

    isContainer(type) {
      if (!type) return false;
      const info = get().nodeTypes[type];
      return info ? !!info.container : CONTAINER_TYPES.has(type);
    },
  };
};
