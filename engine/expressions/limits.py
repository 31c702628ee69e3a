"""What one evaluation may spend, and the state that counts it down.

One evaluation may create at most `MAX_SIZE` elements (characters, items) in one value,
`MAX_WORK` steps in all, integers of `MAX_INT_BITS` bits, and run for `TIME_LIMIT_S` seconds.
Under `engine.budget.off_loop` the work budget is first the small inline allowance (past it the
evaluation starts again in a thread) and a cancelled allowance stops the evaluation.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from engine import budget
from engine.expressions.errors import ExpressionError

if TYPE_CHECKING:
    from engine.expressions.compiler import CompiledExpression

MAX_EXPRESSION_LENGTH = 10_000
MAX_SIZE = 1_000_000
MAX_WORK = 10_000_000
MAX_INT_BITS = 16_384
TIME_LIMIT_S = 0.5


class _Env:
    """One evaluation: the scope, comprehension variables, and what is left of the budgets."""

    __slots__ = (
        "allowance",
        "cancelled",
        "countdown",
        "deadline",
        "inline",
        "local",
        "read_size",
        "scope",
        "sizes",
        "source",
        "work",
    )

    def __init__(self, scope: Mapping[str, Any], source: CompiledExpression | None = None) -> None:
        self.scope = scope
        self.source = source
        self.local: dict[str, Any] = {}
        self.sizes: dict[int, tuple[Any, int]] = {}  # id -> (value, logical size), see _remember
        self.read_size: int | None = None
        self.countdown = 256
        self.cancelled = None
        allowance = self.allowance = _allowance()
        if allowance is None:
            self.inline = False
            self.work = MAX_WORK
            self.deadline = time.monotonic() + TIME_LIMIT_S
        elif allowance.inline:  # its deadline is sooner than TIME_LIMIT_S
            self.inline = True
            self.work = allowance.steps if allowance.steps < MAX_WORK else MAX_WORK
            self.deadline = allowance.deadline
        else:
            self.inline = False
            self.work = MAX_WORK
            self.deadline = time.monotonic() + TIME_LIMIT_S
            self.cancelled = allowance.cancelled


_allowance = budget.current


def _tick(env: _Env, amount: int = 1) -> None:
    env.work -= amount
    if env.work < 0:
        if env.inline:
            raise budget.OverInline
        raise ExpressionError(f"expression does too much work (more than {MAX_WORK:,} steps)")
    if time.monotonic() > env.deadline:
        if env.inline:
            raise budget.OverInline
        raise ExpressionError(f"expression took longer than {TIME_LIMIT_S} s")
    if env.cancelled is not None and env.cancelled.is_set():
        raise budget.Stopped


def _charge(env: _Env, cost: int, what: Any) -> None:
    """Pay for an operation of `cost` steps before it runs (`what` names it in the error)."""
    if cost > MAX_WORK or (cost > env.work and not env.inline):
        raise ExpressionError(
            f"{what}: expression does too much work ({cost:,} steps; the limit is {MAX_WORK:,})"
        )
    _tick(env, cost)


def _grow(env: _Env, size: int) -> None:
    """Refuse to build a value of `size` elements when it is over the limit."""
    if size > MAX_SIZE:
        raise ExpressionError(f"result too large: {size:,} elements (limit {MAX_SIZE:,})")
    _tick(env, size)
