"""The allow-listed functions expressions may call (`FUNCTIONS`, by name)."""

from __future__ import annotations

import inspect
import json
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from engine.expressions.errors import ExpressionError
from engine.expressions.limits import MAX_SIZE
from engine.expressions.values import _as_text, _isa, _json_default, _measure, type_of

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
