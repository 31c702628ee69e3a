"""One node of a saved workflow (issue 17): pin its output (`POST`/`DELETE
/api/workflows/{id}/nodes/{node}/pin/`) and test it on its own (`POST .../test/`). The owner
only: a user the workflow is shared with gets 403 `read_only`."""

from __future__ import annotations

from asgiref.sync import async_to_sync
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from engine.limits import MAX_WORKFLOW_ID
from workflows import pins
from workflows.api import serializers as s
from workflows.api.base import ApiView, json_body
from workflows.runtime import single

ANSWERS = {400: s.ErrorBodySerializer, 403: s.ErrorBodySerializer, 404: s.ErrorBodySerializer}


ID = {"type": "integer", "minimum": 1, "maximum": MAX_WORKFLOW_ID}
HANDLES = {
    "type": "array",
    "items": {"type": "string", "minLength": 1, "maxLength": 64},
    "maxItems": 32,
    "description": 'the output handles it chose (a condition\'s branch); default ["out"]',
}
# Either a run whose recorded output is pinned, or the output itself (with its handles).
PIN_REQUEST = {
    "oneOf": [
        {
            "type": "object",
            "properties": {"run": {**ID, "description": "pin the node's output in this run"}},
            "required": ["run"],
            "additionalProperties": False,
        },
        {
            "type": "object",
            "properties": {"output": {"description": "the JSON to pin"}, "handles": HANDLES},
            "required": ["output"],
            "additionalProperties": False,
        },
    ]
}


class PinSerializer(serializers.Serializer):
    node = serializers.CharField()
    pinned = serializers.JSONField(allow_null=True, help_text="{output, handles, pinned_at, run?}")
    revision = serializers.IntegerField(help_text="the workflow's revision after the change")


class NodeTestSerializer(serializers.Serializer):
    node = serializers.CharField()
    status = serializers.CharField(help_text="succeeded, failed, skipped, upstream_failed, ...")
    input = serializers.JSONField(allow_null=True)
    output = serializers.JSONField(allow_null=True)
    handles = serializers.ListField(child=serializers.CharField())
    error = serializers.JSONField(allow_null=True)
    reason = serializers.CharField(allow_null=True)
    attempts = serializers.IntegerField()
    duration_ms = serializers.IntegerField(allow_null=True)
    logs = serializers.ListField(child=serializers.CharField())
    run = serializers.IntegerField(allow_null=True, help_text="the run its inputs came from")
    truncated = serializers.BooleanField(help_text="input or output cut to a text preview")


class NodePinView(ApiView):
    @extend_schema(
        request={"application/json": PIN_REQUEST}, responses={200: PinSerializer, **ANSWERS}
    )
    def post(self, request: Request, workflow_id: int, node_id: str) -> Response:
        """Pin the node's output (from run `run`, or `output` as given) into the document:
        manual runs and tests use it instead of running the node; triggered runs never do."""
        return Response(
            pins.node_pin(
                user=request.user, workflow_id=workflow_id, node_id=node_id, body=json_body(request)
            )
        )

    @extend_schema(request=None, responses={200: PinSerializer, **ANSWERS})
    def delete(self, request: Request, workflow_id: int, node_id: str) -> Response:
        """Unpin the node: every run runs it again."""
        return Response(
            pins.node_unpin(user=request.user, workflow_id=workflow_id, node_id=node_id)
        )


class NodeTestView(ApiView):
    @extend_schema(request=None, responses={200: NodeTestSerializer, **ANSWERS})
    def post(self, request: Request, workflow_id: int, node_id: str) -> Response:
        """Run the node alone with the inputs of the last run (upstream pins win), bounded by
        its timeout and SWITCHYARD_TEST_NODE_TIMEOUT_S; no run is recorded."""
        prepared = single.prepare(user=request.user, workflow_id=workflow_id, node_id=node_id)
        return Response(async_to_sync(single.run_alone)(prepared, node_id))
