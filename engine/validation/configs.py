"""Each node's config against its type's `config_schema`."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from engine.caching import cache_problems
from engine.handlers.base import Handler
from engine.pinning import pinned_problems
from engine.schema.validator import Validator, config_field, error_problems

_validators: dict[type, Any] = {}
# Configs known valid, by node type and shape: templates are exempt from the schema, so two
# configs that differ only in their template strings validate alike (it saves the schema walk
# on large graphs, where most nodes of a type look the same).
_valid_shapes: set[tuple[type, str]] = set()


class ConfigChecks:
    """A node's config, template strings exempt (they are checked when rendered)."""

    def check_config(self, node_id: str, node: dict, handler: Handler) -> None:
        for message in cache_problems(node, handler):
            self.add("bad_config", f"node {node_id}: {message}", node=node_id, field="cache")
        for field, message in pinned_problems(node, handler):
            self.add("bad_config", f"node {node_id}: {field}: {message}", node=node_id, field=field)
        config = node.get("config")
        if not isinstance(config, dict):
            return
        self.check_config_rules(node_id, config, handler)
        validator = config_validator(type(handler))
        key = (type(handler), _shape(config))
        if key in _valid_shapes:
            return
        if validator.is_valid(config):
            if len(_valid_shapes) < 10_000:
                _valid_shapes.add(key)
            return
        seen: set[str] = set()
        for error in validator.iter_errors(config):
            if _is_template(error.instance):
                continue
            for field, message in _config_problems(validator, error):
                if field in seen:
                    continue
                seen.add(field)
                self.add(
                    "bad_config", f"node {node_id}: {field}: {message}", node=node_id, field=field
                )

    def check_config_rules(self, node_id: str, config: dict, handler: Handler) -> None:
        """A type's rules its schema cannot say (`config_problems(config)`, e.g. a schedule's
        cron expression), for configs without templates."""
        rules = getattr(handler, "config_problems", None)
        if rules is None or _is_template(_shape(config)):
            return
        for field, message in rules(config):
            self.add(
                "bad_config",
                f"node {node_id}: config.{field}: {message}",
                node=node_id,
                field=f"config.{field}",
            )


def config_validator(cls: type) -> Any:
    """The (cached) validator of a node type's `config_schema`."""
    validator = _validators.get(cls)
    if validator is None:
        validator = _validators[cls] = Validator(cls.config_schema)
    return validator


def _shape(config: dict) -> str:
    try:
        return json.dumps(config, sort_keys=True, default=_unknown, cls=_ShapeEncoder)
    except (TypeError, ValueError):
        return repr(config)


def _unknown(value: Any) -> Any:
    raise TypeError(f"not JSON: {type(value).__name__}")


class _ShapeEncoder(json.JSONEncoder):
    """Encodes every template string as the same string."""

    def encode(self, o: Any) -> str:
        return super().encode(_blank_templates(o))


def _blank_templates(value: Any) -> Any:
    if isinstance(value, str):
        return "{{}}" if "{{" in value else value
    if isinstance(value, dict):
        return {key: _blank_templates(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_blank_templates(item) for item in value]
    return value


def _config_problems(validator: Any, error: Any) -> Iterator[tuple[str, str]]:
    if error.validator == "required" and isinstance(error.instance, dict):
        missing = [name for name in error.validator_value if name not in error.instance]
        if missing:  # name the missing field itself, and the case that needs it
            yield (
                f"{config_field(error.absolute_path)}.{missing[0]}",
                "required" + _when(validator, error),
            )
            return
    yield from error_problems(error, "config")


def _is_template(value: Any) -> bool:
    return isinstance(value, str) and "{{" in value


def _when(validator: Any, error: Any) -> str:
    """` when mode is for_each` for a requirement from an `if`/`then` on constant values."""
    path = list(error.schema_path)
    if "then" not in path:
        return ""
    schema: Any = validator.schema
    for part in path[: path.index("then")]:
        schema = schema[part]
    condition = schema.get("if", {}).get("properties", {})
    cases = [
        f"{name} is {spec['const']}"
        for name, spec in condition.items()
        if isinstance(spec, dict) and "const" in spec
    ]
    cases += [
        f"{name} is one of {', '.join(map(str, spec['enum']))}"
        for name, spec in condition.items()
        if isinstance(spec, dict) and "enum" in spec
    ]
    return f" when {' and '.join(cases)}" if cases else ""
