"""`POST /api/workflows/{id}/activate/` and `…/deactivate/` (SPEC §8): while active, a
workflow's webhooks answer and its schedules fire. Thin over workflows/triggers.py."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework.request import Request
from rest_framework.response import Response

from workflows import selectors as select
from workflows import triggers
from workflows.api import serializers as s
from workflows.api.base import ERRORS, ApiView


class WorkflowActivateView(ApiView):
    @extend_schema(request=None, responses={200: s.WorkflowSerializer, **ERRORS})
    def post(self, request: Request, workflow_id: int) -> Response:
        """Activate it; 400 with `errors` when its saved revision is invalid."""
        workflow = triggers.workflow_activate(user=request.user, workflow_id=workflow_id)
        return Response(select.workflow_body(workflow=workflow))


class WorkflowDeactivateView(ApiView):
    @extend_schema(request=None, responses={200: s.WorkflowSerializer, **ERRORS})
    def post(self, request: Request, workflow_id: int) -> Response:
        """Deactivate it: its webhook URLs answer 404 and its schedules stop."""
        workflow = triggers.workflow_deactivate(user=request.user, workflow_id=workflow_id)
        return Response(select.workflow_body(workflow=workflow))
