"""A workflow's kept revisions: list them, read one, compare one with the current document
node by node, restore one (a save of its document: a new revision; only the owner)."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework.request import Request
from rest_framework.response import Response

from workflows import selectors as select
from workflows import services, versions
from workflows.api import serializers as s
from workflows.api.base import ERRORS, ApiView, RunPage, int_query, json_body
from workflows.errors import SwitchyardError, problem


class VersionListView(ApiView):
    @extend_schema(
        parameters=[
            int_query("page", 1, RunPage.max_page),
            int_query("page_size", 1, RunPage.max_page_size, f"default {RunPage.page_size}"),
        ],
        responses={200: s.VersionPageSerializer, **ERRORS},
    )
    def get(self, request: Request, workflow_id: int) -> Response:
        kept = versions.version_list(user=request.user, workflow_id=workflow_id)
        paginator = RunPage()
        page = paginator.paginate_queryset(kept, request, view=self)
        return paginator.get_paginated_response([versions.version_summary(v) for v in page])


class VersionDetailView(ApiView):
    @extend_schema(responses={200: s.VersionDetailSerializer, **ERRORS})
    def get(self, request: Request, workflow_id: int, revision: int) -> Response:
        version = versions.version_get(
            user=request.user, workflow_id=workflow_id, revision=revision
        )
        return Response({**versions.version_summary(version), "document": version.document})


class VersionDiffView(ApiView):
    @extend_schema(responses={200: s.VersionDiffSerializer, **ERRORS})
    def get(self, request: Request, workflow_id: int, revision: int) -> Response:
        return Response(
            versions.version_diff(user=request.user, workflow_id=workflow_id, revision=revision)
        )


class VersionRestoreView(ApiView):
    @extend_schema(
        request=s.RestoreSerializer,
        responses={200: s.WorkflowSerializer, 409: s.ErrorBodySerializer, **ERRORS},
        description="Save the kept revision's document as a new revision (history is kept).",
    )
    def post(self, request: Request, workflow_id: int, revision: int) -> Response:
        body = json_body(request)
        unknown = sorted(set(body) - {"revision"})
        if unknown:
            raise SwitchyardError(
                [problem("unknown_field", f"{name}: unknown field", field=name) for name in unknown]
            )
        version = versions.version_get(
            user=request.user, workflow_id=workflow_id, revision=revision
        )
        workflow = services.workflow_save(
            user=request.user,
            workflow_id=workflow_id,
            source={**version.document, "revision": body.get("revision")},
        )
        return Response(select.workflow_body(workflow=workflow, document=workflow.document))
