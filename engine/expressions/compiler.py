"""The compiler: an expression's text -> a `CompiledExpression` (a tree of closures over
an evaluation's state), names and lookups, calls, and evaluation with its budgets."""

from __future__ import annotations

import ast
import functools
from collections.abc import Callable, Mapping
from typing import Any

from engine import budget
from engine.expressions.comprehensions import _c_dictcomp, _c_listcomp, _c_setcomp
from engine.expressions.errors import ExpressionError, _bad
from engine.expressions.functions import _SIGNATURES, FUNCTIONS
from engine.expressions.limits import MAX_EXPRESSION_LENGTH, _charge, _Env
from engine.expressions.literals import _c_dict, _c_list, _c_set, _c_tuple
from engine.expressions.operators import (
    _c_binop,
    _c_boolop,
    _c_compare,
    _c_ifexp,
    _c_unaryop,
    _membership_cost,
)
from engine.expressions.references import _collect_paths
from engine.expressions.syntax import (
    _COMPILERS,
    ALIASES,
    Fn,
    _check_name,
    _compile,
    _syntax_tree,
    _Text,
)
from engine.expressions.values import (
    _SCALARS,
    _SEQUENCES,
    _SIZED,
    _is_mapping,
    _isa,
    _size,
    _sized,
    _template_text,
    type_of,
)


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


_COMPILERS.update(
    {
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
)


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

    def keys(self) -> set[tuple]:
        """`paths` with integer indexes kept (see `referenced_keys`)."""
        found: set[tuple] = set()
        try:
            _collect_paths(self._tree, frozenset(), found, indexes=True)
        except RecursionError:
            raise _bad("expression is nested too deeply") from None
        return found

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


def referenced_keys(expr: str) -> set[tuple]:
    """The paths read with their integer indexes: `a.items[0].name` -> {("a", "items", 0,
    "name")} (what typed outputs check against a node's output_schema)."""
    return parse(expr).keys()
