/**
 * An agent `llm` node's turns (SPEC §8): each model call that asked for tools is one entry with
 * the workflows it ran (their arguments, output or error, and the child run each started), and
 * the last turn is the model's answer. Read from the node's output (`tool_calls[].turn`,
 * `turns`) once the attempt ended; while it runs, from its `turn N: the model runs workflow W`
 * log lines, the k-th of which started the k-th child run.
 */
import { parseIterationPath } from "./iterations";
import type { LogLine } from "./runEvents";
import type { ChildRunRef } from "./types";

export interface AgentToolCall {
  /** The workflow the model asked for (null: a tool name that is no workflow). */
  workflow: number | null;
  tool: string | null;
  inputs: unknown;
  output: unknown;
  error: string | null;
  child: ChildRunRef | null;
}

export interface AgentTurn {
  turn: number;
  calls: AgentToolCall[];
  /** The model answered (no tool call): the last turn of an ended attempt. */
  answered: boolean;
}

const LOG_TURN = /^turn (\d+): the model runs workflow (\d+)$/;

/** The child run of tool call `index` (`<node>[index]` at the end of its iteration path),
 * its latest attempt's. */
function childOf(children: readonly ChildRunRef[], index: number): ChildRunRef | null {
  let found: ChildRunRef | null = null;
  for (const child of children) {
    const steps = parseIterationPath(child.iteration ?? "");
    if (steps[steps.length - 1]?.index !== index) continue;
    if (!found || child.attempt >= found.attempt) found = child;
  }
  return found;
}

type Recorded = { turn?: unknown; workflow?: unknown; tool?: unknown; inputs?: unknown; output?: unknown; error?: unknown };

function fromOutput(output: { tool_calls: Recorded[]; turns?: unknown }, children: readonly ChildRunRef[]): AgentTurn[] {
  const turns = new Map<number, AgentTurn>();
  output.tool_calls.forEach((call, index) => {
    const turn = typeof call.turn === "number" ? call.turn : 1;
    const entry = turns.get(turn) ?? { turn, calls: [], answered: false };
    const workflow = typeof call.workflow === "number" ? call.workflow : null;
    entry.calls.push({
      workflow,
      tool: typeof call.tool === "string" ? call.tool : null,
      inputs: call.inputs,
      output: call.output,
      error: typeof call.error === "string" ? call.error : null,
      child: workflow === null ? null : childOf(children, index),
    });
    turns.set(turn, entry);
  });
  const list = [...turns.values()].sort((a, b) => a.turn - b.turn);
  const last = typeof output.turns === "number" ? output.turns : null;
  if (last !== null && list.length > 0 && !turns.has(last)) list.push({ turn: last, calls: [], answered: true });
  return list;
}

function fromLog(lines: readonly LogLine[], children: readonly ChildRunRef[]): AgentTurn[] {
  const turns = new Map<number, AgentTurn>();
  const ordered = [...children];
  let k = 0;
  for (const line of lines) {
    const match = LOG_TURN.exec(line.message);
    if (!match) continue;
    const turn = Number(match[1]);
    const entry = turns.get(turn) ?? { turn, calls: [], answered: false };
    const child = ordered[k++] ?? null;
    entry.calls.push({ workflow: Number(match[2]), tool: null, inputs: undefined, output: undefined, error: null, child });
    turns.set(turn, entry);
  }
  return [...turns.values()].sort((a, b) => a.turn - b.turn);
}

/**
 * The turns of an agent node's attempt: from its `output` when it has `tool_calls`, else from
 * its log lines (of that attempt and iteration) and child runs (oldest first). Empty when the
 * model called no tool.
 */
export function agentTurns(output: unknown, lines: readonly LogLine[], children: readonly ChildRunRef[]): AgentTurn[] {
  if (output && typeof output === "object" && Array.isArray((output as { tool_calls?: unknown }).tool_calls)) {
    return fromOutput(output as { tool_calls: Recorded[]; turns?: unknown }, children);
  }
  return fromLog(lines, children);
}

/** `workflow 7 ({"city":"Oslo"})`: what the model asked for, its arguments cut at 120 characters. */
export function toolCallLabel(call: AgentToolCall): string {
  const name = call.workflow !== null ? `workflow ${call.workflow}` : `tool ${call.tool ?? "?"}`;
  if (call.inputs === undefined) return name;
  const args = JSON.stringify(call.inputs) ?? "";
  return `${name} (${args.length > 120 ? `${args.slice(0, 119)}…` : args})`;
}
