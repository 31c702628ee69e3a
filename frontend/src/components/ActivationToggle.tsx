/** The editor's activation switch (SPEC §8): while on, the workflow's webhooks answer and its
 * schedules fire. Refused with the workflow's problems when its saved revision is invalid. */
import { activationHint } from "../lib/triggers";
import { useCanvas } from "../store/context";
import { triggerStore, useTriggerSync, useTriggers } from "../store/triggers";

export function ActivationToggle({ workflowId }: { workflowId: number }) {
  const { revision, readOnly, dirty } = useCanvas((st) => ({ revision: st.revision, readOnly: st.readOnly, dirty: st.dirty }));
  useTriggerSync(workflowId, revision);
  const t = useTriggers((st) => ({ active: st.active, triggers: st.triggers, busy: st.busy, error: st.error, shown: st.workflowId }));
  if (t.shown !== workflowId) return null;
  const hint = t.error ?? (dirty ? "Save to turn on what you changed" : activationHint(t.active, t.triggers));
  return (
    <label className={`activation ${t.active ? "on" : "off"}`} title={readOnly ?? hint} data-testid="activation">
      <input
        type="checkbox"
        role="switch"
        data-testid="activation-toggle"
        checked={t.active}
        disabled={t.busy || readOnly !== null}
        onChange={(e) => void triggerStore.getState().setActive(workflowId, e.target.checked)}
      />
      {t.active ? "Active" : "Inactive"}
      {t.error && (
        <span className="activation-error" role="alert" data-testid="activation-error">
          {t.error}
        </span>
      )}
    </label>
  );
}
