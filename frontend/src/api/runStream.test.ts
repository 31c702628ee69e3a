import { describe, expect, it } from "vitest";
import { applyRunEvents, emptyRunView, type RunViewState } from "../lib/runEvents";
import type { RunEvent } from "../lib/types";
import {
  CHUNK,
  FRAME_BUDGET_MS,
  backoffMs,
  nextChunkSize,
  openRunStream,
  parseEvent,
  type SocketLike,
  type SocketState,
  type StreamDeps,
} from "./runStream";

class FakeSocket implements SocketLike {
  readyState = 0;
  sent: string[] = [];
  closed = false;
  onopen: (() => void) | null = null;
  onmessage: ((message: { data: unknown }) => void) | null = null;
  onclose: (() => void) | null = null;
  constructor(readonly url: string) {}
  open() {
    this.readyState = 1;
    this.onopen?.();
  }
  receive(event: object) {
    this.onmessage?.({ data: JSON.stringify(event) });
  }
  drop() {
    this.readyState = 3;
    this.onclose?.();
  }
  send(data: string) {
    this.sent.push(data);
  }
  close() {
    this.closed = true;
  }
}

/** A hand-driven clock, socket factory and event store standing in for the browser and server. */
function harness(persisted: RunEvent[] = [], frames?: (() => void)[]) {
  let now = 0;
  let nextId = 1;
  const timers = new Map<number, { at: number; fn: () => void; every?: number }>();
  const sockets: FakeSocket[] = [];
  const fetched: number[] = [];
  let view: RunViewState = emptyRunView(1);
  const states: SocketState[] = [];
  const batches: number[][] = []; // the seqs of each apply call
  const deps: StreamDeps = {
    openSocket: (url) => {
      const socket = new FakeSocket(url);
      sockets.push(socket);
      return socket;
    },
    fetchEvents: async (_run, after) => {
      fetched.push(after);
      return persisted.filter((e) => e.seq > after);
    },
    url: (run, after) => `/ws/runs/${run}/?after=${after}`,
    now: () => now,
    setTimeout: (fn, ms) => (timers.set(nextId, { at: now + ms, fn }), nextId++),
    clearTimeout: (id) => void timers.delete(id ?? -1),
    setInterval: (fn, ms) => (timers.set(nextId, { at: now + ms, fn, every: ms }), nextId++),
    clearInterval: (id) => void timers.delete(id ?? -1),
    ...(frames
      ? {
          frame: (fn: () => void) => frames.push(fn),
          cancelFrame: (id: number | undefined) => void (id !== undefined && (frames[id - 1] = () => undefined)),
        }
      : {}),
  };
  const settle = () => new Promise((resolve) => setTimeout(resolve, 0));
  const advance = async (ms: number) => {
    const end = now + ms;
    for (;;) {
      const due = [...timers.entries()].filter(([, t]) => t.at <= end).sort((a, b) => a[1].at - b[1].at)[0];
      if (!due) break;
      const [id, timer] = due;
      now = timer.at;
      if (timer.every) timer.at += timer.every;
      else timers.delete(id);
      timer.fn();
      await settle();
    }
    now = end;
  };
  const stop = openRunStream(
    1,
    {
      lastSeq: () => view.lastSeq,
      finished: () => view.status === "succeeded" || view.status === "failed",
      apply: (events) => {
        batches.push(events.map((e) => e.seq));
        view = applyRunEvents(view, events);
      },
      onState: (state) => states.push(state),
    },
    deps,
  );
  const tick = (ms: number) => void (now += ms); // time passes, no timer fires
  return { sockets, fetched, states, advance, settle, stop, tick, view: () => view, persisted, batches };
}

const ev = (seq: number, node: string, status: string): RunEvent => ({ seq, run: 1, type: "node.status", node, status }) as RunEvent;
const runStatus = (seq: number, status: string): RunEvent => ({ seq, run: 1, type: "run.status", status }) as RunEvent;

describe("openRunStream", () => {
  it("replays persisted events over HTTP, then opens the socket after the last one", async () => {
    const h = harness([runStatus(1, "running"), ev(2, "a", "running")]);
    await h.settle();
    expect(h.view().nodes.a.status).toBe("running");
    expect(h.sockets.map((s) => s.url)).toEqual(["/ws/runs/1/?after=2"]);
  });

  it("applies live messages in batches and ignores control messages", async () => {
    const h = harness();
    await h.settle();
    const socket = h.sockets[0];
    socket.open();
    socket.receive(runStatus(1, "running"));
    socket.receive({ type: "pong", seq: 1 });
    socket.receive(ev(2, "a", "succeeded"));
    expect(h.view().lastSeq).toBe(0);
    await h.advance(20);
    expect(h.view().lastSeq).toBe(2);
    expect(h.view().nodes.a.status).toBe("succeeded");
  });

  it("applies what arrived before an animation frame in one batch, at that frame", async () => {
    const frames: (() => void)[] = [];
    const h = harness([], frames);
    await h.settle();
    const socket = h.sockets[0];
    socket.open();
    socket.receive(runStatus(1, "running"));
    socket.receive(ev(2, "a", "running"));
    socket.receive(ev(3, "a", "succeeded"));
    expect(frames).toHaveLength(1); // one frame asked for, however many messages
    expect(h.view().lastSeq).toBe(0);
    frames[0]();
    expect(h.view().lastSeq).toBe(3);
    // the fallback timer of that flush is gone: nothing is applied twice or late
    socket.receive(ev(4, "b", "running"));
    expect(frames).toHaveLength(2);
    await h.advance(300); // a hidden tab gets no frames: the timer flushes instead
    expect(h.view().lastSeq).toBe(4);
    frames[1]();
    expect(h.view().lastSeq).toBe(4);
  });

  it("reconnects after a drop with backoff, catching up from the last applied seq", async () => {
    const h = harness([runStatus(1, "running")]);
    await h.settle();
    h.sockets[0].open();
    h.persisted.push(ev(2, "a", "running"), ev(3, "a", "succeeded"));
    h.sockets[0].drop();
    expect(h.states.at(-1)).toBe("closed");
    await h.advance(backoffMs(0) - 1);
    expect(h.sockets).toHaveLength(1);
    await h.advance(1);
    expect(h.fetched).toEqual([0, 1]);
    expect(h.view().nodes.a.status).toBe("succeeded");
    expect(h.sockets[1].url).toBe("/ws/runs/1/?after=3");
  });

  it("backs off longer after each failed reconnect, up to 10 s", () => {
    expect([0, 1, 2, 3, 10].map(backoffMs)).toEqual([500, 1000, 2000, 4000, 10_000]);
  });

  it("asks a quiet open socket to resync from the last seq", async () => {
    const h = harness([runStatus(1, "running")]);
    await h.settle();
    h.sockets[0].open();
    await h.advance(3000);
    expect(h.sockets[0].sent.map((m) => JSON.parse(m))).toContainEqual({ type: "resync", after: 1 });
  });

  it("closes for good once the run has finished", async () => {
    const h = harness([runStatus(1, "running"), ev(2, "a", "succeeded"), runStatus(3, "succeeded")]);
    await h.settle();
    expect(h.states.at(-1)).toBe("done");
    expect(h.sockets).toHaveLength(0);
  });

  it("stops reconnecting when stopped", async () => {
    const h = harness();
    await h.settle();
    h.stop();
    h.sockets[0].drop();
    await h.advance(20_000);
    expect(h.sockets).toHaveLength(1);
    expect(h.sockets[0].closed).toBe(true);
  });
});

describe("parseEvent", () => {
  it("accepts run events and rejects control messages and junk", () => {
    expect(parseEvent(JSON.stringify({ seq: 4, type: "node.log", node: "a" }))).toMatchObject({ seq: 4 });
    expect(parseEvent(JSON.stringify({ type: "pong", seq: 4 }))).toBeNull();
    expect(parseEvent(JSON.stringify({ type: "error", message: "bad" }))).toBeNull();
    expect(parseEvent("{nope")).toBeNull();
    expect(parseEvent(new ArrayBuffer(2))).toBeNull();
  });
});

/** A burst: node i%50 running then succeeded, `pairs` times, after run.status running (seq 1). */
function burst(pairs: number, from = 1): RunEvent[] {
  const events: RunEvent[] = [runStatus(from, "running")];
  for (let i = 0; i < pairs; i++) {
    events.push(ev(from + 1 + 2 * i, `n${i % 50}`, "running"), ev(from + 2 + 2 * i, `n${i % 50}`, "succeeded"));
  }
  return events;
}

/** Run the frames asked for (from `from` on), in order, until none is pending; `between` runs before each. */
function runFrames(frames: (() => void)[], between: () => void = () => undefined, from = 0): number {
  let ran = from;
  while (ran < frames.length) {
    between();
    frames[ran++]();
  }
  return ran;
}

describe("a burst of live events is applied in chunks, one per animation frame", () => {
  it("applies every event exactly once, in seq order, across chunks", async () => {
    const frames: (() => void)[] = [];
    const h = harness([], frames);
    await h.settle();
    const socket = h.sockets[0];
    socket.open();
    const events = burst(1500); // 3,001 events
    for (const event of events) socket.receive(event);
    expect(frames).toHaveLength(1);
    expect(h.batches).toEqual([]);
    const ran = runFrames(frames, () => h.tick(16)); // quick frames: each chunk grows by half
    expect(ran).toBeGreaterThan(3);
    expect(h.batches.length).toBe(ran);
    expect(h.batches[0]).toHaveLength(CHUNK.start);
    expect(h.batches[1]).toHaveLength(Math.ceil(CHUNK.start * 1.5));
    for (const batch of h.batches) expect(batch.length).toBeLessThanOrEqual(CHUNK.max);
    // every event once, in order: the chunks concatenated are the burst
    expect(h.batches.flat()).toEqual(events.map((e) => e.seq));
    expect(h.view().lastSeq).toBe(events.length);
    expect(Object.keys(h.view().held)).toEqual([]);
    for (let i = 0; i < 50; i++) expect(h.view().nodes[`n${i}`].status).toBe("succeeded");
  });

  it("shows each chunk's states in between (a frame never skips ahead or back)", async () => {
    const frames: (() => void)[] = [];
    const h = harness([], frames);
    await h.settle();
    h.sockets[0].open();
    for (const event of burst(200)) h.sockets[0].receive(event);
    frames[0]();
    // the first chunk is seq 1..150: pair 74 (node n24, its second time) has started only
    expect(h.view().lastSeq).toBe(CHUNK.start);
    expect(h.view().nodes.n23.status).toBe("succeeded");
    expect(h.view().nodes.n24.status).toBe("running");
    expect(h.view().nodes.n25.status).toBe("succeeded");
  });

  it("a frame over the budget shrinks the next chunk; events arriving meanwhile queue behind", async () => {
    const frames: (() => void)[] = [];
    const h = harness([], frames);
    await h.settle();
    const socket = h.sockets[0];
    socket.open();
    const first = burst(1000);
    for (const event of first) socket.receive(event);
    frames[0]();
    h.tick(FRAME_BUDGET_MS * 2); // that chunk's frame took twice the budget
    const more = [ev(first.length + 1, "late", "running"), ev(first.length + 2, "late", "succeeded")];
    for (const event of more) socket.receive(event);
    frames[1]();
    expect(h.batches[1].length).toBeLessThan(h.batches[0].length);
    expect(h.batches[1]).toHaveLength(nextChunkSize(CHUNK.start, FRAME_BUDGET_MS * 2));
    runFrames(frames, () => h.tick(16), 2);
    expect(h.batches.flat()).toEqual([...first, ...more].map((e) => e.seq));
    expect(h.view().nodes.late.status).toBe("succeeded");
  });

  it("says done only once the last chunk (with the run's end) is applied", async () => {
    const frames: (() => void)[] = [];
    const h = harness([], frames);
    await h.settle();
    const socket = h.sockets[0];
    socket.open();
    const events = [...burst(300), runStatus(602, "succeeded")];
    for (const event of events) socket.receive(event);
    frames[0]();
    expect(h.states.at(-1)).toBe("open");
    runFrames(frames, () => h.tick(16));
    expect(h.states.at(-1)).toBe("done");
    expect(h.batches.flat()).toEqual(events.map((e) => e.seq));
    expect(socket.closed).toBe(true);
  });

  it("does not stop at a final run state while later events still wait in the buffer", async () => {
    const frames: (() => void)[] = [];
    const h = harness([], frames);
    await h.settle();
    const socket = h.sockets[0];
    socket.open();
    // the run ends inside the first chunk; a log line after it is still applied
    const events = [...burst(10), runStatus(22, "succeeded"), ...burst(200, 23).slice(1)];
    for (const event of events) socket.receive(event);
    runFrames(frames, () => h.tick(16));
    expect(h.batches.flat()).toEqual(events.map((e) => e.seq));
    expect(h.states.at(-1)).toBe("done");
  });

  it("applies a replay over HTTP whole, and a hidden tab's fallback timer applies all it holds", async () => {
    const persisted = burst(600);
    const frames: (() => void)[] = [];
    const h = harness(persisted, frames);
    await h.settle();
    expect(h.batches).toEqual([persisted.map((e) => e.seq)]);
    const socket = h.sockets[0];
    socket.open();
    const live = burst(400, persisted.length + 1).map((e, i) => (i === 0 ? ev(e.seq, "x", "running") : e));
    for (const event of live) socket.receive(event);
    await h.advance(300); // no frame came: the timer applies everything at once
    expect(h.batches).toHaveLength(2);
    expect(h.batches[1]).toEqual(live.map((e) => e.seq));
    frames[0](); // the frame cancelled by that flush does nothing
    expect(h.batches).toHaveLength(2);
  });
});

describe("nextChunkSize", () => {
  it("shrinks in proportion to a frame over the budget, grows by half after a quick one", () => {
    expect(nextChunkSize(400, FRAME_BUDGET_MS * 2)).toBe(Math.floor(400 * 0.8 * 0.5));
    expect(nextChunkSize(150, 16.7)).toBe(225);
    expect(nextChunkSize(150, FRAME_BUDGET_MS * 0.9)).toBe(150); // near the budget: kept
    expect(nextChunkSize(CHUNK.min, 1000)).toBe(CHUNK.min);
    expect(nextChunkSize(CHUNK.max, 1)).toBe(CHUNK.max);
    expect(nextChunkSize(300, null)).toBe(300);
    expect(nextChunkSize(300, Number.NaN)).toBe(300);
  });
});
