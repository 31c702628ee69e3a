"""Translation between the workflow document (SPEC §1), model rows and API bodies.

Documents are checked and translated by hand rather than with nested DRF serializers: a
500-node document must save in well under 150 ms, and a field-by-field DRF serializer costs more
than the whole database round trip. The DRF serializers at the end validate small bodies (run
requests, metadata patches) and describe every body in the OpenAPI schema.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import Any

from rest_framework import serializers

from workflows.errors import problem
from workflows.models import RunMode, WorkflowEdge, WorkflowNode

# Fields the API adds to a document when it reads a workflow: accepted back and ignored.
READ_ONLY_FIELDS = frozenset({"id", "revision", "valid", "errors", "owner"})

NUMBER = (int, float)
TOP_LEVEL: dict[str, tuple[type, ...]] = {
    "version": (int,),
    "name": (str,),
    "description": (str,),
    "tags": (list,),
    "inputs": (dict,),
    "variables": (dict,),
    "settings": (dict,),
    "nodes": (list,),
    "edges": (list,),
}
NODE_FIELDS: dict[str, tuple[type, ...]] = {
    "id": (str,),
    "type": (str,),
    "name": (str,),
    "config": (dict, type(None)),
    "retry": (dict, type(None)),
    "timeout_s": (*NUMBER, type(None)),
    "join": (str, type(None)),
    "parent": (str, type(None)),
    "position": (dict,),
    "size": (dict, type(None)),  # the canvas frame of a container: {"width", "height"}
    "disabled": (bool,),
    "breakpoint": (bool,),
}
EDGE_FIELDS: dict[str, tuple[type, ...]] = {
    "id": (str,),
    "source": (str,),
    "source_handle": (str, type(None)),
    "target": (str,),
    "target_handle": (str, type(None)),
}
TYPE_NAMES = {
    int: "an integer",
    float: "a number",
    str: "a string",
    list: "a list",
    dict: "an object",
    bool: "true or false",
    type(None): "null",
}


# --- checking the shape of an incoming document ------------------------------------------------


def document_shape_problems(data: Any) -> list[dict[str, Any]]:
    """Every shape problem of a raw document: unknown fields, wrong types, missing ids/types."""
    if not isinstance(data, dict):
        return [problem("bad_document", "a workflow document must be a JSON object")]
    found = fields_problems(data, TOP_LEVEL, "", READ_ONLY_FIELDS)
    if found:
        return found
    if data.get("version", 1) != 1:
        found.append(problem("bad_version", "version: only version 1 exists", field="version"))
    if not all(isinstance(tag, str) for tag in data.get("tags", [])):
        found.append(problem("bad_type", "tags: every tag must be a string", field="tags"))
    for index, node in enumerate(data.get("nodes") or []):
        found.extend(item_problems(node, NODE_FIELDS, f"nodes[{index}]", ("id", "type")))
        if isinstance(node, dict) and "position" in node:
            found.extend(position_problems(node["position"], f"nodes[{index}].position"))
        if isinstance(node, dict) and isinstance(node.get("size"), dict):
            found.extend(size_problems(node["size"], f"nodes[{index}].size"))
    for index, edge in enumerate(data.get("edges") or []):
        found.extend(item_problems(edge, EDGE_FIELDS, f"edges[{index}]", ("source", "target")))
    return found


def edge_id_problems(data: dict) -> list[dict[str, Any]]:
    """Edge ids that are not text, found before the engine's defaults run (they index edges
    by id, so a list there is not even hashable)."""
    edges = data.get("edges")
    if not isinstance(edges, list):
        return []
    found = []
    for index, edge in enumerate(edges):
        if isinstance(edge, dict) and edge.get("id") is not None:
            found.extend(fields_problems({"id": edge["id"]}, {"id": (str,)}, f"edges[{index}]."))
    return found


def item_problems(item: Any, spec: dict, path: str, required: tuple[str, ...]) -> list[dict]:
    if not isinstance(item, dict):
        return [problem("bad_type", f"{path}: must be an object", field=path)]
    found = fields_problems(item, spec, f"{path}.")
    for name in required:
        if name not in item:
            field = f"{path}.{name}"
            found.append(problem("missing_field", f"{field}: required", field=field))
    return found


def fields_problems(item: dict, spec: dict, prefix: str, ignored=frozenset()) -> list[dict]:
    found = []
    for key, value in item.items():
        field = f"{prefix}{key}"
        if key in ignored:
            continue
        if key not in spec:
            known = ", ".join(spec)
            message = f"{field}: unknown field (known fields: {known})"
            found.append(problem("unknown_field", message, field=field))
        elif not isinstance(value, spec[key]) or (
            (value is True or value is False) and (bool not in spec[key])
        ):
            expected = " or ".join(dict.fromkeys(TYPE_NAMES[kind] for kind in spec[key]))
            message = f"{field}: must be {expected}, got {json_type(value)}"
            found.append(problem("bad_type", message, field=field))
    return found


def position_problems(position: Any, path: str) -> list[dict]:
    if not isinstance(position, dict):
        return []
    found = fields_problems(position, {"x": NUMBER, "y": NUMBER}, f"{path}.")
    found.extend(
        problem("missing_field", f"{path}.{axis}: required", field=f"{path}.{axis}")
        for axis in ("x", "y")
        if axis not in position
    )
    return found


def size_problems(size: dict, path: str) -> list[dict]:
    found = fields_problems(size, {"width": NUMBER, "height": NUMBER}, f"{path}.")
    for side in ("width", "height"):
        value = size.get(side)
        if side not in size:
            found.append(
                problem("missing_field", f"{path}.{side}: required", field=f"{path}.{side}")
            )
        elif isinstance(value, NUMBER) and not isinstance(value, bool) and value <= 0:
            message = f"{path}.{side}: must be greater than 0, got {value}"
            found.append(problem("bad_value", message, field=f"{path}.{side}"))
    return found


def json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    return TYPE_NAMES.get(type(value), type(value).__name__)


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
NODE_DOC_KEYS = frozenset(NODE_FIELDS) - {"size"}  # kept in `extra`
EDGE_DOC_KEYS = frozenset(EDGE_FIELDS)


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


def workflow_header(workflow) -> dict[str, Any]:
    """The document's top-level fields (everything but nodes and edges)."""
    return {
        "version": workflow.version,
        "name": workflow.name,
        "description": workflow.description,
        "tags": workflow.tags,
        "inputs": workflow.inputs,
        "variables": workflow.variables,
        "settings": workflow.settings,
    }


def node_row_differs(row: WorkflowNode, columns: dict[str, Any]) -> bool:
    return any(getattr(row, name) != value for name, value in columns.items())


def edge_row_differs(row: WorkflowEdge, columns: dict[str, Any]) -> bool:
    return any(getattr(row, name) != value for name, value in columns.items())


# --- runs --------------------------------------------------------------------------------------


def iso(moment: datetime | None) -> str | None:
    """UTC ISO-8601 with microseconds and `Z`, as SPEC §7 writes timestamps."""
    if moment is None:
        return None
    return moment.astimezone(UTC).replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"


def node_report(attempts: list) -> dict[str, Any]:
    """One node's entry in a run report, from its NodeRuns in attempt order."""
    first, last = attempts[0], attempts[-1]
    return {
        "status": last.status,
        "attempts": last.attempt,
        "started_at": iso(first.started_at),
        "finished_at": iso(last.finished_at),
        "output": last.output,
        "error": last.error,
        "handled": last.handled,
        "reason": last.reason or None,
    }


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
        "reason": node_run.reason or None,
        "wait": node_run.wait,
    }


def event_body(event) -> dict[str, Any]:
    return {
        **event.payload,
        "seq": event.seq,
        "type": event.type,
        "run": event.run_id,
        "at": event.payload.get("at") or iso(event.at),
    }


# --- DRF serializers: small request bodies and the OpenAPI description -----------------------


class PositionSerializer(serializers.Serializer):
    x = serializers.FloatField()
    y = serializers.FloatField()


class NodeSerializer(serializers.Serializer):
    id = serializers.RegexField(r"^[A-Za-z][A-Za-z0-9_]{0,63}$")
    type = serializers.CharField()
    name = serializers.CharField(required=False)
    config = serializers.JSONField(required=False)
    retry = serializers.JSONField(required=False, allow_null=True)
    timeout_s = serializers.FloatField(required=False, allow_null=True)
    join = serializers.CharField(required=False)
    parent = serializers.CharField(required=False, allow_null=True)
    position = PositionSerializer(required=False)
    disabled = serializers.BooleanField(required=False)
    breakpoint = serializers.BooleanField(required=False)


class EdgeSerializer(serializers.Serializer):
    id = serializers.CharField(required=False)
    source = serializers.CharField()
    source_handle = serializers.CharField(required=False)
    target = serializers.CharField()
    target_handle = serializers.CharField(required=False)


class DocumentSerializer(serializers.Serializer):
    """A workflow document (SPEC §1). Documents the schema; bodies are checked by hand."""

    version = serializers.IntegerField(required=False, default=1)
    name = serializers.CharField(required=False)
    description = serializers.CharField(required=False)
    tags = serializers.ListField(child=serializers.CharField(), required=False)
    inputs = serializers.DictField(required=False)
    variables = serializers.DictField(required=False)
    settings = serializers.DictField(required=False)
    nodes = NodeSerializer(many=True, required=False)
    edges = EdgeSerializer(many=True, required=False)


class ProblemSerializer(serializers.Serializer):
    code = serializers.CharField()
    message = serializers.CharField()
    node = serializers.CharField(required=False)
    edge = serializers.CharField(required=False)
    field = serializers.CharField(required=False)
    severity = serializers.CharField(required=False)


class ErrorBodySerializer(serializers.Serializer):
    errors = ProblemSerializer(many=True)


class WorkflowSerializer(DocumentSerializer):
    """A saved workflow: its document plus id, revision, valid and the draft's problems."""

    id = serializers.IntegerField(read_only=True)
    revision = serializers.IntegerField()
    valid = serializers.BooleanField(read_only=True)
    errors = ProblemSerializer(many=True, read_only=True)
    owner = serializers.CharField(read_only=True, help_text="who may change it")


class WorkflowListItemSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    description = serializers.CharField()
    tags = serializers.ListField(child=serializers.CharField())
    revision = serializers.IntegerField()
    valid = serializers.BooleanField()
    updated_at = serializers.DateTimeField()
    node_count = serializers.IntegerField()
    last_run_status = serializers.CharField(allow_null=True)
    owner = serializers.CharField(help_text="the owner's username (not you: shared with you)")


class SharingSerializer(serializers.Serializer):
    """Who may see and run a workflow besides its owner (only the owner changes it)."""

    owner = serializers.CharField(read_only=True)
    shared_with = serializers.ListField(
        child=serializers.CharField(), help_text="usernames; the whole list, replacing the old one"
    )


class WorkflowPatchSerializer(serializers.Serializer):
    """Metadata a PATCH may change; the graph itself changes only through PUT. (Describes the
    body; `services.workflow_patch` checks it with the same rules as a PUT.)"""

    name = serializers.CharField(required=False, allow_blank=True, max_length=200)
    description = serializers.CharField(required=False, allow_blank=True)
    tags = serializers.ListField(child=serializers.CharField(), required=False)
    settings = serializers.DictField(required=False)
    variables = serializers.DictField(required=False)
    inputs = serializers.DictField(required=False)
    revision = serializers.IntegerField(required=False)


class ValidationResultSerializer(serializers.Serializer):
    valid = serializers.BooleanField()
    errors = ProblemSerializer(many=True)


class RunCreateSerializer(serializers.Serializer):
    inputs = serializers.DictField(required=False, default=dict)
    mode = serializers.ChoiceField(choices=RunMode.choices, required=False, default="normal")
    from_node = serializers.CharField(required=False, allow_null=True, allow_blank=True)

    def validate(self, attrs):
        unknown = set(self.initial_data) - set(self.fields)
        if unknown:
            raise serializers.ValidationError({name: "unknown field" for name in sorted(unknown)})
        return attrs


class NodeReportSerializer(serializers.Serializer):
    status = serializers.CharField()
    attempts = serializers.IntegerField()
    started_at = serializers.CharField(allow_null=True)
    finished_at = serializers.CharField(allow_null=True)
    output = serializers.JSONField(allow_null=True)
    error = serializers.JSONField(allow_null=True)
    handled = serializers.BooleanField()
    reason = serializers.CharField(allow_null=True)
    dry_run = serializers.ChoiceField(
        choices=["ran", "placeholder", "not run"],
        required=False,
        help_text="dry runs only: whether a real run would execute this node",
    )


class NodeRunSerializer(serializers.Serializer):
    node_id = serializers.CharField()
    iteration = serializers.CharField(allow_blank=True)
    attempt = serializers.IntegerField()
    status = serializers.CharField()
    started_at = serializers.CharField(allow_null=True)
    finished_at = serializers.CharField(allow_null=True)
    duration_ms = serializers.IntegerField(allow_null=True)
    input = serializers.JSONField(allow_null=True)
    output = serializers.JSONField(allow_null=True)
    error = serializers.JSONField(allow_null=True)
    handled = serializers.BooleanField()
    reason = serializers.CharField(allow_null=True)
    wait = serializers.JSONField(
        allow_null=True,
        help_text="While the node waits: {kind (approval, delay, ...), wake_at, data}.",
    )


class RunSerializer(serializers.Serializer):
    """A run: the SPEC §7 report plus id, workflow, mode, trigger and created_at."""

    id = serializers.IntegerField()
    run = serializers.IntegerField()
    workflow = serializers.IntegerField()
    revision = serializers.IntegerField()
    status = serializers.CharField()
    mode = serializers.CharField()
    trigger = serializers.CharField()
    inputs = serializers.JSONField()
    outputs = serializers.JSONField()
    error = serializers.JSONField(allow_null=True)
    created_at = serializers.CharField()
    started_at = serializers.CharField(allow_null=True)
    finished_at = serializers.CharField(allow_null=True)
    from_node = serializers.CharField(allow_null=True)
    source_run = serializers.IntegerField(allow_null=True)
    parent_run = serializers.IntegerField(allow_null=True, help_text="set on sub-workflow runs")
    parent_workflow = serializers.IntegerField(allow_null=True, help_text="the parent run's")
    parent_node = serializers.CharField(allow_null=True)
    child_runs = serializers.ListField(
        child=serializers.DictField(),
        help_text="sub-workflow runs: id, workflow, node, iteration, attempt, status",
    )
    edits = serializers.ListField(
        child=serializers.DictField(),
        help_text="configs edited on retry: node, before, config, by, at",
    )
    stalled = serializers.BooleanField(help_text="running nodes and no event for a while")
    would_run = serializers.ListField(
        child=serializers.CharField(),
        required=False,
        help_text="dry runs only: the nodes a real run would execute",
    )
    placeholders = serializers.ListField(
        child=serializers.CharField(),
        required=False,
        help_text="dry runs only: nodes with side effects that got a placeholder output",
    )
    nodes = serializers.DictField(child=NodeReportSerializer())
    iterations = serializers.DictField()
    node_runs = NodeRunSerializer(many=True)


class RunListItemSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    workflow = serializers.IntegerField()
    workflow_name = serializers.CharField()
    revision = serializers.IntegerField()
    status = serializers.CharField()
    mode = serializers.CharField()
    trigger = serializers.CharField()
    parent_run = serializers.IntegerField(allow_null=True)
    created_at = serializers.CharField()
    started_at = serializers.CharField(allow_null=True)
    finished_at = serializers.CharField(allow_null=True)


class RunEventSerializer(serializers.Serializer):
    seq = serializers.IntegerField()
    type = serializers.CharField()
    run = serializers.IntegerField()
    at = serializers.CharField()


class RunEventsSerializer(serializers.Serializer):
    events = RunEventSerializer(many=True)
    last_seq = serializers.IntegerField()


class ImportSerializer(serializers.Serializer):
    file = serializers.FileField(required=False)


class TokenRequestSerializer(serializers.Serializer):
    username = serializers.CharField()
    password = serializers.CharField()


class TokenSerializer(serializers.Serializer):
    token = serializers.CharField()
