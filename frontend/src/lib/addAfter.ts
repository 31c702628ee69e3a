/** "+" on an output handle: where the node it adds goes (to the right of its source, level with
 * the handle, moved down past any node already there). */
import { absolutePositions, nodeSize } from "./containers";
import type { CanvasNode } from "./flow";
import type { Position } from "./types";

export const ADD_AFTER_GAP = 100; // between the source's right edge and the new node
const STEP = 110; // a handle's lane, and the way down past a taken spot

/** The new node's (absolute) position for handle `index` of `count` on node `sourceId`. */
export function placeAfter(nodes: readonly CanvasNode[], sourceId: string, index: number, count: number): Position | null {
  const source = nodes.find((n) => n.id === sourceId);
  if (!source) return null;
  const absolute = absolutePositions(nodes);
  const origin = absolute.get(sourceId) ?? source.position;
  const x = origin.x + nodeSize(source).width + ADD_AFTER_GAP;
  let y = origin.y + (index - (count - 1) / 2) * STEP;
  const taken = (at: number) =>
    nodes.some((n) => {
      const p = absolute.get(n.id) ?? n.position;
      const size = nodeSize(n);
      return n.id !== sourceId && Math.abs(p.x - x) < size.width && at > p.y - 70 && at < p.y + size.height;
    });
  for (let tries = 0; tries < 50 && taken(y); tries++) y += STEP;
  return { x: Math.round(x), y: Math.round(y) };
}
