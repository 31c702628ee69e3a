/** Pinned data and testing one node (issue 17): the API's answers, and what the inspector
 * decides from them (pure, tested beside it). */
import type { NodePinned } from "./document.generated";
import type { NodeState } from "./types";

export type { NodePinned };

/** The reason a node that took its pinned output ends `reused` with (engine/pinning.py). */
export const PINNED_REASON = "pinned output";

/** `POST|DELETE /api/workflows/{id}/nodes/{node}/pin/`. */
export interface PinAnswer {
  node: string;
  pinned: NodePinned | null;
  revision: number;
}

/** `POST /api/workflows/{id}/nodes/{node}/test/`: what the node did when run on its own. */
export interface NodeTestAnswer {
  node: string;
  status: NodeState;
  input: unknown;
  output: unknown;
  handles: string[];
  error: { message: string; type?: string } | null;
  reason: string | null;
  attempts: number;
  duration_ms: number | null;
  logs: string[];
  run: number | null;
  truncated: boolean;
}

/** Node types that cannot be tested alone, and why (the server says the same, 400). */
const NOT_ALONE: Record<string, string> = {
  approval: "an approval waits for a person's decision",
  webhook: "a webhook starts from a request: use Listen for a test event",
  schedule: "a schedule node is started by its schedule",
  subworkflow: "it would start a run of another workflow",
  loop: "a loop runs its body once per iteration: run the workflow",
  map: "a map runs its body once per item: run the workflow",
};

/** Why "Test node" is not offered for this node, or null when it is. */
export function whyNotTestable(type: string | undefined, parent: string | null | undefined, dirty: boolean): string | null {
  if (type && NOT_ALONE[type]) return `Cannot test this node on its own: ${NOT_ALONE[type]}.`;
  if (parent) return `Cannot test a node inside ${parent} on its own: it runs once per iteration.`;
  if (dirty) return "Save the workflow first: a test runs the saved version.";
  return null;
}

/** Whether a node's output in a run can be pinned: it ended with an output, at the top level. */
export function canPin(status: NodeState | undefined, container: boolean, iteration: string | null): boolean {
  return !container && iteration === null && (status === "succeeded" || status === "reused");
}

/** A short line about a pin: where it came from and when. */
export function pinnedLabel(pinned: NonNullable<NodePinned>): string {
  const from = pinned.run ? `from run #${pinned.run}` : "set by hand";
  const when = pinned.pinned_at ? ` · ${pinned.pinned_at.replace("T", " ").replace(/\+00:00$|Z$/, " UTC")}` : "";
  return `Pinned ${from}${when}`;
}

/** The JSON shown for a value, cut for the panel. */
export function shortJson(value: unknown, max = 4000): string {
  const text = JSON.stringify(value, null, 2) ?? "null";
  return text.length > max ? `${text.slice(0, max)}…` : text;
}
