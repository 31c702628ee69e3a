"""Translation between the workflow document (SPEC §1), model rows and API bodies; the
services and selectors use it.

Documents are checked and translated by hand rather than with nested DRF serializers: a
500-node document must save in well under 150 ms, and a field-by-field DRF serializer costs more
than the whole database round trip. Their shape is checked against the document's schema
(engine/schema/document.json) by the engine's `engine.schema.shape`.
"""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime
from typing import Any

import yaml

from engine.schema import DEFINITIONS, shape

# Fields the API adds to a document when it reads a workflow: accepted back and ignored.
READ_ONLY_FIELDS = frozenset({"id", "revision", "valid", "errors", "owner", "active", "triggers"})
json_type = shape.json_type


# --- checking the shape of an incoming document ------------------------------------------------


def document_shape_problems(data: Any) -> list[dict[str, Any]]:
    """Every shape problem of a raw document: unknown fields, wrong types, missing ids/types."""
    return [found.to_dict() for found in shape.document_shape_problems(data)]


def edge_id_problems(data: dict) -> list[dict[str, Any]]:
    """Edge ids that are not text, found before the engine's defaults run (they index edges
    by id, so a list there is not even hashable)."""
    return [found.to_dict() for found in shape.edge_id_problems(data)]


# --- document <-> rows -------------------------------------------------------------------------

NODE_COLUMNS = (
    "node_id",
    "order",
    "type",
    "name",
    "config",
    "retry",
    "timeout_s",
    "join",
    "parent",
    "position_x",
    "position_y",
    "disabled",
    "breakpoint",
    "extra",
)
EDGE_COLUMNS = ("edge_id", "order", "source_handle", "target_handle", "extra")
# The document's fields that have a column; any other (a container's `size`, `critical`,
# `cache`, `on_failure`, `output_schema`, `pinned`) is kept in `extra`.
NODE_DOC_KEYS = frozenset(DEFINITIONS["node"]["properties"]) - {
    "size",
    "critical",
    "cache",
    "on_failure",
    "output_schema",
    "pinned",
}
EDGE_DOC_KEYS = frozenset(DEFINITIONS["edge"]["properties"])


def node_columns(node: dict, order: int) -> dict[str, Any]:
    """The column values of one (defaults-applied) document node."""
    position = node.get("position") or {"x": 0, "y": 0}
    return {
        "node_id": node["id"],
        "order": order,
        "type": node["type"],
        "name": node.get("name") or "",
        "config": node.get("config") or {},
        "retry": node.get("retry"),
        "timeout_s": node.get("timeout_s"),
        "join": node.get("join") or "",
        "parent": node.get("parent") or "",
        "position_x": position["x"],
        "position_y": position["y"],
        "disabled": bool(node.get("disabled")),
        "breakpoint": bool(node.get("breakpoint")),
        "extra": {key: value for key, value in node.items() if key not in NODE_DOC_KEYS},
    }


def edge_columns(edge: dict, order: int) -> dict[str, Any]:
    return {
        "edge_id": edge["id"],
        "order": order,
        "source_handle": edge.get("source_handle") or "out",
        "target_handle": edge.get("target_handle") or "in",
        "extra": {key: value for key, value in edge.items() if key not in EDGE_DOC_KEYS},
    }


def number(value: float | None, default: int | None = None) -> float | int | None:
    """Float columns give back integers as they were written (30, not 30.0). NaN and
    ±Infinity (which older versions let in) read as `default`: they have no JSON form."""
    if value is None or not math.isfinite(value):
        return default
    if value.is_integer():
        return int(value)
    return value


def node_document(row: tuple) -> dict[str, Any]:
    """A document node from a `values_list(*NODE_COLUMNS)` row."""
    (node_id, _, type_, name, config, retry, timeout_s, join, parent, x, y, disabled, bp, extra) = (
        row
    )
    node = {
        "id": node_id,
        "type": type_,
        "name": name,
        "config": config,
        "retry": retry,
        "timeout_s": number(timeout_s),
        "join": join,
        "parent": parent or None,
        "position": {"x": number(x, 0), "y": number(y, 0)},
        "disabled": disabled,
        "breakpoint": bp,
    }
    if extra:
        node.update(extra)
    return node


def edge_document(row: tuple) -> dict[str, Any]:
    """A document edge from a `values_list(*EDGE_COLUMNS, "source__node_id", ...)` row."""
    edge_id, _, source_handle, target_handle, extra, source, target = row
    edge = {
        "id": edge_id,
        "source": source,
        "source_handle": source_handle,
        "target": target,
        "target_handle": target_handle,
    }
    if extra:
        edge.update(extra)
    return edge


# The document's top-level fields a Workflow row holds (`notes`: the canvas's sticky notes).
HEADER_FIELDS = (
    "version",
    "name",
    "description",
    "tags",
    "inputs",
    "variables",
    "settings",
    "notes",
)


def workflow_header(workflow) -> dict[str, Any]:
    """The document's top-level fields (everything but nodes and edges); `metadata` only when
    the workflow has some, so documents without it read as they were written."""
    header = {
        "version": workflow.version,
        "name": workflow.name,
        "description": workflow.description,
        "tags": workflow.tags,
        "inputs": workflow.inputs,
        "variables": workflow.variables,
        "settings": workflow.settings,
        "notes": workflow.notes,
    }
    if workflow.metadata:
        header["metadata"] = workflow.metadata
    return header


# --- runs --------------------------------------------------------------------------------------


def iso(moment: datetime | None) -> str | None:
    """UTC ISO-8601 with microseconds and `Z`, as SPEC §7 writes timestamps."""
    if moment is None:
        return None
    return moment.astimezone(UTC).replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"


def node_report(attempts: list) -> dict[str, Any]:
    """One node's entry in a run report, from its NodeRuns in attempt order."""
    first, last = attempts[0], attempts[-1]
    report = {
        "status": last.status,
        "attempts": last.attempt,
        "started_at": iso(first.started_at),
        "finished_at": iso(last.finished_at),
        "output": last.output,
        "error": error_summary(last.error),
        "handled": last.handled,
        "reason": last.reason or None,
    }
    if last.reused_from is not None:  # ended `reused` (node cache): the run it took it from
        report["reused_from"] = last.reused_from
    return report


def error_summary(error: dict | None) -> dict | None:
    """A report's error (SPEC §7 `{"message", "type"}`): the attempt's `traceback` is read in
    its node run (`node_runs[]`), not in every report."""
    if not error or "traceback" not in error:
        return error
    return {key: value for key, value in error.items() if key != "traceback"}


def pending_node_report() -> dict[str, Any]:
    return {
        "status": "pending",
        "attempts": 0,
        "started_at": None,
        "finished_at": None,
        "output": None,
        "error": None,
        "handled": False,
        "reason": None,
    }


def node_run_body(node_run) -> dict[str, Any]:
    return {
        "node_id": node_run.node_id,
        "iteration": node_run.iteration,
        "attempt": node_run.attempt,
        "status": node_run.status,
        "started_at": iso(node_run.started_at),
        "finished_at": iso(node_run.finished_at),
        "duration_ms": node_run.duration_ms,
        "input": node_run.input,
        "output": node_run.output,
        "error": node_run.error,
        "handled": node_run.handled,
        "handles": list(node_run.handles or ()),
        "reason": node_run.reason or None,
        "wait": node_run.wait,
        "usage": node_run.usage,
        **({"reused_from": node_run.reused_from} if node_run.reused_from is not None else {}),
    }


def event_body(event) -> dict[str, Any]:
    return {
        **event.payload,
        "seq": event.seq,
        "type": event.type,
        "run": event.run_id,
        "at": event.payload.get("at") or iso(event.at),
    }


def document_text(document: dict, format: str) -> tuple[str, str]:
    """A document as an export writes it (SPEC §6): its text and content type."""
    if format == "yaml":
        text = yaml.safe_dump(document, sort_keys=False, allow_unicode=True)
        return text, "application/yaml; charset=utf-8"
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n", "application/json"
