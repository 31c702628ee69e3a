import { describe, expect, it } from "vitest";
import { applyRunEvent, applyRunEvents, countByState, edgeRunState, emptyRunView } from "./runEvents";
import type { RunEvent } from "./types";

const at = (s: number) => `2026-11-22T10:00:${String(s).padStart(2, "0")}.000Z`;

function node(seq: number, id: string, status: string, extra: object = {}): RunEvent {
  return { seq, run: 1, type: "node.status", node: id, iteration: null, status, at: at(seq), ...extra } as RunEvent;
}

const history: RunEvent[] = [
  { seq: 1, run: 1, type: "run.status", status: "running", at: at(1) },
  node(2, "a", "running", { attempt: 1 }),
  node(3, "a", "succeeded", { attempt: 1, duration_ms: 1000 }),
  node(4, "b", "running", { attempt: 1 }),
  node(5, "b", "retrying", { attempt: 1, error: { message: "boom", type: "error" } }),
  node(6, "b", "running", { attempt: 2 }),
  node(7, "b", "failed", { attempt: 2, error: { message: "boom again", type: "error" }, duration_ms: 20 }),
  node(8, "c", "upstream_failed"),
  { seq: 9, run: 1, type: "run.status", status: "failed", at: at(9) },
];

describe("applyRunEvent", () => {
  it("replays a run into final node states, attempts, durations and errors", () => {
    const state = applyRunEvents(emptyRunView(1), history);
    expect(state.status).toBe("failed");
    expect(state.lastSeq).toBe(9);
    expect(state.nodes.a).toMatchObject({ status: "succeeded", attempt: 1, durationMs: 1000 });
    expect(state.nodes.b).toMatchObject({ status: "failed", attempt: 2, error: { message: "boom again" } });
    expect(state.nodes.c.status).toBe("upstream_failed");
    expect(state.startedAt).toBe(at(1));
    expect(state.finishedAt).toBe(at(9));
  });

  it("reaches the same state when events arrive out of order", () => {
    const shuffled = [history[3], history[0], history[8], history[1], history[6], history[2], history[5], history[4], history[7]];
    const inOrder = applyRunEvents(emptyRunView(1), history);
    const outOfOrder = applyRunEvents(emptyRunView(1), shuffled);
    expect(outOfOrder.nodes).toEqual(inOrder.nodes);
    expect(outOfOrder.status).toBe("failed");
    expect(outOfOrder.held).toEqual({});
  });

  it("holds an event after a gap until the gap is filled", () => {
    const early = applyRunEvent(emptyRunView(1), history[2]);
    expect(early.nodes.a).toBeUndefined();
    expect(early.lastSeq).toBe(0);
    const filled = applyRunEvents(early, [history[0], history[1]]);
    expect(filled.nodes.a.status).toBe("succeeded");
    expect(filled.lastSeq).toBe(3);
  });

  it("ignores duplicates, so a replay overlapping the live stream changes nothing", () => {
    const once = applyRunEvents(emptyRunView(1), history.slice(0, 5));
    const twice = applyRunEvents(once, history.slice(0, 5));
    expect(twice).toBe(once);
  });

  it("resumes after a reconnect with ?after=<lastSeq> without losing or doubling events", () => {
    const beforeDrop = applyRunEvents(emptyRunView(1), history.slice(0, 4));
    // the server replays everything after lastSeq, and a late live copy of seq 4 arrives too
    const replay = history.filter((e) => e.seq > beforeDrop.lastSeq);
    const after = applyRunEvents(beforeDrop, [history[3], ...replay]);
    expect(after).toEqual(applyRunEvents(emptyRunView(1), history));
  });

  it("ignores malformed messages", () => {
    const state = emptyRunView(1);
    expect(applyRunEvent(state, { type: "error", message: "bad" } as unknown as RunEvent)).toBe(state);
  });

  it("collects logs, output previews and container progress", () => {
    const state = applyRunEvents(emptyRunView(1), [
      { seq: 1, run: 1, type: "node.log", node: "a", message: "hello" },
      { seq: 2, run: 1, type: "node.log", node: "a", message: "world" },
      { seq: 3, run: 1, type: "node.output", node: "a", output: { n: 1 } },
      { seq: 4, run: 1, type: "node.progress", node: "each", done: 2, total: 5 },
    ]);
    expect(state.logs.a).toEqual(["hello", "world"]);
    expect(state.outputs.a).toEqual({ n: 1 });
    expect(state.progress.each).toEqual({ done: 2, total: 5 });
  });

  it("keeps the first start time across retries", () => {
    const state = applyRunEvents(emptyRunView(1), history.slice(0, 6));
    expect(state.nodes.b.startedAt).toBe(at(4));
    expect(state.nodes.b.status).toBe("running");
    expect(state.nodes.b.attempt).toBe(2);
  });
});

describe("countByState", () => {
  it("counts nodes with no event as pending", () => {
    const state = applyRunEvents(emptyRunView(1), history.slice(0, 4));
    expect(countByState(state, ["a", "b", "c"])).toEqual({ succeeded: 1, running: 1, pending: 1 });
  });
});

describe("edgeRunState", () => {
  const view = applyRunEvents(emptyRunView(1), [
    node(1, "cond", "succeeded", { handles: ["true"] }),
    node(2, "yes", "running"),
    node(3, "no", "skipped"),
  ]);

  it("animates the taken edge while its target runs", () => {
    expect(edgeRunState(view, { id: "e1", source: "cond", source_handle: "true", target: "yes" })).toBe("active");
  });

  it("dims the branch that was not taken", () => {
    expect(edgeRunState(view, { id: "e2", source: "cond", source_handle: "false", target: "no" })).toBe("skipped");
  });

  it("marks edges out of a failed node as failed unless they leave by the error handle", () => {
    const failed = applyRunEvents(emptyRunView(1), [node(1, "x", "failed"), node(2, "h", "running")]);
    expect(edgeRunState(failed, { id: "e", source: "x", target: "y" })).toBe("failed");
    expect(edgeRunState(failed, { id: "e", source: "x", source_handle: "error", target: "h" })).toBe("active");
  });
});
