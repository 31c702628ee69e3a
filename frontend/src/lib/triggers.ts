/** What the canvas shows of a workflow's triggers (SPEC §8): pure helpers. */
import type { TriggerInfo } from "./types";

export const TRIGGER_TYPES = new Set(["webhook", "schedule"]);

/** The absolute URL of a webhook path, on the server the canvas was loaded from. */
export function webhookUrl(path: string, origin: string): string {
  return `${origin.replace(/\/$/, "")}${path}`;
}

/** The trigger of a node, if the server has armed (or prepared) one for it. */
export function triggerOf(triggers: TriggerInfo[] | undefined, nodeId: string): TriggerInfo | null {
  return triggers?.find((t) => t.node === nodeId) ?? null;
}

/** A fire time as the user reads it: local date and time, to the second. */
export function fireTimeLabel(iso: string): string {
  const when = new Date(iso);
  if (Number.isNaN(when.getTime())) return iso;
  return when.toLocaleString(undefined, { dateStyle: "medium", timeStyle: "medium" });
}

/** The line under the activation toggle. */
export function activationHint(active: boolean, triggers: TriggerInfo[]): string {
  if (!triggers.length) return active ? "Active: it has no webhook or schedule yet" : "No webhook or schedule to turn on";
  const kinds = triggers.map((t) => t.type);
  const what = [kinds.includes("webhook") && "webhooks answer", kinds.includes("schedule") && "schedules fire"]
    .filter(Boolean)
    .join(" and ");
  return active ? `Active: its ${what}` : `Inactive: turn it on so its ${what}`;
}
