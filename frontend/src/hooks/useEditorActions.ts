/** Save (with the 409 version check), validate-as-you-edit, run and cancel for the editor. */
import { useCallback, useEffect, useRef, useState } from "react";
import { ApiError, api } from "../api/client";
import { readOnlyError } from "../lib/ownership";
import { mergeDocuments, type MergeResult, type MergeSide } from "../lib/merge";
import type { SavedWorkflow, WorkflowDocument } from "../lib/types";
import { navigate, paths } from "../router";
import { useCanvasApi } from "../store/context";

export type SaveState = "idle" | "saving" | "conflict";

/** A stale save: the three documents and how they merge (issue 17 #9). */
export interface SaveConflict {
  base: WorkflowDocument;
  mine: WorkflowDocument;
  theirs: SavedWorkflow;
  result: MergeResult;
}

export function useEditorActions(workflowId: number) {
  const store = useCanvasApi();
  const [saveState, setSaveState] = useState<SaveState>("idle");
  const [conflict, setConflict] = useState<SaveConflict | null>(null);
  // the document as last loaded or saved here: what both sides of a stale save changed from
  const base = useRef<WorkflowDocument | null>(null);
  useEffect(
    () =>
      store.subscribe((state, previous) => {
        if ((state.revision !== previous.revision || state.workflowId !== previous.workflowId) && !state.dirty)
          base.current = state.document();
      }),
    [store],
  );

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

  /** After a 409: the server's document, and how mine merges with it. */
  const prepareMerge = useCallback(
    async (mine: WorkflowDocument) => {
      try {
        const theirs = await api.getWorkflow(workflowId);
        const from = base.current ?? mine;
        setConflict({ base: from, mine, theirs, result: mergeDocuments(from, mine, stripSaved(theirs)).result });
      } catch (error) {
        reportError(error);
      }
    },
    [workflowId, reportError],
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
        else await prepareMerge(store.getState().document());
        return null;
      }
    },
    [store, workflowId, reportError, prepareMerge],
  );

  /** Save the merge (each conflict resolved as chosen, mine by default) over the server's revision. */
  const saveMerged = useCallback(
    async (choices: Record<string, MergeSide>) => {
      if (!conflict) return;
      const { document } = mergeDocuments(conflict.base, conflict.mine, stripSaved(conflict.theirs), choices);
      setConflict(null);
      const { id, revision, valid, errors } = conflict.theirs;
      store.getState().load({ ...document, id, revision, valid, errors });
      base.current = stripSaved(conflict.theirs); // the merge's other side is now the base
      const saved = await save(revision);
      if (saved) store.getState().notify({ kind: "info", text: `Merged with the server's changes and saved (revision ${saved.revision})` });
    },
    [conflict, save, store],
  );

  const reload = useCallback(async () => {
    setSaveState("idle");
    setConflict(null);
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

  return { saveState, setSaveState, save, reload, run, reportError, conflict, saveMerged };
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

/** A saved workflow's document alone (what merges compare). */
function stripSaved(saved: SavedWorkflow): WorkflowDocument {
  const { id: _id, revision: _revision, valid: _valid, errors: _errors, owner: _owner, ...doc } = saved;
  return doc as WorkflowDocument;
}
