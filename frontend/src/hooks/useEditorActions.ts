/** Save (with the 409 version check), validate-as-you-edit, run and cancel for the editor. */
import { useCallback, useEffect, useState } from "react";
import { ApiError, api } from "../api/client";
import { readOnlyError } from "../lib/ownership";
import type { SavedWorkflow } from "../lib/types";
import { navigate, paths } from "../router";
import { useCanvasApi } from "../store/context";

export type SaveState = "idle" | "saving" | "conflict";

export function useEditorActions(workflowId: number) {
  const store = useCanvasApi();
  const [saveState, setSaveState] = useState<SaveState>("idle");

  const reportError = useCallback(
    (error: unknown) => {
      const e = error as ApiError;
      // a 403 read_only: the server's reason, as it is (not a document problem); no more edits
      const refusal = readOnlyError(e);
      if (refusal !== null) {
        store.getState().setReadOnly(refusal);
        store.getState().notify({ kind: "error", text: refusal });
        return;
      }
      if (e.errors?.length) store.getState().setProblems(e.errors);
      store.getState().notify({ kind: "error", text: e.message });
    },
    [store],
  );

  const save = useCallback(
    async (revision?: number): Promise<SavedWorkflow | null> => {
      const state = store.getState();
      if (state.readOnly !== null) {
        state.notify({ kind: "error", text: state.readOnly });
        return null;
      }
      setSaveState("saving");
      try {
        const saved = await api.saveWorkflow(workflowId, state.document(), revision ?? state.revision);
        store.getState().markSaved(saved);
        store.getState().notify({ kind: "info", text: saved.valid ? "Saved" : "Saved as a draft (it has problems)" });
        setSaveState("idle");
        return saved;
      } catch (error) {
        setSaveState((error as ApiError).status === 409 ? "conflict" : "idle");
        if ((error as ApiError).status !== 409) reportError(error);
        return null;
      }
    },
    [store, workflowId, reportError],
  );

  const overwrite = useCallback(async () => {
    try {
      const current = await api.getWorkflow(workflowId);
      await save(current.revision);
    } catch (error) {
      reportError(error);
    }
  }, [save, workflowId, reportError]);

  const reload = useCallback(async () => {
    setSaveState("idle");
    store.getState().load(await api.getWorkflow(workflowId));
  }, [store, workflowId]);

  const run = useCallback(
    async (inputs: Record<string, unknown>) => {
      if (store.getState().dirty && store.getState().readOnly === null && !(await save())) return;
      try {
        const created = await api.startRun(workflowId, inputs);
        navigate(paths.run(workflowId, created.id));
      } catch (error) {
        reportError(error);
      }
    },
    [store, workflowId, save, reportError],
  );

  return { saveState, setSaveState, save, overwrite, reload, run, reportError };
}

/** Ask the server for the draft's problems shortly after each edit. */
export function useLiveValidation(workflowId: number) {
  const store = useCanvasApi();
  useEffect(() => {
    let timer: number | undefined;
    const unsubscribe = store.subscribe((state, previous) => {
      const edited = state.nodes !== previous.nodes || state.edges !== previous.edges || state.meta !== previous.meta;
      if (!edited || !state.dirty || state.run) return;
      window.clearTimeout(timer);
      timer = window.setTimeout(() => {
        const doc = store.getState().document();
        api.validateWorkflow(workflowId, doc).then(
          (result) => store.getState().setProblems(result.errors ?? []),
          () => undefined,
        );
      }, 700);
    });
    return () => {
      unsubscribe();
      window.clearTimeout(timer);
    };
  }, [store, workflowId]);
}

/** Warn before leaving the page with unsaved changes. */
export function useUnsavedWarning() {
  const store = useCanvasApi();
  useEffect(() => {
    const onBeforeUnload = (event: BeforeUnloadEvent) => {
      if (!store.getState().dirty) return;
      event.preventDefault();
      event.returnValue = "";
    };
    window.addEventListener("beforeunload", onBeforeUnload);
    return () => window.removeEventListener("beforeunload", onBeforeUnload);
  }, [store]);
}
