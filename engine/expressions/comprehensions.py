"""Compilers of list, set and object comprehensions (generator expressions are lists)."""

from __future__ import annotations

import ast
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from engine.expressions.errors import ExpressionError, _bad
from engine.expressions.limits import MAX_SIZE, _Env, _tick
from engine.expressions.literals import _hash_error, _hashing, _Tally
from engine.expressions.syntax import Fn, _check_name, _compile, _Text
from engine.expressions.values import _SCALARS, _isa, _made, type_of


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
