"""A workflow's kept revisions: list them, read one, compare one with the current document
node by node, restore one (a save of its document: a new revision; only the owner)."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from workflows import selectors as select
from workflows import services, versions
from workflows.api import serializers as s
from workflows.api.base import ERRORS, ApiView, RunPage, int_query, json_body
from workflows.errors import SwitchyardError, problem
from workflows.parsing import MAX_ID


class VersionSerializer(serializers.Serializer):
    """A kept revision of a workflow: which, who saved it and when."""

    revision = serializers.IntegerField()
    saved_by = serializers.CharField(allow_null=True, help_text="null when that user is gone")
    saved_at = serializers.CharField()


class VersionPageSerializer(serializers.Serializer):
    count = serializers.IntegerField()
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)
    results = VersionSerializer(many=True)


class VersionDetailSerializer(VersionSerializer):
    document = s.DocumentSerializer(help_text="the whole document as saved at that revision")


class ItemChangeSerializer(serializers.Serializer):
    id = serializers.CharField()
    change = serializers.ChoiceField(choices=["added", "removed", "changed"])
    fields = serializers.ListField(child=serializers.CharField(), help_text="of a change")


class VersionDiffSerializer(serializers.Serializer):
    """From a kept revision to the current document: nodes and edges `added` since,
    `removed` since or `changed` (naming the fields), and the top-level fields that differ."""

    revision = serializers.IntegerField()
    current_revision = serializers.IntegerField()
    fields = serializers.ListField(child=serializers.CharField())
    nodes = ItemChangeSerializer(many=True)
    edges = ItemChangeSerializer(many=True)


class RestoreSerializer(s.StrictSerializer):
    revision = serializers.IntegerField(
        min_value=-MAX_ID,
        max_value=MAX_ID,
        help_text="the workflow's current revision, as for a save (a stale one gets 409)",
    )


class VersionListView(ApiView):
    @extend_schema(
        parameters=[
            int_query("page", 1, RunPage.max_page),
            int_query("page_size", 1, RunPage.max_page_size, f"default {RunPage.page_size}"),
        ],
        responses={200: VersionPageSerializer, **ERRORS},
        operation_id="workflows_versions_list",
    )
    def get(self, request: Request, workflow_id: int) -> Response:
        kept = versions.version_list(user=request.user, workflow_id=workflow_id)
        paginator = RunPage()
        page = paginator.paginate_queryset(kept, request, view=self)
        return paginator.get_paginated_response([versions.version_summary(v) for v in page])


class VersionDetailView(ApiView):
    @extend_schema(responses={200: VersionDetailSerializer, **ERRORS})
    def get(self, request: Request, workflow_id: int, revision: int) -> Response:
        version = versions.version_get(
            user=request.user, workflow_id=workflow_id, revision=revision
        )
        return Response({**versions.version_summary(version), "document": version.document})


class VersionDiffView(ApiView):
    @extend_schema(responses={200: VersionDiffSerializer, **ERRORS})
    def get(self, request: Request, workflow_id: int, revision: int) -> Response:
        return Response(
            versions.version_diff(user=request.user, workflow_id=workflow_id, revision=revision)
        )


class VersionRestoreView(ApiView):
    @extend_schema(
        request=RestoreSerializer,
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
