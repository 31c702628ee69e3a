/** The workflow list's search box, tag filter and sort order. */
import { allTags, SORT_LABELS, type WorkflowFilter, type WorkflowSort } from "../lib/workflowFilters";
import type { WorkflowSummary } from "../lib/types";

export function ListControls({
  workflows,
  filter,
  onChange,
}: {
  workflows: readonly WorkflowSummary[];
  filter: WorkflowFilter;
  onChange(filter: WorkflowFilter): void;
}) {
  const tags = allTags(workflows);
  return (
    <div className="list-controls" data-testid="list-controls">
      <input
        type="search"
        data-testid="workflow-search"
        placeholder="Search workflows…"
        aria-label="Search workflows"
        value={filter.query}
        onChange={(e) => onChange({ ...filter, query: e.target.value })}
      />
      <select data-testid="tag-filter" aria-label="Tag" value={filter.tag} onChange={(e) => onChange({ ...filter, tag: e.target.value })}>
        <option value="">All tags</option>
        {tags.map((tag) => (
          <option key={tag} value={tag}>
            {tag}
          </option>
        ))}
      </select>
      <select
        data-testid="workflow-sort"
        aria-label="Sort by"
        value={filter.sort}
        onChange={(e) => onChange({ ...filter, sort: e.target.value as WorkflowSort })}
      >
        {(Object.keys(SORT_LABELS) as WorkflowSort[]).map((sort) => (
          <option key={sort} value={sort}>
            {SORT_LABELS[sort]}
          </option>
        ))}
      </select>
    </div>
  );
}
