"""Tokens: what a run's model calls used (`RunUsage`, shared by a run and its container
bodies), one attempt's share of it (`Meter`, what a handler sees as `ctx.meter`), the run's
budget (`settings.max_tokens`), and `Coalescer`, which turns a stream of small pieces of text
into few `node.stream` events."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from engine.handlers.base import NodeError

STREAM_FLUSH_S = 0.05  # a piece waits at most this long before it is sent
STREAM_FLUSH_CHARS = 200  # or until this much text waits
# A call without max_tokens is bounded by the budget only once less than this is left (a
# larger max_tokens than the model's own limit would make the provider refuse the call).
UNBOUNDED_ANSWER_TOKENS = 4096


class RunUsage:
    """A run's token totals and its budget (`limit`; None: unbounded)."""

    __slots__ = ("completion_tokens", "limit", "prompt_tokens")

    def __init__(self, limit: int | None = None, used: dict | None = None) -> None:
        self.limit = limit
        self.prompt_tokens = int((used or {}).get("prompt_tokens") or 0)
        self.completion_tokens = int((used or {}).get("completion_tokens") or 0)

    @property
    def total(self) -> int:
        return self.prompt_tokens + self.completion_tokens

    def left(self) -> int | None:
        return None if self.limit is None else self.limit - self.total

    def totals(self) -> dict[str, int]:
        return {
            "prompt_tokens": self.prompt_tokens,
            "completion_tokens": self.completion_tokens,
            "total_tokens": self.total,
        }


class Meter:
    """One attempt's usage: `check` before a call (raises `budget_exceeded` when the call
    could pass the run's budget: its prompt's tokens (engine.tokens) and its `max_tokens`, or
    its prompt alone when it sets none; returns the max_tokens to send), `add` after."""

    __slots__ = ("record", "run")

    def __init__(self, run: RunUsage, record: Any) -> None:
        self.run = run
        self.record = record
        record.usage = None

    def check(self, prompt_tokens: int, max_tokens: int | None) -> int | None:
        left = self.run.left()
        if left is None:
            return max_tokens
        room = left - prompt_tokens
        if room <= 0 or (max_tokens is not None and max_tokens > room):
            raise NodeError(
                f"token budget exceeded: the run may use {self.run.limit:,} tokens "
                f"(settings.max_tokens), {self.run.total:,} are used and this call needs "
                f"about {prompt_tokens:,} for its prompt and up to {max_tokens or 1:,} for "
                "its answer",
                "budget_exceeded",
                retryable=False,
            )
        if max_tokens is None and room < UNBOUNDED_ANSWER_TOKENS:
            return room  # nearly spent: the answer gets what is left
        return max_tokens  # (a model refuses a max_tokens past its own limit: none is sent)

    def add(
        self,
        prompt_tokens: int,
        completion_tokens: int,
        model: str | None = None,
        estimated: bool = False,
    ) -> None:
        """Count a call's tokens; `estimated`: counted locally (the provider reported none)."""
        prompt, completion = max(0, int(prompt_tokens)), max(0, int(completion_tokens))
        self.run.prompt_tokens += prompt
        self.run.completion_tokens += completion
        usage = self.record.usage or {"prompt_tokens": 0, "completion_tokens": 0}
        usage["prompt_tokens"] += prompt
        usage["completion_tokens"] += completion
        if model:
            usage["model"] = model  # what a price table prices it by
        if estimated:
            usage["estimated"] = True  # shown as such: not the provider's own count
        self.record.usage = usage


class Coalescer:
    """Pieces of streamed text, sent on as one piece every `STREAM_FLUSH_S` or
    `STREAM_FLUSH_CHARS` characters, whichever comes first; `flush()` sends what waits."""

    __slots__ = ("_handle", "_parts", "_size", "send")

    def __init__(self, send: Callable[[str], None]) -> None:
        self.send = send
        self._parts: list[str] = []
        self._size = 0
        self._handle: asyncio.TimerHandle | None = None

    def __call__(self, text: str) -> None:
        if not text:
            return
        self._parts.append(text)
        self._size += len(text)
        if self._size >= STREAM_FLUSH_CHARS:
            self.flush()
        elif self._handle is None:
            self._handle = asyncio.get_running_loop().call_later(STREAM_FLUSH_S, self.flush)

    def discard(self) -> None:
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None
        self._parts, self._size = [], 0

    def flush(self) -> None:
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None
        if self._parts:
            text = "".join(self._parts)
            self._parts, self._size = [], 0
            self.send(text)
