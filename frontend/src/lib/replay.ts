/**
 * Replay a stored run at any seq (issue 19, the scrubber): the state at seq `s` is the state the
 * live view had after event `s`, computed by the live view's own reducer (`applyRunEvents`).
 *
 * The index keeps a snapshot every `every` events (snapshot k is the state after seq k·every),
 * and each event's time by seq (for playing at 1×/10×/100×). A jump starts from the snapshot
 * at or before the target and reduces at most `every` events, whatever the run's length; the
 * events themselves are not kept here, they are fetched in windows (`ReplayWindows`).
 */
import { applyRunEvents, emptyRunView, type RunViewState } from "./runEvents";
import type { RunEvent } from "./types";

export const SNAPSHOT_EVERY = 2000;

export interface ReplayIndex {
  runId: number;
  every: number;
  /** The last seq folded into the index (every seq ≤ it has its snapshot and time). */
  total: number;
  /** snapshots[k]: the state after seq k·every (snapshots[0] is the empty view); never written. */
  snapshots: RunViewState[];
  /** times[seq]: the event's time in ms since the epoch, never decreasing (a later event never reads earlier). */
  times: Float64Array;
  /** The state after `total` (where the next events fold in), and the maps of it the index may fill in place. */
  cursor: RunViewState;
  cursorOwned: Set<object>;
}

export function createReplayIndex(runId: number, every = SNAPSHOT_EVERY): ReplayIndex {
  const empty = emptyRunView(runId);
  return { runId, every, total: 0, snapshots: [empty], times: new Float64Array(1024), cursor: empty, cursorOwned: new Set() };
}

/**
 * Fold the next events (seq total+1, total+2, … with no gap; earlier ones are ignored) into the
 * index. Returns how many were folded: an event after a gap stops the fold (the caller refetches).
 * The cursor is filled in place; at each snapshot it is left to the snapshot, so the next event
 * copies what it changes (`detachCursor` does that copy ahead, in short tasks).
 */
export function extendIndex(index: ReplayIndex, events: readonly RunEvent[]): number {
  let folded = 0;
  let start = 0;
  while (start < events.length && events[start].seq <= index.total) start += 1;
  while (start < events.length) {
    const boundary = (Math.floor(index.total / index.every) + 1) * index.every;
    let end = start;
    while (end < events.length && events[end].seq === index.total + (end - start) + 1 && events[end].seq <= boundary) end += 1;
    if (end === start) break;
    const chunk = events.slice(start, end);
    index.cursor = applyRunEvents(index.cursor, chunk, index.cursorOwned);
    for (const event of chunk) recordTime(index, event);
    index.total = chunk[chunk.length - 1].seq;
    if (index.total === boundary) {
      index.snapshots.push(index.cursor);
      index.cursorOwned = new Set(); // the snapshot's maps are never written again
    }
    folded += chunk.length;
    start = end;
  }
  return folded;
}

/** Continue the cursor on copies of the last snapshot's maps, copied in short tasks. */
export async function detachCursor(index: ReplayIndex, pause?: () => Promise<void>): Promise<void> {
  if (index.cursorOwned.size) return;
  const { state, owned } = await writableCopy(index.cursor, pause);
  index.cursor = state;
  index.cursorOwned = owned;
}

/**
 * A copy of `state` whose per-node maps and log lists the caller owns (may fill in place), made
 * in steps of at most ~`budgetMs` with `pause()` between them (a 10,000-item map's states are
 * copied over a few tasks, never in one long one). `reuse`: a working copy no longer needed,
 * whose maps and lists are overwritten instead of allocating new ones (a drag back and forth
 * then makes no garbage for the collector to stop the page for).
 */
export async function writableCopy(
  state: RunViewState,
  pause?: () => Promise<void>,
  budgetMs = 6,
  reuse: { state: RunViewState; owned: Set<object> } | null = null,
): Promise<{ state: RunViewState; owned: Set<object> }> {
  const owned = new Set<object>();
  let since = performance.now();
  const breathe = async () => {
    if (!pause || performance.now() - since < budgetMs) return;
    await pause();
    since = performance.now();
  };
  const mine = <T extends object>(value: T | undefined): T | null => (value && reuse?.owned.has(value) ? value : null);
  const copyMaps = async <V>(maps: Record<string, Record<string, V>>, old: Record<string, Record<string, V>> | undefined) => {
    const copied: Record<string, Record<string, V>> = {};
    for (const node of Object.keys(maps)) {
      const source = maps[node];
      const keys = Object.keys(source);
      const copy: Record<string, V> = mine(old?.[node]) ?? {};
      if (copy === old?.[node]) {
        const stale = Object.keys(copy);
        for (let i = 0; i < stale.length; i += 1) {
          if (!Object.prototype.hasOwnProperty.call(source, stale[i])) delete copy[stale[i]];
          if ((i & 511) === 511) await breathe();
        }
      }
      for (let i = 0; i < keys.length; i += 1) {
        copy[keys[i]] = source[keys[i]];
        if ((i & 511) === 511) await breathe();
      }
      owned.add(copy);
      copied[node] = copy;
      await breathe();
    }
    return copied;
  };
  const iterations = await copyMaps(state.iterations, reuse?.state.iterations);
  const iterationOutputs = await copyMaps(state.iterationOutputs, reuse?.state.iterationOutputs);
  const iterationLogs = await copyMaps(state.iterationLogs, reuse?.state.iterationLogs);
  const copyLists = async <V>(lists: Record<string, V[]>, old: Record<string, V[]> | undefined) => {
    const copied: Record<string, V[]> = {};
    for (const key of Object.keys(lists)) {
      const source = lists[key];
      const copy = mine(old?.[key]);
      if (copy) {
        copy.length = source.length;
        for (let i = 0; i < source.length; i += 1) copy[i] = source[i];
      }
      copied[key] = copy ?? source.slice();
      owned.add(copied[key]);
      await breathe();
    }
    return copied;
  };
  const logs = await copyLists(state.logs, reuse?.state.logs);
  const logLines = await copyLists(state.logLines, reuse?.state.logLines);
  return { state: { ...state, iterations, iterationOutputs, iterationLogs, logs, logLines }, owned };
}

function recordTime(index: ReplayIndex, event: RunEvent): void {
  if (event.seq >= index.times.length) {
    const grown = new Float64Array(Math.max(index.times.length * 2, event.seq + 1));
    grown.set(index.times);
    index.times = grown;
  }
  const parsed = event.at ? Date.parse(event.at) : NaN;
  const before = event.seq > 1 ? index.times[event.seq - 1] : NaN;
  index.times[event.seq] = Number.isNaN(parsed) ? before : Number.isNaN(before) ? parsed : Math.max(parsed, before);
}

/** Which window (snapshot number) a seq is reduced from: the snapshot at or before it. */
export function windowOf(index: Pick<ReplayIndex, "every">, seq: number): number {
  return Math.max(0, Math.floor(seq / index.every));
}

/**
 * The state after event `seq`, from its window's events (those after the snapshot; the window
 * may hold more, or start earlier). At most `every` events are reduced.
 */
export function stateAt(index: ReplayIndex, seq: number, windowEvents: readonly RunEvent[]): RunViewState {
  const target = Math.max(0, Math.min(seq, index.total));
  const snapshot = index.snapshots[windowOf(index, target)];
  const from = snapshot.lastSeq;
  const events = windowEvents.filter((e) => e.seq > from && e.seq <= target);
  return applyRunEvents(snapshot, events);
}

/** The time of event `seq` (ms since the epoch), or NaN when the events carry none. */
export function timeOf(index: ReplayIndex, seq: number): number {
  return seq >= 1 && seq <= index.total ? index.times[seq] : NaN;
}

/** The last seq whose time is at or before `time` (0 before the first event): where play at a speed is. */
export function seqAtTime(index: ReplayIndex, time: number): number {
  let low = 1;
  let high = index.total;
  let found = 0;
  while (low <= high) {
    const mid = (low + high) >> 1;
    const t = index.times[mid];
    if (!(t > time)) {
      found = mid;
      low = mid + 1;
    } else high = mid - 1;
  }
  return found;
}

/**
 * The events of each window, fetched on demand (`after` = k·size, `limit` = size)
 * and kept for the last `keep` windows used, so dragging back and forth refetches nothing.
 */
export class ReplayWindows {
  private readonly cache = new Map<number, Promise<RunEvent[]>>();

  constructor(
    private readonly fetchWindow: (after: number, limit: number) => Promise<RunEvent[]>,
    private readonly size: number,
    private readonly keep = 24,
  ) {}

  /** The events of window `k` (seq k·size+1 … (k+1)·size). */
  get(k: number): Promise<RunEvent[]> {
    const cached = this.cache.get(k);
    if (cached) {
      this.cache.delete(k); // most recently used last
      this.cache.set(k, cached);
      return cached;
    }
    const pending = this.fetchWindow(k * this.size, this.size).catch((error: unknown) => {
      this.cache.delete(k);
      throw error;
    });
    this.put(k, pending);
    return pending;
  }

  /** Keep window `k`'s events (fetched while indexing). */
  put(k: number, events: RunEvent[] | Promise<RunEvent[]>): void {
    this.cache.delete(k);
    this.cache.set(k, Promise.resolve(events));
    while (this.cache.size > this.keep) this.cache.delete(this.cache.keys().next().value as number);
  }

  has(k: number): boolean {
    return this.cache.has(k);
  }
}
