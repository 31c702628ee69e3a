"""The DRF serializers of the API's bodies: they validate small request bodies (run requests,
metadata patches) and describe every body in the OpenAPI schema. The workflow document itself
is described from engine/schema/document.json (see `DocumentSerializer`) and checked by
workflows.documents, not field by field here."""

from __future__ import annotations

from typing import Any

from drf_spectacular.extensions import OpenApiSerializerExtension
from drf_spectacular.plumbing import ResolvedComponent
from rest_framework import serializers

from engine.handlers import registry
from engine.schema import DEFINITIONS, DOCUMENT_SCHEMA
from engine.schema.shape import ENGINE_PARTS, STORED_ONLY
from workflows.documents import READ_ONLY_FIELDS
from workflows.models import RunMode
from workflows.parsing import MAX_ID

# --- DRF serializers: small request bodies and the OpenAPI description -----------------------

# engine.document.apply_defaults reads a null settings, nodes, edges or notes as absent.
NULL_MEANS_DEFAULT = ("settings", "nodes", "edges", "notes")
NULL_DEFAULT = "null or absent: the default"


# A request body that refuses unknown fields: described with `additionalProperties: false`
# (`StrictDescription`). (A comment, not a docstring: subclasses would show it as theirs.)
class StrictSerializer(serializers.Serializer):
    pass


class DocumentSerializer(serializers.Serializer):
    """A workflow document (SPEC §1): described in the OpenAPI schema from the document's JSON
    Schema (`DocumentDescription`); bodies are checked by workflows.documents."""


class ProblemSerializer(serializers.Serializer):
    code = serializers.CharField()
    message = serializers.CharField()
    node = serializers.CharField(required=False)
    edge = serializers.CharField(required=False)
    field = serializers.CharField(required=False)
    severity = serializers.CharField(required=False)


class ErrorBodySerializer(serializers.Serializer):
    errors = ProblemSerializer(many=True)


class TriggerSerializer(serializers.Serializer):
    """A webhook or schedule node of the workflow (SPEC §8)."""

    node = serializers.CharField()
    type = serializers.ChoiceField(choices=["webhook", "schedule"])
    armed = serializers.BooleanField(help_text="it starts runs (the workflow is active, valid)")
    url = serializers.CharField(required=False, help_text="webhooks: /hooks/<token>/, no login")
    next_fire_at = serializers.CharField(required=False, allow_null=True)
    upcoming = serializers.ListField(
        child=serializers.CharField(), required=False, help_text="schedules: next 5 fire times"
    )
    last_fire_at = serializers.CharField(allow_null=True)


class WorkflowSerializer(DocumentSerializer):
    """A saved workflow: its document plus id, revision, valid and the draft's problems."""

    id = serializers.IntegerField(read_only=True)
    revision = serializers.IntegerField()
    valid = serializers.BooleanField(read_only=True)
    errors = ProblemSerializer(many=True, read_only=True)
    owner = serializers.CharField(read_only=True, help_text="who may change it")
    active = serializers.BooleanField(
        read_only=True, help_text="its webhooks answer and its schedules fire (SPEC §8)"
    )
    triggers = TriggerSerializer(many=True, read_only=True)


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
    active = serializers.BooleanField()


class SharingSerializer(StrictSerializer):
    """Who may see and run a workflow besides its owner (only the owner changes it)."""

    owner = serializers.CharField(read_only=True)
    shared_with = serializers.ListField(
        child=serializers.CharField(), help_text="usernames; the whole list, replacing the old one"
    )


class WorkflowPatchSerializer(StrictSerializer):
    """Metadata a PATCH may change; the graph itself changes only through PUT. (Describes the
    body; `services.workflow_patch` checks it with the same rules as a PUT.)"""

    name = serializers.CharField(required=False, allow_blank=True, max_length=200)
    description = serializers.CharField(required=False, allow_blank=True)
    tags = serializers.ListField(child=serializers.CharField(), required=False)
    settings = serializers.DictField(required=False, allow_null=True, help_text=NULL_DEFAULT)
    variables = serializers.DictField(required=False)
    inputs = serializers.DictField(required=False)
    revision = serializers.IntegerField(
        required=False,
        allow_null=True,
        min_value=-MAX_ID,
        max_value=MAX_ID,
        help_text="the revision you edited (null: no check)",
    )


class ValidationResultSerializer(serializers.Serializer):
    valid = serializers.BooleanField()
    errors = ProblemSerializer(many=True)


class RunCreateSerializer(StrictSerializer):
    inputs = serializers.DictField(required=False, default=dict)
    mode = serializers.ChoiceField(choices=RunMode.choices, required=False, default="normal")
    from_node = serializers.CharField(required=False, allow_null=True, allow_blank=True)
    trigger = serializers.ChoiceField(
        choices=["manual", "api"],
        required=False,
        default="api",
        help_text="manual: started from the canvas (the run records it)",
    )

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
    reused_from = serializers.IntegerField(
        allow_null=True, required=False, help_text="ended `reused`: the run whose output it took"
    )
    dry_run = serializers.ChoiceField(
        choices=["ran", "placeholder", "not run"],
        required=False,
        help_text="dry runs only: whether a real run would execute this node",
    )


class UsageSerializer(serializers.Serializer):
    """Model tokens used (llm nodes), and their cost when SWITCHYARD_LLM_PRICES prices them."""

    prompt_tokens = serializers.IntegerField()
    completion_tokens = serializers.IntegerField()
    total_tokens = serializers.IntegerField()
    cost_usd = serializers.FloatField(allow_null=True)
    estimated = serializers.BooleanField(
        required=False,
        help_text="true when some call's tokens were counted locally (the provider gave none)",
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
    handles = serializers.ListField(
        child=serializers.CharField(),
        help_text="the output handles it chose on success (a condition's branch)",
    )
    reason = serializers.CharField(allow_null=True)
    wait = serializers.JSONField(
        allow_null=True,
        help_text="While the node waits: {kind (approval, delay, ...), wake_at, data}.",
    )
    usage = serializers.JSONField(
        allow_null=True, help_text="Model tokens of this attempt: prompt_tokens, completion_tokens"
    )
    reused_from = serializers.IntegerField(
        required=False, help_text="ended `reused` (node cache): the run whose output it took"
    )


class RootCauseSerializer(serializers.Serializer):
    """One root cause of a failed run (engine.causes): a failure no other failure explains."""

    node = serializers.CharField(allow_null=True, help_text="null: the run's own error")
    iteration = serializers.CharField(
        required=False, help_text="a body node's first failing iteration, e.g. each[2]"
    )
    iterations = serializers.ListField(
        child=serializers.CharField(),
        required=False,
        help_text="every iteration that failed the same way (grouped map items)",
    )
    error = serializers.JSONField(help_text="{message, type}")
    affected = serializers.ListField(
        child=serializers.CharField(), help_text="the nodes this failure took down"
    )
    failures = serializers.IntegerField(help_text="how many executions failed this way")


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
    reuse = serializers.DictField(
        child=serializers.IntegerField(),
        help_text="cache: {nodes: executions that ended `reused`, saved_ms: what they had taken}",
    )
    root_causes = RootCauseSerializer(
        many=True, help_text="a failed run's first failures and what each took down"
    )
    usage = UsageSerializer(help_text="the run's model tokens (llm nodes)")


class MeSerializer(serializers.Serializer):
    username = serializers.CharField()


class NodeTypeSerializer(serializers.Serializer):
    """One entry of the node-type catalogue (`engine.handlers.registry.describe`)."""

    type = serializers.CharField()
    label = serializers.CharField()
    category = serializers.CharField()
    description = serializers.CharField()
    icon = serializers.CharField()
    color = serializers.CharField()
    inputs = serializers.ListField(child=serializers.CharField(), help_text="input handles")
    outputs = serializers.ListField(child=serializers.CharField(), help_text="output handles")
    error_handle = serializers.CharField(allow_null=True)
    config_schema = serializers.DictField(help_text="the JSON Schema of the node's config")
    expression_fields = serializers.ListField(child=serializers.CharField())
    secret_fields = serializers.ListField(child=serializers.CharField())
    side_effects = serializers.BooleanField()
    container = serializers.BooleanField()


class NodeOutputSerializer(serializers.Serializer):
    node = serializers.CharField()
    attempt = serializers.IntegerField()
    status = serializers.CharField()
    output = serializers.JSONField(allow_null=True, help_text="the whole output, not a preview")


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
    usage = UsageSerializer()


class RunPageSerializer(serializers.Serializer):
    count = serializers.IntegerField()
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)
    results = RunListItemSerializer(many=True)


class RunEventSerializer(serializers.Serializer):
    seq = serializers.IntegerField()
    type = serializers.CharField()
    run = serializers.IntegerField()
    at = serializers.CharField()


class RunEventsSerializer(serializers.Serializer):
    events = RunEventSerializer(many=True)
    last_seq = serializers.IntegerField()


class ImportSerializer(serializers.Serializer):
    file = DocumentSerializer(help_text="the workflow document file (JSON or YAML)")


class TokenRequestSerializer(serializers.Serializer):
    username = serializers.CharField(min_length=1)
    password = serializers.CharField(min_length=1)


class TokenSerializer(serializers.Serializer):
    token = serializers.CharField()


class StrictDescription(OpenApiSerializerExtension):
    target_class = StrictSerializer
    match_subclasses = True

    def map_serializer(self, auto_schema, direction):
        schema = auto_schema._map_serializer(self.target, direction, bypass_extensions=True)
        return {**schema, "additionalProperties": False}


# --- the document's OpenAPI description, from engine/schema/document.json -----------------------

# JSON Schema keywords OpenAPI 3.0 has no place for (the parts become components instead).
_DROPPED = frozenset({"$schema", "$id", "$defs"})
_IGNORED = "a workflow's own field, read from the API: ignored when sent"
READ_BACK_FIELDS = {name: {"description": _IGNORED} for name in READ_ONLY_FIELDS}


class DocumentDescription(OpenApiSerializerExtension):
    """Describes DocumentSerializer (and WorkflowSerializer: the document and its own fields)
    with the document's schema, its parts (`WorkflowNode`, `Position`, ...) as components."""

    target_class = DocumentSerializer
    match_subclasses = True

    def get_name(self, auto_schema, direction):
        return DOCUMENT_SCHEMA["title"] if type(self.target) is DocumentSerializer else None

    def map_serializer(self, auto_schema, direction):
        for name, part in DEFINITIONS.items():
            schema = openapi(stored_shape(part, inside_size=name == STORED_ONLY))
            if name == "node":
                # Saved documents name only registered node types (others are refused).
                schema["properties"]["type"]["enum"] = [
                    kind["type"] for kind in registry.describe()
                ]
            component = ResolvedComponent(
                name=part["title"], type=ResolvedComponent.SCHEMA, object=name, schema=schema
            )
            auto_schema.registry.register_on_missing(component)
        document = openapi(stored_shape(DOCUMENT_SCHEMA))
        # A workflow read from the API may be sent back with its own fields (id, revision, ...):
        # they are allowed (and ignored), any other unknown field is refused.
        document["properties"].update(READ_BACK_FIELDS)
        for name in NULL_MEANS_DEFAULT:
            document["properties"][name] = null_means_default(document["properties"][name])
        if type(self.target) is DocumentSerializer:
            return document
        own = auto_schema._map_serializer(self.target, direction, bypass_extensions=True)
        return {"allOf": [auto_schema.resolve_serializer(DocumentSerializer, direction).ref, own]}


# What the API refuses a document for (engine.schema.shape): wrong types, unknown or missing
# fields. Bounds, patterns, choices and the contents of the parts the engine judges are rules
# a draft may break (saved, `valid: false`, its `errors` say which), so neither a request nor
# a workflow read back is described with them.
SHAPE_KEYWORDS = frozenset(
    {"type", "properties", "additionalProperties", "required", "items", "$ref", "const"}
    | {"title", "description", "default", "$schema", "$id", "$defs"}
)


def stored_shape(schema: Any, *, inside_size: bool = False) -> Any:
    if isinstance(schema, list):
        return [stored_shape(item, inside_size=inside_size) for item in schema]
    if not isinstance(schema, dict) or inside_size:
        return schema
    result = {}
    for key, value in schema.items():
        if key == "properties":
            result[key] = {
                name: engine_part(part) if name in ENGINE_PARTS else stored_shape(part)
                for name, part in value.items()
            }
        elif key == "$defs":
            result[key] = value
        elif key in SHAPE_KEYWORDS:
            result[key] = stored_shape(value)
    return result


def engine_part(schema: dict) -> dict:
    """A part the engine judges: only its own type is refused, not its contents."""
    if "$ref" in schema:
        schema = DEFINITIONS[schema["$ref"].removeprefix("#/$defs/")]
    kept = {key: schema[key] for key in ("type", "description", "default") if key in schema}
    return {
        **kept,
        "description": f"{schema.get('description', '')} (checked by the engine: a "
        "draft may break its rules)".lstrip(),
    }


def null_means_default(schema: dict) -> dict:
    part = {"allOf": [schema]} if "$ref" in schema else dict(schema)
    return {**part, "nullable": True, "description": NULL_DEFAULT}


def openapi(schema):
    """A JSON Schema (draft 2020-12) part as an OpenAPI 3.0 schema object: nullable instead of
    a `null` type, `#/components/schemas/<title>` references."""
    if isinstance(schema, list):
        return [openapi(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    result = {}
    for key, value in schema.items():
        if key in _DROPPED:
            continue
        if key == "$ref":
            title = DEFINITIONS[value.removeprefix("#/$defs/")]["title"]
            result[key] = f"#/components/schemas/{title}"
        elif key == "properties":
            result[key] = {name: openapi(part) for name, part in value.items()}
        elif key == "const":
            result["enum"] = [value]
        elif key == "exclusiveMinimum":
            result.update(minimum=value, exclusiveMinimum=True)
        elif key == "type" and isinstance(value, list):
            result.update(_openapi_types(value))
        elif key == "enum" and None in value:
            result.update(enum=value, nullable=True)
        else:
            result[key] = openapi(value) if key not in ("default", "enum") else value
    return result


def _openapi_types(types: list[str]) -> dict:
    named = [name for name in types if name != "null"]
    described = {"type": named[0]} if len(named) == 1 else {"anyOf": [{"type": t} for t in named]}
    return {**described, "nullable": True} if "null" in types else described
