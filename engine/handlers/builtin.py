"""The built-in node types of SPEC §3, in one table: what `engine.handlers.registry` holds
(`register_builtins` adds them to any `Registry`). The types live by job: `data.py`, `flow.py`,
`containers.py`, `http_request.py` and `llm.py`."""

from __future__ import annotations

from engine.handlers.base import Handler, Registry
from engine.handlers.containers import Loop, Map
from engine.handlers.data import Merge, Output, Transform
from engine.handlers.flow import (
    Approval,
    Condition,
    Delay,
    Error,
    FanOut,
    Router,
    Start,
    Subworkflow,
)
from engine.handlers.http_request import HttpRequest
from engine.handlers.llm import Llm
from engine.handlers.triggers import Schedule, Webhook

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
    Loop,
    Map,
    Approval,
    Subworkflow,
    FanOut,
    Webhook,
    Schedule,
    Llm,
)


def register_builtins(registry: Registry) -> None:
    """Add the built-in types to a registry (those it already has are left alone)."""
    for handler in BUILTINS:
        if handler.type not in registry:
            registry.register(handler)
