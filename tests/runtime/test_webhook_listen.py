"""A webhook node's "listen for a test event" (SPEC §8, docs/triggers.md) through real HTTP
(`manage.py serve`): the owner starts a one-shot listener, the next request to the node's test
URL is captured (checked like a real request) and starts no run; it expires, can be cancelled,
and is the owner's only."""

from __future__ import annotations

import json
import time

import httpx
import pytest
from django.test import Client
from rest_framework.test import APIClient

from tests.runtime.test_webhooks import SECRET, runs, sign
from tests.runtime.workers import ServerProcess
from workflows import services, triggers
from workflows.models import Trigger, WebhookListen
from workflows.runtime import listen

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


@pytest.fixture(scope="module")
def server(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        process = ServerProcess(SWITCHYARD_SECRETS=json.dumps({"hook_key": SECRET}))
    yield f"http://127.0.0.1:{process.port}"
    process.stop()


@pytest.fixture
def api(user) -> APIClient:
    client = APIClient()
    client.force_login(user)
    return client


def workflow(user, *, active: bool = False, **config) -> int:
    """A saved (inactive unless asked) workflow: webhook `hook` → output `out`, plus a `start`."""
    nodes = [
        {"id": "hook", "type": "webhook", "config": {"method": "POST", **config}},
        {"id": "out", "type": "output", "config": {"value": "{{ input }}"}},
        {"id": "begin", "type": "start"},
    ]
    edges = [{"id": "e1", "source": "hook", "target": "out"}]
    made = services.workflow_create(owner=user, source={"nodes": nodes, "edges": edges})
    assert made.valid, made.errors
    if active:
        triggers.workflow_activate(user=user, workflow_id=made.pk)
    return made.pk


def listen_url(workflow_id: int, node: str = "hook") -> str:
    return f"/api/workflows/{workflow_id}/nodes/{node}/listen/"


def test_a_listener_captures_one_request_of_an_inactive_workflow_and_starts_no_run(
    user, api, server
):
    workflow_id = workflow(user)
    assert api.get(listen_url(workflow_id)).json()["state"] == "idle"
    started = api.post(listen_url(workflow_id))
    assert started.status_code == 200, started.content
    state = started.json()
    assert state["state"] == "listening" and 100 < state["seconds_left"] <= 120
    test_url = state["url"]
    assert test_url.startswith("/hooks/") and test_url.endswith("/test/")
    answer = httpx.post(
        f"{server}{test_url}?tag=a&tag=b",
        json={"order": 7},
        headers={"X-Source": "shop", "Cookie": "sessionid=x", "Authorization": "Bearer y"},
    )
    assert (answer.status_code, answer.json()) == (200, {"captured": True})
    read = api.get(listen_url(workflow_id)).json()
    assert read["state"] == "captured" and read["seconds_left"] == 0
    capture = read["capture"]
    assert capture["method"] == "POST" and capture["body"] == {"order": 7}
    assert capture["query"] == {"tag": ["a", "b"]}
    assert capture["headers"]["x-source"] == "shop"
    assert "cookie" not in capture["headers"] and "authorization" not in capture["headers"]
    assert runs() == 0
    # One shot: a second request finds no listener; the real URL stays 404 (inactive).
    again = httpx.post(f"{server}{test_url}", json={"order": 8})
    assert again.status_code == 404
    assert again.json()["errors"][0]["message"] == "no test listener is waiting on this webhook"
    assert httpx.post(f"{server}{test_url.removesuffix('test/')}", json={}).status_code == 404
    assert api.get(listen_url(workflow_id)).json()["capture"]["body"] == {"order": 7}
    assert runs() == 0


def test_an_active_workflows_test_url_captures_while_its_real_url_starts_runs(user, api, server):
    workflow_id = workflow(user, active=True)
    test_url = api.post(listen_url(workflow_id)).json()["url"]
    assert (
        httpx.post(
            f"{server}{test_url}", content=b"hi", headers={"Content-Type": "text/plain"}
        ).status_code
        == 200
    )
    assert runs() == 0
    assert api.get(listen_url(workflow_id)).json()["capture"]["body"] == "hi"
    assert httpx.post(f"{server}{test_url.removesuffix('test/')}", json={}).status_code == 202
    assert runs() == 1


def test_a_second_press_restarts_the_listener_and_drops_the_capture(user, api, server):
    workflow_id = workflow(user)
    test_url = api.post(listen_url(workflow_id)).json()["url"]
    assert httpx.post(f"{server}{test_url}", json={"n": 1}).status_code == 200
    restarted = api.post(listen_url(workflow_id)).json()
    assert (restarted["state"], restarted["capture"]) == ("listening", None)
    assert httpx.post(f"{server}{test_url}", json={"n": 2}).status_code == 200
    assert api.get(listen_url(workflow_id)).json()["capture"]["body"] == {"n": 2}


def test_the_listener_expires(user, api, server, settings):
    settings.SWITCHYARD_WEBHOOK_LISTEN_S = 1.0
    workflow_id = workflow(user)
    test_url = api.post(listen_url(workflow_id)).json()["url"]
    time.sleep(1.3)
    assert api.get(listen_url(workflow_id)).json()["state"] == "expired"
    assert httpx.post(f"{server}{test_url}", json={}).status_code == 404
    assert WebhookListen.objects.get().capture is None


def test_cancel_stops_listening(user, api, server):
    workflow_id = workflow(user)
    test_url = api.post(listen_url(workflow_id)).json()["url"]
    cancelled = api.delete(listen_url(workflow_id))
    assert (cancelled.status_code, cancelled.json()["state"]) == (200, "idle")
    assert httpx.post(f"{server}{test_url}", json={}).status_code == 404
    assert not WebhookListen.objects.exists()


def test_body_limit_content_type_method_and_signature_apply(user, api, server):
    workflow_id = workflow(
        user, max_body_bytes=100, secret="hook_key", signature_header="X-Hub-Signature-256"
    )
    url = f"{server}{api.post(listen_url(workflow_id)).json()['url']}"
    big = b"x" * 101
    too_large = httpx.post(url, content=big, headers={"X-Hub-Signature-256": sign(big)})
    assert too_large.status_code == 413
    unsigned = httpx.post(url, content=b'{"a": 1}', headers={"Content-Type": "application/json"})
    assert (unsigned.status_code, unsigned.json()["errors"][0]["code"]) == (401, "bad_signature")
    assert httpx.put(url, content=b"x").status_code == 405
    # a method no webhook takes is refused naming every method one may (as the real URL does)
    options = httpx.request("OPTIONS", url)
    assert (options.status_code, options.headers["Allow"]) == (405, "GET, POST, PUT, PATCH, DELETE")
    multipart = httpx.post(url, files={"f": b"x"}, headers={})
    assert multipart.status_code in (401, 413, 415)
    assert api.get(listen_url(workflow_id)).json()["state"] == "listening"
    body = b'{"a": 1}'
    headers = {"Content-Type": "application/json", "X-Hub-Signature-256": sign(body)}
    assert httpx.post(url, content=body, headers=headers).status_code == 200
    assert api.get(listen_url(workflow_id)).json()["capture"]["body"] == {"a": 1}


def test_other_users_unknown_and_non_webhook_nodes_are_404(user, other_user, api, server):
    workflow_id = workflow(user)
    stranger = APIClient()
    stranger.force_login(other_user)
    for method in ("get", "post", "delete"):
        assert getattr(stranger, method)(listen_url(workflow_id)).status_code == 404
    assert not WebhookListen.objects.exists()
    unknown = api.post(listen_url(workflow_id, "nope"))
    assert unknown.status_code == 404
    assert unknown.json()["errors"][0]["message"] == "the workflow has no node 'nope'"
    other = api.post(listen_url(workflow_id, "out"))
    assert other.status_code == 404
    assert "is a output node, not a webhook" in other.json()["errors"][0]["message"]


def test_the_admin_shows_a_webhooks_listener_and_capture(user, django_user_model):
    trigger = Trigger.objects.get(workflow_id=workflow(user), node_id="hook")
    listen.listen_start(trigger)
    listen.listen_capture(trigger.token, {"method": "POST", "body": {"order": "admin-seen"}})
    root = django_user_model.objects.create_superuser("root", "root@example.com", "pw")
    admin = Client()
    admin.force_login(root)
    page = admin.get(f"/admin/workflows/trigger/{trigger.pk}/change/").content.decode()
    assert "admin-seen" in page and "Captured at" in page
    assert trigger.token not in page
