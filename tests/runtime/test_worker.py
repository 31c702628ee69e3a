"""Runs execute in real `runworker` processes over the real PostgreSQL and Redis: dispatch,
live events, crash takeover, the sweep, and many runs over two workers."""

from __future__ import annotations

import asyncio
import time

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator
from django.db.models import Count

from switchyard.asgi import application
from tests.runtime.conftest import session_headers
from tests.runtime.workers import WorkerProcess, wait_for
from workflows import dispatch, services
from workflows.models import NodeRun, RunEvent, WorkflowRun

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


def chain(*delays: float, name: str = "delays") -> dict:
    nodes = [{"id": "a", "type": "transform", "config": {"output": {"v": 1}}}]
    edges = []
    previous = "a"
    for i, seconds in enumerate(delays, start=1):
        nodes.append({"id": f"d{i}", "type": "delay", "config": {"seconds": seconds}})
        edges.append({"id": f"e{i}", "source": previous, "target": f"d{i}"})
        previous = f"d{i}"
    nodes.append({"id": "out", "type": "output", "config": {"value": "{{ a.v }}"}})
    edges.append({"id": "e_out", "source": previous, "target": "out"})
    return {"version": 1, "name": name, "nodes": nodes, "edges": edges}


def wide(width: int) -> dict:
    """A start node, `width` parallel transforms, and a merge: width + 2 nodes."""
    nodes = [{"id": "s", "type": "transform", "config": {"output": 1}}]
    nodes += [
        {"id": f"p{i}", "type": "transform", "config": {"output": f"{{{{ s + {i} }}}}"}}
        for i in range(width)
    ]
    nodes.append({"id": "m", "type": "merge", "config": {"mode": "list"}})
    edges = [{"id": f"a{i}", "source": "s", "target": f"p{i}"} for i in range(width)]
    edges += [{"id": f"b{i}", "source": f"p{i}", "target": "m"} for i in range(width)]
    return {"version": 1, "name": "wide", "nodes": nodes, "edges": edges}


@pytest.fixture
def workers():
    started: list[WorkerProcess] = []

    def start(**env: str) -> WorkerProcess:
        worker = WorkerProcess(**env)
        started.append(worker)
        return worker

    yield start
    for worker in started:
        worker.kill()


def start_run(user, document: dict) -> WorkflowRun:
    workflow = services.workflow_create(owner=user, source=document)
    return services.run_create(user=user, workflow_id=workflow.pk)


def run_status(run_id: int) -> str:
    return WorkflowRun.objects.values_list("status", flat=True).get(pk=run_id)


def finished(run_id: int) -> bool:
    return run_status(run_id) in {"succeeded", "failed", "cancelled"}


def persisted_events(run_id: int) -> list[dict]:
    return list(RunEvent.objects.filter(run_id=run_id).order_by("seq").values("seq", "type"))


async def collect_until_done(communicator, limit: int = 500) -> list[dict]:
    events = []
    for _ in range(limit):
        event = await communicator.receive_json_from(timeout=20)
        events.append(event)
        if event["type"] == "run.status" and event["status"] in ("succeeded", "failed"):
            return events
    raise AssertionError("the run never finished")


async def test_run_started_over_the_api_streams_every_event_from_a_worker(user, client, workers):
    await sync_to_async(workers)()
    await sync_to_async(client.force_login)(user)
    workflow = await sync_to_async(services.workflow_create)(owner=user, source=chain(0.1, 0.1))
    response = await sync_to_async(client.post)(
        f"/api/workflows/{workflow.pk}/runs/", {"inputs": {}}, content_type="application/json"
    )
    assert response.status_code == 201, response.content
    run_id = response.json()["id"]
    communicator = WebsocketCommunicator(
        application, f"/ws/runs/{run_id}/", headers=await session_headers(user)
    )
    assert (await communicator.connect(timeout=5))[0]
    events = await collect_until_done(communicator)
    await communicator.disconnect()

    assert [e["seq"] for e in events] == list(range(1, len(events) + 1))
    assert events[-1]["status"] == "succeeded"
    finals = {e["node"]: e["status"] for e in events if e["type"] == "node.status"}
    assert finals == {"a": "succeeded", "d1": "succeeded", "d2": "succeeded", "out": "succeeded"}
    order = [e["node"] for e in events if e["type"] == "node.status" and e["status"] == "running"]
    assert order == ["a", "d1", "d2", "out"]
    stored = await sync_to_async(persisted_events)(run_id)
    assert [(e["seq"], e["type"]) for e in events] == [(s["seq"], s["type"]) for s in stored]
    run = await WorkflowRun.objects.aget(pk=run_id)
    assert run.status == "succeeded"
    assert run.outputs == {"out": 1}
    assert run.lease_owner == ""


async def test_reconnecting_with_after_mid_run_ends_with_the_full_event_list(user, workers):
    await sync_to_async(workers)()
    run = await sync_to_async(start_run)(user, chain(0.3, 0.3, 0.3))
    headers = await session_headers(user)
    first = WebsocketCommunicator(application, f"/ws/runs/{run.pk}/", headers=headers)
    assert (await first.connect(timeout=5))[0]
    seen = [await first.receive_json_from(timeout=20) for _ in range(4)]
    await first.disconnect()
    await asyncio.sleep(0.4)  # events go on while the client is away
    k = seen[-1]["seq"]
    second = WebsocketCommunicator(application, f"/ws/runs/{run.pk}/?after={k}", headers=headers)
    assert (await second.connect(timeout=5))[0]
    seen += await collect_until_done(second)
    await second.disconnect()
    stored = await sync_to_async(persisted_events)(run.pk)
    assert [e["seq"] for e in seen] == [e["seq"] for e in stored]
    assert [e["seq"] for e in seen] == list(range(1, len(stored) + 1))


def test_a_killed_worker_s_run_is_taken_over_without_rerunning_finished_nodes(user, workers):
    first = workers()
    run = start_run(user, chain(0.2, 3.0, 0.2))
    wait_for(
        lambda: NodeRun.objects.filter(run=run, node_id="d2", status="running").exists(),
        timeout=20,
    )
    first.kill()  # kill -9: no lease released, d2 in flight
    workers()
    wait_for(lambda: finished(run.pk), timeout=40)

    assert run_status(run.pk) == "succeeded"
    rows = {(r.node_id, r.attempt): r.status for r in NodeRun.objects.filter(run=run, iteration="")}
    assert rows[("a", 1)] == rows[("d1", 1)] == rows[("d3", 1)] == rows[("out", 1)] == "succeeded"
    for node in ("a", "d1", "d3", "out"):
        assert NodeRun.objects.filter(run=run, node_id=node).count() == 1
    assert rows[("d2", 2)] == "succeeded"
    assert rows[("d2", 1)] == "failed"  # the attempt the dead worker was running
    seqs = list(RunEvent.objects.filter(run=run).order_by("seq").values_list("seq", flat=True))
    assert seqs == list(range(1, len(seqs) + 1))


def test_the_sweep_picks_up_a_run_whose_wakeup_was_lost(user, workers, monkeypatch):
    workers()
    monkeypatch.setattr(dispatch, "on_run_queued", [])  # the wake-up message never goes out
    run = start_run(user, chain(0.05))
    wait_for(lambda: finished(run.pk), timeout=20)
    assert run_status(run.pk) == "succeeded"


def test_fifty_runs_over_two_workers_all_complete_without_gaps_or_repeats(user, workers):
    workflow = services.workflow_create(owner=user, source=wide(18))
    runs = [services.run_create(user=user, workflow_id=workflow.pk) for _ in range(50)]
    workers()
    workers()
    ids = [r.pk for r in runs]
    wait_for(
        lambda: WorkflowRun.objects.filter(pk__in=ids, status="succeeded").count() == 50,
        timeout=120,
        interval=0.2,
    )
    for run_id in ids:
        seqs = list(
            RunEvent.objects.filter(run_id=run_id).order_by("seq").values_list("seq", flat=True)
        )
        assert seqs == list(range(1, len(seqs) + 1))
    per_node = (
        NodeRun.objects.filter(run_id__in=ids)
        .values("run_id", "node_id")
        .annotate(n=Count("id"))
        .order_by()
    )
    assert len(per_node) == 50 * 20
    assert {row["n"] for row in per_node} == {1}
    assert set(NodeRun.objects.filter(run_id__in=ids).values_list("status", flat=True)) == {
        "succeeded"
    }


def test_cancel_stops_a_running_run_within_a_second(user, client, workers):
    workers()
    client.force_login(user)
    run = start_run(user, chain(10.0))
    wait_for(lambda: NodeRun.objects.filter(run=run, node_id="d1", status="running").exists())
    asked = time.monotonic()
    response = client.post(f"/api/runs/{run.pk}/cancel/")
    assert response.status_code == 200, response.content
    wait_for(lambda: finished(run.pk), timeout=10)
    assert time.monotonic() - asked < 1.5
    assert run_status(run.pk) == "cancelled"
    statuses = dict(NodeRun.objects.filter(run=run).values_list("node_id", "status"))
    assert statuses["a"] == "succeeded"
    assert statuses["d1"] == "cancelled"
    assert statuses["out"] == "cancelled"


def test_cancel_of_a_queued_run_applies_at_once_without_a_worker(user, client):
    client.force_login(user)
    run = start_run(user, chain(0.1))
    response = client.post(f"/api/runs/{run.pk}/cancel/")
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "cancelled"
    assert set(NodeRun.objects.filter(run=run).values_list("status", flat=True)) == {"cancelled"}
    assert response.json()["started_at"] is None  # it never ran
    statuses = RunEvent.objects.filter(run=run, type="run.status").values_list("payload", flat=True)
    assert [payload["status"] for payload in statuses] == ["cancelled"]  # queued -> cancelled
    again = client.post(f"/api/runs/{run.pk}/cancel/")
    assert again.status_code == 409
    assert "already ended cancelled" in again.json()["errors"][0]["message"]


def test_large_output_is_previewed_in_events_and_whole_over_http(user, client, workers, settings):
    workers(SWITCHYARD_EVENT_PREVIEW_BYTES="200")
    client.force_login(user)
    big = {
        "version": 1,
        "name": "big",
        "nodes": [
            {"id": "a", "type": "transform", "config": {"output": {"rows": list(range(2000))}}}
        ],
        "edges": [],
    }
    run = start_run(user, big)
    wait_for(lambda: finished(run.pk), timeout=20)
    output_event = RunEvent.objects.get(run=run, type="node.output")
    assert output_event.payload["output"]["truncated"] is True
    assert len(str(output_event.payload["output"]["preview"])) <= 400
    response = client.get(f"/api/runs/{run.pk}/nodes/a/output/")
    assert response.status_code == 200
    assert response.json()["output"] == {"rows": list(range(2000))}
    assert client.get(f"/api/runs/{run.pk}/nodes/ghost/output/").status_code == 404


def test_an_output_over_the_hard_limit_fails_the_node_with_a_clear_error(user, workers):
    workers(SWITCHYARD_MAX_OUTPUT_BYTES="1000")
    doc = {
        "version": 1,
        "name": "huge",
        "nodes": [{"id": "a", "type": "transform", "config": {"output": "x" * 5000}}],
        "edges": [],
    }
    run = start_run(user, doc)
    wait_for(lambda: finished(run.pk), timeout=20)
    row = NodeRun.objects.get(run=run, node_id="a")
    assert row.status == "failed"
    assert row.error["type"] == "output_too_large"
    assert "over the 1,000-byte limit" in row.error["message"]
    assert row.output is None


def test_a_run_with_a_silent_running_node_is_reported_stalled(user, client, workers):
    workers(SWITCHYARD_STALL_S="0.8", SWITCHYARD_LEASE_S="0.9")
    client.force_login(user)
    run = start_run(user, chain(4.0))
    stalled = wait_for(lambda: client.get(f"/api/runs/{run.pk}/").json()["stalled"], timeout=10)
    assert stalled is True
    warning = RunEvent.objects.get(run=run, type="node.log")
    assert warning.payload["level"] == "warning"
    assert "no event for" in warning.payload["message"]
    assert "d1" in warning.payload["message"]
    wait_for(lambda: finished(run.pk), timeout=20)
    assert client.get(f"/api/runs/{run.pk}/").json()["stalled"] is False


@pytest.mark.slow
def test_a_worker_runs_at_most_its_node_slots_at_once_across_runs(user, workers):
    workers(SWITCHYARD_WORKER_MAX_NODES="2")
    document = {
        "version": 1,
        "name": "three naps",
        "nodes": [{"id": f"nap{k}", "type": "delay", "config": {"seconds": 0.4}} for k in range(3)],
        "edges": [],
    }
    runs = [start_run(user, document) for _ in range(2)]
    wait_for(lambda: all(finished(run.pk) for run in runs), timeout=30)
    assert {run_status(run.pk) for run in runs} == {"succeeded"}
    spans = [
        (row.started_at, row.finished_at)
        for row in NodeRun.objects.filter(run__in=runs, status="succeeded")
    ]
    assert len(spans) == 6
    most = max(sum(1 for s, f in spans if s <= at < f) for at, _ in spans)
    assert most == 2  # six naps, two at a time, whichever run they belong to
    queued = RunEvent.objects.filter(run__in=runs, type="node.status", payload__status="queued")
    assert queued.count() >= 4
