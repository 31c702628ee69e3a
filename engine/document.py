"""The workflow document (SPEC §1): load JSON or YAML text and apply the defaults."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from engine.dagger import from_dagger, is_dagger
from engine.schema import definition, part_of

DEFAULT_JOIN = "none_failed_min_one_success"
DEFAULT_SETTINGS = {"max_parallel": 16, "on_failure": "continue", "timeout_s": None, "env": []}
DEFAULT_RETRY = {
    "max_attempts": 1,
    "backoff": "fixed",
    "delay_s": 0,
    "max_delay_s": None,
    "jitter": False,
}
ON_FAILURE = ("continue", "halt", "pause")

# The node fields besides `config`, and the workflow's settings, as standalone parts of the
# document's schema (engine/schema/document.json): validation checks them (every number
# bounded, `retry` and `settings` closed), and they are the reference for their maxima.
NODE_FIELDS = (
    "timeout_s",
    "retry",
    "disabled",
    "breakpoint",
    "position",
    "critical",
    "cache",
    "on_failure",
    "output_schema",
    "pinned",
)
NODE_FIELDS_SCHEMA: dict[str, Any] = part_of("node", NODE_FIELDS)
# What the engine checks differs in two ways: load_document replaces a null retry with the
# default policy, so the engine's is an object; and the engine never reads a position, so it
# bounds its coordinates and leaves whether it has both (and nothing else) to the API's shape
# check, which refuses what the rows cannot hold.
NODE_FIELDS_SCHEMA["properties"]["retry"]["type"] = "object"
for _keyword in ("required", "additionalProperties"):
    del NODE_FIELDS_SCHEMA["properties"]["position"][_keyword]
SETTINGS_SCHEMA: dict[str, Any] = definition("settings")


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong with a document, reported as SPEC §1 `{"code", "message", "node"?, ...}`."""

    code: str
    message: str
    node: str | None = None
    edge: str | None = None
    field: str | None = None
    severity: str = "error"

    def to_dict(self) -> dict[str, Any]:
        data = {"code": self.code, "message": self.message}
        for key in ("node", "edge", "field"):
            value = getattr(self, key)
            if value is not None:
                data[key] = value
        if self.severity != "error":
            data["severity"] = self.severity
        return data


class DocumentError(ValueError):
    """Text that is not a workflow document at all (not JSON/YAML, or not an object)."""

    def __init__(self, errors: list[Problem]) -> None:
        super().__init__("; ".join(problem.message for problem in errors))
        self.errors = errors


def load_document(source: str | bytes | dict, *, format: str | None = None) -> dict:
    """Parse a workflow document (JSON or YAML text, or a dict) and apply SPEC §1 defaults; a
    document in the dagger form (engine/dagger.py) is translated first.

    The result is a new dict; the caller's dict is not modified (configs are shared, not copied).
    """
    data = source if isinstance(source, dict) else _parse(source, format)
    if not isinstance(data, dict):
        kind = type(data).__name__
        raise DocumentError(
            [Problem("bad_document", f"a workflow document must be an object, got {kind}")]
        )
    if is_dagger(data):
        data, problems = from_dagger(data)
        if problems:
            raise DocumentError([Problem(c, m, node=n, field=f) for c, m, n, f in problems])
    return apply_defaults(data)


def _parse(source: str | bytes, format: str | None) -> Any:
    if isinstance(source, bytes):
        try:
            source = source.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise DocumentError([Problem("bad_document", f"document is not UTF-8 text: {exc}")])
    if not isinstance(source, str):
        kind = type(source).__name__
        raise DocumentError([Problem("bad_document", f"cannot load a document from {kind}")])
    if format not in (None, "json", "yaml", "yml"):
        raise DocumentError([Problem("bad_document", f"unknown document format {format!r}")])
    if format in (None, "json"):
        try:
            return json.loads(source)
        except ValueError as exc:
            if format == "json":
                raise DocumentError([Problem("bad_document", f"document is not JSON: {exc}")])
    return _parse_yaml(source)


def _parse_yaml(source: str) -> Any:
    import yaml

    try:
        return yaml.safe_load(source)
    except yaml.YAMLError as exc:
        message = " ".join(str(exc).split())
        raise DocumentError([Problem("bad_document", f"document is not JSON or YAML: {message}")])


def apply_defaults(data: dict) -> dict:
    """A copy of `data` with every omitted field set to its default (unknown shapes left as is:
    the validator reports them)."""
    document = dict(data)
    document.setdefault("version", 1)
    document.setdefault("name", "")
    document.setdefault("description", "")
    document.setdefault("tags", [])
    document.setdefault("inputs", {})
    document.setdefault("variables", {})
    notes = document.get("notes")
    if notes is None:
        document["notes"] = []
    elif isinstance(notes, list):  # a note's text defaults to empty
        document["notes"] = [{"text": "", **n} if isinstance(n, dict) else n for n in notes]
    settings = document.get("settings")
    if settings is None:
        settings = {}
    if isinstance(settings, dict):
        document["settings"] = {**DEFAULT_SETTINGS, **settings}
    nodes = document.get("nodes")
    if nodes is None:
        nodes = []
    if isinstance(nodes, list):
        document["nodes"] = [_node_defaults(node) for node in nodes]
    edges = document.get("edges")
    if edges is None:
        edges = []
    if isinstance(edges, list):
        document["edges"] = _edges_defaults(edges)
    return document


def _node_defaults(node: Any) -> Any:
    if not isinstance(node, dict):
        return node
    node = dict(node)
    node.setdefault("name", node.get("id") if isinstance(node.get("id"), str) else "")
    if node.get("config") is None:
        node["config"] = {}
    retry = node.get("retry")
    if retry is None:
        node["retry"] = dict(DEFAULT_RETRY)
    elif isinstance(retry, dict):
        node["retry"] = {**DEFAULT_RETRY, **retry}
    node.setdefault("timeout_s", None)
    if node.get("join") is None:
        node["join"] = DEFAULT_JOIN
    node.setdefault("parent", None)
    node.setdefault("position", {"x": 0, "y": 0})
    node.setdefault("disabled", False)
    node.setdefault("breakpoint", False)
    return node


def _edges_defaults(edges: list) -> list:
    taken = {edge.get("id") for edge in edges if isinstance(edge, dict)}
    result = []
    for index, edge in enumerate(edges):
        if not isinstance(edge, dict):
            result.append(edge)
            continue
        edge = dict(edge)
        if edge.get("source_handle") is None:
            edge["source_handle"] = "out"
        if edge.get("target_handle") is None:
            edge["target_handle"] = "in"
        if not edge.get("id"):
            edge["id"] = _new_edge_id(edge, index, taken)
        result.append(edge)
    return result


def _new_edge_id(edge: dict, index: int, taken: set) -> str:
    base = f"e_{edge.get('source')}_{edge.get('target')}"
    candidate, n = base, index
    while candidate in taken:
        n += 1
        candidate = f"{base}_{n}"
    taken.add(candidate)
    return candidate
