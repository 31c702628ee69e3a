/** The access slice: who owns the workflow, and why it cannot be changed here (read-only). */
import type { AccessActions, AccessState, SliceCreator } from "../types";

export const initialAccess = (): AccessState => ({ owner: null, readOnly: null });

export const createAccessSlice: SliceCreator<AccessState & AccessActions> = (set, get) => ({
  ...initialAccess(),

  setReadOnly(reason) {
    if (reason !== get().readOnly) set({ readOnly: reason });
  },

  refusedEdit(quiet = false) {
    const reason = get().readOnly;
    if (reason !== null && !quiet) set({ notice: { kind: "error", text: reason } });
    return reason !== null;
  },
});
