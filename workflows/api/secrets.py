"""Secret endpoints: the signed-in user's named secrets, write-only (`workflows.secrets`).

`GET /api/secrets/` lists names and dates (the value always reads `••••`),
`POST /api/secrets/` `{"name", "value"}` creates (201) or replaces (200) one,
`DELETE /api/secrets/{name}/` removes it (204; 404 when there is none).
"""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.exceptions import NotFound
from rest_framework.request import Request
from rest_framework.response import Response

from workflows import secrets
from workflows.api import serializers as s
from workflows.api.base import ERRORS, ApiView, json_body
from workflows.errors import SwitchyardError, problem


class SecretSerializer(serializers.Serializer):
    name = serializers.CharField()
    value = serializers.CharField(help_text="always `••••`: a stored value is never read back")
    created_at = serializers.CharField()
    updated_at = serializers.CharField()


class SecretListSerializer(serializers.Serializer):
    secrets = SecretSerializer(many=True)


class SecretWriteSerializer(s.StrictSerializer):
    name = serializers.RegexField(
        f"^{secrets.NAME.pattern}$", max_length=64, help_text="letters, digits, _ . -"
    )
    value = serializers.CharField(
        min_length=1, max_length=secrets.MAX_VALUE_CHARS, trim_whitespace=False, write_only=True
    )


class SecretListView(ApiView):
    @extend_schema(responses={200: SecretListSerializer, **ERRORS}, operation_id="secrets_list")
    def get(self, request: Request) -> Response:
        return Response({"secrets": secrets.secret_list(owner=request.user)})

    @extend_schema(
        request=SecretWriteSerializer,
        responses={200: SecretSerializer, 201: SecretSerializer, **ERRORS},
    )
    def post(self, request: Request) -> Response:
        body = json_body(request)
        unknown = sorted(set(body) - {"name", "value"})
        if unknown:
            message = f"unknown field {unknown[0]!r}: a secret has a name and a value"
            raise SwitchyardError([problem("bad_body", message, field=unknown[0])])
        secret, created = secrets.secret_put(
            owner=request.user,
            name=secrets.check_name(body.get("name")),
            value=secrets.check_value(body.get("value")),
        )
        return Response(secrets.secret_body(secret), status=201 if created else 200)


class SecretDetailView(ApiView):
    @extend_schema(responses={204: None, **ERRORS})
    def delete(self, request: Request, name: str) -> Response:
        if not secrets.secret_delete(owner=request.user, name=name):
            raise NotFound(f"no secret named {name!r}")
        return Response(status=204)
