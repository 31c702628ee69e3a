"""The engine's JSON Schema validator (draft 2020-12, numbers strict) and its errors as plain
sentences about the value: `retry.max_attempts must be at most 100, got 1000`."""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from typing import Any

import jsonschema
from jsonschema import Draft202012Validator


def _finite_number(checker: Any, value: Any) -> bool:
    """JSON numbers only: no booleans, NaN or infinities (which JSON cannot even write)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    return isinstance(value, int) or math.isfinite(value)


def _whole_number(checker: Any, value: Any) -> bool:
    """An integer is an int: `3.0` (and `1e9`) is refused as a count, as the handlers do."""
    return isinstance(value, int) and not isinstance(value, bool)


# Draft 2020-12 with the two number types made strict; every schema of the engine (the
# document's, node types' configs) is checked with it.
Validator = jsonschema.validators.extend(
    Draft202012Validator,
    type_checker=Draft202012Validator.TYPE_CHECKER.redefine_many(
        {"number": _finite_number, "integer": _whole_number}
    ),
)
TYPE_NAMES = {
    "number": "a number",
    "integer": "an integer",
    "string": "a string",
    "boolean": "true or false",
    "object": "an object",
    "array": "a list",
    "null": "null",
}


def schema_problems(validator: Any, value: Any, prefix: str) -> Iterator[tuple[str, str]]:
    """(field, message) for each way `value` breaks the validator's schema, the field named
    from `prefix` (`settings.max_parallel`, `retry.max_attempts`) and the message plain:
    `must be at most 100, got 1000`."""
    seen: set[str] = set()
    for error in validator.iter_errors(value):
        for field, message in error_problems(error, prefix):
            if field not in seen:  # `1e9` attempts: not an integer, and too many: say one
                seen.add(field)
                yield field, message


def error_problems(error: Any, prefix: str) -> Iterator[tuple[str, str]]:
    """One JSON Schema error as (field, message); an object with unknown keys names each."""
    path = list(error.absolute_path)
    if error.validator == "additionalProperties" and isinstance(error.instance, dict):
        known = error.schema.get("properties", {})
        for name in sorted(k for k in error.instance if k not in known):
            yield join_path(prefix, [*path, name]), "is an unknown field"
        return
    yield join_path(prefix, path), bound_message(error)


def bound_message(error: Any) -> str:
    """A JSON Schema error as a sentence about its value, for the bounds and types users meet
    most; other errors keep jsonschema's own message."""
    kind, limit, got = error.validator, error.validator_value, shown(error.instance)
    if kind == "maximum":
        return f"must be at most {shown(limit)}, got {got}"
    if kind == "exclusiveMaximum":
        return f"must be less than {shown(limit)}, got {got}"
    if kind == "minimum":
        return f"must be at least {shown(limit)}, got {got}"
    if kind == "exclusiveMinimum":
        return f"must be greater than {shown(limit)}, got {got}"
    if kind == "type":
        wanted = limit if isinstance(limit, list) else [limit]
        names = " or ".join(TYPE_NAMES.get(name, name) for name in wanted)
        return f"must be {names}, got {got}"
    if kind == "maxLength":
        return f"must be at most {limit} characters, got {len(error.instance)}"
    if kind == "minLength":
        return f"must be at least {limit} characters, got {len(error.instance)}"
    if kind == "enum":
        return f"must be one of {', '.join(map(str, limit))}, got {got}"
    return error.message


def shown(value: Any) -> str:
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) >= 10**15:
        try:
            return f"{float(value):g}"  # 1e+300, not three hundred digits
        except OverflowError:
            return "a number past 1e+308"
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def join_path(prefix: str, path: list) -> str:
    """`nodes[3].position.x` from a prefix and a JSON path."""
    field = prefix
    for part in path:
        if isinstance(part, int):
            field += f"[{part}]"
        else:
            field += f".{part}" if field else str(part)
    return field


def config_field(path: Any) -> str:
    """`config.cases[0].handle` from a path inside a node's config."""
    return join_path("config", list(path))


_BOUND_CHECKS = frozenset({"maximum", "exclusiveMaximum", "minimum", "exclusiveMinimum"})
_bounds: dict[int, tuple[dict, Any]] = {}  # id(schema) -> (schema, its validator or None)


def out_of_bounds(handler: Any, config: dict) -> str | None:
    """`config.count: must be at most 100000, got …` when a rendered config holds a number
    past its type's bounds (or NaN, an infinity where a number goes); None when it holds
    none. Only bounds: what else a template yields is the handler's to judge."""
    validator = _bounds_validator(handler.config_schema)
    if validator is None:
        return None
    for error in validator.iter_errors(config):
        value = error.instance
        non_finite = isinstance(value, float) and not math.isfinite(value)
        if error.validator in _BOUND_CHECKS or (error.validator == "type" and non_finite):
            return f"{config_field(error.absolute_path)}: {bound_message(error)}"
    return None


def _bounds_validator(schema: dict) -> Any:
    """The validator of a schema that bounds some number, else None (nothing to check)."""
    known = _bounds.get(id(schema))
    if known is None or known[0] is not schema:
        text = json.dumps(schema)
        bounded = any(f'"{name}"' in text for name in _BOUND_CHECKS)
        known = _bounds[id(schema)] = (schema, Validator(schema) if bounded else None)
    return known[1]
