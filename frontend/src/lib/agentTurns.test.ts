import { describe, expect, it } from "vitest";
import { agentTurns, toolCallLabel } from "./agentTurns";
import type { LogLine } from "./runEvents";
import type { ChildRunRef } from "./types";

const child = (id: number, workflow: number, k: number, attempt = 1): ChildRunRef => ({
  id,
  workflow,
  node: "ask",
  iteration: `ask[${k}]`,
  attempt,
  status: "succeeded",
});
const line = (message: string): LogLine => ({ message, attempt: 1, iteration: null, at: null });

describe("agentTurns from an ended attempt's output", () => {
  it("groups the tool calls by the turn that asked for them, each with its child run, then the answer", () => {
    const output = {
      text: "42 and 81",
      turns: 3,
      tool_calls: [
        { turn: 1, workflow: 7, inputs: { x: 21 }, output: { out: 42 } },
        { turn: 1, tool: "rm_rf", error: "no tool named 'rm_rf'" },
        { turn: 2, workflow: 8, inputs: { x: 9 }, output: { out: 81 } },
      ],
    };
    const turns = agentTurns(output, [], [child(11, 7, 0), child(13, 8, 2), child(14, 8, 2, 2)]);
    expect(turns.map((t) => [t.turn, t.answered, t.calls.map((c) => c.child?.id ?? null)])).toEqual([
      [1, false, [11, null]],
      [2, false, [14]],
      [3, true, []],
    ]);
    expect(turns[0].calls[1].error).toBe("no tool named 'rm_rf'");
    expect(turns[1].calls[0].output).toEqual({ out: 81 });
  });

  it("is empty when the model called no tool", () => {
    expect(agentTurns({ text: "hi", turns: 1, tool_calls: [] }, [], [])).toEqual([]);
    expect(agentTurns({ text: "hi" }, [], [])).toEqual([]);
  });
});

describe("agentTurns while the attempt runs", () => {
  it("reads the turn log lines, the k-th starting the k-th child run", () => {
    const lines = [
      line("turn 1: the model runs workflow 7"),
      line("something the child logged"),
      line("turn 2: the model runs workflow 8"),
    ];
    const turns = agentTurns(undefined, lines, [child(11, 7, 0)]);
    expect(turns.map((t) => [t.turn, t.calls.map((c) => [c.workflow, c.child?.id ?? null])])).toEqual([
      [1, [[7, 11]]],
      [2, [[8, null]]],
    ]);
  });
});

describe("toolCallLabel", () => {
  it("names the workflow and its arguments, cut when long", () => {
    const call = { workflow: 7, tool: null, inputs: { city: "Oslo" }, output: undefined, error: null, child: null };
    expect(toolCallLabel(call)).toBe('workflow 7 ({"city":"Oslo"})');
    expect(toolCallLabel({ ...call, workflow: null, tool: "rm_rf", inputs: undefined })).toBe("tool rm_rf");
    expect(toolCallLabel({ ...call, inputs: { a: "x".repeat(200) } }).length).toBeLessThan(140);
  });
});
