/**
 * One run's replay: builds its index from the stored events, window by window, yielding to the
 * browser between steps (each step is one short task, so a 100,000-event run never freezes the
 * page), and answers "the state at seq s".
 *
 * A jump copies the snapshot before `s` (in short tasks) and folds the events after it; a step
 * forward from the moment shown last folds only the events in between, in place: the states it
 * hands out share their per-node maps with the next one it hands out (show one at a time).
 */
import {
  createReplayIndex,
  detachCursor,
  extendIndex,
  ReplayWindows,
  SNAPSHOT_EVERY,
  windowOf,
  writableCopy,
  type ReplayIndex,
} from "./replay";
import { applyRunEvents, type RunViewState } from "./runEvents";
import type { RunEvent } from "./types";

/** Events per indexing request (the API's limit). */
export const INDEX_PAGE = 1000;

export interface ReplayDeps {
  /** `GET /api/runs/{id}/events/?after=&limit=`. */
  fetchEvents(runId: number, after: number, limit: number): Promise<RunEvent[]>;
  /** Let the browser draw and handle input before going on (a macrotask). */
  pause(): Promise<void>;
}

interface Working {
  state: RunViewState;
  owned: Set<object>;
  seq: number;
}

export class ReplaySession {
  readonly index: ReplayIndex;
  readonly windows: ReplayWindows;
  /** Events per fetched window (the API answers at most INDEX_PAGE at once). */
  readonly windowSize: number;
  private building: Promise<void> | null = null;
  private waiters: { seq: number; resolve(): void }[] = [];
  private stopped = false;
  private work: Working | null = null;
  private queue: Promise<unknown> = Promise.resolve();
  private latest = -1;
  error: string | null = null;

  constructor(
    readonly runId: number,
    private readonly deps: ReplayDeps,
    every = SNAPSHOT_EVERY,
    windowSize = Math.min(every, INDEX_PAGE),
  ) {
    this.index = createReplayIndex(runId, every);
    this.windowSize = Math.max(1, Math.min(windowSize, every, INDEX_PAGE));
    this.windows = new ReplayWindows((after, limit) => deps.fetchEvents(runId, after, limit), this.windowSize);
  }

  /** Index every stored event up to `last` (the run's last seq); `onProgress` after each page. */
  build(last: number, onProgress?: (indexed: number) => void): Promise<void> {
    this.building ??= this.fold(last, onProgress);
    return this.building;
  }

  stop(): void {
    this.stopped = true;
    this.wake(true);
  }

  private async fold(last: number, onProgress?: (indexed: number) => void): Promise<void> {
    const { index, deps } = this;
    try {
      while (!this.stopped && index.total < last) {
        const from = index.total;
        const page = await deps.fetchEvents(this.runId, from, INDEX_PAGE);
        if (this.stopped) return;
        // one window per step: a snapshot, then the cursor's copy in short tasks
        for (let at = 0; at < page.length && !this.stopped;) {
          const boundary = (windowOf(index, index.total) + 1) * index.every;
          let end = at;
          while (end < page.length && page[end].seq <= boundary) end += 1;
          if (!extendIndex(index, page.slice(at, end))) break;
          at = end;
          if (!index.cursorOwned.size) await detachCursor(index, deps.pause);
          await deps.pause();
        }
        if (index.total === from) break; // nothing new: the run has no more events stored
        this.keepWindows(from, page);
        onProgress?.(index.total);
        this.wake();
      }
    } catch (error) {
      this.error = error instanceof Error ? error.message : String(error);
    } finally {
      this.building = Promise.resolve();
      this.wake(true);
    }
  }

  /** Windows the page covers whole go to the cache (the last ones fetched are the ones kept). */
  private keepWindows(from: number, page: readonly RunEvent[]): void {
    const every = this.windowSize;
    const { total } = this.index;
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
    if (seq <= this.index.total || this.building === null || this.stopped) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ seq, resolve }));
  }

  /**
   * The state after event `seq` (clamped to what is stored), or null when a later call asked
   * for another moment before this one's turn came (calls are answered one at a time).
   */
  stateAt(seq: number): Promise<RunViewState | null> {
    this.latest = seq;
    const answer = this.queue.then(() => (this.latest === seq ? this.compute(seq) : null));
    this.queue = answer.catch(() => undefined);
    return answer;
  }

  private async compute(seq: number): Promise<RunViewState> {
    await this.indexed(seq);
    const { index } = this;
    const target = Math.max(0, Math.min(seq, index.total));
    const k = windowOf(index, target);
    const work = this.work;
    if (work && target >= work.seq && target - work.seq <= index.every) {
      const events = await this.eventsBetween(work.seq, target);
      const state = applyRunEvents(work.state, events, work.owned);
      this.work = { state, owned: work.owned, seq: target };
      return state;
    }
    const snapshot = index.snapshots[k];
    if (snapshot.lastSeq === target) return snapshot; // a snapshot is never written: no copy
    // the working copy's maps are overwritten (no garbage); what it showed last is gone
    const reuse = this.work;
    this.work = null;
    const [events, copy] = await Promise.all([
      this.eventsBetween(snapshot.lastSeq, target),
      writableCopy(snapshot, this.deps.pause, undefined, reuse),
    ]);
    const state = applyRunEvents(copy.state, events, copy.owned);
    this.work = { state, owned: copy.owned, seq: target };
    return state;
  }

  /** The events after `from` up to `to` (at most a snapshot's spacing, a few windows). */
  private async eventsBetween(from: number, to: number): Promise<RunEvent[]> {
    if (to <= from) return [];
    const first = Math.floor(from / this.windowSize); // window k holds seq k·size+1 … (k+1)·size
    const last = Math.floor((to - 1) / this.windowSize);
    const windows = await Promise.all(Array.from({ length: last - first + 1 }, (_, i) => this.windows.get(first + i)));
    return windows.flat().filter((e) => e.seq > from && e.seq <= to);
  }

  /** The state at `seq` now, if it is a snapshot (no fetch, no copy). */
  stateNow(seq: number): RunViewState | null {
    const { index } = this;
    if (seq > index.total || seq % index.every !== 0) return null;
    return index.snapshots[seq / index.every] ?? null;
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
