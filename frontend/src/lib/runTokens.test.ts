import { describe, expect, it } from "vitest";
import { applyRunEvents, emptyRunView, runListTokens, runTokenLabel } from "./runEvents";
import type { RunEvent } from "./types";

const status = (seq: number, node: string, s: string, attempt: number, usage?: object): RunEvent =>
  ({ seq, run: 1, type: "node.status", node, iteration: null, status: s, attempt, ...(usage ? { usage } : {}) }) as RunEvent;

describe("the run's token total", () => {
  it("sums every attempt of every node as node.status events carry usage, once per event", () => {
    const events = [
      status(1, "a", "running", 1),
      status(2, "a", "retrying", 1, { prompt_tokens: 10, completion_tokens: 2 }),
      status(3, "a", "succeeded", 2, { prompt_tokens: 10, completion_tokens: 30 }),
      status(4, "b", "succeeded", 1, { prompt_tokens: 100, completion_tokens: 1000 }),
    ];
    const state = applyRunEvents(emptyRunView(1), events);
    expect(state.tokens).toEqual({ prompt_tokens: 120, completion_tokens: 1032, total_tokens: 1152 });
    // a replayed page (the same seqs again) counts nothing twice
    expect(applyRunEvents(state, events).tokens?.total_tokens).toBe(1152);
    // out of order: the same sum once the gap fills
    expect(applyRunEvents(emptyRunView(1), [events[3], events[1], events[0], events[2]]).tokens?.total_tokens).toBe(1152);
    expect(emptyRunView(1).tokens).toBeNull();
  });

  it("says the live count, or the report's with its cost when it counts at least as many", () => {
    const live = { prompt_tokens: 100, completion_tokens: 1134, total_tokens: 1234 };
    expect(runTokenLabel(null, null)).toBeNull();
    expect(runTokenLabel({ prompt_tokens: 0, completion_tokens: 0 }, undefined)).toBeNull();
    expect(runTokenLabel(live, null)).toBe("1,234 tokens");
    expect(runTokenLabel(live, { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2, cost_usd: 0.5 })).toBe("1,234 tokens");
    expect(runTokenLabel(null, { ...live, cost_usd: 0.01234 })).toBe("1,234 tokens · $0.0123");
    expect(runTokenLabel(live, { ...live, cost_usd: null })).toBe("1,234 tokens");
  });

  it("marks a count the provider did not give as estimated, live and in the report", () => {
    const events = [
      status(1, "a", "succeeded", 1, { prompt_tokens: 10, completion_tokens: 2 }),
      status(2, "b", "succeeded", 1, { prompt_tokens: 5, completion_tokens: 3, estimated: true }),
      status(3, "c", "succeeded", 1, { prompt_tokens: 1, completion_tokens: 1 }),
    ];
    const live = applyRunEvents(emptyRunView(1), events).tokens;
    expect(live).toEqual({ prompt_tokens: 16, completion_tokens: 6, total_tokens: 22, estimated: true });
    expect(runTokenLabel(live, null)).toBe("~22 tokens");
    expect(runTokenLabel(null, { ...live!, cost_usd: 0.006 })).toBe("~22 tokens · $0.0060");
  });

  it("gives the run list a run's tokens and their cost when priced", () => {
    expect(runListTokens(null)).toBe("");
    expect(runListTokens({ prompt_tokens: 0, completion_tokens: 0, total_tokens: 0 })).toBe("");
    const usage = { prompt_tokens: 1200, completion_tokens: 300, total_tokens: 1500 };
    expect(runListTokens(usage)).toBe(" · 1,500 tokens");
    expect(runListTokens({ ...usage, cost_usd: null })).toBe(" · 1,500 tokens");
    expect(runListTokens({ ...usage, cost_usd: 0.006 })).toBe(" · 1,500 tokens · $0.0060");
    expect(runListTokens({ ...usage, cost_usd: 0.006, estimated: true })).toBe(" · ~1,500 tokens · $0.0060");
  });
});
