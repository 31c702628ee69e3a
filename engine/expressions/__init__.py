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

from engine.expressions.compiler import (
    CompiledExpression,
    evaluate,
    parse,
    referenced_keys,
    referenced_names,
    referenced_paths,
)
from engine.expressions.errors import ExpressionError
from engine.expressions.functions import FUNCTIONS
from engine.expressions.limits import (
    MAX_EXPRESSION_LENGTH,
    MAX_INT_BITS,
    MAX_SIZE,
    MAX_WORK,
    TIME_LIMIT_S,
)
from engine.expressions.syntax import ALIASES
from engine.expressions.templates import has_template, render, template_expressions
from engine.expressions.values import type_of

__all__ = [
    "ALIASES",
    "FUNCTIONS",
    "MAX_EXPRESSION_LENGTH",
    "MAX_INT_BITS",
    "MAX_SIZE",
    "MAX_WORK",
    "TIME_LIMIT_S",
    "CompiledExpression",
    "ExpressionError",
    "evaluate",
    "has_template",
    "parse",
    "referenced_keys",
    "referenced_names",
    "referenced_paths",
    "render",
    "template_expressions",
    "type_of",
]
