"""What every API view shares: token-or-session authentication, the body-size check, the
JSON-object body, page-number pagination, login for API clients and the SPEC error body for
unknown /api/ paths."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth import authenticate
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from drf_spectacular.views import SpectacularAPIView
from rest_framework import authentication, permissions
from rest_framework.authtoken.models import Token
from rest_framework.exceptions import NotFound
from rest_framework.pagination import PageNumberPagination
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from workflows import conf
from workflows.api import serializers as s
from workflows.api.auth import CachedTokenAuthentication
from workflows.errors import PayloadTooLarge, SwitchyardError, problem
from workflows.parsing import int_param

ERRORS = {400: s.ErrorBodySerializer, 404: s.ErrorBodySerializer}


def int_query(name: str, minimum: int, maximum: int, description: str = "") -> OpenApiParameter:
    """An integer query parameter described with the bounds `parsing.int_param` checks (which
    reads an empty value as an absent one)."""
    number = {"type": "integer", "minimum": minimum, "maximum": maximum}
    schema = {"anyOf": [number, {"type": "string", "enum": [""]}]}
    return OpenApiParameter(name, schema, description=f"{description} (empty: as if absent)")


def text_query(name: str, max_length: int, description: str = "", **schema) -> OpenApiParameter:
    """A text query parameter described with the limits `parsing.text_param` checks."""
    schema = {"type": "string", "maxLength": max_length, **schema}
    return OpenApiParameter(name, schema, description=description)


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


class MeView(ApiView):
    """`GET /api/me/`: who is logged in (the canvas tells your workflows from shared ones)."""

    @extend_schema(responses=s.MeSerializer)
    def get(self, request: Request) -> Response:
        return Response({"username": request.user.get_username()})


LANGUAGES = list(dict(settings.LANGUAGES))
SCHEMA_MEDIA_TYPES = [
    "application/vnd.oai.openapi",
    "application/yaml",
    "application/vnd.oai.openapi+json",
    "application/json",
]


class SchemaView(SpectacularAPIView):
    """`GET /api/schema/`: the OpenAPI description. An unknown `lang` is refused (400) rather
    than silently ignored, and refusals answer the JSON error body, not YAML."""

    @extend_schema(
        parameters=[
            text_query("lang", 20, "the descriptions' language", enum=LANGUAGES),
            text_query("format", 20, "instead of the Accept header", enum=["yaml", "json"]),
        ],
        responses={
            (200, media_type): OpenApiResponse(OpenApiTypes.OBJECT, description="the OpenAPI 3")
            for media_type in SCHEMA_MEDIA_TYPES
        }
        | {400: s.ErrorBodySerializer},
    )
    def get(self, request: Request, *args, **kwargs) -> Response:
        for name, allowed in (("lang", LANGUAGES), ("format", ["yaml", "json"])):
            value = request.query_params.get(name)
            if value is not None and value not in allowed:
                message = f"{name}: must be one of {', '.join(allowed)}"
                raise SwitchyardError([problem("bad_parameter", message, field=name)])
        return super().get(request, *args, **kwargs)

    def finalize_response(self, request: Request, response, *args, **kwargs):
        if response.status_code >= 400:
            request.accepted_renderer = JSONRenderer()
            request.accepted_media_type = JSONRenderer.media_type
        return super().finalize_response(request, response, *args, **kwargs)
