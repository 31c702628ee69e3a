"""The one error type of the expression language, and its two codes."""

from __future__ import annotations


class ExpressionError(Exception):
    """An expression that does not parse (`bad_expression`) or fails to evaluate (`expression`)."""

    def __init__(self, message: str, code: str = "expression") -> None:
        super().__init__(message)
        self.message = message
        self.code = code


def _bad(message: str) -> ExpressionError:
    return ExpressionError(message, "bad_expression")
