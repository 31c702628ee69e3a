/** Undo/redo as data: a bounded list of past snapshots and a list of undone ones. */

export interface History<T> {
  past: T[];
  future: T[];
}

export const HISTORY_LIMIT = 100;

export function emptyHistory<T>(): History<T> {
  return { past: [], future: [] };
}

/** Record `current` before a change; a new change forgets what was undone. */
export function record<T>(history: History<T>, current: T): History<T> {
  return { past: [...history.past, current].slice(-HISTORY_LIMIT), future: [] };
}

export function undo<T>(history: History<T>, current: T): [History<T>, T] | null {
  if (!history.past.length) return null;
  const previous = history.past[history.past.length - 1];
  return [{ past: history.past.slice(0, -1), future: [current, ...history.future] }, previous];
}

export function redo<T>(history: History<T>, current: T): [History<T>, T] | null {
  if (!history.future.length) return null;
  const [next, ...rest] = history.future;
  return [{ past: [...history.past, current], future: rest }, next];
}
