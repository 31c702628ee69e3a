"""Observability endpoints (SPEC §6, §8): a run's timeline (spans, critical path, efficiency),
two runs compared node by node, a workflow's per-node statistics."""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from workflows import selectors as select
from workflows.api import serializers as s
from workflows.api.base import ApiView, json_body, text_query
from workflows.observability import diff, metrics, preview, timeline
from workflows.parsing import text_param

# --- bodies of the observability endpoints ------------------------------------------------------


class OutputDiffSerializer(serializers.Serializer):
    changes = serializers.ListField(
        child=serializers.DictField(),
        help_text="{path ($.a[0].b), op: changed|added|removed, a?, b?}; values cut unless ?node=",
    )
    total = serializers.IntegerField(help_text="every change, listed or not")
    truncated = serializers.BooleanField(help_text="more changes than listed: ask ?node=<id>")


class NodeDiffSerializer(serializers.Serializer):
    change = serializers.ChoiceField(choices=["added", "removed", "changed", "same"])
    status = serializers.ListField(child=serializers.CharField(allow_null=True))
    duration_ms = serializers.ListField(child=serializers.IntegerField(allow_null=True))
    output_changed = serializers.BooleanField()
    output_diff = OutputDiffSerializer(required=False)


class RunDiffSerializer(serializers.Serializer):
    """Two runs of one workflow compared node by node (SPEC §8)."""

    a = serializers.IntegerField()
    b = serializers.IntegerField()
    workflow = serializers.IntegerField()
    revisions = serializers.ListField(child=serializers.IntegerField())
    summary = serializers.DictField(child=serializers.IntegerField())
    nodes = serializers.DictField(child=NodeDiffSerializer())


class PreviewRequestSerializer(s.StrictSerializer):
    template = serializers.CharField(max_length=10_000, allow_blank=True, trim_whitespace=False)
    node = serializers.RegexField(r"^[a-z][a-z0-9_]{0,63}$", required=False)
    bare = serializers.BooleanField(required=False, default=False)


class PreviewSerializer(serializers.Serializer):
    run = serializers.IntegerField(allow_null=True)
    value = serializers.JSONField(required=False, allow_null=True)
    text = serializers.CharField(required=False)
    truncated = serializers.BooleanField(required=False)
    error = serializers.CharField(required=False)


class WorkflowStatsView(ApiView):
    @extend_schema(
        responses={200: dict},
        description="Per-node statistics across the workflow's runs: for each node its "
        "finished attempts (`count`), `failures`, `failure_rate`, `p50_ms` and `p95_ms`; "
        "`runs` counted and the `slowest` node (highest median). Reads the newest 20,000 "
        "finished attempts.",
    )
    def get(self, request: Request, workflow_id: int) -> Response:
        workflow = select.workflow_get(user=request.user, workflow_id=workflow_id)
        return Response(metrics.node_statistics(workflow.pk))


class RunTimelineView(ApiView):
    @extend_schema(responses={200: dict})
    def get(self, request: Request, run_id: int) -> Response:
        run = select.run_get(user=request.user, run_id=run_id)
        return Response(timeline.timeline(run))


class RunDiffView(ApiView):
    """Runs `a` and `b` of one workflow compared: per node, its definition's change and its
    status, duration and output in each run (outputs that differ with a bounded JSON diff;
    `?node=<id>` answers that node alone with every change)."""

    @extend_schema(
        parameters=[text_query("node", 64, "only this node, its output diff in full")],
        responses={
            200: RunDiffSerializer,
            400: s.ErrorBodySerializer,
            404: s.ErrorBodySerializer,
        },
    )
    def get(self, request: Request, a: int, b: int) -> Response:
        run_a, run_b = diff.runs_to_diff(user=request.user, a=a, b=b)
        node = text_param(request.query_params, "node", default=None, max_length=64)
        return Response(diff.run_diff(run_a, run_b, node=node or None))


class ExpressionPreviewView(ApiView):
    """`POST /api/workflows/{id}/preview/` `{"template", "node"?, "bare"?}`: the value the
    template renders to for that node with the workflow's last run's data (no secrets)."""

    @extend_schema(
        request=PreviewRequestSerializer,
        responses={
            200: PreviewSerializer,
            400: s.ErrorBodySerializer,
            404: s.ErrorBodySerializer,
        },
    )
    def post(self, request: Request, workflow_id: int) -> Response:
        workflow = select.workflow_get(user=request.user, workflow_id=workflow_id)
        template, node, bare = preview.checked_request(json_body(request))
        return Response(preview.preview(workflow, template, node, bare))
