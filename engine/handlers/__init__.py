"""Node types. `registry` holds the built-ins; importing this package registers them."""

from engine.handlers.base import (
    ERROR_HANDLE,
    Handler,
    HandlerContext,
    HandlerResult,
    NodeError,
    Registry,
)

registry = Registry()

__all__ = [
    "ERROR_HANDLE",
    "Handler",
    "HandlerContext",
    "HandlerResult",
    "NodeError",
    "Registry",
    "registry",
]
