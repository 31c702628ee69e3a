"""The REST API of SPEC §6: thin views over services (writes) and selectors (reads)."""

from __future__ import annotations

import json
from typing import Any

import yaml
from django.contrib.auth import authenticate
from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import authentication, parsers, permissions, status
from rest_framework.authtoken.models import Token
from rest_framework.exceptions import NotFound
from rest_framework.pagination import PageNumberPagination
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from engine.handlers import registry
from engine.states import RunState
from workflows import conf, services
from workflows import selectors as select
from workflows import serializers as s
from workflows.auth import CachedTokenAuthentication
from workflows.errors import PayloadTooLarge, SwitchyardError, problem
from workflows.parsing import MAX_ID, MAX_SEQ, int_param, text_param

ERRORS = {400: s.ErrorBodySerializer, 404: s.ErrorBodySerializer}
RUN_STATES = tuple(state.value for state in RunState)
MAX_SHARED_WITH = 1000  # users one workflow is shared with


class ApiView(APIView):
    """Token first, so an anonymous client gets 401 with `WWW-Authenticate: Token`; sessions
    (the canvas) are CSRF-checked by SessionAuthentication. Oversized bodies are refused
    before anything parses them."""

    authentication_classes = [
        CachedTokenAuthentication,
        authentication.SessionAuthentication,
    ]
    permission_classes = [permissions.IsAuthenticated]

    def initial(self, request: Request, *args, **kwargs) -> None:
        limit = conf.value("MAX_BODY_BYTES")
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if length > limit:
            raise PayloadTooLarge(f"the request body is {length} bytes; the limit is {limit}")
        super().initial(request, *args, **kwargs)


def json_body(request: Request) -> dict[str, Any]:
    data = request.data
    if not isinstance(data, dict):
        raise SwitchyardError([problem("bad_document", "the request body must be a JSON object")])
    return data


# --- workflows ---------------------------------------------------------------------------------


class WorkflowListView(ApiView):
    @extend_schema(responses=s.WorkflowListItemSerializer(many=True))
    def get(self, request: Request) -> Response:
        workflows = select.workflow_list(user=request.user)
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
        "updated_at": s.iso(workflow.updated_at),
        "node_count": workflow.node_count,
        "last_run_status": workflow.last_run_status,
        "owner": workflow.owner.get_username(),
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
        request=s.DocumentSerializer,
        responses={200: s.ValidationResultSerializer, 404: s.ErrorBodySerializer},
        description="Validate the posted document, or the saved one when the body is empty.",
    )
    def post(self, request: Request, workflow_id: int) -> Response:
        body = json_body(request) if request.data else {}
        errors = services.workflow_validate(
            user=request.user, workflow_id=workflow_id, source=body or None
        )
        return Response({"valid": services.document_valid(errors), "errors": errors})


class WorkflowExportView(ApiView):
    def perform_content_negotiation(self, request: Request, force: bool = False):
        # `?format=yaml` names the document format here, not one of DRF's renderers.
        return super().perform_content_negotiation(request, force=True)

    @extend_schema(
        parameters=[OpenApiParameter("format", str, enum=["json", "yaml"], default="json")],
        responses={(200, "application/json"): OpenApiTypes.OBJECT, **ERRORS},
    )
    def get(self, request: Request, workflow_id: int) -> HttpResponse:
        format = text_param(request.query_params, "format", default="json")
        if format not in ("json", "yaml"):
            message = f"format: must be json or yaml, got {format[:40]!r}"
            raise SwitchyardError([problem("bad_format", message, field="format")])
        workflow = select.workflow_get(user=request.user, workflow_id=workflow_id)
        text, content_type = document_text(select.workflow_document(workflow=workflow), format)
        response = HttpResponse(text, content_type=content_type)
        filename = f"workflow-{workflow.pk}.{format}"
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        return response


def document_text(document: dict, format: str) -> tuple[str, str]:
    if format == "yaml":
        text = yaml.safe_dump(document, sort_keys=False, allow_unicode=True)
        return text, "application/yaml; charset=utf-8"
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n", "application/json"


class RawDocumentParser(parsers.BaseParser):
    """Any non-multipart body is handed over as text: the engine reads JSON or YAML."""

    media_type = "*/*"

    def parse(self, stream, media_type=None, parser_context=None) -> bytes:
        return stream.read() if stream is not None else b""


class WorkflowImportView(ApiView):
    parser_classes = [parsers.MultiPartParser, RawDocumentParser]

    @extend_schema(
        request={
            "application/json": OpenApiTypes.OBJECT,
            "application/yaml": OpenApiTypes.STR,
            "multipart/form-data": s.ImportSerializer,
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
        upload = request.FILES.get("file")
        if upload is None:
            message = "file: required (a JSON or YAML workflow document)"
            raise SwitchyardError([problem("missing_field", message, field="file")])
        name = (upload.name or "").lower()
        format = "yaml" if name.endswith((".yaml", ".yml")) else None
        return upload.read(), format
    body = request.data
    if not body:
        raise SwitchyardError([problem("bad_document", "the request body is empty")])
    return body, "json" if "json" in request.content_type else None


class NodeTypesView(ApiView):
    @extend_schema(responses=OpenApiTypes.OBJECT)
    def get(self, request: Request) -> Response:
        return Response(registry.describe())


class MeView(ApiView):
    """`GET /api/me/`: who is logged in (the canvas tells your workflows from shared ones)."""

    @extend_schema(responses=OpenApiTypes.OBJECT)
    def get(self, request: Request) -> Response:
        return Response({"username": request.user.get_username()})


# --- runs --------------------------------------------------------------------------------------


class WorkflowRunsView(ApiView):
    @extend_schema(request=s.RunCreateSerializer, responses={201: s.RunSerializer, **ERRORS})
    def post(self, request: Request, workflow_id: int) -> Response:
        body = s.RunCreateSerializer(data=request.data if request.data else {})
        body.is_valid(raise_exception=True)
        run = services.run_create(
            user=request.user,
            workflow_id=workflow_id,
            inputs=body.validated_data["inputs"],
            mode=body.validated_data["mode"],
            from_node=body.validated_data.get("from_node"),
        )
        report = select.run_report(run=run, just_created=True)
        return Response(report, status=status.HTTP_201_CREATED)


class RunPage(PageNumberPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 500
    max_page = 1_000_000

    def get_page_size(self, request: Request) -> int:
        return int_param(
            request.query_params,
            "page_size",
            default=self.page_size,
            minimum=1,
            maximum=self.max_page_size,
        )

    def get_page_number(self, request: Request, paginator) -> int:
        return int_param(request.query_params, "page", default=1, minimum=1, maximum=self.max_page)


class RunListView(ApiView):
    @extend_schema(
        parameters=[
            OpenApiParameter("workflow", int, description="only runs of this workflow"),
            OpenApiParameter("status", str, description="only runs in this status"),
            OpenApiParameter("page", int),
            OpenApiParameter("page_size", int),
        ],
        responses=s.RunListItemSerializer(many=True),
    )
    def get(self, request: Request) -> Response:
        params = request.query_params
        workflow = int_param(params, "workflow", default=None, minimum=1, maximum=MAX_ID)
        status_ = text_param(params, "status", max_length=32)
        if status_ and status_ not in RUN_STATES:
            message = f"status: must be one of {', '.join(RUN_STATES)}, got {status_!r}"
            raise SwitchyardError([problem("bad_parameter", message, field="status")])
        runs = select.run_list(user=request.user, workflow_id=workflow, status=status_)
        paginator = RunPage()
        page = paginator.paginate_queryset(runs, request, view=self)
        return paginator.get_paginated_response([run_summary(run) for run in page])


def run_summary(run) -> dict[str, Any]:
    return {
        "id": run.pk,
        "workflow": run.workflow_id,
        "workflow_name": run.workflow.name,
        "revision": run.revision,
        "status": run.status,
        "mode": run.mode,
        "trigger": run.trigger,
        "parent_run": run.parent_run_id,
        "created_at": s.iso(run.created_at),
        "started_at": s.iso(run.started_at),
        "finished_at": s.iso(run.finished_at),
    }


class RunDetailView(ApiView):
    @extend_schema(responses={200: s.RunSerializer, 404: s.ErrorBodySerializer})
    def get(self, request: Request, run_id: int) -> Response:
        run = select.run_get(user=request.user, run_id=run_id)
        return Response(select.run_report(run=run))


class RunEventsView(ApiView):
    @extend_schema(
        parameters=[
            OpenApiParameter("after", int, description="only events with a larger seq"),
            OpenApiParameter("limit", int, description="at most this many (≤ 1000)"),
        ],
        responses={200: s.RunEventsSerializer, **ERRORS},
    )
    def get(self, request: Request, run_id: int) -> Response:
        run = select.run_get(user=request.user, run_id=run_id)
        params = request.query_params
        after = int_param(params, "after", default=0, minimum=0, maximum=MAX_SEQ)
        limit = int_param(
            params,
            "limit",
            default=select.EVENTS_LIMIT_MAX,
            minimum=1,
            maximum=select.EVENTS_LIMIT_MAX,
        )
        found = select.run_events(run=run, after=after, limit=limit)
        events = [s.event_body(event) for event in found]
        last_seq = events[-1]["seq"] if events else after
        return Response({"events": events, "last_seq": last_seq})


# --- login for API clients and unknown API paths -----------------------------------------------


class TokenView(ApiView):
    authentication_classes: list = []
    permission_classes = [permissions.AllowAny]

    @extend_schema(request=s.TokenRequestSerializer, responses={200: s.TokenSerializer, **ERRORS})
    def post(self, request: Request) -> Response:
        body = s.TokenRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        user = authenticate(request._request, **body.validated_data)
        if user is None or not user.is_active:
            message = "unable to log in with the given username and password"
            raise SwitchyardError([problem("bad_credentials", message)])
        token, _ = Token.objects.get_or_create(user=user)
        return Response({"token": token.key})


class NotFoundView(ApiView):
    """Every other path under /api/ answers the SPEC error body, not Django's HTML page."""

    permission_classes = [permissions.AllowAny]

    @extend_schema(exclude=True)
    def get(self, request: Request, *args, **kwargs) -> Response:
        raise NotFound(f"no API endpoint at {request.path}")

    post = put = patch = delete = get
