/** "Fit": the whole graph in view, drawn or not yet (see lib/viewport). */
import { useReactFlow } from "@xyflow/react";
import { useCallback } from "react";
import { absolutePositions } from "../lib/containers";
import { FIT_ALL, graphBounds } from "../lib/viewport";
import { useCanvasApi } from "../store/context";

export function useFitAll(): () => void {
  const flow = useReactFlow();
  const store = useCanvasApi();
  return useCallback(() => {
    const { nodes } = store.getState();
    const absolute = absolutePositions(nodes);
    const bounds = graphBounds(nodes.map((n) => ({ ...n, position: absolute.get(n.id) ?? n.position })));
    if (bounds) void flow.fitBounds(bounds, FIT_ALL);
  }, [flow, store]);
}
