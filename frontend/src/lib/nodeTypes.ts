/** What the canvas derives from a node type's metadata: handles, categories, search. */
import type { NodeTypeInfo, WorkflowNode } from "./types";

/** Output handles of a node with its current config (router: its cases, then the default). */
export function outputHandles(info: NodeTypeInfo | undefined, node: Pick<WorkflowNode, "type" | "config">): string[] {
  if (node.type === "router") {
    const config = node.config ?? {};
    const cases = Array.isArray(config.cases) ? (config.cases as { handle?: unknown }[]) : [];
    const handles = cases.map((c) => String(c?.handle ?? "")).filter(Boolean);
    const fallback = typeof config.default === "string" && config.default ? config.default : "other";
    return unique([...handles, fallback]);
  }
  return info?.outputs?.length ? [...info.outputs] : ["out"];
}

export function inputHandles(info: NodeTypeInfo | undefined): string[] {
  return info ? [...info.inputs] : ["in"];
}

function unique(values: string[]): string[] {
  return [...new Set(values)];
}

/** Palette groups: categories in first-seen order, types filtered by a search text. */
export function paletteGroups(types: readonly NodeTypeInfo[], search: string): [string, NodeTypeInfo[]][] {
  const needle = search.trim().toLowerCase();
  const groups = new Map<string, NodeTypeInfo[]>();
  for (const info of types) {
    const haystack = `${info.type} ${info.label} ${info.description} ${info.category}`.toLowerCase();
    if (needle && !haystack.includes(needle)) continue;
    const category = info.category || "Other";
    groups.set(category, [...(groups.get(category) ?? []), info]);
  }
  return [...groups.entries()];
}
