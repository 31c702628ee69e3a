/**
 * A run's event stream: persisted events over HTTP, then the websocket, reconnecting with
 * backoff and `?after=<last applied seq>`; a quiet open socket asks for a resync. Plain
 * TypeScript with its clock, socket and fetch injected, so it is tested without a browser;
 * `useRunEvents` is the one hook that owns it.
 */
import type { RunEvent } from "../lib/types";

export type SocketState = "connecting" | "open" | "closed" | "done";

export interface SocketLike {
  readyState: number;
  send(data: string): void;
  close(): void;
  onopen: (() => void) | null;
  onmessage: ((message: { data: unknown }) => void) | null;
  onclose: (() => void) | null;
}

export interface StreamTarget {
  lastSeq(): number;
  finished(): boolean;
  apply(events: RunEvent[]): void;
  onState(state: SocketState): void;
}

export interface StreamDeps {
  openSocket(url: string): SocketLike;
  fetchEvents(runId: number, after: number): Promise<RunEvent[]>;
  url(runId: number, after: number): string;
  now(): number;
  setTimeout(fn: () => void, ms: number): number;
  clearTimeout(id: number | undefined): void;
  setInterval(fn: () => void, ms: number): number;
  clearInterval(id: number | undefined): void;
  /** The next animation frame (`requestAnimationFrame`): live events are applied once per frame. */
  frame?(fn: () => void): number;
  cancelFrame?(id: number | undefined): void;
}

export const OPEN = 1;
export const MAX_BACKOFF_MS = 10_000;
export const RESYNC_AFTER_MS = 2_000;
export const EVENTS_PAGE = 1000; // the server's largest page of /api/runs/{id}/events/
/** Without animation frames (tests), or when a hidden tab gets none, a timer flushes instead. */
const FLUSH_MS = 16;
const HIDDEN_FLUSH_MS = 250;

/**
 * Live events are applied in chunks, one chunk per animation frame, so a burst is spread over
 * frames instead of making one long task of its store update, render, style, layout and paint
 * (the page stays responsive during a burst). The chunk size adapts to the measured frame time: a frame
 * over `FRAME_BUDGET_MS` shrinks the next chunk in proportion, a quick one grows it. A replay
 * over HTTP (catching up) is applied whole: it is one render either way.
 */
export const CHUNK = { start: 150, min: 25, max: 5000 } as const;
export const FRAME_BUDGET_MS = 30;

/**
 * The next chunk size, from the last one and how long its frame took (from starting to apply it
 * to the next frame: the store update, the render, style, layout and paint, and the wait for
 * the display): over the budget, shrink in proportion (with a margin); one display frame or
 * so (60 Hz), grow by half. `frameMs` null (no frame measured) keeps the size. The first chunk
 * is small: the first frames of a burst run code not yet optimised.
 */
export function nextChunkSize(size: number, frameMs: number | null): number {
  if (frameMs === null || !Number.isFinite(frameMs) || frameMs < 0) return size;
  if (frameMs > FRAME_BUDGET_MS) return Math.max(CHUNK.min, Math.floor((size * FRAME_BUDGET_MS * 0.8) / frameMs));
  if (frameMs <= FRAME_BUDGET_MS * 0.7) return Math.min(CHUNK.max, Math.ceil(size * 1.5));
  return size;
}

/** Delay before reconnect attempt `n` (0-based): 0.5 s doubling up to 10 s. */
export function backoffMs(attempt: number): number {
  return Math.min(MAX_BACKOFF_MS, 500 * 2 ** attempt);
}

/** Start streaming; returns the function that stops it. */
export function openRunStream(runId: number, target: StreamTarget, deps: StreamDeps): () => void {
  let socket: SocketLike | null = null;
  let attempt = 0;
  let retryTimer: number | undefined;
  let flushTimer: number | undefined;
  let flushFrame: number | undefined;
  let lastMessageAt = deps.now();
  let stopped = false;
  const buffer: RunEvent[] = [];

  const stop = () => {
    stopped = true;
    deps.clearTimeout(retryTimer);
    deps.clearTimeout(flushTimer);
    deps.cancelFrame?.(flushFrame);
    deps.clearInterval(resyncTimer);
    socket?.close();
  };
  let chunk: number = CHUNK.start;
  // when the last chunk started to be applied, with more left for the next frame (to time it)
  let chunkStartedAt: number | null = null;
  /** Apply what is buffered: everything (`whole`), else one chunk, the rest at the next frame. */
  const flush = (whole = false, byFrame = false) => {
    const startedAt = deps.now();
    deps.clearTimeout(flushTimer);
    deps.cancelFrame?.(flushFrame);
    flushTimer = flushFrame = undefined;
    if (byFrame && chunkStartedAt !== null) chunk = nextChunkSize(chunk, startedAt - chunkStartedAt);
    chunkStartedAt = null;
    if (buffer.length) target.apply(whole ? buffer.splice(0) : buffer.splice(0, chunk));
    if (buffer.length) {
      chunkStartedAt = startedAt;
      scheduleFlush();
    } else if (target.finished() && !stopped) {
      stop();
      target.onState("done");
    }
  };
  /** One flush per animation frame, however many messages arrive before it. */
  const scheduleFlush = () => {
    if (flushTimer !== undefined || stopped) return;
    // a hidden tab gets no frames (and draws nothing): its fallback timer applies everything
    flushTimer = deps.setTimeout(() => flush(!!deps.frame), deps.frame ? HIDDEN_FLUSH_MS : FLUSH_MS);
    if (deps.frame) flushFrame = deps.frame(() => flush(false, true));
  };
  const catchUp = async () => {
    try {
      let after = target.lastSeq();
      for (;;) {
        const page = await deps.fetchEvents(runId, after);
        buffer.push(...page);
        if (page.length < EVENTS_PAGE || stopped) break;
        after = page[page.length - 1].seq;
      }
      flush(true);
    } catch {
      // the next reconnect tries again
    }
  };
  const connect = () => {
    target.onState("connecting");
    socket = deps.openSocket(deps.url(runId, target.lastSeq()));
    socket.onopen = () => {
      attempt = 0;
      target.onState("open");
    };
    socket.onmessage = (message) => {
      lastMessageAt = deps.now();
      const event = parseEvent(message.data);
      if (!event) return;
      buffer.push(event);
      scheduleFlush();
    };
    socket.onclose = () => {
      if (stopped) return;
      target.onState("closed");
      retryTimer = deps.setTimeout(() => catchUp().finally(() => stopped || connect()), backoffMs(attempt++));
    };
  };
  const resyncTimer = deps.setInterval(() => {
    if (socket?.readyState !== OPEN || deps.now() - lastMessageAt < RESYNC_AFTER_MS) return;
    lastMessageAt = deps.now();
    socket.send(JSON.stringify({ type: "resync", after: target.lastSeq() }));
  }, RESYNC_AFTER_MS / 2);

  catchUp().finally(() => stopped || connect());
  return stop;
}

/** A run event, or null for control messages (pong, error) and anything malformed. */
export function parseEvent(data: unknown): RunEvent | null {
  if (typeof data !== "string") return null;
  try {
    const value = JSON.parse(data);
    const isEvent = value && typeof value === "object" && Number.isInteger(value.seq) && /^[a-z]+\.[a-z]+$/.test(value.type);
    return isEvent ? (value as RunEvent) : null;
  } catch {
    return null;
  }
}
