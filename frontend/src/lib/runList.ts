/** The runs page: the API's page of runs across workflows, and how a row reads. */
import type { RunStatus } from "./types";

export interface RunListItem {
  id: number;
  workflow: number;
  workflow_name: string;
  revision: number;
  status: RunStatus;
  mode: string;
  trigger: string;
  parent_run: number | null;
  created_at: string;
  started_at: string | null;
  finished_at: string | null;
}

export interface RunPage {
  count: number;
  next: string | null;
  previous: string | null;
  results: RunListItem[];
}

export const RUN_STATUSES = ["queued", "running", "paused", "succeeded", "failed", "cancelled"];
export const RUN_TRIGGERS = ["manual", "api", "cli", "webhook", "schedule", "rerun", "subworkflow"];

/** How long a run took (start to end), or null while it has not both. */
export function runDurationMs(run: Pick<RunListItem, "started_at" | "finished_at">): number | null {
  if (!run.started_at || !run.finished_at) return null;
  return Math.max(0, Date.parse(run.finished_at) - Date.parse(run.started_at));
}

/** "2026-12-06 17:02:11" in local time, for a table cell. */
export function when(iso: string | null): string {
  if (!iso) return "—";
  const date = new Date(iso);
  const pad = (n: number) => String(n).padStart(2, "0");
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())} ${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}`;
}
