"""The built-in node types of SPEC §3 (flow, data and output nodes; `http` lives in
`http_request.py`). Importing this module registers them into `engine.handlers.registry`."""

from __future__ import annotations

import asyncio
from functools import partial
from typing import Any, ClassVar

from engine.budget import off_loop
from engine.expressions import ExpressionError
from engine.handlers.base import Handler, HandlerContext, HandlerResult, NodeError, Wait
from engine.handlers.http_request import HttpRequest
from engine.limits import MAX_DELAY_S

# Output handle names chosen by users (router cases): like node ids, and never `error`, which
# every node has for its failures.
HANDLE_PATTERN = "^(?!error$)[a-z][a-z0-9_]{0,63}$"


def _object_schema(properties: dict[str, Any], required: tuple[str, ...] = ()) -> dict[str, Any]:
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "type": "object",
        "properties": properties,
        "required": list(required),
        "additionalProperties": False,
    }


async def evaluate_field(ctx: HandlerContext, expression: Any, field: str) -> Any:
    """Evaluate a config expression field (off the event loop when it is long, see
    engine.budget); its failures are the node's (`expression`)."""
    if not isinstance(expression, str):
        raise NodeError(f"config.{field} must be an expression string", "bad_config")
    try:
        return await off_loop(partial(ctx.evaluate, expression))
    except ExpressionError as exc:
        raise NodeError(f"config.{field}: {exc.message}", "expression") from None


class Start(Handler):
    type = "start"
    replayable = True
    label = "Start"
    category = "Flow"
    description = "Where a run begins: outputs the run inputs."
    icon = "play"
    color = "#16a34a"
    inputs = ()
    config_schema = _object_schema({})

    async def run(self, ctx: HandlerContext) -> HandlerResult:
        return HandlerResult(ctx.scope["inputs"])


class Transform(Handler):
    type = "transform"
    replayable = True
    label = "Transform"
    category = "Data"
    description = "Builds a value from templates: {{ }} in `output` read inputs and upstream nodes."
    icon = "wand-sparkles"
    color = "#7c3aed"
    config_schema = _object_schema(
        {"output": {"description": "Any JSON value; strings may hold {{ expressions }}."}},
        required=("output",),
    )

    async def run(self, ctx: HandlerContext) -> HandlerResult:
        return HandlerResult(ctx.config.get("output"))


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
    config_schema = _object_schema(
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
    config_schema = _object_schema(
        {
            "cases": {
                "type": "array",
                "items": _object_schema(
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
            raise NodeError("config.cases must be a list of {handle, expression}", "bad_config")
        for index, case in enumerate(cases):
            if not isinstance(case, dict) or not isinstance(case.get("handle"), str):
                raise NodeError(f"config.cases[{index}] needs a handle", "bad_config")
            field = f"cases[{index}].expression"
            if await evaluate_field(ctx, case.get("expression"), field):
                return HandlerResult(ctx.input, (case["handle"],))
        return HandlerResult(ctx.input, (self._default(ctx.config),))


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
    config_schema = _object_schema({"mode": {"enum": list(modes), "default": "object"}})

    async def run(self, ctx: HandlerContext) -> HandlerResult:
        mode = ctx.config.get("mode", "object")
        if mode == "object":
            return HandlerResult(dict(ctx.sources))
        if mode == "list":
            return HandlerResult(list(ctx.sources.values()))
        if mode == "first":
            return HandlerResult(next(iter(ctx.sources.values()), None))
        raise NodeError(
            f"config.mode must be one of {', '.join(self.modes)}, got {mode!r}", "bad_config"
        )


class Delay(Handler):
    type = "delay"
    label = "Delay"
    category = "Flow"
    description = "Waits a number of seconds, then passes its input on."
    icon = "timer"
    color = "#64748b"
    config_schema = _object_schema(
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
            raise NodeError(f"config.seconds must be a number, got {seconds!r}", "bad_config")
        if not 0 <= seconds <= MAX_DELAY_S:
            raise NodeError(f"config.seconds must be from 0 to {MAX_DELAY_S}", "bad_config")
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
    config_schema = _object_schema(
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


class Output(Handler):
    type = "output"
    replayable = True
    label = "Output"
    category = "Output"
    description = "A result of the run: recorded in the run's outputs under this node's id."
    icon = "flag"
    color = "#059669"
    config_schema = _object_schema(
        {"value": {"description": "Any JSON value; strings may hold {{ expressions }}."}},
        required=("value",),
    )

    async def run(self, ctx: HandlerContext) -> HandlerResult:
        return HandlerResult(ctx.config.get("value"))


BUILTINS: tuple[type[Handler], ...] = (
    Start,
    Transform,
    Condition,
    Router,
    Merge,
    Delay,
    HttpRequest,
    Error,
    Output,
)


def register_builtins(registry: Any) -> None:
    """Add the built-in types to a registry (those it already has are left alone)."""
    from engine.handlers.flow import FLOW_TYPES

    for handler in (*BUILTINS, *FLOW_TYPES):
        if handler.type not in registry:
            registry.register(handler)
