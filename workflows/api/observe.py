"""Observability endpoints (SPEC §6): a run's timeline (spans, critical path, efficiency)."""

from drf_spectacular.utils import extend_schema
from rest_framework.request import Request
from rest_framework.response import Response

from workflows import selectors as select
from workflows.api.base import ApiView
from workflows.observability import timeline


class RunTimelineView(ApiView):
    @extend_schema(responses={200: dict})
    def get(self, request: Request, run_id: int) -> Response:
        run = select.run_get(user=request.user, run_id=run_id)
        return Response(timeline.timeline(run))
