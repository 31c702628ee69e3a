"""Container node types (SPEC §3, §4): `loop` and `map`.

Containers do not execute their body themselves: the executor hands them `ctx.body`
(`engine.execution.bodies.Body`), which runs one iteration of the body sub-graph and records it. The
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
    items_list,
    object_schema,
)
from engine.limits import MAX_CONCURRENCY, MAX_ITERATIONS

DEFAULT_MAX_ITERATIONS = 1000
LOOP_MODES = ("count", "for_each", "while", "do_while")


def _whole(value: Any, field: str, minimum: int = 0) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise NodeError(
            f"config.{field} must be an integer >= {minimum}, got {value!r}",
            "bad_config",
            retryable=False,
        )
    return value


def _over_limit(node_id: str, limit: int) -> NodeError:
    return NodeError(
        f"loop {node_id} exceeded max_iterations ({limit})", "max_iterations", retryable=False
    )


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
        **object_schema(
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
            items = items_list(config.get("items"))
            return HandlerResult(await self._each(ctx, items, limit, with_item=True))
        if mode in ("while", "do_while"):
            if not isinstance(config.get("condition"), str):
                raise NodeError(
                    f"config.condition is required in {mode} mode", "bad_config", retryable=False
                )
            return HandlerResult(await self._until(ctx, limit, after=mode == "do_while"))
        raise NodeError(
            f"config.mode must be one of {', '.join(LOOP_MODES)}, got {mode!r}",
            "bad_config",
            retryable=False,
        )

    @staticmethod
    async def _each(ctx: HandlerContext, items: list, limit: int, with_item: bool) -> list:
        total = len(items)
        if total > limit:
            raise NodeError(
                f"loop {ctx.node_id} would run {total} iterations, over max_iterations ({limit})",
                "max_iterations",
                retryable=False,
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
    config_schema = object_schema(
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
        items = items_list(ctx.config.get("items"))
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
