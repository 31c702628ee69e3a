"""A webhook node's "listen for a test event" (SPEC §8, docs/triggers.md).

`POST|GET|DELETE /api/workflows/{id}/nodes/{node}/listen/` start (or restart), read and
cancel the node's one-shot test listener (the workflow's owner only; 404 for another user,
an unknown node or a node that is not a webhook). `/hooks/<token>/test/` is the node's test
URL: while a listener waits, the next request with the webhook's method is checked like a real
one (body limit, content type, signature), stored as the node's test event and answered
200 `{"captured": true}`; it starts no run. Without a waiting listener it is 404.
"""

from __future__ import annotations

import re
from typing import Any

from channels.db import database_sync_to_async
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from workflows.api import hooks as http
from workflows.api.base import ERRORS, ApiView
from workflows.runtime import hooks, listen
from workflows.triggers import config_with_defaults

TEST_PATH = re.compile(rf"^/hooks/({http.TOKEN_PATTERN})/test/?$")
NOT_LISTENING = "no test listener is waiting on this webhook"


class TestHookRouter:
    """Sends test-URL requests (`/hooks/<token>/test/`) to `answer_test_hook`, the rest on."""

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] == "http" and TEST_PATH.match(scope["path"]):
            await http.serve_hook(scope, receive, send, answer_test_hook)
        else:
            await self.app(scope, receive, send)


class ListenSerializer(serializers.Serializer):
    node = serializers.CharField()
    url = serializers.CharField(help_text="the test URL: `/hooks/<token>/test/`")
    state = serializers.ChoiceField(choices=["idle", "listening", "captured", "expired"])
    started_at = serializers.CharField(allow_null=True)
    expires_at = serializers.CharField(allow_null=True)
    seconds_left = serializers.FloatField(help_text="0 unless listening")
    captured_at = serializers.CharField(allow_null=True)
    capture = serializers.JSONField(
        allow_null=True, help_text="the captured request: {method, headers, query, body}"
    )


class NodeListenView(ApiView):
    @extend_schema(request=None, responses={200: ListenSerializer, **ERRORS})
    def post(self, request: Request, workflow_id: int, node_id: str) -> Response:
        """Start (or restart) the webhook node's test listener, also while the workflow is
        inactive: the next request to its test URL within SWITCHYARD_WEBHOOK_LISTEN_S is
        captured and starts no run. An earlier capture is dropped."""
        trigger = listen.webhook_trigger(
            user=request.user, workflow_id=workflow_id, node_id=node_id
        )
        listen.listen_start(trigger)
        return Response(listen.listen_state(trigger))

    @extend_schema(responses={200: ListenSerializer, **ERRORS})
    def get(self, request: Request, workflow_id: int, node_id: str) -> Response:
        """The listener's state and the captured test event (the canvas polls it)."""
        trigger = listen.webhook_trigger(
            user=request.user, workflow_id=workflow_id, node_id=node_id
        )
        return Response(listen.listen_state(trigger))

    @extend_schema(request=None, responses={200: ListenSerializer, **ERRORS})
    def delete(self, request: Request, workflow_id: int, node_id: str) -> Response:
        """Cancel the listener (and forget its capture): the test URL answers 404 again."""
        trigger = listen.webhook_trigger(
            user=request.user, workflow_id=workflow_id, node_id=node_id
        )
        listen.listen_cancel(trigger)
        return Response(listen.listen_state(trigger))


async def answer_test_hook(scope, receive) -> tuple[int, Any, dict]:
    """A request to a test URL: captured as the node's test event when a listener waits."""
    http.refuse_other_methods(scope)
    match = TEST_PATH.match(scope["path"])
    found = await database_sync_to_async(listen.listen_find)(match.group(1))
    if found is None:
        raise http.HookError(404, "not_found", NOT_LISTENING)
    config = config_with_defaults("webhook", found.config)
    headers = http.request_headers(scope)
    if scope["method"] != config["method"]:
        message = f"this webhook takes {config['method']} requests"
        raise http.HookError(405, "method_not_allowed", message, {"Allow": config["method"]})
    body = await http.read_body(receive, headers, config["max_body_bytes"])
    signature = headers.get(config["signature_header"].lower())
    verified = await database_sync_to_async(hooks.signature_ok)(
        config, found.owner_id, body, signature
    )
    if not verified:
        raise http.HookError(401, "bad_signature", "the request's signature does not match")
    data = http.request_data(scope, headers, body)
    if not await database_sync_to_async(listen.listen_capture)(match.group(1), data):
        raise http.HookError(404, "not_found", NOT_LISTENING)
    return 200, {"captured": True}, {}


def describe_test_hooks(result: dict, generator, request, public) -> dict:
    """drf-spectacular postprocessing hook: the test URL's operations (served outside DRF)."""
    captured = {
        "type": "object",
        "properties": {"captured": {"type": "boolean"}},
        "required": ["captured"],
    }
    result["paths"]["/hooks/{token}/test/"] = {
        method.lower(): test_operation(method, captured) for method in http.WEBHOOK_METHODS
    }
    return result


def test_operation(method: str, captured: dict) -> dict:
    operation = http.hook_operation(method)
    responses = operation["responses"]
    for code in ("202", "429", "500"):
        responses.pop(code)
    responses["200"] = http.answer("the request was captured as the node's test event", captured)
    responses["400"] = http.answer("a body that does not parse as its content type", s_error())
    responses["404"] = http.answer("no test listener waits on this webhook", s_error())
    operation["parameters"] = operation["parameters"][:1]
    return operation | {
        "operationId": f"hooks_test_{method.lower()}",
        "summary": 'Capture one test event for a webhook node whose owner pressed "listen" '
        "(no login; starts no run): checked like a real request, answered 200.",
    }


def s_error() -> dict:
    return {"$ref": "#/components/schemas/ErrorBody"}
