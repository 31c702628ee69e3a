"""An llm node's conversation memory (`config.memory`) lasts as long as its run, not its worker:
a run parked between loop iterations (an approval, or `POST /api/runs/{id}/pause/`; its saved
state keeps the memory) and resumed by another worker, and a run whose worker is killed with
kill -9 (the takeover reads the memory from the attempts' rows), go on with the messages
remembered so far. What the local LLM server received is the proof; the memory kept in rows
holds no secret's value."""

from __future__ import annotations

import pytest

from tests.llm_server import LLMServer, Reply
from tests.runtime.test_body_parking import parked
from tests.runtime.test_control_flow import parked as paused_run
from tests.runtime.test_llm_runs import KEY, secrets_key, store_secret  # noqa: F401 (fixture)
from tests.runtime.test_pause_on_demand import post
from tests.runtime.test_secrets_in_runs import everything_stored
from tests.runtime.test_subworkflows import ended
from tests.runtime.test_worker import start_run, workers  # noqa: F401 (fixture)
from tests.runtime.workers import WorkerProcess, wait_for
from workflows.models import NodeRun, RunEvent

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow, pytest.mark.timeout(120)]

API_KEY = "sk-memory-secret-0123456789"
ENV = {"SWITCHYARD_HTTP_ALLOW_PRIVATE": "1", "SWITCHYARD_SECRETS_KEY": KEY}


@pytest.fixture
def server():
    with LLMServer() as running:
        yield running


def talking(server: LLMServer, turns: int, *, ask: bool = False) -> dict:
    """A loop of `turns` iterations whose body asks the model `q <index>` with memory (and,
    with `ask`, then waits for an approval)."""
    config = {
        "model": "test-model",
        "base_url": server.url,
        "api_key_secret": "llm_key",
        "prompt": "q {{ loop.index }}",
        "memory": {"messages": 10},
    }
    nodes = [
        {"id": "turns", "type": "loop", "config": {"mode": "count", "count": turns}},
        {"id": "talk", "type": "llm", "parent": "turns", "config": config},
    ]
    edges = []
    if ask:
        nodes.append({"id": "ask", "type": "approval", "parent": "turns", "config": {}})
        edges.append({"id": "e1", "source": "talk", "target": "ask"})
    return {"version": 1, "name": "talks", "nodes": nodes, "edges": edges}


def sent(server: LLMServer) -> list[list[str]]:
    """The contents of the messages of each request the server received."""
    return [[m["content"] for m in r["json"]["messages"]] for r in server.requests]


def no_secret_stored(run_id: int) -> None:
    memories = NodeRun.objects.filter(run_id=run_id, memory__isnull=False)
    assert memories.exists()
    assert API_KEY not in everything_stored(run_id)


def test_an_approval_between_iterations_parks_and_another_worker_goes_on_remembering(
    user,
    server,
    secrets_key,  # noqa: F811
    workers,  # noqa: F811
):
    server.reply(Reply(chunks=[f"a0 {API_KEY}"]), Reply(text="a1"))  # the model says the key
    first = workers(**ENV)
    store_secret(user, "llm_key", API_KEY)
    run = start_run(user, talking(server, 2, ask=True))
    waiting = parked(run.pk, waiting=1)
    assert [m["content"] for m in waiting.state["memory"]["talk"]] == ["q 0", "a0 ***"]
    first.kill()  # nothing of the first worker's memory survives but what is stored
    workers(**ENV)
    url = f"/api/runs/{run.pk}/nodes/ask/approve/"
    assert post(user, url, {"approved": True}).status_code == 200
    asks = NodeRun.objects.filter(run_id=run.pk, node_id="ask", iteration="turns[1]")
    wait_for(lambda: asks.filter(status="waiting").exists(), timeout=30)
    parked(run.pk, waiting=1)
    assert post(user, url, {"approved": True}).status_code == 200
    run = ended(run.pk)
    assert run.status == "succeeded", run.error
    # the second iteration's call sends the first's exchange, its secret redacted as stored
    assert sent(server) == [["q 0"], ["q 0", "a0 ***", "q 1"]]
    no_secret_stored(run.pk)


def test_a_run_paused_on_demand_between_iterations_resumes_elsewhere_with_the_memory(
    user,
    server,
    secrets_key,  # noqa: F811
    workers,  # noqa: F811
):
    # the first answer takes a second: time to ask for the pause while it streams
    server.reply(Reply(chunks=["a", "0"], delay_s=0.5), Reply(text="a1"), Reply(text="a2"))
    first = workers(**ENV)
    store_secret(user, "llm_key", API_KEY)
    run = start_run(user, talking(server, 3))
    assert server.stream_started.wait(30)
    response = post(user, f"/api/runs/{run.pk}/pause/")
    assert response.status_code == 200, response.content
    paused = paused_run(run.pk)
    assert len(server.requests) == 1  # the running call finished, no new iteration started
    assert [m["content"] for m in paused.state["memory"]["talk"]] == ["q 0", "a0"]
    first.kill()
    workers(**ENV)
    assert post(user, f"/api/runs/{run.pk}/resume/").status_code == 200
    run = ended(run.pk)
    assert run.status == "succeeded", run.error
    assert sent(server) == [["q 0"], ["q 0", "a0", "q 1"], ["q 0", "a0", "q 1", "a1", "q 2"]]
    no_secret_stored(run.pk)


def stream_of(run_id: int, iteration: str) -> str:
    events = RunEvent.objects.filter(run_id=run_id, type="node.stream").order_by("seq")
    return "".join(e.payload["text"] for e in events if e.payload.get("iteration") == iteration)


def test_a_worker_killed_after_an_iteration_leaves_the_memory_to_the_takeover(
    user,
    server,
    secrets_key,  # noqa: F811
):
    server.reply(
        Reply(text="a0"),
        Reply(chunks=["slow "] * 400, delay_s=0.05),  # 20 s: the worker dies long before
        Reply(text="a1"),
    )
    first = WorkerProcess(**ENV)
    second = None
    try:
        store_secret(user, "llm_key", API_KEY)
        run = start_run(user, talking(server, 2))
        wait_for(lambda: stream_of(run.pk, "turns[1]"), timeout=30)
        first.kill()  # kill -9 in the second iteration's call: only rows are left
        assert server.disconnected.wait(10)
        second = WorkerProcess(**ENV)
        run = ended(run.pk)
    finally:
        first.kill()
        if second is not None:
            second.kill()
    assert run.status == "succeeded", run.error
    # the takeover's call sends the first iteration's exchange, once, and not the lost answer
    assert sent(server) == [["q 0"], ["q 0", "a0", "q 1"], ["q 0", "a0", "q 1"]]
    talk = NodeRun.objects.filter(run_id=run.pk, node_id="talk", iteration="turns[1]")
    assert sorted((r.attempt, r.status) for r in talk) == [(1, "failed"), (2, "succeeded")]
    # each row keeps what its attempt said (not the whole memory again)
    assert [m["content"] for m in talk.get(attempt=2).memory] == ["q 1", "a1"]
    no_secret_stored(run.pk)
