/** A webhook node's URL (with a copy button) or a schedule's next fire times, in the node's
 * settings (SPEC §8). The server makes them when the node is saved. */
import { useState } from "react";
import { fireTimeLabel, triggerOf, webhookUrl } from "../lib/triggers";
import { useTriggers } from "../store/triggers";
import { WebhookListen } from "./WebhookListen";

export function TriggerDetails({ nodeId, type }: { nodeId: string; type: string }) {
  const t = useTriggers((st) => ({ trigger: triggerOf(st.triggers, nodeId), active: st.active, workflowId: st.workflowId }));
  const [copied, setCopied] = useState(false);
  if (!t.trigger || t.trigger.type !== type)
    return (
      <p className="muted small trigger-details">
        Save the workflow to get this {type === "webhook" ? "webhook's URL" : "schedule's fire times"}.
      </p>
    );
  const state = t.trigger.armed ? "armed" : t.active ? "not armed (fix the problems)" : "off until the workflow is active";
  if (type === "webhook" && t.trigger.url) {
    const url = webhookUrl(t.trigger.url, window.location.origin);
    const copy = () =>
      navigator.clipboard?.writeText(url).then(
        () => setCopied(true),
        () => setCopied(false),
      );
    return (
      <div className="trigger-details" data-testid="trigger-details" data-armed={t.trigger.armed}>
        <label className="field-label">URL ({state})</label>
        <div className="copy-row">
          <input readOnly className="nodrag" data-testid="webhook-url" value={url} onFocus={(e) => e.target.select()} />
          <button type="button" data-testid="copy-webhook-url" onClick={copy}>
            {copied ? "Copied" : "Copy"}
          </button>
        </div>
        <small className="muted">No login: whoever has the URL can start a run. Keep it secret, or set a signing secret.</small>
        {t.workflowId !== null && <WebhookListen key={`${t.workflowId}:${nodeId}`} workflowId={t.workflowId} nodeId={nodeId} />}
      </div>
    );
  }
  return (
    <div className="trigger-details" data-testid="trigger-details" data-armed={t.trigger.armed}>
      <label className="field-label">Next fire times ({state})</label>
      <ol className="upcoming" data-testid="schedule-upcoming">
        {(t.trigger.upcoming ?? []).map((at) => (
          <li key={at}>{fireTimeLabel(at)}</li>
        ))}
      </ol>
    </div>
  );
}
