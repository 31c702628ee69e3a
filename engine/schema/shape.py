"""The shape a document must have to be stored (SPEC §6): unknown fields, wrong types and
missing ids, read off the document's schema. The API refuses a document with these problems
outright (400); what the engine judges (bounds, ids' pattern, join rules, settings, retry,
configs) is left to `validate_document`, whose problems are saved with a draft."""

from __future__ import annotations

from typing import Any

from engine.document import Problem
from engine.limits import MAX_NOTES
from engine.schema import DEFINITIONS, definition, resolved, top_level
from engine.schema.validator import Validator, bound_message, join_path

# The keywords whose errors refuse a document: what the rows cannot hold.
REFUSED = frozenset({"type", "additionalProperties", "required", "const"})
# Parts whose contents the engine checks (their problems are saved with a draft) ...
ENGINE_PARTS = frozenset({"settings", "inputs", "variables", "config", "retry"})
# ... and the part it never reads: every rule of its schema refuses a document.
STORED_ONLY = "size"
API_TYPE_NAMES = {
    "integer": "an integer",
    "number": "an integer or a number",
    "string": "a string",
    "array": "a list",
    "object": "an object",
    "boolean": "true or false",
    "null": "null",
}
_PYTHON_TYPES = {int: "an integer", float: "a number", str: "a string", list: "a list"}
_TOP_LEVEL = Validator(top_level())
_ITEMS = {
    "nodes": Validator(definition("node")),
    "edges": Validator(definition("edge")),
    "notes": Validator(definition("note")),
}
_EDGE_ID = Validator(resolved(DEFINITIONS["edge"]["properties"]["id"]))
_valid_items: set[tuple] = set()


def document_shape_problems(data: Any) -> list[Problem]:
    """Every shape problem of a (defaults-applied) document: unknown fields, wrong types,
    missing ids and types; the top level's first, then each node's and edge's."""
    if not isinstance(data, dict):
        return [Problem("bad_document", "a workflow document must be a JSON object")]
    errors = list(_TOP_LEVEL.iter_errors(data))
    found = _problems(_TOP_LEVEL, errors, data, "")
    if any(error.validator == "const" for error in errors):
        found.append(Problem("bad_version", "version: only version 1 exists", field="version"))
    if any(list(error.path)[:1] == ["tags"] for error in errors):
        found.append(Problem("bad_type", "tags: every tag must be a string", field="tags"))
    for key, validator in _ITEMS.items():
        items = data.get(key)
        for index, item in enumerate(items if isinstance(items, list) else ()):
            found.extend(item_problems(validator, item, f"{key}[{index}]"))
    return found + note_problems(data.get("notes"))


def note_problems(notes: Any) -> list[Problem]:
    """Sticky notes past their bounds (count, text length, size, position): the engine never
    reads them, so every rule of their schema refuses a document."""
    if not isinstance(notes, list):
        return []
    found = []
    if len(notes) > MAX_NOTES:
        message = f"notes: at most {MAX_NOTES} per workflow, got {len(notes)}"
        found.append(Problem("too_many", message, field="notes"))
    for index, note in enumerate(notes[:MAX_NOTES]):
        for error in _ITEMS["notes"].iter_errors(note) if isinstance(note, dict) else ():
            if error.validator not in REFUSED:
                field = join_path(f"notes[{index}]", list(error.absolute_path))
                found.append(Problem("bad_value", f"{field}: {bound_message(error)}", field=field))
    return found


def item_problems(validator: Any, item: Any, where: str) -> list[Problem]:
    """A node's or an edge's shape problems, in the order a reader fixes them: its fields,
    its missing fields, then its position's and its size's."""
    if not isinstance(item, dict):
        return [Problem("bad_type", f"{where}: must be an object", field=where)]
    key = (validator.schema["title"], *_item_key(item))  # a node's or an edge's
    if key in _valid_items:
        return []
    found = _problems(validator, validator.iter_errors(item), item, where)
    if not found and len(_valid_items) < 10_000:
        _valid_items.add(key)
    return found


def edge_id_problems(data: dict) -> list[Problem]:
    """Edge ids that are not text, found before the engine's defaults run (they index edges
    by id, so a list there is not even hashable)."""
    edges = data.get("edges")
    if not isinstance(edges, list):
        return []
    return [
        _type_problem(error, f"edges[{index}].id")
        for index, edge in enumerate(edges)
        if isinstance(edge, dict) and edge.get("id") is not None
        for error in _EDGE_ID.iter_errors(edge["id"])
    ]


def json_type(value: Any) -> str:
    """`an integer`, `a boolean`, `null`: what a wrong value is, in a message."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, dict):
        return "an object"
    return _PYTHON_TYPES.get(type(value), type(value).__name__)


def _problems(validator: Any, errors: Any, item: dict, where: str) -> list[Problem]:
    """The refused errors as problems, sorted: an object's fields (in the item's key order)
    before its missing fields, an object before the objects inside it."""
    ranked = []
    for error in errors:
        path, kind = list(error.path), error.validator
        owner = path if kind in ("additionalProperties", "required") else path[:-1]
        if ENGINE_PARTS.intersection(owner) or (path and isinstance(path[-1], int)):
            continue  # the engine's to judge; a tag: said once for the list
        if kind == "const" or (kind not in REFUSED and STORED_ONLY not in owner):
            continue
        place, fields = _place(validator.schema, owner)
        for order, problem in _error_problems(error, owner, _at(item, owner), fields, where):
            ranked.append(((place, *order), problem))
    ranked.sort(key=lambda pair: pair[0])
    # jsonschema says `required` once per missing field, each naming them all: say each once
    return list(dict.fromkeys(problem for _, problem in ranked))


def _error_problems(
    error: Any, owner: list, parent: Any, fields: list[str], where: str
) -> list[tuple]:
    """((rank, index) within its object, problem) for one error of the object `parent`, whose
    schema lists `fields`."""
    kind, instance = error.validator, error.instance
    if kind == "additionalProperties":
        known = list(error.schema.get("properties", {}))
        return [
            ((0, list(instance).index(name)), _unknown(join_path(where, [*owner, name]), known))
            for name in instance
            if name not in known
        ]
    if kind == "required":
        return [
            ((1, index), _missing(join_path(where, [*owner, name])))
            for index, name in enumerate(error.validator_value)
            if name not in instance
        ]
    name = error.path[-1]
    field = join_path(where, [*owner, name])
    if kind == "type":
        return [((0, list(parent).index(name)), _type_problem(error, field))]
    message = f"{field}: must be greater than {error.validator_value}, got {instance}"
    return [((1, fields.index(name)), Problem("bad_value", message, field=field))]


def _type_problem(error: Any, field: str) -> Problem:
    wanted = (
        error.validator_value
        if isinstance(error.validator_value, list)
        else [error.validator_value]
    )
    expected = " or ".join(dict.fromkeys(API_TYPE_NAMES[name] for name in wanted))
    message = f"{field}: must be {expected}, got {json_type(error.instance)}"
    return Problem("bad_type", message, field=field)


def _unknown(field: str, known: list[str]) -> Problem:
    message = f"{field}: unknown field (known fields: {', '.join(known)})"
    return Problem("unknown_field", message, field=field)


def _missing(field: str) -> Problem:
    return Problem("missing_field", f"{field}: required", field=field)


def _place(schema: dict, owner: list) -> tuple[tuple[int, ...], list[str]]:
    """Where an object lies in its item, by the schema's order of fields (position before
    size), and the object's own fields in that order."""
    place = []
    for name in owner:
        names = list(schema.get("properties", {}))
        place.append(names.index(name) if name in names else len(names))
        schema = schema.get("properties", {}).get(name, {})
    return tuple(place), list(schema.get("properties", {}))


def _at(item: dict, owner: list) -> Any:
    for name in owner:
        item = item[name]
    return item


def _item_key(item: dict) -> tuple:
    """What the shape of a node or edge depends on, hashable: its keys and their types, and
    one level down (position, size) the same and whether a number is positive."""
    key = []
    for name, value in item.items():
        key.append((name, type(value)))
        if type(value) is dict and name not in ENGINE_PARTS:
            key.append(tuple((k, type(v), _positive(v)) for k, v in value.items()))
    return tuple(key)


def _positive(value: Any) -> bool | None:
    return value > 0 if type(value) in (int, float) else None
