/** The React Flow canvas: nodes from the registry, drop-to-create, connect with refusal reasons. */
import { Background, BackgroundVariant, ControlButton, Controls, MiniMap, ReactFlow, useReactFlow, type Connection } from "@xyflow/react";
import { memo, useCallback, useEffect, useLayoutEffect, useMemo, useRef, useState, type DragEvent, type MouseEvent } from "react";
import { absolutePositions } from "../lib/containers";
import { CONTAINER_TYPES, withBranchLanes, type CanvasEdge, type CanvasNode } from "../lib/flow";
import type { RunViewState } from "../lib/runEvents";
import { NODE_STATE_LOOK } from "../lib/status";
import { isLargeGraph, startViewport, type Viewport } from "../lib/viewport";
import { useCanvas, useCanvasApi } from "../store/context";
import { buildNodeTypes } from "./BaseNode";
import { EDGE_TYPES } from "./RunEdge";
import { StickyNotes, useAddNote } from "./StickyNotes";

export const DRAG_MIME = "application/x-switchyard-node-type";

interface CanvasProps {
  onNodeMenu?: (node: string, x: number, y: number) => void;
  miniMapHidden?: boolean;
  onToggleMiniMap?: () => void;
}

/** Memoised: the editor re-renders on selection changes, the canvas need not. `onNodeMenu`
 * (a run's node context menu) and `onToggleMiniMap` must be stable callbacks. */
export const Canvas = memo(function Canvas({ onNodeMenu, miniMapHidden = false, onToggleMiniMap }: CanvasProps) {
  const store = useCanvasApi();
  const s = useCanvas((st) => ({
    nodes: st.nodes,
    edges: st.edges,
    inRun: st.run !== null,
    readOnly: st.readOnly !== null,
    typeNames: Object.keys(st.nodeTypes).sort().join(","),
    containerNames: Object.values(st.nodeTypes)
      .filter((t) => t.container)
      .map((t) => t.type)
      .sort()
      .join(","),
    onNodesChange: st.onNodesChange,
    onEdgesChange: st.onEdgesChange,
    beginDrag: st.beginDrag,
  }));
  const flow = useReactFlow();
  const inRun = s.inRun;
  // a shared workflow is not the user's to change: nothing moves, connects or goes (the store refuses too)
  const locked = inRun || s.readOnly;
  const large = isLargeGraph(s.nodes.length);
  const wrapper = useRef<HTMLDivElement>(null);
  const opening = useOpeningViewport(wrapper);
  const showMiniMap = useAfterFirstPaint();
  const addNote = useAddNote();

  const edges = useMemo(() => withBranchLanes(s.edges), [s.edges]);
  const usedTypes = useMemo(() => [...new Set(s.nodes.map((n) => n.type ?? ""))].sort().join(","), [s.nodes]);
  const nodeTypes = useMemo(() => {
    const containers = new Set(s.containerNames ? s.containerNames.split(",") : CONTAINER_TYPES);
    return buildNodeTypes([...new Set([...s.typeNames.split(","), ...usedTypes.split(",")])].filter(Boolean), containers);
  }, [s.typeNames, s.containerNames, usedTypes]);

  const onDrop = useCallback(
    (event: DragEvent) => {
      const type = event.dataTransfer.getData(DRAG_MIME);
      if (!type || locked) return;
      event.preventDefault();
      const position = flow.screenToFlowPosition({ x: event.clientX, y: event.clientY });
      store.getState().addNode(type, { x: position.x - 110, y: position.y - 30 });
    },
    [flow, store, locked],
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

  return (
    <div className="canvas" data-testid="canvas" data-large-graph={large || undefined} onDragOver={allowDrop} onDrop={onDrop} ref={wrapper}>
      {opening && (
        <ReactFlow<CanvasNode, CanvasEdge>
          nodes={s.nodes}
          edges={edges}
          nodeTypes={nodeTypes}
          edgeTypes={EDGE_TYPES}
          onNodesChange={s.onNodesChange}
          onEdgesChange={inRun ? undefined : s.onEdgesChange}
          onConnect={onConnect}
          onNodeDragStart={s.beginDrag}
          onNodeDragStop={onNodeDragStop}
          onNodeClick={onNodeClick}
          onPaneClick={onPaneClick}
          onNodeContextMenu={inRun && onNodeMenu ? onNodeContextMenu : undefined}
          nodesDraggable={!locked}
          nodesConnectable={!locked}
          deleteKeyCode={locked ? null : DELETE_KEYS}
          multiSelectionKeyCode={MULTI_SELECT_KEYS}
          defaultEdgeOptions={DEFAULT_EDGE_OPTIONS}
          onlyRenderVisibleElements={large}
          fitView={!opening.viewport}
          fitViewOptions={FIT_VIEW}
          defaultViewport={opening.viewport ?? undefined}
          minZoom={0.05}
          proOptions={PRO_OPTIONS}
          colorMode="dark"
        >
          <Background variant={BackgroundVariant.Dots} gap={20} size={1.4} />
          <StickyNotes editable={!locked} />
          {showMiniMap && !miniMapHidden && <RunMiniMap />}
          <Controls showInteractive={false}>
            {!locked && (
              <ControlButton data-testid="add-note" title="Add a sticky note (saved with the workflow, never run)" onClick={addNote}>
                ✎
              </ControlButton>
            )}
            {onToggleMiniMap && (
              <ControlButton
                data-testid="toggle-minimap"
                aria-pressed={!miniMapHidden}
                title={miniMapHidden ? "Show the minimap" : "Hide the minimap"}
                onClick={onToggleMiniMap}
              >
                ▦
              </ControlButton>
            )}
          </Controls>
        </ReactFlow>
      )}
    </div>
  );
});

// Props given to <ReactFlow> are constants: a new object or array per render is written into
// React Flow's store and wakes every node, handle and edge subscribed to it.
const FIT_VIEW = { padding: 0.2, maxZoom: 1.2 };
const DELETE_KEYS = ["Delete", "Backspace"];
const MULTI_SELECT_KEYS = ["Meta", "Control", "Shift"];
const DEFAULT_EDGE_OPTIONS = { type: "smoothstep" };
const PRO_OPTIONS = { hideAttribution: true };
const MINIMAP_EVERY_MS = 500;

/**
 * The minimap, coloured by the shown run's node states. It reads the run itself, throttled
 * (it redraws every node when its colours change: during a burst, twice a second), so the
 * canvas and React Flow's props do not change with the run.
 */
const RunMiniMap = memo(function RunMiniMap() {
  const mapRun = useThrottledRun(MINIMAP_EVERY_MS);
  const nodeColor = useCallback((n: CanvasNode) => miniMapColor(n, mapRun), [mapRun]);
  return <MiniMap<CanvasNode> pannable zoomable nodeColor={nodeColor} maskColor="rgba(10,12,18,0.7)" />;
});

/**
 * The shown run, read at most once per `ms` (the last change always comes through): the canvas
 * itself does not re-render for every applied event (nodes and edges read their own state).
 */
function useThrottledRun(ms: number): RunViewState | null {
  const store = useCanvasApi();
  const [shown, setShown] = useState(() => store.getState().run);
  useEffect(() => {
    let timer: number | undefined;
    let last = 0;
    const flush = () => {
      timer = undefined;
      last = Date.now();
      setShown(() => store.getState().run);
    };
    flush();
    const unsubscribe = store.subscribe((state, previous) => {
      if (state.run === previous.run || timer !== undefined) return;
      timer = window.setTimeout(flush, Math.max(0, last + ms - Date.now()));
    });
    return () => {
      unsubscribe();
      window.clearTimeout(timer);
    };
  }, [store, ms]);
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
    // measured before the first paint: the canvas's box decides the opening viewport
    const box = wrapper.current?.getBoundingClientRect() ?? null;
    // eslint-disable-next-line react-hooks/set-state-in-effect -- a layout measurement, set before the browser paints
    setOpening({ viewport: largeGraphViewport(store.getState().nodes, box) });
  }, [store, wrapper]);
  return opening;
}

/** Where a large graph opens (see lib/viewport); null for a small one: fitted whole. */
function largeGraphViewport(nodes: CanvasNode[], box: DOMRect | null): Viewport | null {
  if (!isLargeGraph(nodes.length) || !box) return null;
  const absolute = absolutePositions(nodes);
  const placed = nodes.map((n) => ({ position: absolute.get(n.id) ?? n.position, width: n.width, height: n.height }));
  return startViewport(placed, box.width, box.height);
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
