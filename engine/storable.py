"""Whether a value can leave the engine to be stored as JSON (PostgreSQL `jsonb`), and how
large its JSON is, without ever writing that JSON.

PostgreSQL refuses NaN and ±Infinity, the NUL character, and text that is not valid UTF-8 (a
lone surrogate); Python's JSON writer refuses integers of more than `sys.get_int_max_str_digits()`
digits and keys that are not strings, numbers, booleans or null. `output_problem` names the
first such thing and where it is (`output.items[3]: NaN is not storable`), or the output's
size when it is over a limit: the size is counted as `json.dumps(value, default=str,
separators=(",", ":"))` would write it, element by element, and the count stops as soon as it
passes the limit — a value sharing one list a million times is never expanded to measure it.

Walks are charged to the `engine.budget` allowance, so `off_loop` can move a large one into a
thread and stop it when the node is cancelled.
"""

from __future__ import annotations

import math
import operator
import re
import sys
from collections.abc import Iterator
from json.encoder import encode_basestring_ascii
from typing import Any

from engine import budget

# What PostgreSQL refuses in text and jsonb; the API refuses it in requests too.
BAD_CHARACTERS = re.compile("[\x00\ud800-\udfff]")
_REPLACEMENT = "\ufffd"
_CHUNK = 4096  # long strings are measured a slice at a time (no copy of the whole escaped)
_STEPS = 1024  # elements between two checks of the allowance
_KEY_SCALARS = (int, float, bool, type(None))
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")


class Unstorable(ValueError):
    """A value that cannot be stored: `where` (a path such as `output.items[3]`) and `what`."""

    def __init__(self, where: str, what: str) -> None:
        super().__init__(f"{where}: {what} is not storable")
        self.where = where
        self.what = what


def storable_text(text: str) -> str:
    """`text` with what PostgreSQL refuses in text (NUL, lone surrogates) replaced by U+FFFD,
    for messages that quote user data (errors, log lines)."""
    if text.isascii() and "\x00" not in text:
        return text
    return BAD_CHARACTERS.sub(_REPLACEMENT, text)


def output_problem(value: Any, max_bytes: int = 0, root: str = "output") -> dict | None:
    """Why `value` cannot be kept as a node's output: `{"type": "unstorable_output" |
    "output_too_large", "message"}`, or None. `max_bytes` 0: no size limit."""
    try:
        size, finished = json_size(value, max_bytes or None)
    except Unstorable:
        problem = first_unstorable(value, root)
        return {"type": "unstorable_output", "message": str(problem)}
    return _size_problem(size, finished, max_bytes)


def _size_problem(size: int, finished: bool, max_bytes: int) -> dict | None:
    if max_bytes and size > max_bytes:
        counted = f"{size:,} bytes" if finished else f"more than {max_bytes:,} bytes"
        return {
            "type": "output_too_large",
            "message": f"output is {counted}, over the {max_bytes:,}-byte limit for one node",
        }
    return None


_END = object()
_REMEMBERED = 32  # containers at least this long keep their size: shared ones count once
_BIG = 10**15  # integers below this are written without a check of their length


def _flat_size(value: Any) -> int | None:
    """`json_size` of the everyday small output (a scalar, a short string, a small object or
    list of those) without the walk's set-up; None for anything else. Raises `Unstorable`."""
    kind = type(value)
    if kind is str:
        return _text_size(value, None) if len(value) <= _CHUNK else None
    if kind is dict:
        if len(value) > _REMEMBERED:
            return None
        size = 1 + len(value) if value else 2
        for key, item in value.items():
            if type(key) is not str:
                return None
            size += _text_size(key, None) + 1
            leaf = _leaf_size(item)
            if leaf is None:
                return None
            size += leaf
        return size
    if kind is list:
        if len(value) > _REMEMBERED:
            return None
        size = 1 + len(value) if value else 2
        for item in value:
            leaf = _leaf_size(item)
            if leaf is None:
                return None
            size += leaf
        return size
    return _leaf_size(value)


NOT_SMALL = object()


def small_output_problem(value: Any, max_bytes: int = 0, root: str = "output") -> Any:
    """`output_problem` for the everyday small output (a scalar, a short string, a small flat
    object or list), in a few steps; `NOT_SMALL` for anything else, left to the full walk."""
    try:
        size = _flat_size(value)
    except Unstorable:
        return output_problem(value, max_bytes, root)  # flat: finding where is quick too
    if size is None:
        return NOT_SMALL
    return _size_problem(size, True, max_bytes)


def _leaf_size(item: Any) -> int | None:
    kind = type(item)
    if kind is str:
        return _text_size(item, None) if len(item) <= _CHUNK else None
    if item is None or kind is bool or kind is float or (kind is int and -_BIG < item < _BIG):
        return _scalar_size(item)
    return None


def json_size(value: Any, limit: int | None = None) -> tuple[int, bool]:
    """(characters of the value's compact JSON, whether the count is complete): with `limit`
    the count stops once past it. Raises `Unstorable` (without a path) at the first value
    that cannot be stored. A container met again is not walked again."""
    allowance = budget.current()
    known: dict[int, tuple[Any, int]] = {}
    room = limit if limit is not None else sys.maxsize
    root = [value]
    frames: list[list[Any]] = [[root, iter(root), 0, list]]  # container, elements, size before
    size = steps = 0
    while frames:
        frame = frames[-1]
        is_dict = frame[3] is dict
        for item in frame[1]:
            if is_dict:
                key, item = item
                size += _key_size(key)
            kind = type(item)
            if kind is str:
                size += _text_size(item, room - size)
            elif kind is int:
                size += len(int.__repr__(item)) if -_BIG < item < _BIG else _int_size(item)
            elif kind is dict or kind is list or kind is tuple:
                seen = known.get(id(item))
                if seen is not None and seen[0] is item:
                    size += seen[1]
                else:
                    frames.append([item, iter(item.items() if kind is dict else item), size, kind])
                    size += 1 + len(item) if item else 2
                    break
            elif kind is float:
                size += len(_float_text(item))
            elif item is None or kind is bool:
                size += 4 if item is None or item else 5
            else:
                frames.append([item, iter([_plain(item)]), size, None])  # written as its base
                break
            if size > room:
                return size, _nothing_left(frames)
            steps += 1
            if steps >= _STEPS and allowance is not None:
                allowance.spend(steps)
                steps = 0
        else:
            frames.pop()
            if frame[3] is not None and len(frame[0]) >= _REMEMBERED:
                known[id(frame[0])] = (frame[0], size - frame[2])
        if size > room:
            return size, _nothing_left(frames)
    return size, True


def _nothing_left(frames: list[list[Any]]) -> bool:
    """Whether the walk had counted everything (so a size past the limit is exact)."""
    return all(operator.length_hint(frame[1]) == 0 for frame in frames)


def _scalar_size(item: Any) -> int:
    if item is None or item is True:
        return 4
    if item is False:
        return 5
    if type(item) is int:
        return _int_size(item)
    return len(_float_text(item))


def _plain(item: Any) -> Any:
    """What JSON writes for a value of another type: its base type, or its str()."""
    if isinstance(item, str):
        return str.__str__(item)
    if isinstance(item, bool):
        return bool(item)
    if isinstance(item, int):
        return int(item)
    if isinstance(item, float):
        return float(item)
    if isinstance(item, dict):
        return dict(item)
    if isinstance(item, list | tuple):
        return list(item)
    return str(item)  # the runtime's JSON default (a set, a date...)


def _text_size(text: str, room: int | None) -> int:
    if "\x00" in text or (not text.isascii() and BAD_CHARACTERS.search(text)):
        raise Unstorable("", _bad_text(text))
    if room is not None and len(text) + 2 > room:
        return len(text) + 2  # over the limit whatever its escapes: no need to count them
    if len(text) <= _CHUNK:
        return len(encode_basestring_ascii(text))
    return 2 + sum(
        len(encode_basestring_ascii(text[start : start + _CHUNK])) - 2
        for start in range(0, len(text), _CHUNK)
    )


def _key_size(key: Any) -> int:
    """A key as JSON writes it (numbers, booleans and null become strings), and its colon."""
    if type(key) is str:
        return _text_size(key, None) + 1
    if isinstance(key, str):
        return _text_size(str.__str__(key), None) + 1
    if key is None or isinstance(key, bool):
        return {None: 6, True: 6, False: 7}[key] + 1
    if isinstance(key, int):
        return 2 + _int_size(int(key)) + 1
    if isinstance(key, float):
        return 2 + len(_float_key(float(key))) + 1
    raise Unstorable("", f"a key of type {type(key).__name__}")


def _int_size(number: int) -> int:
    if -(10**15) < number < 10**15:
        return len(int.__repr__(number))
    limit = sys.get_int_max_str_digits()
    if limit and number.bit_length() > limit * 3.33:
        raise Unstorable("", f"an integer of more than {limit:,} digits")
    try:
        return len(int.__repr__(number))
    except ValueError:
        raise Unstorable("", f"an integer of more than {limit:,} digits") from None


def _float_key(number: float) -> str:
    """A float key as JSON writes it: a string, where NaN and Infinity are fine."""
    if math.isfinite(number):
        return float.__repr__(number)
    return "NaN" if number != number else "Infinity" if number > 0 else "-Infinity"


def _float_text(number: float) -> str:
    if math.isfinite(number):
        return float.__repr__(number)
    if number != number:
        raise Unstorable("", "NaN")
    raise Unstorable("", "Infinity" if number > 0 else "-Infinity")


def _bad_text(text: str) -> str:
    found = BAD_CHARACTERS.search(text)
    character = found.group() if found else "\x00"
    if character == "\x00":
        return "a NUL character (\\u0000)"
    return f"a lone surrogate (\\u{ord(character):04x})"


# --- where: the slow walk, only once something was found ------------------------------------


def first_unstorable(value: Any, root: str = "output") -> Unstorable:
    """The first value that cannot be stored, in document order, with its path. Containers
    found clean are not walked again (a shared one is checked once)."""
    allowance = budget.current()
    clean: dict[int, Any] = {}
    frames: list[tuple[Any, str, Iterator[tuple[Any, Any]]]] = [(None, "", iter([(root, value)]))]
    steps = 0
    while frames:
        container, where, children = frames[-1]
        is_dict = type(container) is dict
        for label, item in children:
            try:
                if is_dict:
                    _key_problem(label)
                inner = _check_one(item)
            except Unstorable as problem:
                return Unstorable(_path(where, label, container, problem), problem.what)
            if inner is not None and id(inner) not in clean:
                path = _path(where, label, container)
                frames.append((inner, path, _labelled(inner)))
                break
            steps += 1
            if steps >= _STEPS and allowance is not None:
                allowance.spend(steps)
                steps = 0
        else:
            frames.pop()
            clean[id(container)] = container
    return Unstorable(root, "a value")  # json_size found one: not reached


def _key_problem(key: Any) -> None:
    try:
        _key_size(key)
    except Unstorable as problem:
        raise Unstorable("key", problem.what) from None


def _path(where: str, label: Any, container: Any, problem: Unstorable | None = None) -> str:
    """The path of an element (`output.items[3]`), or of its key when the key is the problem."""
    if container is None:
        return label  # the root
    if type(container) is not dict:
        return f"{where}[{label}]"
    if problem is not None and problem.where == "key":
        return f"{where} key {_show_key(label)}"
    return f"{where}{_step(label)}"


def _labelled(container: Any) -> Iterator[tuple[Any, Any]]:
    return iter(container.items()) if type(container) is dict else enumerate(container)


def _check_one(item: Any) -> Any:
    """Raise `Unstorable` when `item` itself cannot be stored; the container to walk into,
    if it is one."""
    while True:
        kind = type(item)
        if kind is str:
            _text_size(item, None)
            return None
        if kind is dict or kind is list or kind is tuple:
            return item
        if item is None or kind is bool or kind is int or kind is float:
            _scalar_size(item)
            return None
        item = _plain(item)


def _step(key: Any) -> str:
    if type(key) is str and _IDENTIFIER.match(key):
        return f".{key}"
    return f"[{_show_key(key)}]"


def _show_key(key: Any) -> str:
    shown = repr(key) if not isinstance(key, str) else repr(str.__str__(key))
    return shown if len(shown) <= 40 else shown[:39] + "…"
