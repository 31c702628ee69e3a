/**
 * Container frame sizes, kept in the browser per workflow: the document (SPEC §1) has no field
 * for a node's size and the API refuses unknown ones, so a frame without a kept size is drawn
 * just big enough for its body nodes.
 */
import type { Size } from "../lib/containers";

const key = (workflowId: number) => `switchyard:container-sizes:${workflowId}`;

function storage(): Storage | null {
  try {
    return typeof window !== "undefined" && window.localStorage ? window.localStorage : null;
  } catch {
    return null; // storage disabled by the browser
  }
}

export function loadContainerSizes(workflowId: number): Record<string, Size> {
  try {
    const text = storage()?.getItem(key(workflowId));
    const parsed = text ? (JSON.parse(text) as Record<string, Size>) : {};
    return parsed && typeof parsed === "object" ? parsed : {};
  } catch {
    return {};
  }
}

export function saveContainerSizes(workflowId: number, sizes: Record<string, Size>): void {
  try {
    storage()?.setItem(key(workflowId), JSON.stringify(sizes));
  } catch {
    // a full or disabled storage only costs the kept size
  }
}
