/**
 * Tell an open tab when its workflow was saved elsewhere (issue 17 #9): the server's revision
 * is read when the tab comes back into view and every `everyMs` while it is shown; a newer one
 * offers to bring its changes in (a reload when nothing is unsaved here, else the merge).
 */
import { useCallback, useEffect, useState } from "react";
import { api } from "../api/client";
import { useCanvasApi } from "../store/context";

export const REMOTE_CHECK_MS = 5000;

export function useRemoteChanges(workflowId: number, enabled: boolean, everyMs = REMOTE_CHECK_MS) {
  const store = useCanvasApi();
  const [remote, setRemote] = useState<number | null>(null);
  const check = useCallback(() => {
    if (document.visibilityState === "hidden") return;
    api.getWorkflow(workflowId).then(
      (w) => setRemote(w.revision > store.getState().revision ? w.revision : null),
      () => undefined,
    );
  }, [workflowId, store]);
  useEffect(() => {
    if (!enabled) return;
    const timer = window.setInterval(check, everyMs);
    document.addEventListener("visibilitychange", check);
    // a save here catches up with the server: nothing to tell
    const unsubscribe = store.subscribe((s, p) => s.revision !== p.revision && setRemote(null));
    return () => {
      window.clearInterval(timer);
      document.removeEventListener("visibilitychange", check);
      unsubscribe();
    };
  }, [enabled, everyMs, check, store]);
  return { remote, dismiss: () => setRemote(null) };
}
