"""Agent mode of the `llm` node: `tools` names saved workflows the model may call. Each tool
call runs that workflow as a child run (the runtime's `run_subworkflow`, as a `subworkflow`
node does: visible and linked from the parent run), its outputs go back to the model, and
the conversation goes on until the model answers without calling a tool, at most `max_turns`
model calls.

Each call of one attempt has its own child-run key, the iteration `<node>[<k>]` (k counts the
attempt's tool calls), so a worker that takes the run over adopts the children a lost attempt
started instead of starting them again.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

from engine.handlers.base import HandlerContext, NodeError, Wait
from engine.handlers.llm_providers import Answer, Call, assistant_turn, tool_results

TOOL_PREFIX = "workflow_"
MAX_TOOL_RESULT_CHARS = 100_000  # what goes back to the model of one child's outputs
Ask = Callable[[Call], Awaitable[tuple[Answer, dict[str, Any]]]]


def tool_specs(tools: list[int]) -> list[dict]:
    """The OpenAI function tools the model sees: one per workflow."""
    return [
        {
            "type": "function",
            "function": {
                "name": f"{TOOL_PREFIX}{workflow}",
                "description": (
                    f"Runs saved workflow {workflow} and answers its outputs; the arguments "
                    "are the workflow's inputs."
                ),
                "parameters": {"type": "object", "additionalProperties": True},
            },
        }
        for workflow in tools
    ]


async def converse(
    ctx: HandlerContext, call: Call, tools: list[int], max_turns: int, ask: Ask
) -> tuple[Answer, list[dict], dict[str, Any], int] | Wait:
    """Talk with the model until it answers without a tool call: (its last answer, the tool
    calls made, each with the `turn` that asked for it, the tokens of every turn, the number
    of turns); a `Wait` when a child run parked (the node parks with it)."""
    runner = ctx.settings.get("run_subworkflow")
    if runner is None:
        raise NodeError("tools need a runtime that can start child runs", "subworkflow", False)
    call.tools = tool_specs(tools)
    used: dict[str, Any] = {"prompt_tokens": 0, "completion_tokens": 0}
    trace: list[dict] = []
    for turn in range(1, max_turns + 1):
        answer, usage = await ask(call)
        for key in ("prompt_tokens", "completion_tokens"):
            used[key] += usage[key]
        if usage.get("estimated"):
            used["estimated"] = True
        if not answer.tool_calls:
            return answer, trace, used, turn
        answered = []
        for tool_call in answer.tool_calls:
            result = await _run_tool(ctx, runner, tools, tool_call, len(trace), turn)
            if isinstance(result, Wait):
                return result
            trace.append({"turn": turn, **result})  # the inspector shows each turn's calls
            content = json.dumps(result.get("output", result.get("error")), default=str)
            answered.append((tool_call["id"], content[:MAX_TOOL_RESULT_CHARS]))
        call.messages = [
            *call.messages,
            assistant_turn(call, answer),
            *tool_results(call, answered),
        ]
    raise NodeError(
        f"the model still called tools after {max_turns} turns (config.max_turns)",
        "max_turns",
        retryable=False,
    )


async def _run_tool(
    ctx: HandlerContext, runner: Any, tools: list[int], tool_call: dict, index: int, turn: int
) -> dict | Wait:
    """One tool call: the named workflow's child run, `{"workflow", "inputs", "output"}`, or
    `{"error"}` told to the model (an unknown tool, arguments that are not an object, a child
    run that failed) so it can try otherwise."""
    name = tool_call["name"]
    workflow = _workflow_of(name, tools)
    if workflow is None:
        return {"tool": name, "error": f"no tool named {name!r}"}
    try:
        inputs = json.loads(tool_call["arguments"] or "{}")
    except ValueError:
        inputs = None
    if not isinstance(inputs, dict):
        return {"workflow": workflow, "error": "the arguments must be a JSON object"}
    depth = int(ctx.settings.get("depth") or 0)
    limit = int(ctx.settings.get("max_depth") or 5)
    if depth >= limit:
        raise NodeError(f"sub-workflow nesting deeper than {limit} levels", "recursion", False)
    ctx.log(f"turn {turn}: the model runs workflow {workflow}")
    try:
        outputs = await runner(
            workflow,
            inputs,
            depth + 1,
            ctx.node_id,
            attempt=ctx.attempt,
            iteration=f"{ctx.node_id}[{index}]",
            log=ctx.log,
        )
    except NodeError as exc:
        if exc.type == "recursion":
            raise
        return {"workflow": workflow, "inputs": inputs, "error": exc.message}
    if isinstance(outputs, Wait):
        return outputs
    return {"workflow": workflow, "inputs": inputs, "output": outputs}


def _workflow_of(name: str, tools: list[int]) -> int | None:
    if not name.startswith(TOOL_PREFIX):
        return None
    wanted = name.removeprefix(TOOL_PREFIX)
    return next((workflow for workflow in tools if str(workflow) == wanted), None)
