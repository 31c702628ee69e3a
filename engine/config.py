"""Config paths a handler declares as plain expressions (`expression_fields`, e.g.
`"cases[].expression"`): find them, and render everything else."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from engine.schema.validator import out_of_bounds


def split_path(path: str) -> tuple[str, ...]:
    """`"cases[].expression"` -> `("cases", "[]", "expression")`."""
    parts: list[str] = []
    for part in path.split("."):
        while part.endswith("[]"):
            part = part[:-2]
            if part:
                parts.append(part)
            parts.append("[]")
            part = ""
        if part:
            parts.append(part)
    return tuple(parts)


def expression_values(config: Any, paths: tuple[str, ...]) -> Iterator[tuple[str, Any]]:
    """Every (field, value) found at the declared expression paths, e.g. `("cases[1].expression",
    "a.x > 1")`. Missing keys are simply absent (the JSON Schema reports required ones)."""
    for path in paths:
        yield from _walk(config, split_path(path), "config")


def _walk(value: Any, parts: tuple[str, ...], where: str) -> Iterator[tuple[str, Any]]:
    if not parts:
        yield where, value
        return
    head, rest = parts[0], parts[1:]
    if head == "[]":
        if isinstance(value, list):
            for index, item in enumerate(value):
                yield from _walk(item, rest, f"{where}[{index}]")
    elif isinstance(value, dict) and head in value:
        yield from _walk(value[head], rest, f"{where}.{head}")


def templated_values(config: Any, paths: tuple[str, ...]) -> Iterator[tuple[str, str]]:
    """(field, string) for every string of the config that is rendered as a template (all but
    the expression paths), e.g. `("config.headers.auth", "Bearer {{ secrets.token }}")`."""
    skip = {split_path(path) for path in paths}
    yield from _templated(config, (), skip, "config")


def _templated(value: Any, at: tuple[str, ...], skip: set, where: str) -> Iterator:
    if at in skip:
        return
    if isinstance(value, str):
        yield where, value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _templated(item, (*at, key), skip, f"{where}.{key}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _templated(item, (*at, "[]"), skip, f"{where}[{index}]")


def render_config(
    config: dict,
    scope: Mapping[str, Any],
    paths: tuple[str, ...],
    secret_paths: tuple[str, ...] = (),
) -> dict:
    """Render every `{{ }}` of a node's config except the expression paths (left verbatim).
    The fields at `secret_paths` (a handler's `secret_fields`) are rendered with a scope that
    offers `secrets` (`scope.with_secrets()`); nothing else can read them."""
    from engine import expressions

    if not paths and not secret_paths:
        return expressions.render(config, scope)
    skip = {split_path(path): None for path in paths}
    skip.update({split_path(path): "secrets" for path in secret_paths})
    return _render_except(config, (), skip, scope)


def _render_except(value: Any, at: tuple[str, ...], skip: dict, scope: Any) -> Any:
    from engine import expressions

    if at in skip:
        if skip[at] is None:
            return value
        # A Scope hides `secrets` but from this view; a plain mapping hides nothing.
        return expressions.render(value, getattr(scope, "with_secrets", lambda: scope)())
    if not any(path[: len(at)] == at for path in skip):
        return expressions.render(value, scope)
    if isinstance(value, dict):
        return {key: _render_except(item, (*at, key), skip, scope) for key, item in value.items()}
    if isinstance(value, list):
        return [_render_except(item, (*at, "[]"), skip, scope) for item in value]
    return expressions.render(value, scope)


def render_node_config(config: dict, scope: Any, handler: Any) -> dict:
    """A node's config rendered for one attempt (see `render_config`), its numbers checked
    against the type's schema bounds: a template may yield what validation could not see
    (`timeout_s: "{{ inputs.t }}"` with t = 1e300), which fails the node (`bad_config`)
    before it reaches the clock or an allocation. Raises ExpressionError or NodeError."""
    rendered = render_config(config, scope, handler.expression_fields, handler.secret_fields)
    if rendered is not config:
        problem = out_of_bounds(handler, rendered)
        if problem is not None:
            from engine.handlers.base import NodeError

            raise NodeError(problem, "bad_config", retryable=False)
    return rendered


def masked(config: Any, secret_paths: tuple[str, ...]) -> Any:
    """The config as it may be shown (a debugger's prompt): every string under the fields that
    send secrets (a handler's `secret_fields`) replaced by `***`, rendered or not."""
    if not secret_paths or not isinstance(config, dict):
        return config
    return _mask(config, (), {split_path(path) for path in secret_paths})


def _mask(value: Any, at: tuple[str, ...], paths: set) -> Any:
    if at in paths:
        return _stars(value)
    if not any(path[: len(at)] == at for path in paths):
        return value
    if isinstance(value, dict):
        return {key: _mask(item, (*at, key), paths) for key, item in value.items()}
    if isinstance(value, list):
        return [_mask(item, (*at, "[]"), paths) for item in value]
    return value


def _stars(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _stars(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_stars(item) for item in value]
    return "***" if isinstance(value, str) else value


def needs_render(config: Any, paths: tuple[str, ...]) -> bool:
    """Whether rendering the config (outside the expression paths) would change anything."""
    return any("{{" in value for _, value in templated_values(config, paths))
