"""Reusing unchanged work (SPEC §8 "Time travel"): a node with `cache: {"ttl_s"}` whose type,
handler version, rendered config and input hash to the key of an earlier successful attempt
no older than `ttl_s` ends `reused` with that attempt's output, without running.

The engine computes keys and asks; it stores nothing. The caller injects the lookup
(`ExecutionOptions.cache`, a `NodeCache`) and keeps the key of each computed success with its
record (`NodeRecord.cache_key`), so a key is durable exactly when that success is: an attempt
that crashes or fails leaves none behind.

Only nodes that do not talk to the world are reused, unless the node opts in with
`cache.external: true` (an http GET whose answer may be a few minutes old, say). Containers
and nodes that wait (approval) never are: their result is not a function of config and input.
Dry runs neither reuse nor leave keys.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any, Protocol

from engine.handlers.base import Handler

NEVER_CACHED = frozenset({"approval"})  # the result is a person's decision, not a function


@dataclass(frozen=True, slots=True)
class CacheHit:
    """An earlier successful attempt with the same key: its run, output and chosen handles,
    and how long it took (what reusing it saves)."""

    run: Any
    output: Any
    handles: tuple[str, ...] = ("out",)
    duration_ms: int | None = None


class NodeCache(Protocol):
    """What `ExecutionOptions.cache` provides (I/O at the edge, e.g. the runtime's rows)."""

    async def lookup(self, key: str, max_age_s: float) -> CacheHit | None:
        """The latest successful attempt whose key is `key`, finished at most `max_age_s`
        seconds ago, or None."""


def cache_problems(node: dict, handler: Handler) -> list[str]:
    """Why `node.cache` cannot apply to this node (validation reports each as bad_config)."""
    cache = node.get("cache")
    if not cache:
        return []
    if handler.container or handler.type in NEVER_CACHED:
        return [f"cache: a {handler.type} node's result cannot be reused (remove cache)"]
    if handler.side_effects and not (isinstance(cache, dict) and cache.get("external") is True):
        return [
            f"cache: a {handler.type} node talks to the world; set cache.external to true to "
            "reuse its earlier results anyway"
        ]
    return []


def wants_cache(node: dict, handler: Handler | None) -> bool:
    """The node declares a cache that applies to it."""
    return bool(node.get("cache")) and handler is not None and not cache_problems(node, handler)


def cache_key(handler: Handler, config: Any, value: Any) -> str:
    """The content hash of a node's work: handler type and version, rendered config, input."""
    text = json.dumps(
        [handler.type, handler.version, config, value],
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
        default=repr,
    )
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()
