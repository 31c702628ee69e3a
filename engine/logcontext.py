"""Which node the code running now works for, so a log line can say so (the runtime's log
filter reads it). A ContextVar: each node runs in a task of its own, which keeps its own value,
and what a handler starts (threads through `asyncio.to_thread`, tasks) inherits it."""

from __future__ import annotations

from contextvars import ContextVar

CURRENT_NODE: ContextVar[str | None] = ContextVar("switchyard_current_node", default=None)


def node_label(node_id: str, iteration: str | None) -> str:
    """`fetch`, or `work in m[2]` inside a loop or map body."""
    return f"{node_id} in {iteration}" if iteration else node_id
