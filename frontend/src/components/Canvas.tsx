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
import { memo, useCallback, useMemo, useRef, type DragEvent } from "react";
import { CONTAINER_TYPES, type CanvasEdge, type CanvasNode } from "../lib/flow";
import { edgeRunState, type EdgeRunState, type RunViewState } from "../lib/runEvents";
import { NODE_STATE_LOOK } from "../lib/status";
import { useCanvas } from "../store/context";
import { buildNodeTypes } from "./BaseNode";

export const DRAG_MIME = "application/x-switchyard-node-type";

/** Memoised: the editor re-renders on selection changes, the canvas need not. `onNodeMenu`
 * (a run's node context menu) must be a stable callback. */
export const Canvas = memo(function Canvas({ onNodeMenu }: { onNodeMenu?: (node: string, x: number, y: number) => void }) {
  const s = useCanvas((st) => ({
    nodes: st.nodes,
    edges: st.edges,
    run: st.run,
    typeNames: Object.keys(st.nodeTypes).sort().join(","),
    containerNames: Object.values(st.nodeTypes).filter((t) => t.container).map((t) => t.type).sort().join(","),
    onNodesChange: st.onNodesChange,
    onEdgesChange: st.onEdgesChange,
    connect: st.connect,
    addNode: st.addNode,
    beginDrag: st.beginDrag,
    dropNodes: st.dropNodes,
    inspect: st.inspect,
  }));
  const flow = useReactFlow();
  const inRun = s.run !== null;

  const usedTypes = useMemo(() => [...new Set(s.nodes.map((n) => n.type ?? ""))].sort().join(","), [s.nodes]);
  const nodeTypes = useMemo(() => {
    const containers = new Set(s.containerNames ? s.containerNames.split(",") : CONTAINER_TYPES);
    return buildNodeTypes([...new Set([...s.typeNames.split(","), ...usedTypes.split(",")])].filter(Boolean), containers);
  }, [s.typeNames, s.containerNames, usedTypes]);
  const styled = useRef(new Map<string, StyledEdge>());
  const edges = useMemo(() => (s.run ? styleRunEdges(s.edges, s.run, styled.current) : s.edges), [s.edges, s.run]);

  const onDrop = useCallback(
    (event: DragEvent) => {
      const type = event.dataTransfer.getData(DRAG_MIME);
      if (!type || inRun) return;
      event.preventDefault();
      const position = flow.screenToFlowPosition({ x: event.clientX, y: event.clientY });
      s.addNode(type, { x: position.x - 110, y: position.y - 30 });
    },
    [flow, s, inRun],
  );

  return (
    <div className="canvas" data-testid="canvas" onDragOver={allowDrop} onDrop={onDrop}>
      <ReactFlow<CanvasNode, CanvasEdge>
        nodes={s.nodes}
        edges={edges}
        nodeTypes={nodeTypes}
        onNodesChange={s.onNodesChange}
        onEdgesChange={inRun ? undefined : s.onEdgesChange}
        onConnect={(c: Connection) => s.connect(c)}
        onNodeDragStart={s.beginDrag}
        onNodeDragStop={(_, _node, dragged) => s.dropNodes(dragged.map((n) => n.id))}
        onNodeClick={(_, node) => s.inspect(node.id)}
        onPaneClick={() => s.inspect(null)}
        onNodeContextMenu={
          inRun && onNodeMenu
            ? (event, node) => {
                event.preventDefault();
                onNodeMenu(node.id, event.clientX, event.clientY);
              }
            : undefined
        }
        nodesDraggable={!inRun}
        nodesConnectable={!inRun}
        deleteKeyCode={inRun ? null : ["Delete", "Backspace"]}
        multiSelectionKeyCode={["Meta", "Control", "Shift"]}
        defaultEdgeOptions={{ type: "smoothstep" }}
        onlyRenderVisibleElements={s.nodes.length > 200}
        fitView
        fitViewOptions={{ padding: 0.2, maxZoom: 1.2 }}
        minZoom={0.05}
        proOptions={{ hideAttribution: true }}
        colorMode="dark"
      >
        <Background variant={BackgroundVariant.Dots} gap={20} size={1.4} />
        <MiniMap pannable zoomable nodeColor={(n) => miniMapColor(n as CanvasNode, s.run)} maskColor="rgba(10,12,18,0.7)" />
        <Controls showInteractive={false} />
      </ReactFlow>
    </div>
  );
});

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
 * An edge whose look did not change keeps its object, so React Flow skips re-rendering it.
 */
function styleRunEdges(edges: CanvasEdge[], run: RunViewState, cache: Map<string, StyledEdge>): CanvasEdge[] {
  return edges.map((edge) => {
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
}
