"""The workflow document's shape (SPEC §1), described once: `document.json`, a JSON Schema
(draft 2020-12). The engine's validation, the API's shape check, the OpenAPI description and
the canvas's TypeScript types are all derived from it; graph rules (cycles, references, edge
endpoints, node types' configs) are checked by hand in engine/validation/."""

from __future__ import annotations

import copy
import json
from importlib import resources
from typing import Any


def _load() -> dict[str, Any]:
    # importlib.resources finds the file beside this module in a clone, an editable install
    # and a built wheel alike (it is package data: see pyproject.toml).
    text = resources.files(__name__).joinpath("document.json").read_text(encoding="utf-8")
    return json.loads(text)


DOCUMENT_SCHEMA: dict[str, Any] = _load()
DEFINITIONS: dict[str, Any] = DOCUMENT_SCHEMA["$defs"]
DIALECT = DOCUMENT_SCHEMA["$schema"]
NODE_ID_PATTERN: str = DEFINITIONS["node"]["properties"]["id"]["pattern"]


def resolved(schema: Any) -> Any:
    """A copy of part of the document schema with each `{"$ref": "#/$defs/x"}` replaced by the
    definition it names, so the part stands alone (the document has no recursive $ref)."""
    if isinstance(schema, list):
        return [resolved(item) for item in schema]
    if not isinstance(schema, dict):
        return copy.deepcopy(schema)
    ref = schema.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/$defs/"):
        rest = {key: value for key, value in schema.items() if key != "$ref"}
        return {**resolved(DEFINITIONS[ref.removeprefix("#/$defs/")]), **resolved(rest)}
    return {key: resolved(value) for key, value in schema.items()}


def definition(name: str) -> dict[str, Any]:
    """One of the document's parts (`node`, `edge`, `settings`, ...) as a standalone schema."""
    return {"$schema": DIALECT, **resolved(DEFINITIONS[name])}


def part_of(name: str, fields: tuple[str, ...]) -> dict[str, Any]:
    """A standalone schema of some fields of a part: the rest of the part may hold anything."""
    properties = DEFINITIONS[name]["properties"]
    return {
        "$schema": DIALECT,
        "type": "object",
        "properties": {field: resolved(properties[field]) for field in fields},
    }


def top_level() -> dict[str, Any]:
    """The document's own fields, nodes, edges and notes checked only for being lists."""
    schema = resolved({k: v for k, v in DOCUMENT_SCHEMA.items() if k != "$defs"})
    for key in ("nodes", "edges", "notes"):
        schema["properties"][key] = {"type": "array"}
    return schema
