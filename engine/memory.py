"""An llm node's conversation memory (`config.memory`): the messages and answers of its earlier
executions in the same run (loop iterations), trimmed to the last N messages or to as many of
the latest as fit in N tokens, sent before the new messages.

The run keeps one store, by node id, shared by the run's execution and its container bodies'
(`ExecutionOptions.memory`). It lasts as long as the run, not the worker:

- a paused or parked run saves it in its snapshot (`Restore.snapshot()["memory"]`);
- each attempt that kept something records its exchange (`NodeRecord.memory`: the messages
  it sent and the answer, not the whole memory, so rows grow with what was said, not with
  the memory's size times the iterations), and a worker that takes over a run whose worker
  died replays those exchanges in the order their attempts ended (`replayed`).

What is kept is redacted like a stored output (a secret's value becomes `***`), both in the
store and in what is recorded, so a run that is taken over sends what it would have sent.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from engine.tokens import content_text, count_tokens, tokens_of


class NodeMemory:
    """One node's view of the run's memory store, for one attempt (`ctx.memory`)."""

    __slots__ = ("node_id", "record", "redact", "store")

    def __init__(
        self, store: dict | None, node_id: str, record: Any, redact: Callable[[Any], Any]
    ) -> None:
        self.store = store
        self.node_id = node_id
        self.record = record
        self.redact = redact

    def recall(self) -> list[dict]:
        """The messages kept from the node's earlier executions in this run."""
        if self.store is None:
            return []
        return [dict(message) for message in self.store.get(self.node_id, ())]

    async def keep(self, exchange: list[dict], limits: dict[str, Any]) -> list[dict]:
        """Add this execution's messages and answer (`exchange`), trim to `limits` (see
        `trimmed`), store the result and record the exchange."""
        said = self.redact(exchange)
        kept = [*self.recall(), *said]
        if limits.get("tokens"):
            kept = await tokens_of(trimmed, kept, limits)
        else:
            kept = trimmed(kept, limits)
        if self.store is not None:
            self.store[self.node_id] = kept
        self.record.memory = said
        return kept


def trimmed(messages: list[dict], limits: dict[str, Any]) -> list[dict]:
    """`messages` within `limits`: `messages`, the last N; `tokens`, as many of the latest
    as fit in N tokens together (counted by engine.tokens: may block, call it off the loop)."""
    if limits.get("messages"):
        messages = messages[-int(limits["messages"]) :]
    if not limits.get("tokens"):
        return list(messages)
    budget = int(limits["tokens"])
    kept: list[dict] = []
    used = 0
    for message in reversed(messages):
        used += count_tokens(content_text(message.get("content")))
        if used > budget:
            break
        kept.append(message)
    kept.reverse()
    return kept


def replayed(exchanges: list[tuple[str, Any, list]], limits: dict[str, dict]) -> dict[str, list]:
    """The store rebuilt from recorded exchanges, `(node id, when its attempt ended, the
    exchange)` each: per node, in the order they ended, kept as `keep` kept them, within the
    node's `limits` (its `config.memory`). Blocks when a limit counts tokens."""
    store: dict[str, list] = {}
    for node_id, _, exchange in sorted(exchanges, key=lambda e: e[1] or 0):
        if exchange is None or not limits.get(node_id):
            continue
        store[node_id] = trimmed([*store.get(node_id, ()), *exchange], limits[node_id])
    return store
