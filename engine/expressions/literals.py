"""Compilers of literals that build containers (lists, tuples, sets, objects), and the
tally of a built value's logical size."""

from __future__ import annotations

import ast
from collections.abc import Iterable, Mapping
from typing import Any

from engine.expressions.errors import ExpressionError
from engine.expressions.limits import MAX_SIZE, _charge, _Env, _grow
from engine.expressions.syntax import Fn, _compile
from engine.expressions.values import _PIN, _SCALARS, _isa, _made, _remember, _size, type_of


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
