"""Typed outputs: a node's `output_schema` (a JSON Schema, draft 2020-12) is checked when the
document is validated (a schema, bounded in size and depth), against the node's output at run
time (`invalid_output`), against the paths expressions read from the node's output
(`bad_reference`), and gives a dry run's stand-in output (`fabricate`). Pure functions."""

from __future__ import annotations

import json
from typing import Any

from jsonschema import Draft202012Validator, SchemaError

from engine.limits import MAX_OUTPUT_SCHEMA_BYTES, MAX_OUTPUT_SCHEMA_DEPTH

Key = str | int  # a property name, or an index into an array


def schema_problem(schema: Any) -> str | None:
    """Why `schema` cannot be a node's output_schema, or None."""
    if not isinstance(schema, dict):
        return "must be a JSON Schema object"
    try:
        size = len(json.dumps(schema, separators=(",", ":")))
    except (TypeError, ValueError):
        return "must be JSON"
    if size > MAX_OUTPUT_SCHEMA_BYTES:
        return f"at most {MAX_OUTPUT_SCHEMA_BYTES:,} bytes as JSON, got {size:,}"
    if depth(schema) > MAX_OUTPUT_SCHEMA_DEPTH:
        return f"nested at most {MAX_OUTPUT_SCHEMA_DEPTH} levels deep"
    try:
        Draft202012Validator.check_schema(schema)
    except SchemaError as exc:
        where = "/".join(str(p) for p in exc.absolute_path)
        return f"is not a JSON Schema: {where + ': ' if where else ''}{exc.message}"
    return None


def depth(value: Any, level: int = 0) -> int:
    if level > MAX_OUTPUT_SCHEMA_DEPTH:
        return level
    if isinstance(value, dict):
        return max((depth(v, level + 1) for v in value.values()), default=level + 1)
    if isinstance(value, list):
        return max((depth(v, level + 1) for v in value), default=level + 1)
    return level


def output_mismatch(schema: dict, output: Any) -> dict | None:
    """The node's error when its output does not match its schema (`invalid_output`)."""
    error = next(iter(Draft202012Validator(schema).iter_errors(output)), None)
    if error is None:
        return None
    where = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in error.absolute_path)
    message = f"the output does not match output_schema: output{where}: {error.message}"
    return {"message": message, "type": "invalid_output"}


def types_of(schema: dict) -> set[str]:
    kind = schema.get("type")
    if isinstance(kind, str):
        return {kind}
    return {k for k in kind if isinstance(k, str)} if isinstance(kind, list) else set()


def path_problem(schema: Any, keys: tuple[Key, ...]) -> tuple[str, str] | None:
    """Whether reading `keys` from an output matching `schema` can work: None when it can (or
    the schema cannot tell: `$ref`, `anyOf`, no `properties`), else (severity, why): an
    `error` where the schema rules it out (a closed object without the property, an index
    into what is not an array), a `warning` where an open object does not declare it."""
    here = schema
    for n, key in enumerate(keys):
        if not isinstance(here, dict) or set(here) & {"$ref", "anyOf", "oneOf", "allOf"}:
            return None
        where = "the output" + "".join(
            f"[{k}]" if isinstance(k, int) else f".{k}" for k in keys[:n]
        )
        kinds = types_of(here)
        if isinstance(key, int):
            if kinds and "array" not in kinds:
                return "error", f"{where} is {'/'.join(sorted(kinds))}, not an array"
            prefix = here.get("prefixItems")
            here = (
                prefix[key] if isinstance(prefix, list) and key < len(prefix) else here.get("items")
            )
            continue
        if kinds and "object" not in kinds:
            return "error", f"{where} is {'/'.join(sorted(kinds))}, it has no {key!r}"
        properties = here.get("properties")
        if isinstance(properties, dict) and key in properties:
            here = properties[key]
            continue
        extra = here.get("additionalProperties")
        if isinstance(extra, dict):
            here = extra
            continue
        if not isinstance(properties, dict) or here.get("patternProperties"):
            return None
        severity = "error" if extra is False else "warning"
        return severity, f"{where} declares no property {key!r}"
    return None


def fabricate(schema: Any, level: int = 0) -> Any:
    """A value of the schema's shape, for a dry run's stand-in: `const`, `default`, the first
    `examples` or `enum` entry, else the type's plain value (objects with every declared
    property, arrays with `minItems` items)."""
    if not isinstance(schema, dict) or level > MAX_OUTPUT_SCHEMA_DEPTH:
        return None
    for key in ("const", "default"):
        if key in schema:
            return schema[key]
    for key in ("examples", "enum"):
        if isinstance(schema.get(key), list) and schema[key]:
            return schema[key][0]
    for key in ("anyOf", "oneOf", "allOf"):
        if isinstance(schema.get(key), list) and schema[key]:
            return fabricate(schema[key][0], level + 1)
    kinds = types_of(schema)
    kind = next(
        (k for k in ("object", "array", "string", "integer", "number", "boolean") if k in kinds),
        None,
    )
    if kind is None:
        kind = "object" if "properties" in schema else "array" if "items" in schema else "null"
    if kind == "object":
        properties = schema.get("properties") if isinstance(schema.get("properties"), dict) else {}
        return {name: fabricate(sub, level + 1) for name, sub in properties.items()}
    if kind == "array":
        count = schema.get("minItems") if isinstance(schema.get("minItems"), int) else 0
        prefix = schema.get("prefixItems") if isinstance(schema.get("prefixItems"), list) else []
        items = [fabricate(sub, level + 1) for sub in prefix[: max(count, len(prefix))]]
        items += [fabricate(schema.get("items"), level + 1)] * max(0, min(count, 100) - len(items))
        return items
    if kind == "string":
        length = schema.get("minLength")
        return "x" * min(length, 1000) if isinstance(length, int) and length > 0 else ""
    if kind in ("integer", "number"):
        low = schema.get("minimum", schema.get("exclusiveMinimum"))
        value = low if isinstance(low, int | float) and not isinstance(low, bool) and low > 0 else 0
        return value + 1 if "exclusiveMinimum" in schema and "minimum" not in schema else value
    return False if kind == "boolean" else None
