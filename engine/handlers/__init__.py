"""Node types. `registry` holds the built-ins; importing this package registers them."""

from engine.handlers.base import (
    ERROR_HANDLE,
    Handler,
    HandlerContext,
    HandlerResult,
    NodeError,
    Registry,
    Wait,
)

registry = Registry()

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

# The built-in node types; last, because they import the names above.
from engine.handlers.builtin import register_builtins  # noqa: E402

register_builtins(registry)
