import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { createReplayIndex, extendIndex, ReplayWindows, seqAtTime, stateAt, timeOf, windowOf } from "./replay";
import { ReplaySession } from "./replaySession";
import { applyRunEvent, applyRunEvents, emptyRunView, type RunViewState } from "./runEvents";
import { NODE_STATES, type RunEvent } from "./types";

const T0 = Date.parse("2026-12-06T10:00:00.000Z");
const NODES = ["a", "b", "map", "body", "approve"];

/** One random event without its seq: what a run of containers, retries, growth and approvals emits. */
const eventSpec = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.record({
      type: fc.constant("node.status"),
      node: fc.constantFrom(...NODES),
      iteration: fc.option(fc.constantFrom("map[0]", "map[1]", "map[2]", "map[1]/l[0]"), { nil: null }),
      status: fc.constantFrom(...NODE_STATES),
      attempt: fc.integer({ min: 1, max: 3 }),
      duration_ms: fc.option(fc.nat(5000), { nil: undefined }),
      error: fc.option(fc.record({ message: fc.string({ maxLength: 8 }), type: fc.constantFrom("error", "timeout") }), { nil: undefined }),
      handles: fc.option(fc.subarray(["true", "false", "out"]), { nil: undefined }),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      type: fc.constant("node.output"),
      node: fc.constantFrom(...NODES),
      iteration: fc.option(fc.constantFrom("map[0]", "map[1]"), { nil: null }),
      output: fc.jsonValue({ maxDepth: 2 }),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      type: fc.constant("node.log"),
      node: fc.constantFrom(...NODES),
      iteration: fc.option(fc.constantFrom("map[0]", "map[1]"), { nil: null }),
      message: fc.string({ maxLength: 12 }),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      type: fc.constant("node.progress"),
      node: fc.constant("map"),
      done: fc.nat(10),
      total: fc.option(fc.nat(10), { nil: null }),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      type: fc.constant("run.status"),
      status: fc.constantFrom("running", "paused", "succeeded", "failed", "cancelled"),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      type: fc.constant("graph.changed"),
      node: fc.constant("a"),
      nodes: fc.array(fc.record({ id: fc.constantFrom("g1", "g2", "g3"), type: fc.constant("noop") }), { maxLength: 2 }),
      edges: fc.constant([]),
    }),
  },
);

const runArb = fc.array(fc.tuple(eventSpec, fc.nat(1500)), { minLength: 1, maxLength: 160 }).map((specs) => {
  let time = T0;
  return specs.map(([spec, gap], i) => {
    time += gap;
    return { ...spec, seq: i + 1, run: 7, at: new Date(time).toISOString() } as unknown as RunEvent;
  });
});

/** The live view's state after each event: the states it passed through, event by event. */
function liveStates(events: RunEvent[]): RunViewState[] {
  const states = [emptyRunView(7)];
  for (const event of events) states.push(applyRunEvent(states[states.length - 1], event));
  return states;
}

function fakeApi(events: RunEvent[], calls: [number, number][] = []) {
  return {
    fetchEvents: async (_run: number, after: number, limit: number) => {
      calls.push([after, limit]);
      return events.filter((e) => e.seq > after).slice(0, limit);
    },
    pause: () => Promise.resolve(),
  };
}

describe("replay: the state at any seq is the live view's state after that event", () => {
  it("holds for random runs with containers, retries, growth and approvals, at every seq", async () => {
    await fc.assert(
      fc.asyncProperty(
        runArb,
        fc.integer({ min: 1, max: 40 }),
        fc.array(fc.integer({ min: 1, max: 30 }), { minLength: 1, maxLength: 8 }),
        fc.array(fc.nat(), { maxLength: 30 }),
        fc.integer({ min: 1, max: 40 }),
        async (events, every, cuts, jumps, windowSize) => {
          const live = liveStates(events);
          // the live view also gets events in bursts of any size: the same states at each burst's end
          let chunked = emptyRunView(7);
          let at = 0;
          for (let i = 0; at < events.length; i += 1) {
            const next = Math.min(events.length, at + cuts[i % cuts.length]);
            chunked = applyRunEvents(chunked, events.slice(at, next));
            at = next;
            expect(chunked).toEqual(live[at]);
          }
          const session = new ReplaySession(7, fakeApi(events), every, windowSize);
          await session.build(events.length);
          expect(session.index.total).toBe(events.length);
          expect(session.index.cursor).toEqual(live[events.length]);
          for (let seq = 0; seq <= events.length; seq += 1) expect(await session.stateAt(seq)).toEqual(live[seq]);
          // and jumping about: back, forward, across windows, from copies of the snapshots
          for (const seq of jumps.map((j) => j % (events.length + 1))) expect(await session.stateAt(seq)).toEqual(live[seq]);
          // the snapshots were never written
          session.index.snapshots.forEach((snapshot, k) => expect(snapshot).toEqual(live[k * every]));
        },
      ),
      { numRuns: 150 },
    );
  });

  it("reduces at most one window of events per jump, from the snapshot before it", () => {
    fc.assert(
      fc.property(runArb, fc.integer({ min: 1, max: 25 }), (events, every) => {
        const index = createReplayIndex(7, every);
        extendIndex(index, events);
        expect(index.snapshots.length).toBe(Math.floor(events.length / every) + 1);
        index.snapshots.forEach((snapshot, k) => expect(snapshot.lastSeq).toBe(k * every));
        const live = liveStates(events);
        for (let seq = 0; seq <= events.length; seq += 1) {
          const k = windowOf(index, seq);
          const window = events.filter((e) => e.seq > k * every && e.seq <= (k + 1) * every);
          expect(window.length).toBeLessThanOrEqual(every);
          expect(stateAt(index, seq, window)).toEqual(live[seq]);
        }
      }),
    );
  });
});

describe("replay index", () => {
  const events: RunEvent[] = Array.from({ length: 10 }, (_, i) => ({
    seq: i + 1,
    run: 1,
    type: "node.status",
    node: "a",
    status: i % 2 ? "succeeded" : "running",
    at: new Date(T0 + [0, 10, 20, 20, 15, 40, 50, 60, 70, 80][i]).toISOString(),
  }));

  it("stops at a gap and folds nothing twice", () => {
    const index = createReplayIndex(1, 4);
    expect(extendIndex(index, [...events.slice(0, 3), events[4]])).toBe(3);
    expect(index.total).toBe(3);
    expect(extendIndex(index, events)).toBe(7);
    expect(index.total).toBe(10);
    expect(index.snapshots.map((s) => s.lastSeq)).toEqual([0, 4, 8]);
  });

  it("finds where play is at a time; an event that reads earlier than the one before keeps its time", () => {
    const index = createReplayIndex(1, 4);
    extendIndex(index, events);
    expect(seqAtTime(index, T0 - 1)).toBe(0);
    expect(seqAtTime(index, T0)).toBe(1);
    expect(seqAtTime(index, T0 + 20)).toBe(5); // seq 5 says +15 but came after seq 4 (+20)
    expect(timeOf(index, 5)).toBe(T0 + 20);
    expect(seqAtTime(index, T0 + 1000)).toBe(10);
  });

  it("fetches each window once while it is kept, and the oldest goes first", async () => {
    const calls: [number, number][] = [];
    const api = fakeApi(events, calls);
    const windows = new ReplayWindows((after, limit) => api.fetchEvents(1, after, limit), 4, 2);
    expect((await windows.get(1)).map((e) => e.seq)).toEqual([5, 6, 7, 8]);
    await windows.get(1);
    await windows.get(0);
    await windows.get(2);
    await windows.get(1);
    expect(calls).toEqual([
      [4, 4],
      [0, 4],
      [8, 4],
      [4, 4],
    ]);
  });

  it("a session indexes in pages, keeps the windows it saw and fetches no window for them", async () => {
    const calls: [number, number][] = [];
    const session = new ReplaySession(1, fakeApi(events, calls), 4);
    const progress: number[] = [];
    await session.build(10, (n) => progress.push(n));
    expect(progress).toEqual([10]);
    expect(calls).toEqual([[0, 1000]]);
    expect((await session.stateAt(6))?.nodes.a.status).toBe("succeeded");
    expect((await session.stateAt(7))?.nodes.a.status).toBe("running");
    expect(calls).toHaveLength(1);
    expect((await session.stateAt(10))?.lastSeq).toBe(10);
  });

  it("answers only the last of the moments asked for meanwhile", async () => {
    const session = new ReplaySession(1, fakeApi(events), 4);
    await session.build(10);
    const answers = await Promise.all([session.stateAt(3), session.stateAt(5), session.stateAt(9)]);
    expect(answers.map((s) => s?.lastSeq ?? null)).toEqual([null, null, 9]);
  });

  it("a jump past what is indexed waits for the index", async () => {
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const api = fakeApi(events);
    const session = new ReplaySession(
      1,
      {
        fetchEvents: async (run, after, limit) => {
          if (after > 0) await gate;
          return api.fetchEvents(run, after, Math.min(limit, 5));
        },
        pause: () => Promise.resolve(),
      },
      4,
    );
    const built = session.build(10);
    const later = session.stateAt(9);
    await Promise.resolve();
    release();
    expect((await later)?.lastSeq).toBe(9);
    await built;
  });
});
