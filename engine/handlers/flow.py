"""Node types that steer a run (SPEC §3, §4): `start`, `condition`, `router`, `delay`,
`error`, `approval` (parks until a person decides), `subworkflow` (a child run) and `fan_out`
(the example of a node that grows the running graph). Containers are in `containers.py`."""

from __future__ import annotations

import asyncio
from typing import Any

from engine.handlers.base import (
    Handler,
    HandlerContext,
    HandlerResult,
    NodeError,
    Wait,
    evaluate_field,
    items_list,
    object_schema,
)
from engine.limits import MAX_DELAY_S, MAX_WAIT_S, MAX_WORKFLOW_ID

# Output handle names chosen by users (router cases): like node ids, and never `error`, which
# every node has for its failures.
HANDLE_PATTERN = "^(?!error$)[a-z][a-z0-9_]{0,63}$"


class Start(Handler):
    type = "start"
    replayable = True
    label = "Start"
    category = "Flow"
    description = "Where a run begins: outputs the run inputs."
    icon = "play"
    color = "#16a34a"
    inputs = ()
    config_schema = object_schema({})

    async def run(self, ctx: HandlerContext) -> HandlerResult:
        return HandlerResult(ctx.scope["inputs"])


class Condition(Handler):
    type = "condition"
    replayable = True
    label = "Condition"
    category = "Flow"
    description = "Sends its input down `true` or `false`, by an expression."
    icon = "git-branch"
    color = "#d97706"
    outputs = ("true", "false")
    expression_fields = ("expression",)
    config_schema = object_schema(
        {"expression": {"type": "string", "minLength": 1, "description": "e.g. input.total > 10"}},
        required=("expression",),
    )

    async def run(self, ctx: HandlerContext) -> HandlerResult:
        chosen = await evaluate_field(ctx, ctx.config.get("expression"), "expression")
        return HandlerResult(ctx.input, ("true",) if chosen else ("false",))


class Router(Handler):
    type = "router"
    replayable = True
    label = "Router"
    category = "Flow"
    description = "Sends its input down the first case whose expression is true, else `default`."
    icon = "split"
    color = "#ea580c"
    outputs = ("other",)
    expression_fields = ("cases[].expression",)
    config_schema = object_schema(
        {
            "cases": {
                "type": "array",
                "items": object_schema(
                    {
                        "handle": {"type": "string", "pattern": HANDLE_PATTERN},
                        "expression": {"type": "string", "minLength": 1},
                    },
                    required=("handle", "expression"),
                ),
            },
            "default": {"type": "string", "pattern": HANDLE_PATTERN, "default": "other"},
        },
        required=("cases",),
    )

    def output_handles(self, config: dict[str, Any]) -> tuple[str, ...]:
        cases = config.get("cases") if isinstance(config, dict) else None
        handles = [
            case["handle"]
            for case in (cases if isinstance(cases, list) else ())
            if isinstance(case, dict) and isinstance(case.get("handle"), str)
        ]
        handles.append(self._default(config))
        return tuple(dict.fromkeys(handles))

    @staticmethod
    def _default(config: Any) -> str:
        default = config.get("default") if isinstance(config, dict) else None
        return default if isinstance(default, str) and default else "other"

    async def run(self, ctx: HandlerContext) -> HandlerResult:
        cases = ctx.config.get("cases")
        if not isinstance(cases, list):
            raise NodeError(
                "config.cases must be a list of {handle, expression}", "bad_config", retryable=False
            )
        for index, case in enumerate(cases):
            if not isinstance(case, dict) or not isinstance(case.get("handle"), str):
                raise NodeError(
                    f"config.cases[{index}] needs a handle", "bad_config", retryable=False
                )
            field = f"cases[{index}].expression"
            if await evaluate_field(ctx, case.get("expression"), field):
                return HandlerResult(ctx.input, (case["handle"],))
        return HandlerResult(ctx.input, (self._default(ctx.config),))


class Delay(Handler):
    type = "delay"
    label = "Delay"
    category = "Flow"
    description = "Waits a number of seconds, then passes its input on."
    icon = "timer"
    color = "#64748b"
    config_schema = object_schema(
        {
            "seconds": {
                "type": "number",
                "minimum": 0,
                "maximum": MAX_DELAY_S,
                "description": "at most 86400 (a day); past the durable threshold the run parks",
            }
        },
        required=("seconds",),
    )

    async def run(self, ctx: HandlerContext) -> HandlerResult | Wait:
        seconds = ctx.config.get("seconds")
        if isinstance(seconds, bool) or not isinstance(seconds, int | float):
            raise NodeError(
                f"config.seconds must be a number, got {seconds!r}", "bad_config", retryable=False
            )
        if not 0 <= seconds <= MAX_DELAY_S:
            raise NodeError(
                f"config.seconds must be from 0 to {MAX_DELAY_S}", "bad_config", retryable=False
            )
        threshold = ctx.settings.get("durable_delay_threshold_s")
        if threshold is not None and seconds > threshold:
            # Durable: the run parks with a wake-up time instead of holding a worker.
            wake_at = ctx.settings["clock"].time() + seconds
            return Wait("delay", wake_at=wake_at, data={"output": ctx.input})
        await asyncio.sleep(seconds)  # a cancelled run cancels this task: the sleep ends at once
        return HandlerResult(ctx.input)


class Error(Handler):
    type = "error"
    replayable = True
    label = "Error"
    category = "Flow"
    description = "Fails with a message; with `when`, only when that expression is true."
    icon = "octagon-alert"
    color = "#dc2626"
    expression_fields = ("when",)
    config_schema = object_schema(
        {
            "message": {"type": "string", "minLength": 1},
            "when": {"type": "string", "minLength": 1, "description": "e.g. input.total < 0"},
        },
        required=("message",),
    )

    async def run(self, ctx: HandlerContext) -> HandlerResult:
        when = ctx.config.get("when")
        if when is not None and not await evaluate_field(ctx, when, "when"):
            return HandlerResult(ctx.input)
        message = ctx.config.get("message")
        raise NodeError(message if isinstance(message, str) else str(message), "error")


class Approval(Handler):
    type = "approval"
    label = "Approval"
    category = "Flow"
    description = "Parks the run until a person approves or rejects; then follows that handle."
    icon = "user-check"
    color = "#9333ea"
    outputs = ("approved", "rejected")
    config_schema = object_schema(
        {
            "prompt": {"type": "string"},
            "timeout_s": {
                "type": ["number", "null"],
                "exclusiveMinimum": 0,
                "maximum": MAX_WAIT_S,
                "description": "seconds until it is decided by itself (at most 30 days)",
            },
            "timeout_action": {
                "enum": ["reject", "approve", "fail"],
                "default": "reject",
                "description": "what happens at timeout_s: rejected, approved (both by "
                "'timeout'), or the node fails (type timeout)",
            },
        },
    )

    async def run(self, ctx: HandlerContext) -> Wait:
        timeout = ctx.config.get("timeout_s")
        if timeout is not None and (
            isinstance(timeout, bool) or not isinstance(timeout, int | float)
        ):
            raise NodeError(
                f"config.timeout_s must be a number, got {timeout!r}", "bad_config", retryable=False
            )
        now = ctx.settings["clock"].time()
        return Wait(
            "approval",
            wake_at=now + timeout if timeout else None,
            data={
                "prompt": ctx.config.get("prompt") or "",
                "timeout_action": ctx.config.get("timeout_action") or "reject",
            },
        )


class Subworkflow(Handler):
    type = "subworkflow"
    label = "Sub-workflow"
    side_effects = True  # a dry run does not start the child: the node gets a placeholder
    category = "Flow"
    description = "Runs another saved workflow as a child run; its outputs are this node's output."
    icon = "workflow"
    color = "#2563eb"
    config_schema = object_schema(
        {
            "workflow": {
                "type": ["integer", "string"],
                "minimum": 1,
                "maximum": MAX_WORKFLOW_ID,
                "description": "the workflow's id",
            },
            "inputs": {"type": ["object", "string"]},
        },
        required=("workflow",),
    )

    async def run(self, ctx: HandlerContext) -> HandlerResult | Wait:
        runner = ctx.settings.get("run_subworkflow")
        if runner is None:
            raise NodeError("sub-workflows need a runtime that can start child runs", "subworkflow")
        depth = int(ctx.settings.get("depth") or 0)
        limit = int(ctx.settings.get("max_depth") or 5)
        if depth >= limit:
            raise NodeError(
                f"sub-workflow nesting deeper than {limit} levels (a workflow calling itself?)",
                "recursion",
            )
        inputs = ctx.config.get("inputs") or {}
        if not isinstance(inputs, dict):
            raise NodeError("config.inputs must render to an object", "bad_config", retryable=False)
        # `attempt` tells the runtime which execution of this node starts the child (so a
        # takeover can find the child a lost attempt started); in a loop or map body the
        # container adds `iteration` (see engine.execution.bodies.in_iteration).
        outputs = await runner(
            ctx.config["workflow"], inputs, depth + 1, ctx.node_id, attempt=ctx.attempt, log=ctx.log
        )
        if isinstance(outputs, Wait):
            # The child parked: this node parks too, and the run holds nothing while it waits.
            # The runtime continues it (`Execution.continue_node`) once the child has ended.
            return outputs
        return HandlerResult(outputs)


class FanOut(Handler):
    """Grows the graph: one transform node per item of `items`, all joined by a merge node
    (`<id>_join`), downstream of this node. The example of the dynamic-growth hook."""

    type = "fan_out"
    label = "Fan out"
    category = "Flow"
    description = "Adds one node per item to the running graph, joined by a merge node."
    icon = "git-fork"
    color = "#ea580c"
    config_schema = object_schema(
        {
            "items": {"type": ["array", "string"], "description": "one added node per item"},
        },
        required=("items",),
    )

    async def run(self, ctx: HandlerContext) -> HandlerResult:
        items = items_list(ctx.config.get("items"))
        return HandlerResult({"items": items})

    def grow(self, node: dict, output: Any) -> dict[str, list] | None:
        """The nodes and edges this node's result adds to the graph (pure: a restore calls it
        again with the recorded output)."""
        if not isinstance(output, dict) or not isinstance(output.get("items"), list):
            return None
        base = node["id"]
        join = f"{base}_join"
        nodes = [{"id": join, "type": "merge", "config": {"mode": "list"}}]
        edges = []
        for k, item in enumerate(output["items"]):
            added = f"{base}_{k}"
            nodes.append({"id": added, "type": "transform", "config": {"output": item}})
            edges.append({"id": f"{base}__{k}", "source": base, "target": added})
            edges.append({"id": f"{base}__{k}_join", "source": added, "target": join})
        if not output["items"]:
            edges.append({"id": f"{base}__join", "source": base, "target": join})
        return {"nodes": nodes, "edges": edges}
