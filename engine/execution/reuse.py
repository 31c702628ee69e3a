"""The one step of an attempt that reuses unchanged work (engine.caching): after the node's
config is rendered, its key is looked up through the injected `ExecutionOptions.cache`."""

from __future__ import annotations

from functools import partial
from typing import Any

from engine.budget import in_thread
from engine.caching import cache_key, wants_cache
from engine.handlers.base import Handler, HandlerResult
from engine.report import NodeRecord


async def reuse(
    options: Any, record: NodeRecord, node: dict, handler: Handler, config: Any, value: Any
) -> HandlerResult | None:
    """An earlier successful attempt's result when one with this attempt's key is fresh
    enough (the record then says `reused_from`), else None (the record keeps the key, stored
    with the node's success). Nothing for nodes without an applicable `cache`, nor dry runs."""
    record.cache_key = record.reused_from = record.saved_ms = None
    if options.cache is None or options.dry_run or not wants_cache(node, handler):
        return None
    # hashing a large input is work: off the event loop
    key = await in_thread(partial(cache_key, handler, config, value))
    record.cache_key = key
    hit = await options.cache.lookup(key, float(node["cache"]["ttl_s"]))
    if hit is None:
        return None
    record.reused_from = hit.run
    record.saved_ms = hit.duration_ms
    return HandlerResult(hit.output, tuple(hit.handles or ()) or ("out",))
