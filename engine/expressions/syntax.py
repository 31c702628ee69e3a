"""From text to closures: the syntax tree, the table of node compilers and what every
compiler shares (the closure type, a node's source text, refused names and constructs)."""

from __future__ import annotations

import ast
import warnings
from collections.abc import Callable
from typing import Any

from engine.expressions.errors import _bad
from engine.expressions.limits import _Env

ALIASES: dict[str, Any] = {"true": True, "false": False, "null": None}


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


# AST node type -> its compiler. Filled by `engine.expressions.compiler`, which imports every
# compiler: they call `_compile` for their children, so the table cannot live above them.
_COMPILERS: dict[type[ast.AST], Callable[[Any, frozenset[str]], Fn]] = {}


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
