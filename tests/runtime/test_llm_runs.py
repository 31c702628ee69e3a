"""`llm` nodes in real runs: a worker process calls the local OpenAI-compatible server with the
API key its owner stored (encrypted) under Secrets; the answer streams to a websocket client
as `node.stream` events with no gap, `?after=` replays exactly the rest, the text equals the
output, the tokens land on the attempt's row, the run read and the run list, and the key is
in no row, event or API answer."""

from __future__ import annotations

import json

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator
from cryptography.fernet import Fernet

from switchyard.asgi import application
from tests.llm_server import LLMServer, Reply
from tests.runtime.conftest import logged_in, session_headers
from tests.runtime.test_secrets_in_runs import everything_stored
from tests.runtime.test_subworkflows import ended
from tests.runtime.test_worker import (
    collect_until_done,
    persisted_events,
    workers,  # noqa: F401 (fixture)
)
from tests.runtime.workers import WorkerProcess, wait_for
from workflows import services
from workflows.models import NodeRun, RunEvent

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow, pytest.mark.timeout(120)]

API_KEY = "sk-live-0123456789abcdef"
KEY = Fernet.generate_key().decode()


@pytest.fixture
def server():
    with LLMServer() as running:
        yield running


@pytest.fixture
def secrets_key(settings):
    settings.SWITCHYARD_SECRETS_KEY = [KEY]
    return KEY


def asking(server: LLMServer, **settings) -> dict:
    config = {
        "model": "test-model",
        "base_url": server.url,
        "api_key_secret": "llm_key",
        "prompt": "Write {{ inputs.n }} words",
    }
    return {
        "version": 1,
        "name": "asks a model",
        "inputs": {"n": {"type": "integer", "default": 400}},
        "settings": settings,
        "nodes": [
            {"id": "ask", "type": "llm", "config": config},
            {"id": "out", "type": "output", "config": {"value": "{{ ask.text }}"}},
        ],
        "edges": [{"id": "e1", "source": "ask", "target": "out"}],
    }


def store_secret(user, name: str, value: str) -> None:
    response = logged_in(user).post(
        "/api/secrets/", {"name": name, "value": value}, content_type="application/json"
    )
    assert response.status_code in (200, 201), response.content


async def test_streamed_tokens_reach_a_websocket_in_order_and_after_replays_the_rest(
    user,
    server,
    secrets_key,
    workers,  # noqa: F811
):
    words = [f"w{i} " for i in range(400)]
    server.reply(Reply(chunks=words, delay_s=0.004, usage=(25, 400)))
    await sync_to_async(workers)(SWITCHYARD_HTTP_ALLOW_PRIVATE="1", SWITCHYARD_SECRETS_KEY=KEY)
    await sync_to_async(store_secret)(user, "llm_key", API_KEY)
    workflow = await sync_to_async(services.workflow_create)(owner=user, source=asking(server))
    assert workflow.valid, workflow.errors
    run = await sync_to_async(services.run_create)(user=user, workflow_id=workflow.pk)
    headers = await session_headers(user)
    first = WebsocketCommunicator(application, f"/ws/runs/{run.pk}/", headers=headers)
    assert (await first.connect(timeout=5))[0]
    seen = []
    while sum(e["type"] == "node.stream" for e in seen) < 2:
        seen.append(await first.receive_json_from(timeout=20))
    await first.disconnect()
    after = seen[-1]["seq"]
    second = WebsocketCommunicator(
        application, f"/ws/runs/{run.pk}/?after={after}", headers=headers
    )
    assert (await second.connect(timeout=5))[0]
    seen += await collect_until_done(second)
    await second.disconnect()

    stored = await sync_to_async(persisted_events)(run.pk)
    assert [e["seq"] for e in seen] == list(range(1, len(stored) + 1))
    assert [(e["seq"], e["type"]) for e in seen] == [(s["seq"], s["type"]) for s in stored]
    streamed = [e for e in seen if e["type"] == "node.stream"]
    assert "".join(e["text"] for e in streamed) == "".join(words)
    assert all(e["node"] == "ask" and e["attempt"] == 1 for e in streamed)
    assert len(streamed) <= 200
    assert seen[-1]["status"] == "succeeded"
    await sync_to_async(check_rows)(run.pk, user, "".join(words), server)


def check_rows(run_id: int, user, text: str, server: LLMServer) -> None:
    run = ended(run_id)
    assert run.outputs == {"out": text}
    row = NodeRun.objects.get(run_id=run_id, node_id="ask")
    assert row.usage == {"prompt_tokens": 25, "completion_tokens": 400, "model": "test-model"}
    assert server.requests[0]["headers"]["authorization"] == f"Bearer {API_KEY}"
    client = logged_in(user)
    body = client.get(f"/api/runs/{run_id}/").json()
    assert body["usage"]["total_tokens"] == 425
    assert body["node_runs"][0]["usage"]["completion_tokens"] == 400
    listed = client.get("/api/runs/").json()["results"]
    assert next(r for r in listed if r["id"] == run_id)["usage"]["prompt_tokens"] == 25
    shown = json.dumps(body) + client.get(f"/api/runs/{run_id}/events/").content.decode()
    assert API_KEY not in everything_stored(run_id) + shown


def test_a_shared_workflow_runs_with_its_owner_s_secret_and_shows_it_to_nobody(
    user,
    other_user,
    server,
    secrets_key,
    workers,  # noqa: F811
):
    workers(SWITCHYARD_HTTP_ALLOW_PRIVATE="1", SWITCHYARD_SECRETS_KEY=KEY)
    store_secret(user, "llm_key", API_KEY)
    store_secret(other_user, "llm_key", "sk-someone-else-999")
    workflow = services.workflow_create(owner=user, source=asking(server))
    services.workflow_share(user=user, workflow_id=workflow.pk, names=[other_user.username])
    run = ended(services.run_create(user=other_user, workflow_id=workflow.pk).pk)
    assert run.status == "succeeded", run.error
    assert server.requests[0]["headers"]["authorization"] == f"Bearer {API_KEY}"
    listed = logged_in(other_user).get("/api/secrets/").json()["secrets"]
    assert [(s["name"], s["value"]) for s in listed] == [("llm_key", "••••")]
    assert API_KEY not in everything_stored(run.pk)


def test_a_run_over_its_token_budget_fails_before_the_call(
    user,
    server,
    secrets_key,
    workers,  # noqa: F811
):
    workers(SWITCHYARD_HTTP_ALLOW_PRIVATE="1", SWITCHYARD_SECRETS_KEY=KEY)
    store_secret(user, "llm_key", API_KEY)
    workflow = services.workflow_create(owner=user, source=asking(server, max_tokens=3))
    run = ended(services.run_create(user=user, workflow_id=workflow.pk).pk)
    assert run.status == "failed"
    row = NodeRun.objects.get(run_id=run.pk, node_id="ask")
    assert row.error["type"] == "budget_exceeded"
    assert "settings.max_tokens" in row.error["message"]
    assert server.requests == []


def stream_text(run_id: int, attempt: int) -> str:
    events = RunEvent.objects.filter(run_id=run_id, type="node.stream").order_by("seq")
    return "".join(e.payload["text"] for e in events if e.payload["attempt"] == attempt)


def test_a_worker_killed_mid_stream_leaves_the_attempt_to_another_one(
    user,
    server,
    secrets_key,
):
    server.reply(
        Reply(chunks=["slow "] * 400, delay_s=0.05),  # 20 s: the worker dies long before
        Reply(text="the second attempt's whole answer", usage=(9, 6)),
    )
    env = {"SWITCHYARD_HTTP_ALLOW_PRIVATE": "1", "SWITCHYARD_SECRETS_KEY": KEY}
    first = WorkerProcess(**env)
    second = None
    try:
        store_secret(user, "llm_key", API_KEY)
        workflow = services.workflow_create(owner=user, source=asking(server))
        run = services.run_create(user=user, workflow_id=workflow.pk)
        wait_for(lambda: stream_text(run.pk, 1), timeout=30)
        first.kill()  # kill -9: no lease released, the HTTP connection dies with the process
        assert server.disconnected.wait(10)
        second = WorkerProcess(**env)
        run = ended(run.pk)
    finally:
        first.kill()
        if second is not None:
            second.kill()
    assert run.status == "succeeded", run.error
    assert run.outputs == {"out": "the second attempt's whole answer"}
    rows = {r.attempt: r for r in NodeRun.objects.filter(run_id=run.pk, node_id="ask")}
    assert sorted(rows) == [1, 2]
    assert rows[2].status == "succeeded"
    assert rows[2].usage == {"prompt_tokens": 9, "completion_tokens": 6, "model": "test-model"}
    assert stream_text(run.pk, 2) == "the second attempt's whole answer"
    assert set(stream_text(run.pk, 1).split()) == {"slow"}
    assert len(server.requests) == 2


def child_document(name: str, expression: str) -> dict:
    return {
        "version": 1,
        "name": name,
        "inputs": {"x": {"type": "integer", "default": 0}},
        "nodes": [{"id": "out", "type": "output", "config": {"value": expression}}],
        "edges": [],
    }


def test_an_agent_s_two_tool_calls_run_as_linked_child_runs(
    user,
    server,
    secrets_key,
    workers,  # noqa: F811
):
    workers(SWITCHYARD_HTTP_ALLOW_PRIVATE="1", SWITCHYARD_SECRETS_KEY=KEY)
    store_secret(user, "llm_key", API_KEY)
    double = services.workflow_create(
        owner=user, source=child_document("double", "{{ inputs.x * 2 }}")
    )
    square = services.workflow_create(
        owner=user, source=child_document("square", "{{ inputs.x ** 2 }}")
    )
    server.reply(
        Reply(
            tool_calls=[
                {"id": "a", "name": f"workflow_{double.pk}", "arguments": {"x": 21}},
                {"id": "b", "name": f"workflow_{square.pk}", "arguments": {"x": 9}},
            ]
        ),
        Reply(text="42 and 81"),
    )
    document = asking(server)
    document["nodes"][0]["config"]["tools"] = [double.pk, square.pk]
    workflow = services.workflow_create(owner=user, source=document)
    assert workflow.valid, workflow.errors
    run = ended(services.run_create(user=user, workflow_id=workflow.pk).pk)
    assert run.status == "succeeded", run.error
    assert run.outputs == {"out": "42 and 81"}
    body = logged_in(user).get(f"/api/runs/{run.pk}/").json()
    children = [(c["workflow"], c["node"], c["iteration"], c["status"]) for c in body["child_runs"]]
    assert children == [
        (double.pk, "ask", "ask[0]", "succeeded"),
        (square.pk, "ask", "ask[1]", "succeeded"),
    ]
    output = NodeRun.objects.get(run_id=run.pk, node_id="ask").output
    assert [call["output"] for call in output["tool_calls"]] == [{"out": 42}, {"out": 81}]
    tool_results = [m for m in server.requests[1]["json"]["messages"] if m["role"] == "tool"]
    assert [json.loads(m["content"]) for m in tool_results] == [{"out": 42}, {"out": 81}]
