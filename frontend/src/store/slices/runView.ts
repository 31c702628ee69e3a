/** The runView slice: the shown run's live state (its events applied), its fetched report, and
 * what the user inspects in it. Nodes a running graph grows are shown during that run only. */
import { absolutePositions, CONTAINER_DEFAULT } from "../../lib/containers";
import { CONTAINER_Z, toCanvasEdge, toCanvasNode, type CanvasEdge, type CanvasNode } from "../../lib/flow";
import { placeGrownNodes } from "../../lib/layout";
import { applyRunEvents, emptyRunView, type RunViewState } from "../../lib/runEvents";
import type { RunViewActions, RunViewSliceState, SliceCreator } from "../types";
import { approvalsClosed, approvalsForNewRun } from "./approvals";
import { replayClosed } from "./replay";

export const initialRunView = (): RunViewSliceState => ({ run: null, runReport: null, inspecting: null, iterationPicks: {} });

export const createRunViewSlice: SliceCreator<RunViewSliceState & RunViewActions> = (set, get) => ({
  ...initialRunView(),

  startRunView(runId) {
    const report = get().runReport;
    set({ run: emptyRunView(runId), runReport: report?.id === runId ? report : null, ...approvalsForNewRun(), ...replayClosed() });
  },

  applyEvents(events) {
    // while a past moment is shown (the scrubber), the live state goes on in `liveRun`
    const key = get().replay ? "liveRun" : "run";
    const run = get()[key];
    if (!run) return;
    const next = applyRunEvents(run, events);
    const grown = next.addedNodes.length !== run.addedNodes.length || next.addedEdges.length !== run.addedEdges.length;
    set(grown ? { [key]: next, ...withRunAdditions(get().nodes, get().edges, next, get().isContainer) } : { [key]: next });
  },

  setRunReport(report) {
    // kept even before the run view starts (a report may come first); readers match run ids
    if (report !== get().runReport) set({ runReport: report });
  },

  closeRunView() {
    const run = get().liveRun ?? get().run;
    if (!run) return set({ inspecting: null, iterationPicks: {}, runReport: null, ...approvalsClosed(), ...replayClosed() });
    // Nodes a running graph grew belong to that run, not to the document.
    const added = new Set(run.addedNodes.map((n) => n.id));
    const addedEdges = new Set(run.addedEdges.map((e) => e.id));
    set({
      run: null,
      runReport: null,
      inspecting: null,
      iterationPicks: {},
      ...approvalsClosed(),
      ...replayClosed(),
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
});

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
