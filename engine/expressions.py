"""Expressions: the safe subset of Python used in `{{ }}` templates and expression fields.

An expression is parsed once (`parse`, cached by its text) into a tree of closures that only
knows the allow-listed constructs: literals (also `true`/`false`/`null`), arithmetic,
comparisons, `and`/`or`/`not`, `x if c else y`, subscripts and slices, `a.b` as a key lookup on
objects, list/dict/set comprehensions (generator expressions are evaluated as lists), tuples
and calls to the functions in `FUNCTIONS`. Python attributes and methods are unreachable:
`a.b` never calls `getattr`, functions are not values, and names beginning with `_` are refused.

Errors are always `ExpressionError`: `code="bad_expression"` when the text does not parse or
uses a forbidden construct, `code="expression"` when evaluation fails (`a.nope: no such key`,
`xs[5]: index out of range`, `unknown name 'ghost'`, a result or a loop that is too large, too
slow). One evaluation may create at most `MAX_SIZE` elements (characters, items) in one value,
`MAX_WORK` steps in all, integers of `MAX_INT_BITS` bits, and run for `TIME_LIMIT_S` seconds.

Sizes are logical: a value holding the same list twice holds its elements twice, as its JSON
would, so `[[0] * 1000000] * 1000000` is 10^12 elements however little memory it shares. A
created value may pass `MAX_SIZE` only by what the expression read (filtering a large upstream
list is fine; repeating it is not). Every operation whose cost grows with its operands (`==`,
`<`, `in`, hashing, `sorted()`, `str()`, `*` and `+` on sequences...) is charged that cost, from
the operands' logical sizes, before it runs, so no single step can run long. Under
`engine.budget.off_loop` the work budget is first the small inline allowance (past it the
evaluation starts again in a thread) and a cancelled allowance stops the evaluation.

Templates (`render`): a string that is exactly one `{{ expr }}` (nothing around it, not even
whitespace) becomes the expression's raw value, so a list stays a list. Otherwise each `{{ }}`
is replaced by its value as text: strings as they are, `None` as the empty string, booleans as
`true`/`false`, numbers as Python writes them, lists and objects as JSON. Only the values of
objects are rendered, never their keys. Values without `{{` are returned as the same object.

The names `true`, `false` and `null` always mean the constants, even if a node had that id.
"""

from __future__ import annotations

import ast
import functools
import inspect
import itertools
import json
import operator
import time
import warnings
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from engine import budget

MAX_EXPRESSION_LENGTH = 10_000
MAX_SIZE = 1_000_000
MAX_WORK = 10_000_000
MAX_INT_BITS = 16_384
TIME_LIMIT_S = 0.5
ALIASES: dict[str, Any] = {"true": True, "false": False, "null": None}

_SEQUENCES = (str, list, tuple)
_PLAIN = frozenset({str, list, tuple, int, float, bool, type(None)})  # the common non-mappings
_SCALARS = frozenset({int, float, bool, type(None)})
_NUMBERS = frozenset({int, float, bool})
_SIZED = (str, list, tuple, dict, set, frozenset)


class ExpressionError(Exception):
    """An expression that does not parse (`bad_expression`) or fails to evaluate (`expression`)."""

    def __init__(self, message: str, code: str = "expression") -> None:
        super().__init__(message)
        self.message = message
        self.code = code


def _bad(message: str) -> ExpressionError:
    return ExpressionError(message, "bad_expression")


def _isa(value: Any, types: Any) -> bool:
    """`isinstance` by the value's real type: it never reads `value.__class__`, so a foreign
    object in the scope is not touched at all."""
    return issubclass(type(value), types)


def _is_mapping(value: Any) -> bool:
    kind = type(value)
    return kind is dict or (kind not in _PLAIN and issubclass(kind, Mapping))


def type_of(value: Any) -> str:
    """The JSON name of a value's type, as users see it in messages and `type_of()`."""
    if value is None:
        return "null"
    if _isa(value, bool):
        return "bool"
    if _isa(value, int | float):
        return "number"
    if _isa(value, str):
        return "string"
    if _isa(value, list | tuple):
        return "list"
    if _isa(value, Mapping):
        return "object"
    if _isa(value, set | frozenset):
        return "set"
    return type(value).__name__


# --- evaluation state and bounds -------------------------------------------------------------


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


# --- logical sizes ---------------------------------------------------------------------------

_PIN = 256  # a container at least this large keeps its size for the rest of the evaluation
_PINNED_ENTRIES = 50_000  # past this many remembered sizes the memo starts afresh


def _size(env: _Env, value: Any, cap: int | None = None) -> int:
    """The logical size of `value`: characters of a string, 1 for other scalars, the sum over
    the elements (keys too) of a container, shared ones counted each time. With `cap`, the
    count may stop anywhere past `cap`. The walk is charged; large containers remember."""
    kind = type(value)
    if kind in _SCALARS:
        return 1
    if kind is str:
        return len(value) or 1
    known = env.sizes.get(id(value))
    if known is not None and known[0] is value:
        return known[1]
    if not _is_container(value):
        return (len(value) or 1) if _isa(value, str) else 1
    try:
        return _nested_size(env, value, cap, 0)
    except _TooDeep:
        return _walk_size(env, value, cap)


class _TooDeep(Exception):
    """A value nested deeper than `_RECURSION`: walk it without recursion."""


_RECURSION = 100  # nesting walked by recursion (fast); deeper values by `_walk_size`


def _nested_size(env: _Env, value: Any, cap: int | None, depth: int) -> int:
    """`_size` by recursion: the fast way for the values of everyday depth. Charged one step
    per element; `cap` stops the count at this level only."""
    sizes = env.sizes
    env.work -= len(value) + 1
    env.countdown -= 1
    if env.work < 0 or env.countdown < 0 or len(value) >= 1024:
        env.countdown = 256  # the clock and the cancel flag are read every 256 containers
        _tick(env, 0)
    total = 0
    for child in _flat(value.items()) if type(value) is dict else _elements(value):
        kind = type(child)
        if kind in _SCALARS:
            total += 1
        elif kind is str:
            total += len(child) or 1
        else:
            known = sizes.get(id(child))
            if known is not None and known[0] is child:
                total += known[1]
            elif kind is dict or kind in _LISTS or _is_container(child):
                if depth >= _RECURSION:
                    raise _TooDeep
                total += _nested_size(env, child, None, depth + 1)
            else:
                total += 1
        if cap is not None and total > cap:
            return total
    total = total or 1
    if total >= _PIN:
        _remember(env, value, total)
    return total


def _known(env: _Env, value: Any) -> int | None:
    """The logical size of `value` when it is known without walking it, else None."""
    kind = type(value)
    if kind in _SCALARS:
        return 1
    if kind is str:
        return len(value) or 1
    known = env.sizes.get(id(value))
    if known is not None and known[0] is value:
        return known[1]
    return None


def _is_container(value: Any) -> bool:
    return _isa(value, list | tuple | set | frozenset) or _is_mapping(value)


def _elements(value: Any) -> Iterable[Any]:
    if type(value) in _LISTS:
        return iter(value)
    if _is_mapping(value):
        return itertools.chain.from_iterable(value.items())
    return iter(value)


_LISTS = frozenset({list, tuple})


def _walk_size(env: _Env, root: Any, cap: int | None) -> int:
    """`_size` of a container not yet known: a depth-first walk without recursion (a deep
    value cannot overflow the stack) that reuses what is known about shared parts."""
    sizes = env.sizes
    frames = [[root, _elements(root), 0]]
    counted = 0  # across every open frame, to stop early past `cap`
    steps = 0
    while True:
        frame = frames[-1]
        for child in frame[1]:
            steps += 1
            kind = type(child)
            if kind in _SCALARS:
                add = 1
            elif kind is str:
                add = len(child) or 1
            else:
                known = sizes.get(id(child))
                if known is not None and known[0] is child:
                    add = known[1]
                elif kind is dict:
                    frames.append([child, _flat(child.items()), 0])
                    break
                elif kind in _LISTS or _is_container(child):
                    frames.append([child, _elements(child), 0])
                    break
                else:
                    add = 1
            frame[2] += add
            counted += add
            if cap is not None and counted > cap:
                _tick(env, steps)
                return counted
        else:
            frames.pop()
            total = frame[2] or 1
            counted += 0 if frame[2] else 1
            if total >= _PIN:
                _remember(env, frame[0], total)
            if not frames:
                _tick(env, steps)
                return total
            frames[-1][2] += total
        if steps >= 4096:
            _tick(env, steps)
            steps = 0


_flat = itertools.chain.from_iterable  # an object's keys and values, in one iterator


def _remember(env: _Env, value: Any, size: int) -> None:
    """Keep the size of a large container (the entry holds the value, so its id stays its)."""
    if size < _PIN:
        return
    sizes = env.sizes
    if len(sizes) >= _PINNED_ENTRIES:
        sizes.clear()  # a cache: forgetting only costs walking again
    sizes[id(value)] = (value, size)


def _made(env: _Env, size: int) -> None:
    """Refuse to build a value of logical size `size` when it is over the limit: `MAX_SIZE`
    elements beyond what the expression reads from its scope."""
    if size <= MAX_SIZE or size <= MAX_SIZE + _read_size(env):
        return
    raise ExpressionError(
        f"result too large: {size:,} elements, counting repeated parts (limit {MAX_SIZE:,})"
    )


def _read_size(env: _Env) -> int:
    """The logical size of the values the expression reads from its scope (worked out once,
    and only when a result passes `MAX_SIZE`)."""
    if env.read_size is None:
        total = 0
        names = env.source.names if env.source is not None else ()
        for name in names:
            try:
                value = env.scope[name]
            except (KeyError, ExpressionError):  # a missing name adds nothing
                continue
            total += _size(env, value)
        env.read_size = total
    return env.read_size


def _sized(env: _Env, value: Any) -> Any:
    """A function's result within the limit on its length. (No function builds more elements
    than its arguments hold, so their logical size needs no check here.)"""
    if type(value) not in _SCALARS and _isa(value, _SIZED):
        _grow(env, len(value))
    return value


def _measure(value: Any, limit: int = MAX_SIZE) -> int:
    """Roughly how long `value` is as JSON text; raises as soon as it passes `limit`."""
    total = 0
    stack = [value]
    while stack:
        item = stack.pop()
        if _isa(item, str):
            total += len(item) + 2
        elif _isa(item, Mapping):
            total += 2 + 4 * len(item)
            stack.extend(item.keys())
            stack.extend(item.values())
        elif _isa(item, list | tuple | set | frozenset):
            total += 2 + 2 * len(item)
            stack.extend(item)
        elif _isa(item, int):
            total += item.bit_length() // 3 + 2
        else:
            total += 24
        if total > limit:
            raise ExpressionError(f"text too large: more than {limit:,} characters")
    return total


def _json_default(value: Any) -> Any:
    if _isa(value, set | frozenset):
        return sorted(value, key=repr)
    raise TypeError(f"a {type_of(value)} cannot be written as JSON")


def _json_text(value: Any, indent: int | None = None, sort_keys: bool = False) -> str:
    if _isa(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if _isa(value, int | float) or not _isa(value, Mapping | list | tuple | set):
        return json.dumps(value, default=_json_default)
    _measure(value)
    return json.dumps(
        value, ensure_ascii=False, indent=indent, sort_keys=sort_keys, default=_json_default
    )


def _as_text(value: Any) -> str:
    """`str()`: strings unchanged, everything else as JSON (`null`, `true`, `[1, 2]`)."""
    return value if _isa(value, str) else _json_text(value)


def _template_text(value: Any) -> str:
    """A `{{ }}` inside text: like `str()`, except that `None` renders as nothing."""
    kind = type(value)
    if kind is str:
        return value
    if value is None:
        return ""
    try:
        return str(value) if kind is int else _as_text(value)
    except (TypeError, ValueError) as exc:
        raise ExpressionError(f"cannot render a {type_of(value)} as text: {exc}") from None


# --- allow-listed functions ------------------------------------------------------------------

FUNCTIONS: dict[str, Callable[..., Any]] = {}


def _function(name: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    def register(fn: Callable[..., Any]) -> Callable[..., Any]:
        FUNCTIONS[name] = fn
        return fn

    return register


def _need(name: str, value: Any, types: Any, what: str) -> None:
    if not _isa(value, types):
        raise ExpressionError(f"{name}() expects {what}, got {type_of(value)}")


def _number(name: str, value: Any) -> None:
    if not _isa(value, int | float):
        raise ExpressionError(f"{name}() expects a number, got {type_of(value)}")


def _items_of(name: str, value: Any) -> Iterable[Any]:
    if _isa(value, str | list | tuple | set | frozenset | Mapping):
        return value
    raise ExpressionError(f"{name}() expects a list, got {type_of(value)}")


_LENGTHS = frozenset({str, list, dict, tuple})


@_function("len")
def _len(value: Any) -> int:
    if type(value) in _LENGTHS:
        return len(value)
    _need("len", value, str | list | tuple | set | frozenset | Mapping, "a string, list or object")
    return len(value)


@_function("str")
def _str(value: Any = "") -> str:
    return _as_text(value)


@_function("int")
def _int(value: Any) -> int:
    if _isa(value, str):
        try:
            return int(value.strip())
        except ValueError:
            raise ExpressionError(f"int(): {value[:40]!r} is not an integer") from None
    _number("int", value)
    try:
        return int(value)
    except (OverflowError, ValueError):
        raise ExpressionError(f"int(): {value!r} has no integer value") from None


@_function("float")
def _float(value: Any) -> float:
    if _isa(value, str):
        try:
            return float(value.strip())
        except ValueError:
            raise ExpressionError(f"float(): {value[:40]!r} is not a number") from None
    _number("float", value)
    try:
        return float(value)
    except OverflowError:
        raise ExpressionError("float(): number too large") from None


@_function("bool")
def _bool(value: Any = False) -> bool:
    return bool(value)


@_function("round")
def _round(value: Any, ndigits: Any = None) -> Any:
    _number("round", value)
    if ndigits is None:
        try:
            return round(value)
        except (OverflowError, ValueError):
            raise ExpressionError(f"round(): {value!r} has no integer value") from None
    if not _isa(ndigits, int) or abs(ndigits) > 100:
        raise ExpressionError("round(): ndigits must be an integer between -100 and 100")
    return round(value, ndigits)


@_function("abs")
def _abs(value: Any) -> Any:
    _number("abs", value)
    return abs(value)


def _extreme(name: str, pick: Callable[..., Any], values: tuple[Any, ...]) -> Any:
    items = list(_items_of(name, values[0])) if len(values) == 1 else list(values)
    if not items:
        raise ExpressionError(f"{name}() of an empty list")
    try:
        return pick(items)
    except TypeError:
        kinds = sorted({type_of(item) for item in items})
        raise ExpressionError(f"{name}(): cannot compare {' and '.join(kinds)}") from None


@_function("min")
def _min(*values: Any) -> Any:
    if not values:
        raise ExpressionError("min() needs at least one argument")
    return _extreme("min", min, values)


@_function("max")
def _max(*values: Any) -> Any:
    if not values:
        raise ExpressionError("max() needs at least one argument")
    return _extreme("max", max, values)


@_function("sum")
def _sum(values: Any) -> Any:
    total: Any = 0
    for item in _items_of("sum", values):
        if not _isa(item, int | float):
            raise ExpressionError(f"sum() expects numbers, got {type_of(item)}")
        total += item
    return total


@_function("sorted")
def _sorted(values: Any, reverse: Any = False) -> list[Any]:
    try:
        return sorted(_items_of("sorted", values), reverse=bool(reverse))
    except TypeError:
        kinds = sorted({type_of(item) for item in values})
        raise ExpressionError(f"sorted(): cannot compare {' and '.join(kinds)}") from None


@_function("any")
def _any(values: Any) -> bool:
    return any(_items_of("any", values))


@_function("all")
def _all(values: Any) -> bool:
    return all(_items_of("all", values))


@_function("keys")
def _keys(obj: Any) -> list[Any]:
    _need("keys", obj, Mapping, "an object")
    return list(obj.keys())


@_function("values")
def _values(obj: Any) -> list[Any]:
    _need("values", obj, Mapping, "an object")
    return list(obj.values())


@_function("items")
def _items(obj: Any) -> list[list[Any]]:
    _need("items", obj, Mapping, "an object")
    return [[key, value] for key, value in obj.items()]


@_function("lower")
def _lower(text: Any) -> str:
    _need("lower", text, str, "a string")
    return text.lower()


@_function("upper")
def _upper(text: Any) -> str:
    _need("upper", text, str, "a string")
    return text.upper()


@_function("strip")
def _strip(text: Any, chars: Any = None) -> str:
    _need("strip", text, str, "a string")
    if chars is not None:
        _need("strip", chars, str, "a string of characters")
    return text.strip(chars)


@_function("get")
def _get(obj: Any, key: Any, default: Any = None) -> Any:
    """Read an optional key or index: the default instead of an error when it is missing."""
    if obj is None:
        return default
    if _isa(obj, Mapping):
        try:
            return obj.get(key, default)
        except TypeError:
            raise ExpressionError(f"get(): a {type_of(key)} cannot be an object key") from None
    if _isa(obj, list | tuple | str):
        if _isa(key, int) and -len(obj) <= key < len(obj):
            return obj[key]
        return default
    raise ExpressionError(f"get() expects an object or a list, got {type_of(obj)}")


@_function("json_dumps")
def _json_dumps(value: Any, indent: Any = None, sort_keys: Any = False) -> str:
    if indent is not None and (not _isa(indent, int) or not 0 <= indent <= 8):
        raise ExpressionError("json_dumps(): indent must be an integer from 0 to 8")
    _measure(value, MAX_SIZE // 4 if indent else MAX_SIZE)
    try:
        return json.dumps(
            value,
            ensure_ascii=False,
            indent=indent,
            sort_keys=bool(sort_keys),
            default=_json_default,
        )
    except (TypeError, ValueError) as exc:
        raise ExpressionError(f"json_dumps(): {exc}") from None


@_function("json_loads")
def _json_loads(text: Any) -> Any:
    _need("json_loads", text, str, "a string")
    if len(text) > MAX_SIZE:
        raise ExpressionError(f"json_loads(): text longer than {MAX_SIZE:,} characters")
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise ExpressionError(f"json_loads(): invalid JSON: {exc}") from None
    except RecursionError:
        raise ExpressionError("json_loads(): JSON nested too deeply") from None
    except ValueError as exc:
        raise ExpressionError(f"json_loads(): {exc}") from None


@_function("now")
def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@_function("range")
def _range(*bounds: Any) -> list[int]:
    if not 1 <= len(bounds) <= 3 or not all(_isa(b, int) for b in bounds):
        raise ExpressionError("range() expects one to three integers")
    if len(bounds) == 3 and bounds[2] == 0:
        raise ExpressionError("range(): step must not be zero")
    numbers = range(*bounds)
    if len(numbers) > MAX_SIZE:
        raise ExpressionError(f"range(): more than {MAX_SIZE:,} numbers")
    return list(numbers)


@_function("list")
def _list(values: Any = ()) -> list[Any]:
    return list(_items_of("list", values))


@_function("dict")
def _dict(pairs: Any = ()) -> dict[Any, Any]:
    if _isa(pairs, Mapping):
        return dict(pairs)
    out: dict[Any, Any] = {}
    for pair in _items_of("dict", pairs):
        if not _isa(pair, list | tuple) or len(pair) != 2:
            raise ExpressionError("dict() expects an object or a list of [key, value] pairs")
        try:
            out[pair[0]] = pair[1]
        except TypeError:
            raise ExpressionError(f"dict(): a {type_of(pair[0])} cannot be a key") from None
    return out


@_function("join")
def _join(sep: Any, values: Any) -> str:
    _need("join", sep, str, "a separator string first")
    texts = []
    size = 0
    for item in _items_of("join", values):
        text = _as_text(item)
        size += len(text) + len(sep)
        if size > MAX_SIZE:
            raise ExpressionError(f"join(): result longer than {MAX_SIZE:,} characters")
        texts.append(text)
    return sep.join(texts)


@_function("split")
def _split(text: Any, sep: Any = None, maxsplit: Any = -1) -> list[str]:
    _need("split", text, str, "a string")
    if sep is not None:
        _need("split", sep, str, "a separator string")
        if not sep:
            raise ExpressionError("split(): the separator must not be empty")
    if not _isa(maxsplit, int):
        raise ExpressionError("split(): maxsplit must be an integer")
    return text.split(sep, maxsplit)


@_function("replace")
def _replace(text: Any, old: Any, new: Any, count: Any = -1) -> str:
    for value in (text, old, new):
        _need("replace", value, str, "strings")
    if not _isa(count, int):
        raise ExpressionError("replace(): count must be an integer")
    hits = text.count(old) if count < 0 else min(count, text.count(old))
    if len(text) + hits * (len(new) - len(old)) > MAX_SIZE:
        raise ExpressionError(f"replace(): result longer than {MAX_SIZE:,} characters")
    return text.replace(old, new, count)


@_function("contains")
def _contains(container: Any, item: Any) -> bool:
    _need("contains", container, str | list | tuple | set | frozenset | Mapping, "a container")
    if _isa(container, str) and not _isa(item, str):
        raise ExpressionError(f"contains(): cannot look for a {type_of(item)} in a string")
    try:
        return item in container
    except TypeError:
        raise ExpressionError(f"contains(): a {type_of(item)} cannot be an object key") from None


@_function("startswith")
def _startswith(text: Any, prefix: Any) -> bool:
    _need("startswith", text, str, "a string")
    _need("startswith", prefix, str, "a string prefix")
    return text.startswith(prefix)


@_function("endswith")
def _endswith(text: Any, suffix: Any) -> bool:
    _need("endswith", text, str, "a string")
    _need("endswith", suffix, str, "a string suffix")
    return text.endswith(suffix)


FUNCTIONS["type_of"] = type_of
_SIGNATURES = {name: inspect.signature(function) for name, function in FUNCTIONS.items()}


# --- compiler: AST node -> closure(env) ------------------------------------------------------

Fn = Callable[[_Env], Any]
_FORBIDDEN = {
    ast.Lambda: "lambda is not allowed",
    ast.NamedExpr: "assignment expressions (:=) are not allowed",
    ast.JoinedStr: "f-strings are not allowed; use str() and + or a {{ }} template",
    ast.FormattedValue: "f-strings are not allowed",
    ast.Starred: "unpacking with * is not allowed",
    ast.Await: "await is not allowed",
    ast.Yield: "yield is not allowed",
    ast.YieldFrom: "yield is not allowed",
}


def _compile(node: ast.expr, bound: frozenset[str]) -> Fn:
    compiler = _COMPILERS.get(type(node))
    if compiler is None:
        message = _FORBIDDEN.get(type(node), f"{type(node).__name__} is not allowed in expressions")
        raise _bad(message)
    return compiler(node, bound)


class _Text:
    """The source text of an AST node, written only when an error message needs it (unparsing
    every node up front would double the cost of parsing)."""

    __slots__ = ("_text", "node")

    def __init__(self, node: ast.AST) -> None:
        self.node = node
        self._text: str | None = None

    def __str__(self) -> str:
        if self._text is None:
            self._text = ast.unparse(self.node)
        return self._text

    def __format__(self, spec: str) -> str:
        return format(str(self), spec)


def _check_name(name: str) -> None:
    if name.startswith("_") and name != "_":
        raise _bad(f"names beginning with '_' are not allowed: {name!r}")


def _c_constant(node: ast.Constant, bound: frozenset[str]) -> Fn:
    value = node.value
    if value is not None and type(value) not in (str, int, float, bool):
        raise _bad(f"{type(value).__name__} literals are not allowed")
    return lambda env: value


def _c_name(node: ast.Name, bound: frozenset[str]) -> Fn:
    name = node.id
    _check_name(name)
    if name in bound:
        return lambda env: env.local[name]
    if name in ALIASES:
        constant = ALIASES[name]
        return lambda env: constant

    def lookup(env: _Env) -> Any:
        try:
            return env.scope[name]
        except KeyError:
            raise ExpressionError(f"unknown name {name!r}") from None

    return lookup


def _c_attribute(node: ast.Attribute, bound: frozenset[str]) -> Fn:
    key = node.attr
    path = _Text(node)
    if key.startswith("_"):
        raise _bad(f"keys beginning with '_' cannot be read with a dot: {str(path)!r}")
    base = _Text(node.value)
    read = _compile(node.value, bound)

    def attribute(env: _Env) -> Any:
        obj = read(env)
        if _is_mapping(obj):
            try:
                return obj[key]
            except KeyError:
                raise ExpressionError(f"{path}: no such key") from None
        raise ExpressionError(
            f"{path}: cannot read key {key!r}: {base} is {type_of(obj)}, not an object"
        )

    return attribute


def _index(obj: Any, key: Any, path: _Text, base: _Text) -> Any:
    if _isa(obj, _SEQUENCES):
        if not _isa(key, int):
            kind = "string" if _isa(obj, str) else "list"
            raise ExpressionError(f"{path}: {kind} index must be an integer, not {type_of(key)}")
        try:
            return obj[key]
        except IndexError:
            raise ExpressionError(f"{path}: index out of range (length {len(obj)})") from None
    if _is_mapping(obj):
        try:
            return obj[key]
        except KeyError:
            raise ExpressionError(f"{path}: no such key") from None
        except TypeError:
            raise ExpressionError(f"{path}: a {type_of(key)} cannot be an object key") from None
    raise ExpressionError(f"{path}: cannot index {base}: it is {type_of(obj)}")


def _c_subscript(node: ast.Subscript, bound: frozenset[str]) -> Fn:
    path = _Text(node)
    base = _Text(node.value)
    read = _compile(node.value, bound)
    if _isa(node.slice, ast.Slice):
        return _compile_slice(node.slice, read, path, bound)
    read_key = _compile(node.slice, bound)

    def subscript(env: _Env) -> Any:
        return _index(read(env), read_key(env), path, base)

    return subscript


def _compile_slice(node: ast.Slice, read: Fn, path: _Text, bound: frozenset[str]) -> Fn:
    parts = [
        None if part is None else _compile(part, bound)
        for part in (node.lower, node.upper, node.step)
    ]

    def sliced(env: _Env) -> Any:
        obj = read(env)
        if not _isa(obj, _SEQUENCES):
            raise ExpressionError(f"{path}: cannot slice {type_of(obj)}")
        bounds = [None if part is None else part(env) for part in parts]
        if any(b is not None and not _isa(b, int) for b in bounds):
            raise ExpressionError(f"{path}: slice bounds must be integers")
        if bounds[2] == 0:
            raise ExpressionError(f"{path}: slice step must not be zero")
        return obj[slice(*bounds)]

    return sliced


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


class _Tally:
    """The logical size of a value being built (a literal, a comprehension): elements of known
    size count exactly; the others (a container from the scope, a small one built earlier)
    count 1 and make the tally a lower bound. Over the limit it refuses; exact, it is kept."""

    __slots__ = ("exact", "size")

    def __init__(self) -> None:
        self.size = 0
        self.exact = True

    def add(self, env: _Env, value: Any) -> None:
        kind = type(value)
        if kind in _SCALARS:
            self.size += 1
        elif kind is str:
            self.size += len(value) or 1
        else:
            known = env.sizes.get(id(value))
            if known is not None and known[0] is value:
                self.size += known[1]
            else:
                self.exact = False
                self.size += 1
        if self.size > MAX_SIZE:
            _made(env, self.size)

    def built(self, env: _Env, value: Any) -> Any:
        if self.exact and self.size >= _PIN:
            _remember(env, value, self.size)
        return value


def _tally(env: _Env, value: Any, *parts: Iterable[Any]) -> Any:
    """`_Tally` for a literal `value` whose elements are `parts` (an object: keys, values)."""
    size = 0
    exact = True
    sizes = env.sizes
    for part in parts:
        for item in part:
            kind = type(item)
            if kind in _SCALARS:
                size += 1
            elif kind is str:
                size += len(item) or 1
            else:
                known = sizes.get(id(item))
                if known is not None and known[0] is item:
                    size += known[1]
                else:
                    exact = False
                    size += 1
    return _close(env, value, size, exact)


def _close(env: _Env, value: Any, size: int, exact: bool) -> Any:
    """A literal built: refused when its tally is over the limit, kept when exact."""
    if size > MAX_SIZE:
        _made(env, size)
    if exact and size >= _PIN:
        _remember(env, value, size)
    return value


def _hashing(env: _Env, key: Any) -> None:
    """Hashing a tuple walks it (strings keep their hash, numbers are one step)."""
    if type(key) is tuple:
        _charge(env, _size(env, key), "hashing a list")


def _c_list(node: ast.List, bound: frozenset[str]) -> Fn:
    parts = [_compile(elt, bound) for elt in node.elts]

    def list_(env: _Env) -> list[Any]:
        out = [part(env) for part in parts]
        return _tally(env, out, out)

    return list_


def _c_tuple(node: ast.Tuple, bound: frozenset[str]) -> Fn:
    parts = [_compile(elt, bound) for elt in node.elts]

    def tuple_(env: _Env) -> tuple[Any, ...]:
        out = tuple(part(env) for part in parts)
        return _tally(env, out, out)

    return tuple_


def _hash_error(value: Any) -> ExpressionError:
    return ExpressionError(f"a {type_of(value)} cannot be an object key or a set member")


def _c_set(node: ast.Set, bound: frozenset[str]) -> Fn:
    parts = [_compile(elt, bound) for elt in node.elts]

    def set_(env: _Env) -> set[Any]:
        out = set()
        for part in parts:
            value = part(env)
            _hashing(env, value)
            try:
                out.add(value)
            except TypeError:
                raise _hash_error(value) from None
        return _tally(env, out, out)

    return set_


def _c_dict(node: ast.Dict, bound: frozenset[str]) -> Fn:
    pairs = [
        (None if key is None else _compile(key, bound), _compile(value, bound))
        for key, value in zip(node.keys, node.values, strict=True)
    ]

    def dict_(env: _Env) -> dict[Any, Any]:
        out: dict[Any, Any] = {}
        size, exact, sizes = 0, True, env.sizes  # the tally (`_Tally`), inline: this is hot
        for read_key, read_value in pairs:
            if read_key is None:
                _update(env, out, read_value(env))
                exact = False
                continue
            key = read_key(env)
            kind = type(key)
            if kind is str:
                size += len(key) or 1
            elif kind is tuple:
                _hashing(env, key)
                size, exact = size + 1, False
            else:
                size += 1
            value = read_value(env)
            try:
                out[key] = value
            except TypeError:
                raise _hash_error(key) from None
            kind = type(value)
            if kind in _SCALARS:
                size += 1
            elif kind is str:
                size += len(value) or 1
            else:
                known = sizes.get(id(value))
                if known is not None and known[0] is value:
                    size += known[1]
                else:
                    size, exact = size + 1, False
        if size > MAX_SIZE or (exact and size >= _PIN):
            _close(env, out, size, exact)
        return out

    return dict_


def _update(env: _Env, out: dict[Any, Any], value: Any) -> None:
    if not _isa(value, Mapping):
        raise ExpressionError(f"cannot unpack {type_of(value)} with **: only objects")
    _grow(env, len(out) + len(value))
    out.update(value)


def _target_names(target: ast.expr) -> list[str]:
    if _isa(target, ast.Name):
        _check_name(target.id)
        return [target.id]
    if _isa(target, ast.Tuple | ast.List):
        return [name for elt in target.elts for name in _target_names(elt)]
    raise _bad(f"a comprehension can only assign names, not {ast.unparse(target)!r}")


def _assigner(target: ast.expr) -> Callable[[dict[str, Any], Any], None]:
    if _isa(target, ast.Name):
        name = target.id

        def assign_name(local: dict[str, Any], item: Any) -> None:
            local[name] = item

        return assign_name
    subs = [_assigner(elt) for elt in target.elts]  # type: ignore[attr-defined]
    text = _Text(target)

    def assign_unpack(local: dict[str, Any], item: Any) -> None:
        if not _isa(item, list | tuple) or len(item) != len(subs):
            raise ExpressionError(f"cannot unpack a {type_of(item)} into {text}")
        for sub, value in zip(subs, item, strict=True):
            sub(local, value)

    return assign_unpack


def _iterable(value: Any, text: _Text) -> Iterable[Any]:
    if _isa(value, str | list | tuple | set | frozenset | Mapping):
        return value
    raise ExpressionError(f"{text}: cannot loop over {type_of(value)}")


@dataclass(frozen=True)
class _Generator:
    assign: Callable[[dict[str, Any], Any], None]
    iterable: Fn
    text: _Text
    conditions: tuple[Fn, ...]


def _compile_generators(
    generators: list[ast.comprehension], bound: frozenset[str]
) -> tuple[list[_Generator], frozenset[str], tuple[str, ...]]:
    compiled = []
    inner = set(bound)
    names: list[str] = []
    for gen in generators:
        if gen.is_async:
            raise _bad("async comprehensions are not allowed")
        iterable = _compile(gen.iter, frozenset(inner))
        targets = _target_names(gen.target)
        inner.update(targets)
        names.extend(targets)
        conditions = tuple(_compile(cond, frozenset(inner)) for cond in gen.ifs)
        compiled.append(_Generator(_assigner(gen.target), iterable, _Text(gen.iter), conditions))
    return compiled, frozenset(inner), tuple(dict.fromkeys(names))


def _run_generators(
    env: _Env, gens: list[_Generator], depth: int, emit: Callable[[], None]
) -> None:
    gen = gens[depth]
    last = depth == len(gens) - 1
    local, assign, conditions = env.local, gen.assign, gen.conditions
    for item in _iterable(gen.iterable(env), gen.text):
        env.work -= 1
        if env.work < 0 or not env.work & 31:  # the clock is read every 32 steps
            _tick(env, 0)
        assign(local, item)
        if conditions and not _all_true(env, conditions):
            continue
        if last:
            emit()
        else:
            _run_generators(env, gens, depth + 1, emit)


def _all_true(env: _Env, conditions: tuple[Fn, ...]) -> bool:
    for condition in conditions:  # noqa: SIM110 - a plain loop: no generator per item
        if not condition(env):
            return False
    return True


def _comprehension(gens: list[_Generator], names: tuple[str, ...], make: Callable) -> Fn:
    """Run the generators with the comprehension's own variables, restored afterwards."""

    def comprehension(env: _Env) -> Any:
        local = env.local
        saved = {name: local[name] for name in names if name in local}
        out, emit, tally = make(env)
        try:
            _run_generators(env, gens, 0, emit)
        finally:
            for name in names:
                local.pop(name, None)
            local.update(saved)
        return tally.built(env, out)

    return comprehension


def _full(out: Any) -> None:
    if len(out) >= MAX_SIZE:
        raise ExpressionError(f"result too large: more than {MAX_SIZE:,} elements")


def _c_listcomp(node: ast.ListComp | ast.GeneratorExp, bound: frozenset[str]) -> Fn:
    gens, inner, names = _compile_generators(node.generators, bound)
    element = _compile(node.elt, inner)

    def make(env: _Env) -> tuple[list[Any], Callable[[], None], _Tally]:
        out: list[Any] = []
        tally = _Tally()
        sizes = env.sizes

        def emit() -> None:  # hot: `_Tally.add` inline
            if len(out) >= MAX_SIZE:
                _full(out)
            value = element(env)
            kind = type(value)
            if kind in _SCALARS:
                tally.size += 1
            elif kind is str:
                tally.size += len(value) or 1
            else:
                known = sizes.get(id(value))
                if known is not None and known[0] is value:
                    tally.size += known[1]
                else:
                    tally.size += 1
                    tally.exact = False
            if tally.size > MAX_SIZE:
                _made(env, tally.size)
            out.append(value)

        return out, emit, tally

    return _comprehension(gens, names, make)


def _c_setcomp(node: ast.SetComp, bound: frozenset[str]) -> Fn:
    gens, inner, names = _compile_generators(node.generators, bound)
    element = _compile(node.elt, inner)

    def make(env: _Env) -> tuple[set[Any], Callable[[], None], _Tally]:
        out: set[Any] = set()
        tally = _Tally()

        def emit() -> None:
            _full(out)
            value = element(env)
            _hashing(env, value)
            try:
                if value in out:
                    return
                out.add(value)
            except TypeError:
                raise _hash_error(value) from None
            tally.add(env, value)

        return out, emit, tally

    return _comprehension(gens, names, make)


def _c_dictcomp(node: ast.DictComp, bound: frozenset[str]) -> Fn:
    gens, inner, names = _compile_generators(node.generators, bound)
    read_key, read_value = _compile(node.key, inner), _compile(node.value, inner)

    def make(env: _Env) -> tuple[dict[Any, Any], Callable[[], None], _Tally]:
        out: dict[Any, Any] = {}
        tally = _Tally()

        def emit() -> None:
            _full(out)
            key = read_key(env)
            _hashing(env, key)
            value = read_value(env)
            try:
                repeated = key in out
                out[key] = value
            except TypeError:
                raise _hash_error(key) from None
            if repeated:
                tally.exact = False  # the value it replaced stays counted: no longer exact
            else:
                tally.add(env, key)
                tally.add(env, value)

        return out, emit, tally

    return _comprehension(gens, names, make)


def _c_call(node: ast.Call, bound: frozenset[str]) -> Fn:
    if not _isa(node.func, ast.Name):
        raise _bad(
            f"only allow-listed functions can be called, not {ast.unparse(node.func)!r} "
            "(there are no methods: write lower(s), not s.lower())"
        )
    name = node.func.id
    function = FUNCTIONS.get(name)
    if function is None:
        raise _bad(f"unknown function {name!r}; allowed: {', '.join(sorted(FUNCTIONS))}")
    if any(keyword.arg is None for keyword in node.keywords):
        raise _bad("unpacking with ** is not allowed in calls")
    _check_arity(name, function, node)
    args = [_compile(arg, bound) for arg in node.args]
    kwargs = {keyword.arg: _compile(keyword.value, bound) for keyword in node.keywords}

    cost_of = _CALL_COSTS.get(name)
    text = _Text(node)

    def call(env: _Env) -> Any:
        values = [arg(env) for arg in args]
        named = {key: read(env) for key, read in kwargs.items()} if kwargs else {}
        if cost_of is not None:
            cost = cost_of(env, values)
            if cost:
                _charge(env, cost, text)
        try:
            result = function(*values, **named)
        except ExpressionError:
            raise
        except (TypeError, ValueError, OverflowError, ZeroDivisionError) as exc:
            raise ExpressionError(f"{name}(): {exc}") from None
        return _sized(env, result)

    return call


def _walk_cost(env: _Env, values: list[Any]) -> int:
    """What a function that walks its arguments (and their elements) costs."""
    cost = 0
    for value in values:
        if type(value) not in _SCALARS and _isa(value, _SIZED):
            cost += _size(env, value)
    return cost


def _sort_cost(env: _Env, values: list[Any]) -> int:
    """sorted(): about log2(n) comparisons per element, each as costly as the element."""
    items = values[0] if values else None
    if not _isa(items, _SIZED):
        return 0
    return _size(env, items) * max(1, len(items).bit_length())


def _contains_cost(env: _Env, values: list[Any]) -> int:
    return _membership_cost(env, values[1], values[0]) if len(values) == 2 else 0


def _key_cost(env: _Env, values: list[Any]) -> int:
    """get(): one lookup, which hashes the key."""
    key = values[1] if len(values) > 1 else None
    return _size(env, key) if type(key) is tuple else 0


# Functions whose time grows with the size of their arguments: each call is charged first.
_CALL_COSTS: dict[str, Callable[[_Env, list[Any]], int]] = {
    **{
        name: _walk_cost
        for name in (
            *("sum", "any", "all", "list", "dict", "join", "keys", "values", "items"),
            *("json_dumps", "json_loads", "str", "split", "replace", "lower", "upper", "strip"),
        )
    },
    "sorted": _sort_cost,
    "min": _walk_cost,
    "max": _walk_cost,
    "contains": _contains_cost,
    "get": _key_cost,
}


def _check_arity(name: str, function: Callable[..., Any], node: ast.Call) -> None:
    try:
        _SIGNATURES[name].bind(*node.args, **{kw.arg: kw.value for kw in node.keywords})
    except TypeError as exc:
        raise _bad(f"{name}(): {exc}") from None


_COMPILERS: dict[type[ast.AST], Callable[[Any, frozenset[str]], Fn]] = {
    ast.Constant: _c_constant,
    ast.Name: _c_name,
    ast.Attribute: _c_attribute,
    ast.Subscript: _c_subscript,
    ast.BinOp: _c_binop,
    ast.UnaryOp: _c_unaryop,
    ast.BoolOp: _c_boolop,
    ast.Compare: _c_compare,
    ast.IfExp: _c_ifexp,
    ast.List: _c_list,
    ast.Tuple: _c_tuple,
    ast.Set: _c_set,
    ast.Dict: _c_dict,
    ast.ListComp: _c_listcomp,
    ast.GeneratorExp: _c_listcomp,
    ast.SetComp: _c_setcomp,
    ast.DictComp: _c_dictcomp,
    ast.Call: _c_call,
}


# --- references (for the validator) ----------------------------------------------------------


def _chain(node: ast.AST, bound: frozenset[str]) -> tuple[str, ...] | None:
    """`a.b['c'].d` -> ("a", "b", "c", "d"); () when the root is not a free name; None when
    `node` is not such a chain."""
    keys: list[str] = []
    while True:
        if _isa(node, ast.Attribute):
            keys.append(node.attr)
            node = node.value
        elif (
            _isa(node, ast.Subscript)
            and _isa(node.slice, ast.Constant)
            and _isa(node.slice.value, str)
        ):
            keys.append(node.slice.value)
            node = node.value
        elif _isa(node, ast.Name):
            if node.id in bound or node.id in ALIASES:
                return ()
            return (node.id, *reversed(keys))
        else:
            return None


def _collect_paths(node: ast.AST, bound: frozenset[str], paths: set[tuple[str, ...]]) -> None:
    chain = _chain(node, bound)
    if chain is not None:
        if chain:
            paths.add(chain)
        return
    if _isa(node, ast.ListComp | ast.GeneratorExp | ast.SetComp | ast.DictComp):
        inner = set(bound)
        for gen in node.generators:
            _collect_paths(gen.iter, frozenset(inner), paths)
            inner.update(_target_names(gen.target))
            for cond in gen.ifs:
                _collect_paths(cond, frozenset(inner), paths)
        elements = (node.key, node.value) if _isa(node, ast.DictComp) else (node.elt,)
        for element in elements:
            _collect_paths(element, frozenset(inner), paths)
        return
    for child in ast.iter_child_nodes(node):
        if _isa(node, ast.Call) and child is node.func:
            continue
        _collect_paths(child, bound, paths)


# --- public API ------------------------------------------------------------------------------


class CompiledExpression:
    """A parsed expression: evaluate it with `evaluate(scope)`; `paths` and `names` say what it
    reads (worked out on first use: only validation needs them)."""

    __slots__ = ("_paths", "_tree", "function", "source")

    def __init__(self, source: str, function: Fn, tree: ast.expr) -> None:
        self.source = source
        self.function = function
        self._tree = tree
        self._paths: frozenset[tuple[str, ...]] | None = None

    @property
    def paths(self) -> frozenset[tuple[str, ...]]:
        if self._paths is None:
            found: set[tuple[str, ...]] = set()
            try:
                _collect_paths(self._tree, frozenset(), found)
            except RecursionError:
                raise _bad("expression is nested too deeply") from None
            self._paths = frozenset(found)
        return self._paths

    @property
    def names(self) -> frozenset[str]:
        return frozenset(path[0] for path in self.paths)

    def evaluate(self, scope: Mapping[str, Any]) -> Any:
        return _run(self, scope)


def parse(expr: str) -> CompiledExpression:
    """Parse and compile an expression (cached by its text); bad ones raise `bad_expression`."""
    if not _isa(expr, str):
        raise _bad(f"an expression must be a string, not {type_of(expr)}")
    return _parse(expr)


@functools.lru_cache(maxsize=8192)
def _parse(expr: str) -> CompiledExpression:
    text = expr.strip()
    if not text:
        raise _bad("empty expression")
    if len(text) > MAX_EXPRESSION_LENGTH:
        raise _bad(f"expression longer than {MAX_EXPRESSION_LENGTH:,} characters")
    tree = _syntax_tree(text)
    try:
        function = _compile(tree.body, frozenset())
    except RecursionError:
        raise _bad("expression is nested too deeply") from None
    return CompiledExpression(text, function, tree.body)


def _syntax_tree(text: str) -> ast.Expression:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return ast.parse(text, mode="eval")
    except SyntaxError as exc:
        where = f" at column {exc.offset}" if exc.offset else ""
        raise _bad(f"invalid expression {_clip(text)!r}: {exc.msg}{where}") from None
    except (ValueError, RecursionError, MemoryError) as exc:
        raise _bad(f"invalid expression {_clip(text)!r}: {exc or 'nested too deeply'}") from None


def _clip(text: str, limit: int = 80) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _run(compiled: CompiledExpression, scope: Mapping[str, Any], as_text: bool = False) -> Any:
    """Evaluate in a fresh `_Env`; `as_text`: the value as a `{{ }}` inside text shows it."""
    env = _Env(scope, compiled)
    started_with = env.work
    try:
        value = compiled.function(env)
        if as_text and type(value) is not str:
            if type(value) not in _SCALARS:
                _charge(env, _size(env, value), "rendering as text")
            value = _template_text(value)
        return value
    except (ExpressionError, budget.Interrupted):
        raise
    except RecursionError:
        raise ExpressionError("expression is nested too deeply") from None
    except MemoryError:
        raise ExpressionError("expression needs too much memory") from None
    except Exception as exc:  # a last line of defence: evaluation never leaks another type
        raise ExpressionError(f"cannot evaluate: {exc}") from None
    finally:
        if env.inline:  # what it spent comes off the allowance the next evaluations share
            env.allowance.steps -= started_with - max(env.work, 0)


def evaluate(expr: str, scope: Mapping[str, Any]) -> Any:
    """The value of an expression in `scope` (names: inputs, vars, node ids, input, loop…)."""
    return _run(parse(expr), scope)


def referenced_names(expr: str) -> set[str]:
    """The free names an expression reads: `a.x + len(inputs.items)` -> {"a", "inputs"}."""
    return set(parse(expr).names)


def referenced_paths(expr: str) -> set[tuple[str, ...]]:
    """Dotted paths read from free names: `vars.threshold` -> {("vars", "threshold")}."""
    return set(parse(expr).paths)


# --- templates -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Segment:
    source: str  # the text between `{{` and `}}`, stripped


def _closing(text: str, begin: int) -> int:
    """The `}}` that ends the `{{` before `begin`: the first one after which the enclosed text
    parses (so `{{ {"a": {"b": 1}} }}` works), else the first one."""
    first = text.find("}}", begin)
    if first < 0:
        raise _bad(f"unclosed '{{{{' at position {begin - 2} in {_clip(text)!r}")
    if text.find("}}", first + 1) < 0:
        return first  # the only candidate: no need to try parsing
    end = first
    while end >= 0:
        try:
            _syntax_tree(text[begin:end].strip())
            return end
        except ExpressionError:
            end = text.find("}}", end + 1)
    return first


@functools.lru_cache(maxsize=8192)
def _template_parts(text: str, strict: bool = True) -> tuple[str | _Segment, ...]:
    """Literal text and `{{ }}` segments. An unclosed `{{` raises, or when not `strict` becomes
    a segment holding the rest of the text (which then fails to parse with a clear message)."""
    parts: list[str | _Segment] = []
    pos = 0
    while (start := text.find("{{", pos)) >= 0:
        if start > pos:
            parts.append(text[pos:start])
        if not strict and text.find("}}", start + 2) < 0:
            parts.append(_Segment(text[start:].strip()))
            return tuple(parts)
        end = _closing(text, start + 2)
        parts.append(_Segment(text[start + 2 : end].strip()))
        pos = end + 2
    if pos < len(text):
        parts.append(text[pos:])
    return tuple(parts)


@dataclass(frozen=True, slots=True)
class _Template:
    raw: CompiledExpression | None  # the string's `{{ }}` when it is nothing else
    parts: tuple[str | CompiledExpression, ...]


@functools.lru_cache(maxsize=8192)
def _template(text: str) -> _Template:
    parts = tuple(
        parse(part.source) if _isa(part, _Segment) else part for part in _template_parts(text)
    )
    # SPEC §2: only a string that is exactly one `{{ }}` keeps the raw value; any text around
    # it, even a space or a YAML block's final newline, makes the whole string text.
    raw = parts[0] if len(parts) == 1 and _isa(parts[0], CompiledExpression) else None
    return _Template(raw, parts)


def _render_string(text: str, scope: Mapping[str, Any]) -> Any:
    template = _template(text)
    if template.raw is not None:
        return _run(template.raw, scope)
    pieces = []
    size = 0
    for part in template.parts:
        piece = part if _isa(part, str) else _run(part, scope, as_text=True)
        size += len(piece)
        if size > MAX_SIZE:
            raise ExpressionError(f"rendered text longer than {MAX_SIZE:,} characters")
        pieces.append(piece)
    return "".join(pieces)


def render(value: Any, scope: Mapping[str, Any]) -> Any:
    """Render every `{{ }}` in a JSON value; parts without templates are the same objects."""
    kind = type(value)
    if kind is str:
        return _render_string(value, scope) if "{{" in value else value
    if kind in _SCALARS:
        return value
    if kind is dict or _isa(value, dict):
        return _render_dict(value, scope)
    if kind is list or _isa(value, list):
        items = [render(item, scope) for item in value]
        changed = any(new is not old for new, old in zip(items, value, strict=True))
        return items if changed else value
    if _isa(value, str):
        return _render_string(value, scope) if "{{" in value else value
    return value


def _render_dict(value: dict[Any, Any], scope: Mapping[str, Any]) -> dict[Any, Any]:
    out = None
    for key, item in value.items():
        rendered = render(item, scope)
        if rendered is not item:
            if out is None:
                out = dict(value)
            out[key] = rendered
    return value if out is None else out


def has_template(value: Any) -> bool:
    """Whether a JSON value holds a `{{` anywhere (the executor skips rendering otherwise)."""
    if _isa(value, str):
        return "{{" in value
    if _isa(value, Mapping):
        return any(has_template(item) for item in value.values())
    if _isa(value, list | tuple):
        return any(has_template(item) for item in value)
    return False


def template_expressions(value: Any) -> list[str]:
    """Every `{{ }}` expression in a JSON value, in order. An unclosed `{{` yields the rest of
    its string (from `{{`), which `parse` then refuses as a `bad_expression`."""
    found: list[str] = []
    _collect_templates(value, found)
    return found


def _collect_templates(value: Any, found: list[str]) -> None:
    if _isa(value, str):
        if "{{" in value:
            parts = _template_parts(value, strict=False)
            found.extend(p.source for p in parts if _isa(p, _Segment))
    elif _isa(value, Mapping):
        for item in value.values():
            _collect_templates(item, found)
    elif _isa(value, list | tuple):
        for item in value:
            _collect_templates(item, found)
