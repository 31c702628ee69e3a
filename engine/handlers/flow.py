"""Control-flow node types (SPEC §3, §4): `loop` and `map` containers, `approval`,
`subworkflow`, and `fan_out` (the example of a node that grows the running graph).

Containers do not execute their body themselves: the executor hands them `ctx.body`
(`engine.containers.Body`), which runs one iteration of the body sub-graph and records it. The
handler only decides which iterations run, in what order and what happens on failure.
"""

from __future__ import annotations

import asyncio
from functools import partial
from typing import Any

from engine.budget import off_loop
from engine.handlers.base import (
    Handler,
    HandlerContext,
    HandlerResult,
    IterationParked,
    NodeError,
    Wait,
)
from engine.handlers.builtin import _object_schema
from engine.limits import MAX_CONCURRENCY, MAX_ITERATIONS, MAX_WAIT_S, MAX_WORKFLOW_ID

DEFAULT_MAX_ITERATIONS = 1000
LOOP_MODES = ("count", "for_each", "while", "do_while")


def _items(value: Any) -> list:
    if not isinstance(value, list):
        kind = type(value).__name__
        raise NodeError(f"config.items must be a list, got {kind}", "bad_config")
    return value


def _whole(value: Any, field: str, minimum: int = 0) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise NodeError(
            f"config.{field} must be an integer >= {minimum}, got {value!r}", "bad_config"
        )
    return value


def _over_limit(node_id: str, limit: int) -> NodeError:
    return NodeError(f"loop {node_id} exceeded max_iterations ({limit})", "max_iterations")


class Loop(Handler):
    type = "loop"
    label = "Loop"
    category = "Flow"
    description = "Runs its body once per iteration, in order: count, for_each, while, do_while."
    icon = "repeat"
    color = "#0d9488"
    container = True
    expression_fields = ("condition",)
    config_schema = {
        **_object_schema(
            {
                "mode": {"enum": list(LOOP_MODES), "default": "count"},
                "count": {"type": ["integer", "string"], "minimum": 0, "maximum": MAX_ITERATIONS},
                "items": {"type": ["array", "string"]},
                "condition": {
                    "type": "string",
                    "minLength": 1,
                    "description": "e.g. loop.index < 3",
                },
                "max_iterations": {
                    "type": "integer",
                    "minimum": 1,
                    "maximum": MAX_ITERATIONS,
                    "default": DEFAULT_MAX_ITERATIONS,
                },
            },
        ),
        # Each mode's own field is required (SPEC §3), so validation names it instead of the
        # run failing; `count` applies when `mode` is absent, as it is the default.
        "allOf": [
            {"if": {"properties": {"mode": {"const": "count"}}}, "then": {"required": ["count"]}},
            {
                "if": {"properties": {"mode": {"const": "for_each"}}, "required": ["mode"]},
                "then": {"required": ["items"]},
            },
            {
                "if": {
                    "properties": {"mode": {"enum": ["while", "do_while"]}},
                    "required": ["mode"],
                },
                "then": {"required": ["condition"]},
            },
        ],
    }

    async def run(self, ctx: HandlerContext) -> HandlerResult:
        config = ctx.config
        mode = config.get("mode", "count")
        limit = _whole(config.get("max_iterations", DEFAULT_MAX_ITERATIONS), "max_iterations", 1)
        if mode == "count":
            items = [None] * _whole(config.get("count"), "count")
            return HandlerResult(await self._each(ctx, items, limit, with_item=False))
        if mode == "for_each":
            items = _items(config.get("items"))
            return HandlerResult(await self._each(ctx, items, limit, with_item=True))
        if mode in ("while", "do_while"):
            if not isinstance(config.get("condition"), str):
                raise NodeError(f"config.condition is required in {mode} mode", "bad_config")
            return HandlerResult(await self._until(ctx, limit, after=mode == "do_while"))
        raise NodeError(
            f"config.mode must be one of {', '.join(LOOP_MODES)}, got {mode!r}", "bad_config"
        )

    @staticmethod
    async def _each(ctx: HandlerContext, items: list, limit: int, with_item: bool) -> list:
        total = len(items)
        if total > limit:
            raise NodeError(
                f"loop {ctx.node_id} would run {total} iterations, over max_iterations ({limit})",
                "max_iterations",
            )
        body, results = ctx.body, []
        body.progress(0, total)
        for index, item in enumerate(items):
            loop = {"index": index, "iteration": index + 1, "item": item, "count": total}
            results.append(await body.iteration(index, loop, item if with_item else ctx.input))
            body.progress(index + 1, total)
        return results

    @staticmethod
    async def _until(ctx: HandlerContext, limit: int, after: bool) -> list:
        """while: the condition before each iteration (`loop.index` = the one to come);
        do_while: after each one (`loop` = the one that just ran), so it runs at least once."""
        body, results, index = ctx.body, [], 0
        condition = ctx.config["condition"]

        async def holds(loop: dict) -> bool:  # off the event loop when it is long
            return await off_loop(partial(body.condition, condition, loop))

        while True:
            loop = {"index": index, "iteration": index + 1, "item": None, "count": None}
            if not after and not await holds(loop):
                return results
            if index >= limit:
                raise _over_limit(ctx.node_id, limit)
            results.append(await body.iteration(index, loop, ctx.input))
            body.progress(index + 1, None)
            if after and not await holds(loop):
                return results
            index += 1


def _path_order(path: str) -> tuple[int, ...]:
    """`M[10]` after `M[2]`: iteration paths in index order."""
    return tuple(int(part.split("]")[0]) for part in path.split("[")[1:])


class Map(Handler):
    type = "map"
    label = "Map"
    category = "Flow"
    description = "Runs its body once per item, concurrently; the output keeps item order."
    icon = "layers"
    color = "#0891b2"
    container = True
    config_schema = _object_schema(
        {
            "items": {"type": ["array", "string"]},
            "max_concurrency": {
                "type": "integer",
                "minimum": 1,
                "maximum": MAX_CONCURRENCY,
                "default": 8,
            },
            "item_failure": {"enum": ["fail", "skip"], "default": "fail"},
        },
        required=("items",),
    )

    async def run(self, ctx: HandlerContext) -> HandlerResult:
        items = _items(ctx.config.get("items"))
        width = _whole(ctx.config.get("max_concurrency", 8), "max_concurrency", 1)
        skip = ctx.config.get("item_failure", "fail") == "skip"
        body, total = ctx.body, len(items)
        results: list[Any] = [None] * total
        slots = asyncio.Semaphore(width)
        done = 0
        failed = False
        body.progress(0, total)

        parked: list[str] = []

        async def one(index: int, item: Any) -> None:
            nonlocal done, failed
            loop = {"index": index, "iteration": index + 1, "item": item, "count": total}
            async with slots:
                if failed:
                    return  # a slot freed by the failing item: start nothing more
                try:
                    results[index] = await body.iteration(index, loop, item)
                except IterationParked as waits:
                    parked.extend(waits.paths)  # the other items go on meanwhile
                    return
                except NodeError:
                    if not skip:
                        failed = True
                        raise
            done += 1
            body.progress(done, total)

        try:
            async with asyncio.TaskGroup() as group:
                for index, item in enumerate(items):
                    group.create_task(one(index, item))
        except* NodeError as failures:
            body.cancel_parked(f"cancelled: {ctx.node_id} failed")
            raise failures.exceptions[0] from None
        if parked:
            raise IterationParked(sorted(parked, key=_path_order))
        return HandlerResult(results)


class Approval(Handler):
    type = "approval"
    label = "Approval"
    category = "Flow"
    description = "Parks the run until a person approves or rejects; then follows that handle."
    icon = "user-check"
    color = "#9333ea"
    outputs = ("approved", "rejected")
    config_schema = _object_schema(
        {
            "prompt": {"type": "string"},
            "timeout_s": {
                "type": ["number", "null"],
                "exclusiveMinimum": 0,
                "maximum": MAX_WAIT_S,
                "description": "seconds until it is decided by itself (at most 30 days)",
            },
        },
    )

    async def run(self, ctx: HandlerContext) -> Wait:
        timeout = ctx.config.get("timeout_s")
        if timeout is not None and (
            isinstance(timeout, bool) or not isinstance(timeout, int | float)
        ):
            raise NodeError(f"config.timeout_s must be a number, got {timeout!r}", "bad_config")
        now = ctx.settings["clock"].time()
        return Wait(
            "approval",
            wake_at=now + timeout if timeout else None,
            data={"prompt": ctx.config.get("prompt") or ""},
        )


class Subworkflow(Handler):
    type = "subworkflow"
    label = "Sub-workflow"
    side_effects = True  # a dry run does not start the child: the node gets a placeholder
    category = "Flow"
    description = "Runs another saved workflow as a child run; its outputs are this node's output."
    icon = "workflow"
    color = "#2563eb"
    config_schema = _object_schema(
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
            raise NodeError("config.inputs must render to an object", "bad_config")
        # `attempt` tells the runtime which execution of this node starts the child (so a
        # takeover can find the child a lost attempt started); in a loop or map body the
        # container adds `iteration` (see engine.containers.in_iteration).
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
    config_schema = _object_schema(
        {
            "items": {"type": ["array", "string"], "description": "one added node per item"},
        },
        required=("items",),
    )

    async def run(self, ctx: HandlerContext) -> HandlerResult:
        items = _items(ctx.config.get("items"))
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


FLOW_TYPES: tuple[type[Handler], ...] = (Loop, Map, Approval, Subworkflow, FanOut)
