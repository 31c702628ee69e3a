"""Test-only node types and helpers for running small workflows through the engine."""

from __future__ import annotations

import asyncio
from typing import Any

from engine import Execution, Graph, load_document, validate_document
from engine.handlers.base import Handler, HandlerContext, HandlerResult, NodeError, Registry

registry = Registry()
executions: list[tuple[str, int]] = []  # (node id, attempt) of every handler call, in order


@registry.register
class Noop(Handler):
    type = "noop"
    label = "No-op"
    config_schema = {
        "type": "object",
        "properties": {"value": {}, "sleep": {"type": "number"}},
        "additionalProperties": False,
    }

    async def run(self, ctx: HandlerContext) -> HandlerResult:
        executions.append((ctx.node_id, ctx.attempt))
        if ctx.config.get("sleep"):
            await asyncio.sleep(ctx.config["sleep"])
        return HandlerResult(ctx.config.get("value", ctx.input))


@registry.register
class Fail(Handler):
    """Fails its first `times` attempts (all of them when `times` is absent)."""

    type = "fail"
    label = "Fail"
    config_schema = {
        "type": "object",
        "properties": {
            "times": {"type": "integer"},
            "message": {"type": "string"},
            "sleep": {"type": "number"},
            "error_type": {"type": "string"},
            "retryable": {"type": "boolean"},
            "retry_after_s": {"type": "number"},
        },
        "additionalProperties": False,
    }

    async def run(self, ctx: HandlerContext) -> HandlerResult:
        executions.append((ctx.node_id, ctx.attempt))
        config = ctx.config
        if config.get("sleep"):
            await asyncio.sleep(config["sleep"])
        times = config.get("times")
        if times is None or ctx.attempt <= times:
            raise NodeError(
                config.get("message", "boom"),
                config.get("error_type", "error"),
                config.get("retryable", True),
                config.get("retry_after_s"),
            )
        return HandlerResult(ctx.attempt)


@registry.register
class Choose(Handler):
    """Takes the handles listed in its config (like a condition or router)."""

    type = "choose"
    label = "Choose"
    outputs = ("a", "b", "c")
    config_schema = {
        "type": "object",
        "properties": {"handles": {"type": "array", "items": {"type": "string"}}},
        "required": ["handles"],
    }

    async def run(self, ctx: HandlerContext) -> HandlerResult:
        executions.append((ctx.node_id, ctx.attempt))
        return HandlerResult(ctx.input, tuple(ctx.config["handles"]))


@registry.register
class Hang(Handler):
    """Sleeps far longer than any test waits; records whether it saw cancellation."""

    type = "hang"
    label = "Hang"
    cancelled: list[str] = []

    async def run(self, ctx: HandlerContext) -> HandlerResult:
        executions.append((ctx.node_id, ctx.attempt))
        try:
            await asyncio.sleep(60)
        except asyncio.CancelledError:
            Hang.cancelled.append(ctx.node_id)
            raise
        return HandlerResult(None)


@registry.register
class Log(Handler):
    type = "log"
    label = "Log"

    async def run(self, ctx: HandlerContext) -> HandlerResult:
        executions.append((ctx.node_id, ctx.attempt))
        ctx.log(f"hello from {ctx.node_id}")
        return HandlerResult(ctx.input)


@registry.register
class Cases(Handler):
    """A router-like type whose `cases[].expression` are plain expressions."""

    type = "cases"
    label = "Cases"
    expression_fields = ("cases[].expression",)
    config_schema = {
        "type": "object",
        "properties": {
            "cases": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {"handle": {"type": "string"}, "expression": {"type": "string"}},
                    "required": ["handle", "expression"],
                },
            },
            "count": {"type": "integer"},
        },
        "required": ["cases"],
    }

    def output_handles(self, config: dict) -> tuple[str, ...]:
        return (*(case["handle"] for case in config.get("cases", [])), "other")

    async def run(self, ctx: HandlerContext) -> HandlerResult:
        executions.append((ctx.node_id, ctx.attempt))
        for case in ctx.config["cases"]:
            if ctx.evaluate(case["expression"]):
                return HandlerResult(ctx.input, (case["handle"],))
        return HandlerResult(ctx.input, ("other",))


@registry.register
class Box(Handler):
    """A container type, for validating `parent`."""

    type = "box"
    label = "Box"
    container = True

    async def run(self, ctx: HandlerContext) -> HandlerResult:
        return HandlerResult(None)


def doc(nodes: list, edges: list = (), **extra: Any) -> dict:
    """A workflow document from short node specs: "id" or ("id", "type", {fields})."""
    node_list = []
    for spec in nodes:
        if isinstance(spec, str):
            spec = (spec, "noop", {})
        node_id, node_type, *rest = spec
        fields = rest[0] if rest else {}
        node_list.append({"id": node_id, "type": node_type, **fields})
    edge_list = []
    for spec in edges:
        source, target, *rest = spec
        edge = {"source": source, "target": target}
        if rest:
            edge["source_handle"] = rest[0]
        edge_list.append(edge)
    return load_document({"nodes": node_list, "edges": edge_list, **extra})


def build(document: dict, reg: Registry = registry) -> Graph:
    problems = [p for p in validate_document(document, registry=reg) if p.severity == "error"]
    assert not problems, [p.to_dict() for p in problems]
    return Graph.from_document(document, reg)


def run(document: dict, *, inputs: dict | None = None, reg: Registry = registry, **kwargs: Any):
    """Run a document to its end; returns (report dict, events as dicts)."""
    events: list = []
    execution = Execution(build(document, reg), inputs=inputs, sink=events.append, **kwargs)
    report = asyncio.run(execution.run())
    return report.to_dict(), [event.to_dict() for event in events]


def statuses(report: dict) -> dict[str, str]:
    return {node_id: node["status"] for node_id, node in report["nodes"].items()}
