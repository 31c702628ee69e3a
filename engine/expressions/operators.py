"""Compilers of operators: arithmetic, comparisons, `and`/`or`/`not`, `x if c else y`.

Every operation whose cost grows with its operands (`==`, `<`, `in`, `*` and `+` on
sequences...) is charged that cost, from the operands' logical sizes, before it runs."""

from __future__ import annotations

import ast
import operator
from collections.abc import Callable, Mapping
from typing import Any

from engine.expressions.errors import ExpressionError, _bad
from engine.expressions.limits import MAX_INT_BITS, _charge, _Env, _grow, _tick
from engine.expressions.syntax import Fn, _compile, _Text
from engine.expressions.values import (
    _NUMBERS,
    _SCALARS,
    _SEQUENCES,
    _isa,
    _known,
    _made,
    _remember,
    _size,
    type_of,
)


def _guard_add(env: _Env, a: Any, b: Any) -> int | None:
    if type(a) in _NUMBERS:
        return None
    if _isa(a, _SEQUENCES) and _isa(b, _SEQUENCES):
        _grow(env, len(a) + len(b))
        if not _isa(a, str):
            # Exact when both sizes are known (built by this evaluation, e.g. `x + x` over
            # and over); a list from the scope is not walked just to be concatenated: the
            # result then stays unknown, and what uses it walks it.
            known_a, known_b = _known(env, a), _known(env, b)
            if known_a is not None and known_b is not None:
                _made(env, known_a + known_b)
                return known_a + known_b
    return None


def _guard_mult(env: _Env, a: Any, b: Any) -> int | None:
    kind_a, kind_b = type(a), type(b)
    if kind_a in _NUMBERS and kind_b in _NUMBERS:
        ints = kind_a is not float and kind_b is not float
        if ints and a.bit_length() + b.bit_length() > MAX_INT_BITS:
            raise ExpressionError(f"number too large (more than {MAX_INT_BITS} bits)")
        return None
    if _isa(a, int) and _isa(b, int):
        if a.bit_length() + b.bit_length() > MAX_INT_BITS:
            raise ExpressionError(f"number too large (more than {MAX_INT_BITS} bits)")
        return None
    if _isa(b, _SEQUENCES) and _isa(a, int):
        a, b = b, a
    if _isa(a, _SEQUENCES) and _isa(b, int):
        times = max(b, 0)
        _grow(env, len(a) * times)
        if not _isa(a, str):
            size = _size(env, a) * times
            _made(env, size)
            return size
    return None


def _guard_pow(env: _Env, a: Any, b: Any) -> None:
    big = _isa(a, int) and _isa(b, int) and b > 0 and abs(a) > 1
    if big and a.bit_length() * b > MAX_INT_BITS:
        raise ExpressionError(f"number too large (more than {MAX_INT_BITS} bits)")


def _guard_mod(env: _Env, a: Any, b: Any) -> None:
    if _isa(a, str):
        raise ExpressionError("% formatting of strings is not supported; use str() and +")


_MERGEABLE = (Mapping, set, frozenset)


def _guard_merge(env: _Env, a: Any, b: Any) -> None:
    if _isa(a, _MERGEABLE) and _isa(b, _MERGEABLE):
        _grow(env, len(a) + len(b))


def _guard_sets(env: _Env, a: Any, b: Any) -> None:
    """`-`, `&`, `^` on sets walk both of them."""
    if _isa(a, set | frozenset) and _isa(b, set | frozenset):
        _tick(env, len(a) + len(b))


_BINOPS: dict[type[ast.operator], tuple[str, Callable[[Any, Any], Any], Any]] = {
    ast.Add: ("+", operator.add, _guard_add),
    ast.Sub: ("-", operator.sub, _guard_sets),
    ast.Mult: ("*", operator.mul, _guard_mult),
    ast.Div: ("/", operator.truediv, None),
    ast.FloorDiv: ("//", operator.floordiv, None),
    ast.Mod: ("%", operator.mod, _guard_mod),
    ast.Pow: ("**", operator.pow, _guard_pow),
    ast.BitAnd: ("&", operator.and_, _guard_sets),
    ast.BitOr: ("|", operator.or_, _guard_merge),
    ast.BitXor: ("^", operator.xor, _guard_sets),
}
_REFUSED_OPERATORS = {ast.LShift: "<<", ast.RShift: ">>", ast.MatMult: "@"}


def _c_binop(node: ast.BinOp, bound: frozenset[str]) -> Fn:
    entry = _BINOPS.get(type(node.op))
    if entry is None:
        raise _bad(f"operator {_REFUSED_OPERATORS.get(type(node.op), '?')} is not allowed")
    symbol, apply, guard = entry
    left, right = _compile(node.left, bound), _compile(node.right, bound)
    text = _Text(node)

    def binop(env: _Env) -> Any:
        a, b = left(env), right(env)
        size = guard(env, a, b) if guard is not None else None
        try:
            result = apply(a, b)
        except ZeroDivisionError:
            raise ExpressionError(f"{text}: division by zero") from None
        except OverflowError:
            raise ExpressionError(f"{text}: number too large") from None
        except TypeError:
            raise ExpressionError(
                f"{text}: cannot apply {symbol} to {type_of(a)} and {type_of(b)}"
            ) from None
        if type(result) is complex:
            raise ExpressionError(f"{text}: the result is not a real number")
        if size is not None:
            _remember(env, result, size)
        return result

    return binop


_UNARY = {
    ast.USub: ("-", operator.neg),
    ast.UAdd: ("+", operator.pos),
    ast.Invert: ("~", operator.invert),
}


def _c_unaryop(node: ast.UnaryOp, bound: frozenset[str]) -> Fn:
    operand = _compile(node.operand, bound)
    if _isa(node.op, ast.Not):
        return lambda env: not operand(env)
    symbol, apply = _UNARY[type(node.op)]

    def unary(env: _Env) -> Any:
        value = operand(env)
        if not _isa(value, int | float):
            raise ExpressionError(f"cannot apply unary {symbol} to {type_of(value)}")
        return apply(value)

    return unary


def _c_boolop(node: ast.BoolOp, bound: frozenset[str]) -> Fn:
    parts = [_compile(value, bound) for value in node.values]
    stop_when = not _isa(node.op, ast.And)  # `and` stops at a falsy value, `or` at truthy

    def boolop(env: _Env) -> Any:
        value = None
        for part in parts:
            value = part(env)
            if bool(value) is stop_when:
                return value
        return value

    return boolop


def _contains_op(a: Any, b: Any) -> bool:
    return a in b


def _not_contains_op(a: Any, b: Any) -> bool:
    return a not in b


def _order_cost(env: _Env, a: Any, b: Any) -> int:
    """Steps of `a == b` or `a < b`: at most the smaller side's logical size."""
    kind_a, kind_b = type(a), type(b)
    if kind_a in _SCALARS or kind_b in _SCALARS or (kind_a is str and kind_b is str):
        return 0  # scalars, and strings (compared as memory), cost nothing that grows
    small = min(_size(env, a, 64), _size(env, b, 64))
    if small <= 64:
        return small
    size_a = _size(env, a)
    return min(size_a, _size(env, b, size_a))


def _membership_cost(env: _Env, item: Any, container: Any) -> int:
    """Steps of `item in container`: a scan compares the item with every element; a lookup
    in an object or a set hashes it (a tuple hashes every element) and compares once."""
    if _isa(container, list | tuple):
        kind = type(item)
        if kind in _SCALARS or kind is str:
            return len(container)
        return min(_size(env, container), len(container) * _size(env, item))
    if type(item) is tuple:
        return 2 * _size(env, item)
    return 0  # a substring search, or a key hashed once


def _may_cost(cost_of: Callable[..., int], left: Any, right: Any) -> bool:
    """A quick look at the types: most comparisons (of scalars, of strings, of a scalar with
    an object) cost nothing that grows, and skip working out their cost."""
    kind_left, kind_right = type(left), type(right)
    if cost_of is _order_cost:
        return not (
            kind_left in _SCALARS
            or kind_right in _SCALARS
            or (kind_left is str and kind_right is str)
        )
    return kind_right is list or kind_right is tuple or kind_left is tuple


_COSTS = {
    ast.Eq: _order_cost,
    ast.NotEq: _order_cost,
    ast.Lt: _order_cost,
    ast.LtE: _order_cost,
    ast.Gt: _order_cost,
    ast.GtE: _order_cost,
    ast.In: _membership_cost,
    ast.NotIn: _membership_cost,
}


_COMPARISONS = {
    ast.Eq: ("==", operator.eq),
    ast.NotEq: ("!=", operator.ne),
    ast.Lt: ("<", operator.lt),
    ast.LtE: ("<=", operator.le),
    ast.Gt: (">", operator.gt),
    ast.GtE: (">=", operator.ge),
    ast.In: ("in", _contains_op),
    ast.NotIn: ("not in", _not_contains_op),
    ast.Is: ("is", operator.is_),
    ast.IsNot: ("is not", operator.is_not),
}


def _c_compare(node: ast.Compare, bound: frozenset[str]) -> Fn:
    first = _compile(node.left, bound)
    steps = [
        (*_COMPARISONS[type(op)], _COSTS.get(type(op)), _compile(right, bound))
        for op, right in zip(node.ops, node.comparators, strict=True)
    ]
    text = _Text(node)

    def compare(env: _Env) -> bool:
        left = first(env)
        for symbol, apply, cost_of, read in steps:
            right = read(env)
            if (
                cost_of is not None
                and type(right) not in _SCALARS
                and _may_cost(cost_of, left, right)
            ):
                cost = cost_of(env, left, right)
                if cost:
                    _charge(env, cost, text)
            try:
                if not apply(left, right):
                    return False
            except TypeError:
                raise ExpressionError(
                    f"{text}: cannot compare {type_of(left)} and {type_of(right)} with {symbol}"
                ) from None
            left = right
        return True

    return compare


def _c_ifexp(node: ast.IfExp, bound: frozenset[str]) -> Fn:
    test, body, orelse = (_compile(n, bound) for n in (node.test, node.body, node.orelse))
    return lambda env: body(env) if test(env) else orelse(env)
