"""Webhooks through real HTTP (`manage.py serve`: Daphne and a worker in one process), SPEC §8:
a request starts a run with the request as data; sync mode answers with the outputs; the
signature, body limit, rate limit, Idempotency-Key, unknown tokens and inactive workflows."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json

import httpx
import pytest

from tests.runtime.test_worker import finished
from tests.runtime.workers import ServerProcess, wait_for
from workflows import services, triggers
from workflows.models import NodeRun, Trigger, WorkflowRun

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

SECRET = "webhook-test-key"


@pytest.fixture(scope="module")
def server(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        process = ServerProcess(SWITCHYARD_SECRETS=json.dumps({"hook_key": SECRET}))
    yield f"http://127.0.0.1:{process.port}"
    process.stop()


def hooked(user, *, active: bool = True, after: list | None = None, **config) -> str:
    """An (activated) workflow whose webhook `hook` feeds `after` nodes; its hook URL path."""
    nodes = [{"id": "hook", "type": "webhook", "config": {"method": "POST", **config}}]
    nodes += after or [{"id": "out", "type": "output", "config": {"value": "{{ input }}"}}]
    edges = [{"id": f"e_{n['id']}", "source": "hook", "target": n["id"]} for n in nodes[1:]]
    workflow = services.workflow_create(owner=user, source={"nodes": nodes, "edges": edges})
    assert workflow.valid, workflow.errors
    if active:
        triggers.workflow_activate(user=user, workflow_id=workflow.pk)
    return f"/hooks/{Trigger.objects.get(workflow=workflow).token}/"


def runs() -> int:
    return WorkflowRun.objects.count()


def test_a_webhook_starts_a_run_with_the_request_as_its_data(user, server):
    path = hooked(user)
    response = httpx.post(
        f"{server}{path}?tag=a&tag=b&one=1",
        json={"order": 7},
        headers={"X-Source": "shop", "Cookie": "sessionid=x", "Authorization": "Bearer y"},
    )
    assert response.status_code == 202, response.text
    run_id = response.json()["run"]
    wait_for(lambda: finished(run_id), timeout=30)
    run = WorkflowRun.objects.get(pk=run_id)
    assert (run.status, run.trigger, run.trigger_node) == ("succeeded", "webhook", "hook")
    data = NodeRun.objects.get(run=run, node_id="hook").output
    assert data["method"] == "POST"
    assert data["query"] == {"tag": ["a", "b"], "one": "1"}
    assert data["body"] == {"order": 7}
    assert data["headers"]["x-source"] == "shop"
    assert "cookie" not in data["headers"] and "authorization" not in data["headers"]
    assert run.outputs == {"out": data}


def test_form_and_text_bodies_arrive_as_fields_and_text(user, server):
    path = hooked(user)
    form = httpx.post(f"{server}{path}", data={"a": "1", "b": "two"})
    text = httpx.post(
        f"{server}{path}", content=b"plain words", headers={"Content-Type": "text/plain"}
    )
    for response, body in ((form, {"a": "1", "b": "two"}), (text, "plain words")):
        run_id = response.json()["run"]
        wait_for(lambda run_id=run_id: finished(run_id), timeout=30)
        assert NodeRun.objects.get(run_id=run_id, node_id="hook").output["body"] == body


def test_a_sync_webhook_answers_with_the_outputs_and_the_status_the_workflow_sets(user, server):
    after = [
        {"id": "result", "type": "output", "config": {"value": "{{ input.body.n * 2 }}"}},
        {"id": "status_code", "type": "output", "config": {"value": 201}},
    ]
    path = hooked(user, response="sync", after=after)
    response = httpx.post(f"{server}{path}", json={"n": 21}, timeout=30)
    assert response.status_code == 201, response.text
    assert response.json() == {"result": 42, "status_code": 201}


def test_a_sync_webhook_whose_run_outlasts_its_timeout_answers_202_with_the_run(user, server):
    after = [{"id": "wait", "type": "delay", "config": {"seconds": 3}}]
    path = hooked(user, response="sync", sync_timeout_s=0.5, after=after)
    response = httpx.post(f"{server}{path}", json={}, timeout=30)
    assert response.status_code == 202
    run_id = response.json()["run"]
    assert WorkflowRun.objects.filter(pk=run_id, trigger="webhook").exists()


def sign(body: bytes, key: str = SECRET) -> str:
    return "sha256=" + hmac.new(key.encode(), body, hashlib.sha256).hexdigest()


def test_a_bad_signature_is_401_and_starts_nothing(user, server):
    path = hooked(user, secret="hook_key", signature_header="X-Hub-Signature-256")
    body = b'{"ok": true}'
    headers = {"Content-Type": "application/json"}
    for signature in (None, sign(body, "wrong-key"), sign(b"other body")):
        sent = headers | ({"X-Hub-Signature-256": signature} if signature else {})
        response = httpx.post(f"{server}{path}", content=body, headers=sent)
        assert response.status_code == 401
        assert response.json()["errors"][0]["code"] == "bad_signature"
    assert runs() == 0
    good = httpx.post(
        f"{server}{path}", content=body, headers=headers | {"X-Hub-Signature-256": sign(body)}
    )
    assert good.status_code == 202
    assert runs() == 1


def test_a_repeated_idempotency_key_starts_one_run(user, server):
    path = hooked(user)

    async def send_all() -> list[httpx.Response]:
        async with httpx.AsyncClient(base_url=server, timeout=30) as client:
            return await asyncio.gather(
                *(
                    client.post(path, json={"i": i}, headers={"Idempotency-Key": "k-1"})
                    for i in range(10)
                )
            )

    answers = asyncio.run(send_all())
    assert {response.status_code for response in answers} == {202}
    assert len({response.json()["run"] for response in answers}) == 1
    assert runs() == 1


def test_100_concurrent_requests_with_distinct_keys_start_100_runs(user, server):
    path = hooked(user, rate_per_min=1000)

    async def send_all() -> list[httpx.Response]:
        limits = httpx.Limits(max_connections=100)
        async with httpx.AsyncClient(base_url=server, timeout=60, limits=limits) as client:
            return await asyncio.gather(
                *(
                    client.post(path, json={"i": i}, headers={"Idempotency-Key": f"k{i}"})
                    for i in range(100)
                )
            )

    answers = asyncio.run(send_all())
    assert [response.status_code for response in answers] == [202] * 100
    assert len({response.json()["run"] for response in answers}) == 100
    assert WorkflowRun.objects.filter(trigger="webhook").count() == 100


def test_an_oversized_body_is_413_and_starts_nothing(user, server):
    path = hooked(user, max_body_bytes=100)
    response = httpx.post(f"{server}{path}", content=b"x" * 101)
    assert response.status_code == 413
    assert response.json()["errors"][0]["code"] == "body_too_large"
    assert httpx.post(f"{server}{path}", content=b"x" * 100).status_code == 202
    assert runs() == 1


def test_over_the_rate_the_webhook_answers_429_with_retry_after(user, server):
    path = hooked(user, rate_per_min=3)
    codes = [httpx.post(f"{server}{path}", json={}).status_code for _ in range(3)]
    refused = httpx.post(f"{server}{path}", json={})
    assert codes == [202, 202, 202]
    assert refused.status_code == 429
    assert 1 <= int(refused.headers["Retry-After"]) <= 60
    assert runs() == 3


def test_unknown_tokens_and_inactive_workflows_are_404_with_nothing_revealed(user, server):
    inactive = hooked(user, active=False)
    unknown = "/hooks/" + "A" * 43 + "/"
    for path in (inactive, unknown, "/hooks/not a token/"):
        response = httpx.post(f"{server}{path}", json={})
        assert response.status_code == 404
        assert response.json() == {"errors": [{"code": "not_found", "message": "not found"}]}
    assert runs() == 0


def test_the_wrong_method_is_405_naming_the_right_one(user, server):
    path = hooked(user)
    response = httpx.get(f"{server}{path}")
    assert response.status_code == 405
    assert response.headers["Allow"] == "POST"
    assert runs() == 0


def test_a_bad_json_body_is_400(user, server):
    path = hooked(user)
    response = httpx.post(
        f"{server}{path}", content=b"{nope", headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 400
    assert response.json()["errors"][0]["message"].startswith("the body is not JSON")
    assert runs() == 0


def test_a_multipart_body_is_415(user, server):
    path = hooked(user)
    response = httpx.post(f"{server}{path}", files={"f": ("a.txt", b"hello")})
    assert response.status_code == 415
    assert response.json()["errors"][0]["code"] == "unsupported_media_type"
    assert runs() == 0
