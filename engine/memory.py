"""An llm node's conversation memory (`config.memory`): the messages and answers of its earlier
executions in the same run (loop iterations), trimmed to the last N messages or to as many of
the latest as fit in N tokens, sent before the new messages.

The run keeps one store, by node id, shared by the run's execution and its container bodies'
(`ExecutionOptions.memory`). It lasts as long as the run, not the worker:

- a paused or parked run saves it in its snapshot (`Restore.snapshot()["memory"]`);
- each attempt that kept something records it (`NodeRecord.memory`), so its row holds the
  memory after it, and a worker that takes over a run whose worker died rebuilds the store
  from the latest of those rows.

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
        """Add this execution's messages and answer, trim to `limits` (`messages`: the last N;
        `tokens`: as many of the latest as fit in N), store and record the result."""
        kept = [*self.recall(), *self.redact(exchange)]
        if limits.get("messages"):
            kept = kept[-int(limits["messages"]) :]
        if limits.get("tokens"):
            kept = await tokens_of(_fitting, kept, int(limits["tokens"]))
        if self.store is not None:
            self.store[self.node_id] = kept
        self.record.memory = kept
        return kept


def _fitting(messages: list[dict], budget: int) -> list[dict]:
    """The latest messages whose contents fit in `budget` tokens together."""
    kept: list[dict] = []
    used = 0
    for message in reversed(messages):
        used += count_tokens(content_text(message.get("content")))
        if used > budget:
            break
        kept.append(message)
    kept.reverse()
    return kept


def latest(rows: list[tuple[str, Any, list]]) -> dict[str, list]:
    """The store rebuilt from recorded memories: (node id, when the attempt ended, its memory)
    each; per node, the memory of the attempt that ended last wins."""
    store: dict[str, tuple[Any, list]] = {}
    for node_id, ended, memory in rows:
        if memory is None:
            continue
        if node_id not in store or (ended or 0) >= (store[node_id][0] or 0):
            store[node_id] = (ended, memory)
    return {node_id: memory for node_id, (_, memory) in store.items()}
