/** The editor's store: four slices (document, runView, approvals, access) composed by one
 * factory, provided through context (`store/context.tsx`). Types in `store/types.ts`. */
import { createStore } from "zustand/vanilla";
import { createAccessSlice } from "./slices/access";
import { createApprovalsSlice } from "./slices/approvals";
import { createDocumentSlice } from "./slices/document";
import { createReplaySlice } from "./slices/replay";
import { createRunViewSlice } from "./slices/runView";
import type { CanvasState, CanvasStore } from "./types";

export type { CanvasActions, CanvasState, CanvasStore, Notice, Snapshot } from "./types";

export function createCanvasStore(initial: Partial<CanvasState> = {}) {
  return createStore<CanvasStore>()((...a) => ({
    ...createDocumentSlice(...a),
    ...createRunViewSlice(...a),
    ...createApprovalsSlice(...a),
    ...createAccessSlice(...a),
    ...createReplaySlice(...a),
    ...initial,
  }));
}

export type CanvasStoreApi = ReturnType<typeof createCanvasStore>;
