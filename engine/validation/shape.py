"""The checks of a document's parts against their schema (engine/schema/document.json):
its top-level fields, settings, node ids and node fields."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from engine.document import NODE_FIELDS_SCHEMA, SETTINGS_SCHEMA
from engine.limits import MAX_POSITION
from engine.planner import JOIN_RULES
from engine.schema import DOCUMENT_SCHEMA, NODE_ID_PATTERN, top_level
from engine.schema.validator import TYPE_NAMES, Validator, schema_problems

NODE_ID = re.compile(NODE_ID_PATTERN)
# Ids that only break SPEC §1 by their capitals (the shared conformance scenarios name containers
# `L` and `M`): accepted with a `bad_id` warning, so they run and the canvas asks for a rename.
NODE_ID_WITH_CAPITALS = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,63}$")
SCOPE_NAMES = frozenset({"inputs", "vars", "input", "loop", "node", "run", "env", "secrets"})
RESERVED_IDS = SCOPE_NAMES | {"true", "false", "null"}
ENGINE_FIELDS = ("version", "inputs", "variables", "nodes", "edges")
VERSION = DOCUMENT_SCHEMA["properties"]["version"]["const"]
_TOP_LEVEL_VALIDATOR = Validator(top_level())
_NODE_FIELDS_VALIDATOR = Validator(NODE_FIELDS_SCHEMA)
# Node fields that the remembered-valid key leaves out: a node setting one is always walked.
RARE_NODE_FIELDS = ("cache", "critical", "on_failure", "output_schema", "pinned")
_SETTINGS_VALIDATOR = Validator(SETTINGS_SCHEMA)
# A declared run input's type and the JSON values it takes (a run's value is checked against
# it when the run starts); "any" and no type take anything.
INPUT_TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,),
    "number": (int, float),
    "integer": (int,),
    "boolean": (bool,),
    "object": (dict,),
    "array": (list,),
    "list": (list,),
}
INPUT_TYPE_NAMES = ("any", *INPUT_TYPES)


def input_value_ok(kind: str | None, value: Any) -> bool:
    """Whether `value` is of the declared input type (null always is: "no value")."""
    kinds = INPUT_TYPES.get(kind or "")
    if kinds is None or value is None:
        return True
    return isinstance(value, kinds) and not (isinstance(value, bool) and bool not in kinds)


class ShapeChecks:
    """Top-level fields, settings, nodes (ids, types, fields): the parts' shape."""

    def check_top_level(self) -> None:
        """The top-level fields the engine reads: version, inputs, variables, nodes, edges
        (load_document sets each; a missing one reads as null). The API's shape check
        reports the others before a document gets here."""
        document = dict.fromkeys(ENGINE_FIELDS) | self.document
        if document["version"] != VERSION:  # compared as Python does: 1.0 and True are 1
            version = document["version"]
            self.add("bad_document", f"unsupported version {version!r}; expected {VERSION}")
        for error in _TOP_LEVEL_VALIDATOR.iter_errors(document):
            key = error.path[0] if len(error.path) == 1 else None
            if key in ENGINE_FIELDS and key != "version" and error.validator == "type":
                wanted = TYPE_NAMES[error.validator_value]
                self.add("bad_document", f"{key} must be {wanted}", field=key)

    def check_settings(self) -> None:
        settings = self.document.get("settings")
        if not isinstance(settings, dict):
            self.add("bad_config", "settings must be an object", field="settings")
            return
        for field, message in schema_problems(_SETTINGS_VALIDATOR, settings, "settings"):
            self.add("bad_config", f"{field} {message}", field=field)

    def check_inputs(self) -> None:
        """Each declared run input: an object whose type is one the run can check, and whose
        default is of that type (a wrong shape is refused, not taken as "any")."""
        inputs = self.document.get("inputs")
        if not isinstance(inputs, dict):
            return
        for name, spec in inputs.items():
            if not isinstance(spec, dict):
                message = f'inputs.{name} must be an object such as {{"type": "string"}}'
                self.add("bad_config", message, field=f"inputs.{name}")
                continue
            kind = spec.get("type")
            if kind is not None and kind not in INPUT_TYPE_NAMES:
                message = (
                    f"inputs.{name}.type must be one of {', '.join(INPUT_TYPE_NAMES)}; got {kind!r}"
                )
                self.add("bad_config", message, field=f"inputs.{name}.type")
            elif not input_value_ok(kind, spec.get("default")):
                message = f"inputs.{name}.default must be of type {kind}, got {spec['default']!r}"
                self.add("bad_config", message, field=f"inputs.{name}.default")

    def check_nodes(self) -> None:
        nodes = self.document.get("nodes")
        if not isinstance(nodes, list):
            return
        for index, node in enumerate(nodes):
            if not isinstance(node, dict):
                self.add(
                    "bad_document", f"nodes[{index}] must be an object", field=f"nodes[{index}]"
                )
                continue
            node_id = node.get("id")
            if not self.check_id(node_id, index):
                continue
            if node_id in self.nodes:
                self.add(
                    "duplicate_id", f"node id {node_id!r} is used more than once", node=node_id
                )
                continue
            self.nodes[node_id] = node
            self.preds[node_id] = []
            self.succs[node_id] = []
            handler = (
                self.registry.get(node.get("type")) if isinstance(node.get("type"), str) else None
            )
            if handler is None:
                self.add(
                    "unknown_type",
                    f"node {node_id}: unknown type {node.get('type')!r}",
                    node=node_id,
                )
            else:
                self.handlers[node_id] = handler
            self.check_node_fields(node_id, node)

    def check_id(self, node_id: Any, index: int) -> bool:
        if isinstance(node_id, str) and NODE_ID_WITH_CAPITALS.match(node_id):
            if not NODE_ID.match(node_id):
                self.add(
                    "bad_id",
                    f"node id {node_id!r} has capital letters; SPEC ids are lowercase "
                    f"({NODE_ID_PATTERN}): it runs, but rename it to {node_id.lower()!r}",
                    node=node_id,
                    severity="warning",
                )
        else:
            self.add(
                "bad_id",
                f"nodes[{index}]: id {node_id!r} must match {NODE_ID_PATTERN}",
                node=node_id if isinstance(node_id, str) else None,
            )
            return False
        if node_id in RESERVED_IDS:
            self.add("bad_id", f"node id {node_id!r} is reserved for expressions", node=node_id)
            return False
        return True

    def check_node_fields(self, node_id: str, node: dict) -> None:
        if not isinstance(node.get("config"), dict):
            self.add(
                "bad_config",
                f"node {node_id}: config must be an object",
                node=node_id,
                field="config",
            )
        if node.get("join") not in JOIN_RULES:
            self.add(
                "bad_config",
                f"node {node_id}: join must be one of {', '.join(JOIN_RULES)}, "
                f"got {node.get('join')!r}",
                node=node_id,
                field="join",
            )
        for field, message in node_field_problems(node):
            self.add("bad_config", f"node {node_id}: {field} {message}", node=node_id, field=field)


_valid_node_fields: set[tuple] = set()


def node_field_problems(node: dict) -> Iterator[tuple[str, str]]:
    """(field, message) for the node's fields besides its config (NODE_FIELDS_SCHEMA). Most
    nodes of a graph share their retry and timeout, and their position is two plain numbers:
    the schema walk is kept for the others (it dominated validating a 5,000-node graph)."""
    key = _node_fields_key(node)
    if key is None or key not in _valid_node_fields or not _plain_position(node.get("position")):
        found = list(schema_problems(_NODE_FIELDS_VALIDATOR, node, ""))
        if found:
            yield from found
        elif key is not None and len(_valid_node_fields) < 10_000:
            _valid_node_fields.add(key)


def _node_fields_key(node: dict) -> tuple | None:
    """The node's fields but position, with their types (`True == 1`), hashable; or None."""
    get = node.get
    retry = get("retry")
    if type(retry) is dict:
        retry = (tuple(retry.items()), tuple(map(type, retry.values())))
    timeout, disabled, breakpoint = get("timeout_s"), get("disabled"), get("breakpoint")
    key = (retry, timeout, type(timeout), disabled, type(disabled), breakpoint, type(breakpoint))
    if any(get(rare) is not None for rare in RARE_NODE_FIELDS):  # rare: its own walk
        return None
    try:
        hash(key)
    except TypeError:
        return None
    return key


def _plain_position(position: Any) -> bool:
    if position is None:
        return True
    if type(position) is not dict or position.keys() - {"x", "y"}:
        return False
    return all(
        type(value) in (int, float) and -MAX_POSITION <= value <= MAX_POSITION
        for value in position.values()
    )
