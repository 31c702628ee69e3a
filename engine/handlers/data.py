"""Node types that build or combine values (SPEC §3): `transform`, `merge`, `output`."""

from __future__ import annotations

from typing import ClassVar

from engine.handlers.base import Handler, HandlerContext, HandlerResult, NodeError, object_schema


class Transform(Handler):
    type = "transform"
    replayable = True
    label = "Transform"
    category = "Data"
    description = "Builds a value from templates: {{ }} in `output` read inputs and upstream nodes."
    icon = "wand-sparkles"
    color = "#7c3aed"
    config_schema = object_schema(
        {"output": {"description": "Any JSON value; strings may hold {{ expressions }}."}},
        required=("output",),
    )

    async def run(self, ctx: HandlerContext) -> HandlerResult:
        return HandlerResult(ctx.config.get("output"))


class Merge(Handler):
    type = "merge"
    replayable = True
    label = "Merge"
    category = "Flow"
    description = "Combines what its incoming branches carry: an object by source, a list, or "
    description += "the first."
    icon = "merge"
    color = "#0891b2"
    modes: ClassVar[tuple[str, ...]] = ("object", "list", "first")
    config_schema = object_schema({"mode": {"enum": list(modes), "default": "object"}})

    async def run(self, ctx: HandlerContext) -> HandlerResult:
        mode = ctx.config.get("mode", "object")
        if mode == "object":
            return HandlerResult(dict(ctx.sources))
        if mode == "list":
            return HandlerResult(list(ctx.sources.values()))
        if mode == "first":
            return HandlerResult(next(iter(ctx.sources.values()), None))
        raise NodeError(
            f"config.mode must be one of {', '.join(self.modes)}, got {mode!r}",
            "bad_config",
            retryable=False,
        )


class Output(Handler):
    type = "output"
    replayable = True
    label = "Output"
    category = "Output"
    description = "A result of the run: recorded in the run's outputs under this node's id."
    icon = "flag"
    color = "#059669"
    config_schema = object_schema(
        {"value": {"description": "Any JSON value; strings may hold {{ expressions }}."}},
        required=("value",),
    )

    async def run(self, ctx: HandlerContext) -> HandlerResult:
        return HandlerResult(ctx.config.get("value"))
