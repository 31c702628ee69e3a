"""Observability endpoints (SPEC §6, §8): a run's timeline (spans, critical path, efficiency),
two runs compared node by node, a workflow's per-node statistics."""

from drf_spectacular.utils import extend_schema
from rest_framework.request import Request
from rest_framework.response import Response

from workflows import selectors as select
from workflows.api import serializers as s
from workflows.api.base import ApiView, text_query
from workflows.observability import diff, metrics, timeline
from workflows.parsing import text_param


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
            200: s.RunDiffSerializer,
            400: s.ErrorBodySerializer,
            404: s.ErrorBodySerializer,
        },
    )
    def get(self, request: Request, a: int, b: int) -> Response:
        run_a, run_b = diff.runs_to_diff(user=request.user, a=a, b=b)
        node = text_param(request.query_params, "node", default=None, max_length=64)
        return Response(diff.run_diff(run_a, run_b, node=node or None))
