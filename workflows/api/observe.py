"""Observability endpoints (SPEC §6): a run's timeline (spans, critical path, efficiency), a
workflow's per-node statistics."""

from drf_spectacular.utils import extend_schema
from rest_framework.request import Request
from rest_framework.response import Response

from workflows import selectors as select
from workflows.api.base import ApiView
from workflows.observability import metrics, timeline


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
