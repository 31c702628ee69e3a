/**
 * The one edge component (registered as `smoothstep`, the default edge type). In a run it reads
 * its own look from the store — taken, active (animated), skipped, failed — and shows it as a
 * CSS class on a group inside React Flow's edge. The edge objects handed to React Flow never
 * change during a run, so React Flow re-adopts no edges and re-renders no edge wrappers while
 * events arrive: only an edge whose look changed re-renders, by its own store subscription.
 */
import { BaseEdge, getSmoothStepPath, type EdgeProps } from "@xyflow/react";
import { memo, useMemo } from "react";
import type { CanvasEdge } from "../lib/flow";
import { edgeRunState } from "../lib/runEvents";
import { useCanvas } from "../store/context";

function RunEdgeView({
  id,
  source,
  target,
  sourceHandleId,
  sourceX,
  sourceY,
  targetX,
  targetY,
  sourcePosition,
  targetPosition,
  label,
  labelStyle,
  labelShowBg,
  labelBgStyle,
  labelBgPadding,
  labelBgBorderRadius,
  style,
  markerEnd,
  markerStart,
  pathOptions,
  interactionWidth,
  data,
}: EdgeProps<CanvasEdge> & { pathOptions?: { borderRadius?: number; offset?: number } }) {
  const state = useCanvas((s) => (s.run ? edgeRunState(s.run, { id, source, target, source_handle: sourceHandleId ?? "out" }) : "idle"));
  const lane = data?.lane;
  const [path, labelX, labelY] = useMemo(
    () =>
      getSmoothStepPath({
        sourceX,
        sourceY,
        sourcePosition,
        targetX,
        targetY,
        targetPosition,
        borderRadius: pathOptions?.borderRadius,
        offset: pathOptions?.offset,
        // a branch runs down its own lane: two branches of one node never share a segment
        ...(lane ? { centerX: (sourceX + targetX) / 2 + lane * LANE_GAP } : {}),
      }),
    [sourceX, sourceY, sourcePosition, targetX, targetY, targetPosition, pathOptions?.borderRadius, pathOptions?.offset, lane],
  );
  return (
    <g className={`run-edge edge-${state}`} data-edge-state={state}>
      <BaseEdge
        path={path}
        labelX={labelX}
        labelY={labelY}
        label={label}
        labelStyle={labelStyle}
        labelShowBg={labelShowBg}
        labelBgStyle={labelBgStyle}
        labelBgPadding={labelBgPadding}
        labelBgBorderRadius={labelBgBorderRadius}
        style={style}
        markerEnd={markerEnd}
        markerStart={markerStart}
        interactionWidth={interactionWidth}
      />
    </g>
  );
}

const LANE_GAP = 16;

export const RunEdge = memo(RunEdgeView);

/** Stable (a new object per render would make React Flow rebuild every edge). */
export const EDGE_TYPES = { smoothstep: RunEdge, default: RunEdge };
