/** A workflow's kept revisions (`/api/workflows/N/versions/`) and their per-node diffs. */

export interface VersionSummary {
  revision: number;
  saved_by: string | null;
  saved_at: string;
}

export interface VersionPage {
  count: number;
  next: string | null;
  previous: string | null;
  results: VersionSummary[];
}

export interface ItemChange {
  id: string;
  change: "added" | "removed" | "changed";
  fields: string[];
}

/** From a kept revision to the current document. */
export interface VersionDiff {
  revision: number;
  current_revision: number;
  fields: string[];
  nodes: ItemChange[];
  edges: ItemChange[];
}

export interface DiffLine {
  key: string;
  kind: "node" | "edge" | "field";
  id: string;
  change: ItemChange["change"];
  text: string;
}

/**
 * The diff as lines a person reads, seen from the kept revision: restoring it would undo what
 * happened since ("changed: config" — restoring brings the old config back).
 */
export function diffLines(diff: VersionDiff): DiffLine[] {
  const since = (change: ItemChange["change"]) =>
    change === "added"
      ? "added since (restoring removes it)"
      : change === "removed"
        ? "removed since (restoring brings it back)"
        : "changed";
  const item = (kind: "node" | "edge") => (c: ItemChange) => ({
    key: `${kind}:${c.id}`,
    kind,
    id: c.id,
    change: c.change,
    text: `${kind} ${c.id}: ${since(c.change)}${c.fields.length ? `: ${c.fields.join(", ")}` : ""}`,
  });
  return [
    ...diff.fields.map((f) => ({ key: `field:${f}`, kind: "field" as const, id: f, change: "changed" as const, text: `${f}: changed` })),
    ...diff.nodes.map(item("node")),
    ...diff.edges.map(item("edge")),
  ];
}

/** "6 Dec, 16:40" in the browser's time zone. */
export function savedAtText(iso: string): string {
  const at = new Date(iso);
  if (Number.isNaN(at.getTime())) return iso;
  return at.toLocaleString(undefined, { day: "numeric", month: "short", hour: "2-digit", minute: "2-digit" });
}
