/** The React Flow canvas: nodes from the registry, drop-to-create, connect with refusal reasons. */
import {
  Background,
  BackgroundVariant,
  Controls,
  MiniMap,
  ReactFlow,
  useReactFlow,
  type Connection,
} from "@xyflow/react";
import { memo, useCallback, useEffect, useLayoutEffect, useMemo, useRef, useState, type DragEvent, type MouseEvent } from "react";
import { absolutePositions } from "../lib/containers";
import { CONTAINER_TYPES, type CanvasEdge, type CanvasNode } from "../lib/flow";
import { edgeRunState, type EdgeRunState, type RunViewState } from "../lib/runEvents";
import { NODE_STATE_LOOK } from "../lib/status";
import { isLargeGraph, startViewport, type Viewport } from "../lib/viewport";
import { useCanvas, useCanvasApi } from "../store/context";
import { buildNodeTypes } from "./BaseNode";

export const DRAG_MIME = "application/x-switchyard-node-type";

/** Memoised: the editor re-renders on selection changes, the canvas need not. `onNodeMenu`
 * (a run's node context menu) must be a stable callback. */
export const Canvas = memo(function Canvas({ onNodeMenu }: { onNodeMenu?: (node: string, x: number, y: number) => void }) {
  const store = useCanvasApi();
  const s = useCanvas((st) => ({
    nodes: st.nodes,
    edges: st.edges,
    run: st.run,
    typeNames: Object.keys(st.nodeTypes).sort().join(","),
    containerNames: Object.values(st.nodeTypes).filter((t) => t.container).map((t) => t.type).sort().join(","),
    onNodesChange: st.onNodesChange,
    onEdgesChange: st.onEdgesChange,
    beginDrag: st.beginDrag,
  }));
  const flow = useReactFlow();
  const inRun = s.run !== null;
  const large = isLargeGraph(s.nodes.length);
  const wrapper = useRef<HTMLDivElement>(null);
  const opening = useOpeningViewport(wrapper);
  const showMiniMap = useAfterFirstPaint();

  const usedTypes = useMemo(() => [...new Set(s.nodes.map((n) => n.type ?? ""))].sort().join(","), [s.nodes]);
  const nodeTypes = useMemo(() => {
    const containers = new Set(s.containerNames ? s.containerNames.split(",") : CONTAINER_TYPES);
    return buildNodeTypes([...new Set([...s.typeNames.split(","), ...usedTypes.split(",")])].filter(Boolean), containers);
  }, [s.typeNames, s.containerNames, usedTypes]);
  const styled = useRef<{ cache: Map<string, StyledEdge>; last: CanvasEdge[] }>({ cache: new Map(), last: [] });
  const edges = useMemo(() => (s.run ? styleRunEdges(s.edges, s.run, styled.current) : s.edges), [s.edges, s.run]);

  const onDrop = useCallback(
    (event: DragEvent) => {
      const type = event.dataTransfer.getData(DRAG_MIME);
      if (!type || inRun) return;
      event.preventDefault();
      const position = flow.screenToFlowPosition({ x: event.clientX, y: event.clientY });
      store.getState().addNode(type, { x: position.x - 110, y: position.y - 30 });
    },
    [flow, store, inRun],
  );
  // Stable callbacks: a new function per render would be written into React Flow's store and
  // wake every component subscribed to it.
  const onConnect = useCallback((c: Connection) => void store.getState().connect(c), [store]);
  const onNodeDragStop = useCallback(
    (_: unknown, _node: CanvasNode, dragged: CanvasNode[]) => store.getState().dropNodes(dragged.map((n) => n.id)),
    [store],
  );
  const onNodeClick = useCallback((_: MouseEvent, node: CanvasNode) => store.getState().inspect(node.id), [store]);
  const onPaneClick = useCallback(() => store.getState().inspect(null), [store]);
  const onNodeContextMenu = useCallback(
    (event: MouseEvent, node: CanvasNode) => {
      event.preventDefault();
      onNodeMenu?.(node.id, event.clientX, event.clientY);
    },
    [onNodeMenu],
  );
  // the minimap redraws every node when its colours change: during a burst, twice a second
  const mapRun = useThrottled(s.run, MINIMAP_EVERY_MS);
  const nodeColor = useCallback((n: CanvasNode) => miniMapColor(n, mapRun), [mapRun]);

  return (
    <div className="canvas" data-testid="canvas" data-large-graph={large || undefined} onDragOver={allowDrop} onDrop={onDrop} ref={wrapper}>
      {opening && <ReactFlow<CanvasNode, CanvasEdge>
        nodes={s.nodes}
        edges={edges}
        nodeTypes={nodeTypes}
        onNodesChange={s.onNodesChange}
        onEdgesChange={inRun ? undefined : s.onEdgesChange}
        onConnect={onConnect}
        onNodeDragStart={s.beginDrag}
        onNodeDragStop={onNodeDragStop}
        onNodeClick={onNodeClick}
        onPaneClick={onPaneClick}
        onNodeContextMenu={inRun && onNodeMenu ? onNodeContextMenu : undefined}
        nodesDraggable={!inRun}
        nodesConnectable={!inRun}
        deleteKeyCode={inRun ? null : ["Delete", "Backspace"]}
        multiSelectionKeyCode={["Meta", "Control", "Shift"]}
        defaultEdgeOptions={{ type: "smoothstep" }}
        onlyRenderVisibleElements={large}
        fitView={!opening.viewport}
        fitViewOptions={FIT_VIEW}
        defaultViewport={opening.viewport ?? undefined}
        minZoom={0.05}
        proOptions={{ hideAttribution: true }}
        colorMode="dark"
      >
        <Background variant={BackgroundVariant.Dots} gap={20} size={1.4} />
        {showMiniMap && <MiniMap<CanvasNode> pannable zoomable nodeColor={nodeColor} maskColor="rgba(10,12,18,0.7)" />}
        <Controls showInteractive={false} />
      </ReactFlow>}
    </div>
  );
});

const FIT_VIEW = { padding: 0.2, maxZoom: 1.2 };
const MINIMAP_EVERY_MS = 500;

/** `value`, changing at most once per `ms` (the last change always comes through). */
function useThrottled<T>(value: T, ms: number): T {
  const [shown, setShown] = useState(value);
  const last = useRef(0);
  useEffect(() => {
    if (value === shown) return;
    const wait = Math.max(0, last.current + ms - Date.now());
    const timer = window.setTimeout(() => {
      last.current = Date.now();
      setShown(() => value);
    }, wait);
    return () => window.clearTimeout(timer);
  }, [value, shown, ms]);
  return shown;
}

/**
 * The viewport the canvas opens at, known before React Flow first draws (so a large graph never
 * renders every node once at the default viewport): null viewport = fit the graph whole.
 */
function useOpeningViewport(wrapper: React.RefObject<HTMLDivElement | null>): { viewport: Viewport | null } | null {
  const store = useCanvasApi();
  const [opening, setOpening] = useState<{ viewport: Viewport | null } | null>(null);
  useLayoutEffect(() => {
    const { nodes } = store.getState();
    const box = wrapper.current?.getBoundingClientRect();
    if (!isLargeGraph(nodes.length) || !box) return setOpening({ viewport: null });
    const absolute = absolutePositions(nodes);
    const placed = nodes.map((n) => ({ position: absolute.get(n.id) ?? n.position, width: n.width, height: n.height }));
    setOpening({ viewport: startViewport(placed, box.width, box.height) });
  }, [store, wrapper]);
  return opening;
}

/** False for the first paint, then true: the minimap waits until the graph is on screen. */
function useAfterFirstPaint(): boolean {
  const [ready, setReady] = useState(false);
  useEffect(() => {
    let timer: number | undefined;
    const frame = window.requestAnimationFrame(() => (timer = window.setTimeout(() => setReady(true), 0)));
    return () => {
      window.cancelAnimationFrame(frame);
      window.clearTimeout(timer);
    };
  }, []);
  return ready;
}

function allowDrop(event: DragEvent) {
  if (event.dataTransfer.types.includes(DRAG_MIME)) {
    event.preventDefault();
    event.dataTransfer.dropEffect = "move";
  }
}

function miniMapColor(node: CanvasNode, run: RunViewState | null): string {
  if (!run) return "#475569";
  return NODE_STATE_LOOK[run.nodes[node.id]?.status ?? "pending"].color;
}

interface StyledEdge {
  base: CanvasEdge;
  state: EdgeRunState;
  styled: CanvasEdge;
}

/**
 * Taken edges animate while their target runs; skipped branches dim; failed ones turn red.
 * An edge whose look did not change keeps its object, so React Flow skips re-rendering it, and
 * when no edge changed the previous array is returned, so React Flow has nothing to adopt.
 */
function styleRunEdges(edges: CanvasEdge[], run: RunViewState, memo: { cache: Map<string, StyledEdge>; last: CanvasEdge[] }): CanvasEdge[] {
  const { cache, last } = memo;
  const next = edges.map((edge) => {
    const state = edgeRunState(run, {
      id: edge.id,
      source: edge.source,
      target: edge.target,
      source_handle: edge.sourceHandle ?? "out",
    });
    const hit = cache.get(edge.id);
    if (hit && hit.base === edge && hit.state === state) return hit.styled;
    const styled = { ...edge, animated: state === "active", className: `edge-${state}` };
    cache.set(edge.id, { base: edge, state, styled });
    return styled;
  });
  if (next.length === last.length && next.every((edge, i) => edge === last[i])) return last;
  memo.last = next;
  return next;
}
