/** The workflow list's search, tag filter and sort (pure, tested beside it). */
import type { WorkflowSummary } from "./types";

export type WorkflowSort = "updated" | "name" | "nodes" | "last_run";
export const SORT_LABELS: Record<WorkflowSort, string> = {
  updated: "Recently updated",
  name: "Name (A–Z)",
  nodes: "Most nodes",
  last_run: "Last run status",
};

export interface WorkflowFilter {
  query: string;
  tag: string;
  sort: WorkflowSort;
}

/** Every tag used in the list, sorted. */
export function allTags(workflows: readonly WorkflowSummary[]): string[] {
  return [...new Set(workflows.flatMap((w) => w.tags ?? []))].sort((a, b) => a.localeCompare(b));
}

const STATUS_ORDER = ["failed", "running", "paused", "queued", "cancelled", "succeeded"];

/** The workflows whose name, description or tags contain the query (any case), with the tag, sorted. */
export function filterWorkflows(workflows: readonly WorkflowSummary[], filter: WorkflowFilter): WorkflowSummary[] {
  const query = filter.query.trim().toLowerCase();
  const kept = workflows.filter((w) => {
    if (filter.tag && !(w.tags ?? []).includes(filter.tag)) return false;
    if (!query) return true;
    return [w.name, w.description ?? "", ...(w.tags ?? [])].some((text) => text.toLowerCase().includes(query));
  });
  const lastRun = (w: WorkflowSummary) => {
    const status = w.last_run_status ?? w.last_run?.status ?? null;
    const index = status ? STATUS_ORDER.indexOf(status) : -1;
    return index < 0 ? STATUS_ORDER.length : index;
  };
  const by: Record<WorkflowSort, (a: WorkflowSummary, b: WorkflowSummary) => number> = {
    updated: (a, b) => (b.updated_at ?? "").localeCompare(a.updated_at ?? "") || b.id - a.id,
    name: (a, b) => a.name.localeCompare(b.name, undefined, { sensitivity: "base" }) || a.id - b.id,
    nodes: (a, b) => (b.node_count ?? 0) - (a.node_count ?? 0) || a.name.localeCompare(b.name),
    last_run: (a, b) => lastRun(a) - lastRun(b) || a.name.localeCompare(b.name),
  };
  return [...kept].sort(by[filter.sort]);
}
