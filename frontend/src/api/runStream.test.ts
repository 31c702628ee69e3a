import { describe, expect, it } from "vitest";
import { applyRunEvents, emptyRunView, type RunViewState } from "../lib/runEvents";
import type { RunEvent } from "../lib/types";
import { backoffMs, openRunStream, parseEvent, type SocketLike, type SocketState, type StreamDeps } from "./runStream";

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
      apply: (events) => (view = applyRunEvents(view, events)),
      onState: (state) => states.push(state),
    },
    deps,
  );
  return { sockets, fetched, states, advance, settle, stop, view: () => view, persisted };
}

const ev = (seq: number, node: string, status: string): RunEvent =>
  ({ seq, run: 1, type: "node.status", node, status }) as RunEvent;
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
