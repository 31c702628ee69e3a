/**
 * One run's replay: builds its index from the stored events, page by page, yielding to the
 * browser between pages (each page is one short task, so a 100,000-event run never freezes
 * the page), and answers "the state at seq s" from a snapshot plus one window of events.
 */
import { createReplayIndex, extendIndex, ReplayWindows, SNAPSHOT_EVERY, stateAt, windowOf, type ReplayIndex } from "./replay";
import type { RunViewState } from "./runEvents";
import type { RunEvent } from "./types";

/** Events per indexing request (the API's limit). */
export const INDEX_PAGE = 1000;

export interface ReplayDeps {
  /** `GET /api/runs/{id}/events/?after=&limit=`. */
  fetchEvents(runId: number, after: number, limit: number): Promise<RunEvent[]>;
  /** Let the browser draw and handle input before the next page (a macrotask). */
  pause(): Promise<void>;
}

export class ReplaySession {
  readonly index: ReplayIndex;
  readonly windows: ReplayWindows;
  private building: Promise<void> | null = null;
  private waiters: { seq: number; resolve(): void }[] = [];
  private stopped = false;
  error: string | null = null;

  constructor(
    readonly runId: number,
    private readonly deps: ReplayDeps,
    every = SNAPSHOT_EVERY,
  ) {
    this.index = createReplayIndex(runId, every);
    this.windows = new ReplayWindows((after, limit) => deps.fetchEvents(runId, after, limit), every);
  }

  /** Index every stored event up to `last` (the run's last seq); `onProgress` after each page. */
  build(last: number, onProgress?: (indexed: number) => void): Promise<void> {
    this.building ??= this.fold(last, onProgress);
    return this.building;
  }

  stop(): void {
    this.stopped = true;
  }

  private async fold(last: number, onProgress?: (indexed: number) => void): Promise<void> {
    const { index, deps } = this;
    try {
      while (!this.stopped && index.total < last) {
        const page = await deps.fetchEvents(this.runId, index.total, INDEX_PAGE);
        if (this.stopped) return;
        const from = index.total;
        if (!extendIndex(index, page)) break; // nothing new: the run has no more events stored
        this.keepWindows(from, page);
        onProgress?.(index.total);
        this.wake();
        await deps.pause();
      }
    } catch (error) {
      this.error = error instanceof Error ? error.message : String(error);
    } finally {
      this.wake(true);
    }
  }

  /** Windows the page covers whole go to the cache (the last ones fetched are the ones kept). */
  private keepWindows(from: number, page: readonly RunEvent[]): void {
    const { every, total } = this.index;
    const folded = page.filter((e) => e.seq > from && e.seq <= total); // seq from+1 … total, no gap
    for (let k = Math.ceil(from / every); (k + 1) * every <= total; k += 1) {
      const start = k * every - from;
      this.windows.put(k, folded.slice(start, start + every));
    }
  }

  private wake(all = false): void {
    const ready = this.waiters.filter((w) => all || w.seq <= this.index.total);
    this.waiters = this.waiters.filter((w) => !ready.includes(w));
    for (const w of ready) w.resolve();
  }

  /** Resolves once `seq` is indexed (or indexing ended). */
  private indexed(seq: number): Promise<void> {
    if (seq <= this.index.total || (this.building === null && !this.stopped)) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ seq, resolve }));
  }

  /** The state after event `seq` (clamped to what is stored). */
  async stateAt(seq: number): Promise<RunViewState> {
    await this.indexed(seq);
    const { index } = this;
    const target = Math.max(0, Math.min(seq, index.total));
    if (target === index.total || target % index.every === 0) return stateAt(index, target, []);
    return stateAt(index, target, await this.windows.get(windowOf(index, target)));
  }

  /** The state at `seq` now, if it needs no fetch (a snapshot, the end, or a cached window). */
  stateNow(seq: number): RunViewState | null {
    const { index } = this;
    if (seq > index.total) return null;
    if (seq === index.total || seq % index.every === 0) return stateAt(index, seq, []);
    return null;
  }
}

/** A macrotask pause: a message to our own channel runs after input and drawing are handled. */
export function browserPause(): Promise<void> {
  return new Promise((resolve) => {
    const channel = new MessageChannel();
    channel.port1.onmessage = () => resolve();
    channel.port2.postMessage(null);
  });
}
