"""Observability endpoints (SPEC §6): a run's timeline (spans, critical path, efficiency)."""

from drf_spectacular.utils import extend_schema
from rest_framework.request import Request
from rest_framework.response import Response

from workflows import selectors as select
from workflows.api import serializers as s
from workflows.api.base import ApiView, json_body
from workflows.observability import preview, timeline


class RunTimelineView(ApiView):
    @extend_schema(responses={200: dict})
    def get(self, request: Request, run_id: int) -> Response:
        run = select.run_get(user=request.user, run_id=run_id)
        return Response(timeline.timeline(run))


class ExpressionPreviewView(ApiView):
    """`POST /api/workflows/{id}/preview/` `{"template", "node"?, "bare"?}`: the value the
    template renders to for that node with the workflow's last run's data (no secrets)."""

    @extend_schema(
        request=s.PreviewRequestSerializer,
        responses={
            200: s.PreviewSerializer,
            400: s.ErrorBodySerializer,
            404: s.ErrorBodySerializer,
        },
    )
    def post(self, request: Request, workflow_id: int) -> Response:
        workflow = select.workflow_get(user=request.user, workflow_id=workflow_id)
        template, node, bare = preview.checked_request(json_body(request))
        return Response(preview.preview(workflow, template, node, bare))
