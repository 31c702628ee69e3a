/** The shown workflow's activation and triggers (SPEC §8), apart from the canvas store: the
 * server arms triggers on save and activation, so this is re-read after either. */
import { useEffect } from "react";
import { createStore, useStore } from "zustand";
import { useShallow } from "zustand/react/shallow";
import { api } from "../api/client";
import type { SavedWorkflow, TriggerInfo } from "../lib/types";

interface TriggerState {
  workflowId: number | null;
  /** The revision `show` was last given: the one the triggers shown belong to. */
  revision: number;
  active: boolean;
  triggers: TriggerInfo[];
  error: string | null;
  busy: boolean;
  show(workflow: SavedWorkflow): void;
  reload(workflowId: number): Promise<void>;
  setActive(workflowId: number, active: boolean): Promise<void>;
}

export const triggerStore = createStore<TriggerState>()((set) => ({
  workflowId: null,
  revision: 0,
  active: false,
  triggers: [],
  error: null,
  busy: false,
  show: (workflow) =>
    set({ workflowId: workflow.id, revision: workflow.revision, active: workflow.active ?? false, triggers: workflow.triggers ?? [] }),
  async reload(workflowId) {
    try {
      triggerStore.getState().show(await api.getWorkflow(workflowId));
    } catch {
      /* the editor reports a workflow it cannot read */
    }
  },
  async setActive(workflowId, active) {
    set({ busy: true, error: null });
    try {
      triggerStore.getState().show(await api.setActive(workflowId, active));
    } catch (e) {
      set({ error: (e as Error).message });
    } finally {
      set({ busy: false });
    }
  },
}));

/** Select from the store; an object of fields is compared field by field (as useCanvas). */
export function useTriggers<T>(select: (state: TriggerState) => T): T {
  return useStore(triggerStore, useShallow(select));
}

/** Keep the store on this workflow, re-read after every save (a new revision); not read again
 * for the revision the editor opened, whose answer it was already shown. */
export function useTriggerSync(workflowId: number, revision: number): void {
  useEffect(() => {
    if (needsReload(triggerStore.getState(), workflowId, revision)) void triggerStore.getState().reload(workflowId);
  }, [workflowId, revision]);
}

export function needsReload(state: Pick<TriggerState, "workflowId" | "revision">, workflowId: number, revision: number): boolean {
  return revision > 0 && (state.workflowId !== workflowId || state.revision !== revision);
}
