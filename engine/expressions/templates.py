"""Templates: `{{ }}` in JSON values.

A string that is exactly one `{{ expr }}` (nothing around it, not even whitespace) becomes the
expression's raw value, so a list stays a list. Otherwise each `{{ }}` is replaced by its value
as text: strings as they are, `None` as the empty string, booleans as `true`/`false`, numbers as
Python writes them, lists and objects as JSON. Only the values of objects are rendered, never
their keys. Values without `{{` are returned as the same object.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from engine.expressions.compiler import CompiledExpression, _run, parse
from engine.expressions.errors import ExpressionError, _bad
from engine.expressions.limits import MAX_SIZE
from engine.expressions.syntax import _clip, _syntax_tree
from engine.expressions.values import _SCALARS, _isa


@dataclass(frozen=True, slots=True)
class _Segment:
    source: str  # the text between `{{` and `}}`, stripped


def _closing(text: str, begin: int) -> int:
    """The `}}` that ends the `{{` before `begin`: the first one after which the enclosed text
    parses (so `{{ {"a": {"b": 1}} }}` works), else the first one."""
    first = text.find("}}", begin)
    if first < 0:
        raise _bad(f"unclosed '{{{{' at position {begin - 2} in {_clip(text)!r}")
    if text.find("}}", first + 1) < 0:
        return first  # the only candidate: no need to try parsing
    end = first
    while end >= 0:
        try:
            _syntax_tree(text[begin:end].strip())
            return end
        except ExpressionError:
            end = text.find("}}", end + 1)
    return first


@functools.lru_cache(maxsize=8192)
def _template_parts(text: str, strict: bool = True) -> tuple[str | _Segment, ...]:
    """Literal text and `{{ }}` segments. An unclosed `{{` raises, or when not `strict` becomes
    a segment holding the rest of the text (which then fails to parse with a clear message)."""
    parts: list[str | _Segment] = []
    pos = 0
    while (start := text.find("{{", pos)) >= 0:
        if start > pos:
            parts.append(text[pos:start])
        if not strict and text.find("}}", start + 2) < 0:
            parts.append(_Segment(text[start:].strip()))
            return tuple(parts)
        end = _closing(text, start + 2)
        parts.append(_Segment(text[start + 2 : end].strip()))
        pos = end + 2
    if pos < len(text):
        parts.append(text[pos:])
    return tuple(parts)


@dataclass(frozen=True, slots=True)
class _Template:
    raw: CompiledExpression | None  # the string's `{{ }}` when it is nothing else
    parts: tuple[str | CompiledExpression, ...]


@functools.lru_cache(maxsize=8192)
def _template(text: str) -> _Template:
    parts = tuple(
        parse(part.source) if _isa(part, _Segment) else part for part in _template_parts(text)
    )
    # SPEC §2: only a string that is exactly one `{{ }}` keeps the raw value; any text around
    # it, even a space or a YAML block's final newline, makes the whole string text.
    raw = parts[0] if len(parts) == 1 and _isa(parts[0], CompiledExpression) else None
    return _Template(raw, parts)


def _render_string(text: str, scope: Mapping[str, Any]) -> Any:
    template = _template(text)
    if template.raw is not None:
        return _run(template.raw, scope)
    pieces = []
    size = 0
    for part in template.parts:
        piece = part if _isa(part, str) else _run(part, scope, as_text=True)
        size += len(piece)
        if size > MAX_SIZE:
            raise ExpressionError(f"rendered text longer than {MAX_SIZE:,} characters")
        pieces.append(piece)
    return "".join(pieces)


def render(value: Any, scope: Mapping[str, Any]) -> Any:
    """Render every `{{ }}` in a JSON value; parts without templates are the same objects."""
    kind = type(value)
    if kind is str:
        return _render_string(value, scope) if "{{" in value else value
    if kind in _SCALARS:
        return value
    if kind is dict or _isa(value, dict):
        return _render_dict(value, scope)
    if kind is list or _isa(value, list):
        items = [render(item, scope) for item in value]
        changed = any(new is not old for new, old in zip(items, value, strict=True))
        return items if changed else value
    if _isa(value, str):
        return _render_string(value, scope) if "{{" in value else value
    return value


def _render_dict(value: dict[Any, Any], scope: Mapping[str, Any]) -> dict[Any, Any]:
    out = None
    for key, item in value.items():
        rendered = render(item, scope)
        if rendered is not item:
            if out is None:
                out = dict(value)
            out[key] = rendered
    return value if out is None else out


def has_template(value: Any) -> bool:
    """Whether a JSON value holds a `{{` anywhere (the executor skips rendering otherwise)."""
    if _isa(value, str):
        return "{{" in value
    if _isa(value, Mapping):
        return any(has_template(item) for item in value.values())
    if _isa(value, list | tuple):
        return any(has_template(item) for item in value)
    return False


def template_expressions(value: Any) -> list[str]:
    """Every `{{ }}` expression in a JSON value, in order. An unclosed `{{` yields the rest of
    its string (from `{{`), which `parse` then refuses as a `bad_expression`."""
    found: list[str] = []
    _collect_templates(value, found)
    return found


def _collect_templates(value: Any, found: list[str]) -> None:
    if _isa(value, str):
        if "{{" in value:
            parts = _template_parts(value, strict=False)
            found.extend(p.source for p in parts if _isa(p, _Segment))
    elif _isa(value, Mapping):
        for item in value.values():
            _collect_templates(item, found)
    elif _isa(value, list | tuple):
        for item in value:
            _collect_templates(item, found)
