"""What an expression reads: the dotted paths of its free names (for the validator)."""

from __future__ import annotations

import ast

from engine.expressions.comprehensions import _target_names
from engine.expressions.syntax import ALIASES
from engine.expressions.values import _isa


def _chain(node: ast.AST, bound: frozenset[str], indexes: bool = False) -> tuple | None:
    """`a.b['c'].d` -> ("a", "b", "c", "d"); () when the root is not a free name; None when
    `node` is not such a chain. With `indexes`, `a.items[0].name` -> ("a", "items", 0,
    "name") (else the chain read is `a.items`)."""
    keys: list[str | int] = []
    while True:
        if _isa(node, ast.Attribute):
            keys.append(node.attr)
            node = node.value
        elif (
            _isa(node, ast.Subscript)
            and _isa(node.slice, ast.Constant)
            and _isa(node.slice.value, str)
        ) or (
            indexes
            and _isa(node, ast.Subscript)
            and _isa(node.slice, ast.Constant)
            and type(node.slice.value) is int
        ):
            keys.append(node.slice.value)
            node = node.value
        elif _isa(node, ast.Name):
            if node.id in bound or node.id in ALIASES:
                return ()
            return (node.id, *reversed(keys))
        else:
            return None


def _collect_paths(
    node: ast.AST, bound: frozenset[str], paths: set[tuple], indexes: bool = False
) -> None:
    chain = _chain(node, bound, indexes)
    if chain is not None:
        if chain:
            paths.add(chain)
        return
    if _isa(node, ast.ListComp | ast.GeneratorExp | ast.SetComp | ast.DictComp):
        inner = set(bound)
        for gen in node.generators:
            _collect_paths(gen.iter, frozenset(inner), paths, indexes)
            inner.update(_target_names(gen.target))
            for cond in gen.ifs:
                _collect_paths(cond, frozenset(inner), paths, indexes)
        elements = (node.key, node.value) if _isa(node, ast.DictComp) else (node.elt,)
        for element in elements:
            _collect_paths(element, frozenset(inner), paths, indexes)
        return
    for child in ast.iter_child_nodes(node):
        if _isa(node, ast.Call) and child is node.func:
            continue
        _collect_paths(child, bound, paths, indexes)
