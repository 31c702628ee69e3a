/**
 * The replay slice (issue 19, the scrubber): while the user looks at a past moment of the shown
 * run, `run` holds the state at that moment (what every node, edge, the status bar and the
 * inspector read) and `liveRun` the live state, which new events keep updating. Nodes the
 * graph grew after that moment are hidden until the scrubber reaches them.
 */
import type { RunViewState } from "../../lib/runEvents";
import type { CanvasState, ReplayActions, ReplayState, SliceCreator } from "../types";

export const replayClosed = (): ReplayState => ({ replay: null, liveRun: null });

/** The shown run's live state, whether or not a past moment is shown. */
export function liveRunOf(state: Pick<CanvasState, "run" | "replay" | "liveRun">): RunViewState | null {
  return state.replay ? state.liveRun : state.run;
}

export const createReplaySlice: SliceCreator<ReplayState & ReplayActions> = (set, get) => ({
  ...replayClosed(),

  showReplay(moment, last) {
    const live = liveRunOf(get());
    if (!live) return;
    const later = grownLater(live, moment);
    set({ replay: { seq: moment.lastSeq, last }, liveRun: live, run: moment, ...withHidden(get(), later) });
  },

  exitReplay() {
    const { replay, liveRun } = get();
    if (!replay || !liveRun) return;
    set({ replay: null, liveRun: null, run: liveRun, ...withHidden(get(), new Set()) });
  },
});

function grownLater(live: RunViewState, moment: RunViewState): Set<string> {
  const grown = new Set(moment.addedNodes.map((n) => n.id));
  const edges = new Set(moment.addedEdges.map((e) => e.id));
  return new Set([
    ...live.addedNodes.filter((n) => !grown.has(n.id)).map((n) => n.id),
    ...live.addedEdges.filter((e) => !edges.has(e.id)).map((e) => `edge:${e.id}`),
  ]);
}

/** Nodes and edges with `hidden` set for those in `later`, or the same arrays when nothing changes. */
function withHidden(state: Pick<CanvasState, "nodes" | "edges">, later: Set<string>) {
  const nodesChange = state.nodes.some((n) => !!n.hidden !== later.has(n.id));
  const edgesChange = state.edges.some((e) => !!e.hidden !== later.has(`edge:${e.id}`));
  return {
    ...(nodesChange ? { nodes: state.nodes.map((n) => (!!n.hidden === later.has(n.id) ? n : { ...n, hidden: later.has(n.id) })) } : {}),
    ...(edgesChange
      ? { edges: state.edges.map((e) => (!!e.hidden === later.has(`edge:${e.id}`) ? e : { ...e, hidden: later.has(`edge:${e.id}`) })) }
      : {}),
  };
}
