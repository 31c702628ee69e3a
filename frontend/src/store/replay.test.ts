import { describe, expect, it } from "vitest";
import { createReplayIndex, extendIndex, stateAt } from "../lib/replay";
import type { RunEvent, SavedWorkflow } from "../lib/types";
import { createCanvasStore } from "./canvasStore";
import { approvalRunOf } from "./slices/approvals";
import { liveRunOf } from "./slices/replay";

const saved: SavedWorkflow = {
  id: 7,
  revision: 1,
  valid: true,
  errors: [],
  version: 1,
  name: "Grows",
  nodes: [{ id: "plan", type: "transform", config: {}, position: { x: 0, y: 0 } }],
  edges: [],
};

const events: RunEvent[] = [
  { seq: 1, run: 5, type: "run.status", status: "running" },
  { seq: 2, run: 5, type: "node.status", node: "plan", status: "running" },
  { seq: 3, run: 5, type: "node.status", node: "plan", status: "succeeded" },
  {
    seq: 4,
    run: 5,
    type: "graph.changed",
    node: "plan",
    nodes: [{ id: "step1", type: "noop" }],
    edges: [{ id: "g1", source: "plan", target: "step1" }],
  },
  { seq: 5, run: 5, type: "node.status", node: "step1", status: "failed", error: { message: "no" } },
  { seq: 6, run: 5, type: "run.status", status: "failed" },
];

function replayed() {
  const store = createCanvasStore();
  store.getState().load(saved);
  store.getState().startRunView(5);
  store.getState().applyEvents(events);
  const index = createReplayIndex(5, 2);
  extendIndex(index, events);
  return { store, at: (seq: number) => stateAt(index, seq, events) };
}

describe("replay in the store", () => {
  it("shows a past moment: colours from that moment, grown nodes hidden until they were added", () => {
    const { store, at } = replayed();
    expect(store.getState().nodes.map((n) => n.id)).toEqual(["plan", "step1"]);
    store.getState().showReplay(at(2), 6);
    const s = store.getState();
    expect(s.replay).toEqual({ seq: 2, last: 6 });
    expect(s.run?.nodes.plan.status).toBe("running");
    expect(s.run?.status).toBe("running");
    expect(s.nodes.find((n) => n.id === "step1")?.hidden).toBe(true);
    expect(s.edges.find((e) => e.id === "g1")?.hidden).toBe(true);
    store.getState().showReplay(at(5), 6);
    expect(store.getState().nodes.find((n) => n.id === "step1")?.hidden).toBe(false);
    expect(store.getState().run?.nodes.step1.status).toBe("failed");
  });

  it("keeps the live state going underneath, and the approvals follow it; back to the end shows it", () => {
    const { store, at } = replayed();
    store.getState().showReplay(at(1), 6);
    store.getState().applyEvents([{ seq: 7, run: 5, type: "run.status", status: "running" }]);
    expect(store.getState().run?.lastSeq).toBe(1);
    expect(liveRunOf(store.getState())?.lastSeq).toBe(7);
    expect(approvalRunOf(store.getState()).run?.status).toBe("running");
    store.getState().exitReplay();
    expect(store.getState().replay).toBeNull();
    expect(store.getState().run?.lastSeq).toBe(7);
    expect(store.getState().nodes.every((n) => !n.hidden)).toBe(true);
  });

  it("closing the run view leaves no replay and drops the grown nodes", () => {
    const { store, at } = replayed();
    store.getState().showReplay(at(2), 6);
    store.getState().closeRunView();
    expect(store.getState().replay).toBeNull();
    expect(store.getState().run).toBeNull();
    expect(store.getState().nodes.map((n) => n.id)).toEqual(["plan"]);
  });
});
