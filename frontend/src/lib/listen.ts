/** A webhook node's "listen for a test event" (SPEC §8, docs/triggers.md): pure helpers. */

export type ListenPhase = "idle" | "listening" | "captured" | "expired";

/** What `/api/workflows/{id}/nodes/{node}/listen/` answers. */
export interface ListenState {
  node: string;
  /** the test URL, `/hooks/<token>/test/` */
  url: string;
  state: ListenPhase;
  started_at: string | null;
  expires_at: string | null;
  seconds_left: number;
  captured_at: string | null;
  /** the captured request: {method, headers, query, body} */
  capture: unknown;
}

/** Whole seconds until the listener expires, counted on this browser's clock from the
 * server's `seconds_left` and when it was read (clocks of the two may differ). */
export function countdown(secondsLeft: number, readAtMs: number, nowMs: number): number {
  const left = secondsLeft - (nowMs - readAtMs) / 1000;
  return Math.max(0, Math.ceil(left));
}

/** The canvas polls the listener while it waits (and stops once it captured or expired). */
export function shouldPoll(state: ListenState | null): boolean {
  return state?.state === "listening";
}

/** The line beside the listen button. */
export function listenLabel(state: ListenState | null, secondsLeft: number): string {
  switch (state?.state) {
    case "listening":
      return secondsLeft > 0 ? `Waiting for a test event… ${secondsLeft} s` : "Waiting for a test event…";
    case "captured":
      return "Test event captured";
    case "expired":
      return "No test event arrived: listen again";
    default:
      return "Send one request to the test URL to see it as this node's output";
  }
}
