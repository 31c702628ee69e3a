"""Where a node's pure CPU work runs (expressions, the output check): inline on the event loop
while it is small, in a worker thread once it is not, so that no workflow stalls the loop, the
other runs on it or the worker's lease renewals.

`await off_loop(work)` calls `work()` inline first, under a small allowance (`INLINE_STEPS`
steps within `INLINE_SECONDS`). Work that outgrows it raises `OverInline` and is started again
from the beginning in a thread, with its full budgets: it must be pure, so running it twice
changes nothing. Cancelling the task that awaits it (a node timeout, a cancelled run) sets the
allowance's `cancelled` flag, which the work checks between its steps (`Allowance.spend`): it
raises `Stopped` and the thread is free again.

Work reads its allowance with `current()`: None outside `off_loop` (a plain synchronous call,
e.g. a test or the validator), which means the full budgets and no cancellation.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from contextvars import ContextVar

INLINE_STEPS = 20_000
INLINE_SECONDS = 0.01
THREADS = 2  # CPU-bound Python: more threads would only share the same interpreter lock


class Interrupted(Exception):
    """Work stopped before its end by its allowance (never shown to users)."""


class OverInline(Interrupted):
    """The work outgrew the inline allowance: `off_loop` runs it again in a thread."""


class Stopped(Interrupted):
    """Whoever awaited the work was cancelled: nobody wants the result any more."""


class Allowance:
    """What the current piece of work may still spend: steps and a deadline when inline; only
    a cancellation flag in a thread (the work's own limits apply there)."""

    __slots__ = ("cancelled", "deadline", "inline", "steps")

    def __init__(
        self,
        inline: bool,
        steps: int = 0,
        deadline: float = 0.0,
        cancelled: threading.Event | None = None,
    ) -> None:
        self.inline = inline
        self.steps = steps
        self.deadline = deadline
        self.cancelled = cancelled

    def spend(self, steps: int) -> None:
        """Account for `steps` done; raises `OverInline` or `Stopped` when the work must stop."""
        if self.inline:
            self.steps -= steps
            if self.steps < 0 or time.monotonic() > self.deadline:
                raise OverInline
        elif self.cancelled is not None and self.cancelled.is_set():
            raise Stopped


_CURRENT: ContextVar[Allowance | None] = ContextVar("switchyard_allowance", default=None)
_pool: ThreadPoolExecutor | None = None
_pool_lock = threading.Lock()
_running = 0  # work items executing in threads now (tests check that cancelled ones stop)


current = _CURRENT.get
"""current() -> Allowance | None: the allowance of the work running in this context; None:
full budgets, no cancel."""


def running() -> int:
    """How many pieces of work are executing in threads right now."""
    return _running


TOO_BIG = object()  # what `inline` returns for work that outgrew the inline allowance


async def off_loop[T](work: Callable[[], T]) -> T:
    """`work()`, inline while it stays small, else in a thread (see the module docstring)."""
    result = inline(work)
    return await in_thread(work) if result is TOO_BIG else result


def inline[T](work: Callable[[], T]) -> T | object:
    """`work()` under the inline allowance, or `TOO_BIG`: then `await in_thread(work)`. (The
    two halves of `off_loop`, for a hot path that should not create a coroutine for nothing.)"""
    token = _CURRENT.set(Allowance(True, INLINE_STEPS, time.monotonic() + INLINE_SECONDS))
    try:
        return work()
    except OverInline:
        return TOO_BIG
    finally:
        _CURRENT.reset(token)


async def in_thread[T](work: Callable[[], T]) -> T:
    """`work()` in a worker thread with its full budgets, stopped if the caller is cancelled."""
    return await _in_thread(work)


async def _in_thread[T](work: Callable[[], T]) -> T:
    cancelled = threading.Event()
    loop = asyncio.get_running_loop()
    allowance = Allowance(False, cancelled=cancelled)
    future = loop.run_in_executor(_threads(), _run_allowed, work, allowance)
    try:
        return await future
    except asyncio.CancelledError:
        cancelled.set()  # the thread stops at the work's next step
        raise


def _run_allowed[T](work: Callable[[], T], allowance: Allowance) -> T:
    global _running
    token = _CURRENT.set(allowance)
    with _pool_lock:
        _running += 1
    try:
        return work()
    finally:
        with _pool_lock:
            _running -= 1
        _CURRENT.reset(token)


def _threads() -> ThreadPoolExecutor:
    global _pool
    with _pool_lock:
        if _pool is None:
            _pool = ThreadPoolExecutor(THREADS, thread_name_prefix="switchyard-cpu")
        return _pool
