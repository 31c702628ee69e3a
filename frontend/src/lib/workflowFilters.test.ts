import { describe, expect, it } from "vitest";
import type { WorkflowSummary } from "./types";
import { allTags, filterWorkflows } from "./workflowFilters";

const W = (id: number, name: string, extra: Partial<WorkflowSummary> = {}): WorkflowSummary => ({
  id,
  name,
  revision: 1,
  valid: true,
  ...extra,
});
const list = [
  W(1, "Orders sync", { tags: ["shop"], updated_at: "2026-12-01", node_count: 3, last_run_status: "succeeded" }),
  W(2, "alerts", { tags: ["ops"], updated_at: "2026-12-05", node_count: 9, last_run_status: "failed" }),
  W(3, "Billing", { tags: ["shop", "finance"], description: "monthly invoices", updated_at: "2026-12-03", node_count: 5 }),
];
const names = (ws: WorkflowSummary[]) => ws.map((w) => w.name);

describe("the workflow list's filters", () => {
  it("searches names, descriptions and tags in any case", () => {
    expect(names(filterWorkflows(list, { query: "ORDERS", tag: "", sort: "name" }))).toEqual(["Orders sync"]);
    expect(names(filterWorkflows(list, { query: "invoice", tag: "", sort: "name" }))).toEqual(["Billing"]);
    expect(names(filterWorkflows(list, { query: "shop", tag: "", sort: "name" }))).toEqual(["Billing", "Orders sync"]);
  });
  it("filters by tag and lists every tag", () => {
    expect(allTags(list)).toEqual(["finance", "ops", "shop"]);
    expect(names(filterWorkflows(list, { query: "", tag: "shop", sort: "updated" }))).toEqual(["Billing", "Orders sync"]);
  });
  it("sorts by update, name, size and last run", () => {
    expect(names(filterWorkflows(list, { query: "", tag: "", sort: "updated" }))).toEqual(["alerts", "Billing", "Orders sync"]);
    expect(names(filterWorkflows(list, { query: "", tag: "", sort: "name" }))).toEqual(["alerts", "Billing", "Orders sync"]);
    expect(names(filterWorkflows(list, { query: "", tag: "", sort: "nodes" }))).toEqual(["alerts", "Billing", "Orders sync"]);
    expect(names(filterWorkflows(list, { query: "", tag: "", sort: "last_run" }))).toEqual(["alerts", "Orders sync", "Billing"]);
  });
});
