"""Workflow endpoints (SPEC §6): list, create, read, save, patch, delete, validate, share,
import and export a workflow, and the node-type catalogue the canvas builds its palette from.

Thin views over services (writes) and selectors (reads)."""

from __future__ import annotations

from typing import Any

from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiRequest, OpenApiResponse, extend_schema
from rest_framework import parsers, status
from rest_framework.request import Request
from rest_framework.response import Response

from engine.handlers import registry
from workflows import documents, services
from workflows import selectors as select
from workflows.api import serializers as s
from workflows.api.base import ERRORS, ApiView, json_body, text_query
from workflows.errors import SwitchyardError, problem
from workflows.parsing import text_param

MAX_SHARED_WITH = 1000  # users one workflow is shared with


class WorkflowListView(ApiView):
    @extend_schema(
        parameters=[text_query("tag", 200, "only workflows whose tags include this one")],
        responses=s.WorkflowListItemSerializer(many=True),
    )
    def get(self, request: Request) -> Response:
        tag = text_param(request.query_params, "tag") or None
        workflows = select.workflow_list(user=request.user, tag=tag)
        return Response([workflow_summary(workflow) for workflow in workflows])

    @extend_schema(request=s.DocumentSerializer, responses={201: s.WorkflowSerializer, **ERRORS})
    def post(self, request: Request) -> Response:
        workflow = services.workflow_create(owner=request.user, source=json_body(request))
        body = select.workflow_body(workflow=workflow, document=workflow.document)
        return Response(body, status=status.HTTP_201_CREATED)


def workflow_summary(workflow) -> dict[str, Any]:
    return {
        "id": workflow.pk,
        "name": workflow.name,
        "description": workflow.description,
        "tags": workflow.tags,
        "revision": workflow.revision,
        "valid": workflow.valid,
        "updated_at": documents.iso(workflow.updated_at),
        "node_count": workflow.node_count,
        "last_run_status": workflow.last_run_status,
        "owner": workflow.owner.get_username(),
        "active": workflow.active,
    }


class WorkflowSharingView(ApiView):
    """`GET|PUT /api/workflows/{id}/sharing/`: the users a workflow is shared with, who may
    see and run it and its runs. Only the owner changes the list (403 for others)."""

    @extend_schema(responses={200: s.SharingSerializer, **ERRORS})
    def get(self, request: Request, workflow_id: int) -> Response:
        workflow = select.workflow_get(user=request.user, workflow_id=workflow_id)
        return Response(select.workflow_sharing(workflow=workflow))

    @extend_schema(request=s.SharingSerializer, responses={200: s.SharingSerializer, **ERRORS})
    def put(self, request: Request, workflow_id: int) -> Response:
        body = json_body(request)
        unknown = sorted(set(body) - {"shared_with", "owner"})
        if unknown:
            raise SwitchyardError(
                [problem("unknown_field", f"{name}: unknown field", field=name) for name in unknown]
            )
        names = body.get("shared_with")
        if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
            message = "shared_with: required, a list of usernames"
            raise SwitchyardError([problem("bad_field", message, field="shared_with")])
        if len(names) > MAX_SHARED_WITH:
            message = f"shared_with: at most {MAX_SHARED_WITH} users, got {len(names)}"
            raise SwitchyardError([problem("too_many", message, field="shared_with")])
        workflow = services.workflow_share(user=request.user, workflow_id=workflow_id, names=names)
        return Response(select.workflow_sharing(workflow=workflow))


class WorkflowDetailView(ApiView):
    @extend_schema(responses={200: s.WorkflowSerializer, **ERRORS})
    def get(self, request: Request, workflow_id: int) -> Response:
        workflow = select.workflow_get(user=request.user, workflow_id=workflow_id)
        return Response(select.workflow_body(workflow=workflow))

    @extend_schema(
        request=s.WorkflowSerializer,
        responses={200: s.WorkflowSerializer, 409: s.ErrorBodySerializer, **ERRORS},
    )
    def put(self, request: Request, workflow_id: int) -> Response:
        workflow = services.workflow_save(
            user=request.user, workflow_id=workflow_id, source=json_body(request)
        )
        return Response(select.workflow_body(workflow=workflow, document=workflow.document))

    @extend_schema(
        request=s.WorkflowPatchSerializer,
        responses={200: s.WorkflowSerializer, 409: s.ErrorBodySerializer, **ERRORS},
    )
    def patch(self, request: Request, workflow_id: int) -> Response:
        workflow = services.workflow_patch(
            user=request.user, workflow_id=workflow_id, changes=json_body(request)
        )
        return Response(select.workflow_body(workflow=workflow, document=workflow.document))

    @extend_schema(responses={204: None, 404: s.ErrorBodySerializer})
    def delete(self, request: Request, workflow_id: int) -> Response:
        services.workflow_delete(user=request.user, workflow_id=workflow_id)
        return Response(status=status.HTTP_204_NO_CONTENT)


class WorkflowValidateView(ApiView):
    @extend_schema(
        # Any object: a document that is not even well-formed is answered with its problems.
        request=OpenApiTypes.OBJECT,
        responses={200: s.ValidationResultSerializer, **ERRORS},
        description="Validate the posted document (any JSON object: its problems are the "
        "answer), or the saved one when the body is empty.",
    )
    def post(self, request: Request, workflow_id: int) -> Response:
        body = json_body(request)
        errors = services.workflow_validate(
            user=request.user, workflow_id=workflow_id, source=body or None
        )
        return Response({"valid": services.document_valid(errors), "errors": errors})


class WorkflowExportView(ApiView):
    def perform_content_negotiation(self, request: Request, force: bool = False):
        # `?format=yaml` names the document format here, not one of DRF's renderers.
        return super().perform_content_negotiation(request, force=True)

    @extend_schema(
        parameters=[text_query("format", 40, enum=["json", "yaml"], default="json")],
        responses={
            (200, "application/json"): s.DocumentSerializer,
            (200, "application/yaml"): OpenApiResponse(
                s.DocumentSerializer, description="the same document as YAML (?format=yaml)"
            ),
            **ERRORS,
        },
    )
    def get(self, request: Request, workflow_id: int) -> HttpResponse:
        format = text_param(request.query_params, "format", default="json")
        if format not in ("json", "yaml"):
            message = f"format: must be json or yaml, got {format[:40]!r}"
            raise SwitchyardError([problem("bad_format", message, field="format")])
        workflow = select.workflow_get(user=request.user, workflow_id=workflow_id)
        text, content_type = documents.document_text(
            select.workflow_document(workflow=workflow), format
        )
        response = HttpResponse(text, content_type=content_type)
        filename = f"workflow-{workflow.pk}.{format}"
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        return response


class RawDocumentParser(parsers.BaseParser):
    """Any non-multipart body is handed over as text: the engine reads JSON or YAML."""

    media_type = "*/*"

    def parse(self, stream, media_type=None, parser_context=None) -> bytes:
        return stream.read() if stream is not None else b""


# The multipart `file` is a document file: JSON, or YAML when its name ends .yaml/.yml.
IMPORT_ENCODING = {"file": {"contentType": "application/json, application/yaml"}}


class WorkflowImportView(ApiView):
    parser_classes = [parsers.MultiPartParser, RawDocumentParser]

    @extend_schema(
        request={
            "application/json": s.DocumentSerializer,
            "application/yaml": s.DocumentSerializer,
            "multipart/form-data": OpenApiRequest(s.ImportSerializer, encoding=IMPORT_ENCODING),
        },
        responses={201: s.WorkflowSerializer, **ERRORS},
    )
    def post(self, request: Request) -> Response:
        source, format = import_source(request)
        workflow = services.workflow_import(owner=request.user, source=source, format=format)
        body = select.workflow_body(workflow=workflow, document=workflow.document)
        return Response(body, status=status.HTTP_201_CREATED)


def import_source(request: Request) -> tuple[bytes, str | None]:
    if request.content_type.startswith("multipart/"):
        return multipart_source(request)
    body = request.data
    if not body:
        raise SwitchyardError([problem("bad_document", "the request body is empty")])
    return body, "json" if "json" in request.content_type else None


def multipart_source(request: Request) -> tuple[bytes, str | None]:
    """The `file` part: an uploaded file, or a plain part holding the document's text."""
    upload = request.FILES.get("file")
    if upload is not None:
        name = (upload.name or "").lower()
        return upload.read(), "yaml" if name.endswith((".yaml", ".yml")) else None
    text = request.data.get("file")
    if not text:
        message = "file: required (a JSON or YAML workflow document)"
        raise SwitchyardError([problem("missing_field", message, field="file")])
    return text.encode(), None


class NodeTypesView(ApiView):
    @extend_schema(responses=s.NodeTypeSerializer(many=True))
    def get(self, request: Request) -> Response:
        return Response(registry.describe())
