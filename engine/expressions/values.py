"""Values as the language sees them: JSON type names, logical sizes and text.

Sizes are logical: a value holding the same list twice holds its elements twice, as its JSON
would, so `[[0] * 1000000] * 1000000` is 10^12 elements however little memory it shares. A
created value may pass `MAX_SIZE` only by what the expression read (filtering a large upstream
list is fine; repeating it is not).
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterable, Mapping
from typing import Any

from engine.expressions.errors import ExpressionError
from engine.expressions.limits import MAX_SIZE, _Env, _grow, _tick

_SEQUENCES = (str, list, tuple)
_PLAIN = frozenset({str, list, tuple, int, float, bool, type(None)})  # the common non-mappings
_SCALARS = frozenset({int, float, bool, type(None)})
_NUMBERS = frozenset({int, float, bool})
_SIZED = (str, list, tuple, dict, set, frozenset)


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


# --- logical sizes ---------------------------------------------------------------------------

_PIN = 256  # a container at least this large keeps its size for the rest of the evaluation
_PINNED_ENTRIES = 50_000  # past this many remembered sizes the memo starts afresh


def _size(env: _Env, value: Any, cap: int | None = None) -> int:
    """The logical size of `value`: characters of a string, 1 for other scalars, the sum over
    the elements (keys too) of a container, shared ones counted each time. With `cap`, the
    count may stop anywhere past `cap`. The walk is charged; large containers remember."""
    known = _known(env, value)
    if known is not None:
        return known
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
