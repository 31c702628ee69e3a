"""HTTP through the real ASGI application: Django's middleware chain and the view run in one
thread hop, on a thread reused from request to request, and behave as before (the API's JSON
error body, token and session authentication, CSRF)."""

from __future__ import annotations

import json

import pytest
from asgiref.sync import sync_to_async
from channels.testing import HttpCommunicator
from django.test import Client
from rest_framework.authtoken.models import Token

from switchyard.asgi import application, django_asgi_app
from workflows.models import Workflow

pytestmark = pytest.mark.django_db(transaction=True)
HOST = (b"host", b"localhost")


async def call(method: str, path: str, headers: list, body: bytes = b"") -> tuple[int, dict]:
    communicator = HttpCommunicator(application, method, path, body=body, headers=[HOST, *headers])
    response = await communicator.get_response()
    await communicator.wait(5)  # the application's end (a server lets it finish too)
    return response["status"], json.loads(response["body"] or b"{}")


async def test_requests_reuse_one_thread_and_answer_as_before(user):
    token = await sync_to_async(Token.objects.create)(user=user)
    auth = (b"authorization", f"Token {token.key}".encode())
    django_asgi_app.idle_threads.clear()

    status, body = await call("GET", "/api/workflows/999999/", [auth])
    assert status == 404
    assert body["errors"][0]["code"] == "not_found"
    [thread] = django_asgi_app.idle_threads

    status, body = await call("GET", "/api/workflows/", [auth])
    assert status == 200
    assert django_asgi_app.idle_threads == [thread]  # the same thread served the second


async def test_a_session_post_without_csrf_token_is_refused(user):
    client = Client()
    await sync_to_async(client.force_login)(user)
    cookie = (b"cookie", f"sessionid={client.cookies['sessionid'].value}".encode())
    content = (b"content-type", b"application/json")
    document = json.dumps({"version": 1, "name": "w", "nodes": [], "edges": []}).encode()

    status, body = await call("POST", "/api/workflows/", [cookie, content], document)

    assert status == 403
    assert "CSRF" in body["errors"][0]["message"]
    assert not await sync_to_async(Workflow.objects.exists)()  # nothing saved
    status, _ = await call("GET", "/api/workflows/", [cookie])
    assert status == 200  # the session itself authenticates


async def test_every_request_is_logged_once_and_a_4xx_only_once(user, caplog):
    token = await sync_to_async(Token.objects.create)(user=user)
    auth = (b"authorization", f"Token {token.key}".encode())
    caplog.set_level("INFO")

    await call("GET", "/api/workflows/", [auth])
    await call("GET", "/api/workflows/999999/?secret=s3", [auth])
    hook = HttpCommunicator(application, "POST", "/hooks/tok3n-credential/", headers=[HOST])
    await hook.get_response()
    await hook.wait(5)

    lines = [(r.name, r.levelname, r.getMessage()) for r in caplog.records]
    requests = [line for line in lines if line[0] == "switchyard.requests"]
    assert [(level, message.rsplit(" ", 2)[0]) for _, level, message in requests] == [
        ("INFO", "GET /api/workflows/ 200"),
        ("WARNING", "GET /api/workflows/999999/ 404"),
        ("WARNING", "POST /hooks/***/ 404"),
    ]
    assert all(message.endswith(" ms") for _, _, message in requests)
    # the 404s are not logged a second time (Django's "Not Found: …"), nor is any query or token
    assert not [line for line in lines if "Not Found" in line[2]]
    assert not [line for line in lines if "s3" in line[2] or "tok3n" in line[2]]


async def test_the_browsers_default_favicon_is_served_not_a_404():
    communicator = HttpCommunicator(application, "GET", "/favicon.ico", headers=[HOST])
    response = await communicator.get_response()
    await communicator.wait(5)
    headers = dict(response["headers"])
    assert response["status"] == 200
    assert headers[b"Content-Type"] == b"image/svg+xml"
    assert response["body"].startswith(b"<svg")
