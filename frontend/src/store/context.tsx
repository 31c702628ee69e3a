/** The store is provided through context; components read it with `useCanvas(selector)`. */
import { createContext, useContext, useState, type ReactNode } from "react";
import { useStore } from "zustand";
import { useShallow } from "zustand/react/shallow";
import { createCanvasStore, type CanvasStore, type CanvasStoreApi } from "./canvasStore";

const CanvasContext = createContext<CanvasStoreApi | null>(null);

export function CanvasProvider({ children }: { children: ReactNode }) {
  const [store] = useState(() => createCanvasStore());
  return <CanvasContext.Provider value={store}>{children}</CanvasContext.Provider>;
}

export function useCanvasApi(): CanvasStoreApi {
  const store = useContext(CanvasContext);
  if (!store) throw new Error("useCanvas must be used inside <CanvasProvider>");
  return store;
}

/** Select from the store; object/array results are compared shallowly. */
export function useCanvas<T>(selector: (state: CanvasStore) => T): T {
  return useStore(useCanvasApi(), useShallow(selector));
}
