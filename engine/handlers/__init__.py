"""Node types. `registry` holds the built-ins (`builtin.py`); the interface is `base.py`."""

from engine.handlers.base import (
    ERROR_HANDLE,
    Handler,
    HandlerContext,
    HandlerResult,
    NodeError,
    Registry,
    Wait,
)
from engine.handlers.builtin import register_builtins

registry = Registry()
register_builtins(registry)

__all__ = [
    "ERROR_HANDLE",
    "Handler",
    "HandlerContext",
    "HandlerResult",
    "NodeError",
    "Registry",
    "Wait",
    "registry",
]
