/** The store is provided through context; components read it with `useCanvas(selector)`. */
import { createContext, useCallback, useContext, useRef, useState, useSyncExternalStore, type ReactNode } from "react";
import { shallow } from "zustand/vanilla/shallow";
import { createCanvasStore, type CanvasStore, type CanvasStoreApi } from "./canvasStore";

const CanvasContext = createContext<CanvasStoreApi | null>(null);

export function CanvasProvider({ children }: { children: ReactNode }) {
  const [store] = useState(() => createCanvasStore());
  return <CanvasContext.Provider value={store}>{children}</CanvasContext.Provider>;
}

/** Whether a store is provided (a form rendered on its own, as in a test, has none). */
export function useHasCanvas(): boolean {
  return useContext(CanvasContext) !== null;
}

export function useCanvasApi(): CanvasStoreApi {
  const store = useContext(CanvasContext);
  if (!store) throw new Error("useCanvas must be used inside <CanvasProvider>");
  return store;
}

/**
 * Select from the store; object/array results are compared shallowly (an equal result keeps the
 * previous object, so the component does not re-render).
 *
 * The snapshot function React sees is stable for the component's life (it calls the latest
 * selector): an inline selector is a new function every render, and a new snapshot function
 * makes React re-run the store-subscription effect of every re-rendered component — with 500
 * nodes re-rendering during a burst of run events, that effect churn was a fifth of a frame.
 */
export function useCanvas<T>(selector: (state: CanvasStore) => T): T {
  const store = useCanvasApi();
  const latest = useRef(selector);
  // read by getSnapshot during this same render (an effect would be too late: the snapshot of this
  // render must come from this render's selector)
  // eslint-disable-next-line react-hooks/refs
  latest.current = selector;
  const cache = useRef<{ value: T } | null>(null);
  const getSnapshot = useCallback(() => {
    const next = latest.current(store.getState());
    const held = cache.current;
    if (held && shallowEqual(held.value, next)) return held.value;
    cache.current = { value: next };
    return next;
  }, [store]);
  return useSyncExternalStore(store.subscribe, getSnapshot, getSnapshot);
}

/** Zustand's `shallow`, with a fast path for plain objects and arrays (no Map per compare). */
export function shallowEqual(a: unknown, b: unknown): boolean {
  if (Object.is(a, b)) return true;
  if (typeof a !== "object" || a === null || typeof b !== "object" || b === null) return false;
  const proto = Object.getPrototypeOf(a);
  if (proto !== Object.getPrototypeOf(b)) return false;
  if (Array.isArray(a)) {
    const other = b as unknown[];
    if (a.length !== other.length) return false;
    for (let i = 0; i < a.length; i++) if (!Object.is(a[i], other[i])) return false;
    return true;
  }
  if (proto !== Object.prototype && proto !== null) return shallow(a, b);
  const left = a as Record<string, unknown>;
  const right = b as Record<string, unknown>;
  let count = 0;
  for (const key in left) {
    if (!Object.prototype.hasOwnProperty.call(left, key)) continue;
    if (!Object.prototype.hasOwnProperty.call(right, key) || !Object.is(left[key], right[key])) return false;
    count++;
  }
  for (const key in right) if (Object.prototype.hasOwnProperty.call(right, key)) count--;
  return count === 0;
}
