import { describe, expect, it } from "vitest";
import { applyRunEvents, emptyRunView, streamKey } from "./runEvents";
import type { RunEvent } from "./types";

const status = (seq: number, s: string, attempt: number, extra: object = {}): RunEvent =>
  ({ seq, run: 1, type: "node.status", node: "ask", iteration: null, status: s, attempt, ...extra }) as RunEvent;
const piece = (seq: number, text: string, attempt: number, iteration: string | null = null): RunEvent => ({
  seq,
  run: 1,
  type: "node.stream",
  node: "ask",
  iteration,
  attempt,
  text,
});

describe("node.stream", () => {
  it("grows the node's text in seq order, whatever order the pieces arrive in", () => {
    const events = [status(1, "running", 1), piece(2, "Hel", 1), piece(3, "lo ", 1), piece(4, "world", 1)];
    const shuffled = [events[0], events[3], events[1], events[2]];
    expect(applyRunEvents(emptyRunView(1), events).streams.ask).toEqual({ attempt: 1, text: "Hello world" });
    expect(applyRunEvents(emptyRunView(1), shuffled).streams.ask.text).toBe("Hello world");
  });

  it("shows the second attempt's text, not a mix with the first", () => {
    const state = applyRunEvents(emptyRunView(1), [
      status(1, "running", 1),
      piece(2, "half an ans", 1),
      status(3, "retrying", 1, { usage: { prompt_tokens: 4, completion_tokens: 3 } }),
      status(4, "running", 2),
    ]);
    expect(state.streams.ask).toBeUndefined();
    expect(state.usage.ask).toEqual({ prompt_tokens: 4, completion_tokens: 3 });
    const later = applyRunEvents(state, [
      piece(5, "A whole answer", 2),
      status(6, "succeeded", 2, { usage: { prompt_tokens: 4, completion_tokens: 5 } }),
    ]);
    expect(later.streams.ask).toEqual({ attempt: 2, text: "A whole answer" });
    expect(later.usage.ask.completion_tokens).toBe(5);
    expect(later.nodes.ask.status).toBe("succeeded");
  });

  it("keeps a body node's text per iteration", () => {
    const state = applyRunEvents(emptyRunView(1), [piece(1, "first", 1, "each[0]"), piece(2, "second", 1, "each[1]")]);
    expect(state.streams[streamKey("ask", "each[0]")].text).toBe("first");
    expect(state.streams[streamKey("ask", "each[1]")].text).toBe("second");
    expect(state.streams.ask).toBeUndefined();
  });
});
