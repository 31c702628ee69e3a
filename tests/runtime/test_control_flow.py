"""Control flow across real worker processes: an approval survives a restart of every worker
and is applied exactly once, a durable delay wakes a parked run once, and a worker killed in
the middle of a map leaves no finished item to be run again."""

from __future__ import annotations

import threading

import pytest
from django.db import connection
from django.test import Client

from tests.runtime.conftest import logged_in
from tests.runtime.test_worker import start_run, workers  # noqa: F401 (fixture)
from tests.runtime.workers import wait_for
from workflows.models import NodeRun, RunEvent, WorkflowRun

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow, pytest.mark.timeout(120)]

APPROVAL = {
    "version": 1,
    "name": "approve",
    "nodes": [
        {"id": "before", "type": "transform", "config": {"output": {"v": 1}}},
        {"id": "ask", "type": "approval", "config": {"prompt": "go?"}},
        {"id": "yes", "type": "transform", "config": {"output": "{{ ask.data }}"}},
        {"id": "no", "type": "transform", "config": {"output": "no"}},
    ],
    "edges": [
        {"id": "e1", "source": "before", "target": "ask"},
        {"id": "e2", "source": "ask", "source_handle": "approved", "target": "yes"},
        {"id": "e3", "source": "ask", "source_handle": "rejected", "target": "no"},
    ],
}


def status_of(run_id: int) -> str:
    return WorkflowRun.objects.values_list("status", flat=True).get(pk=run_id)


def rows(run_id: int, node_id: str) -> list[NodeRun]:
    return list(NodeRun.objects.filter(run_id=run_id, node_id=node_id).order_by("attempt"))


def api_client(user) -> Client:
    return logged_in(user)


def approve(user, run_id: int, body: dict):
    client = api_client(user)
    url = f"/api/runs/{run_id}/nodes/ask/approve/"
    return client.post(url, body, content_type="application/json")


def test_approval_survives_a_restart_of_every_worker_and_continues_from_there(user, workers):  # noqa: F811
    first = workers()
    run = start_run(user, APPROVAL)
    parked(run.pk)
    report = api_client(user).get(f"/api/runs/{run.pk}/").json()
    (waiting,) = [r for r in report["node_runs"] if r["node_id"] == "ask"]
    assert waiting["status"] == "waiting" and waiting["wait"]["kind"] == "approval"
    first.kill()
    workers()
    response = approve(user, run.pk, {"approved": True, "data": {"ok": 1}})
    assert response.status_code == 200, response.content
    wait_for(lambda: status_of(run.pk) == "succeeded")
    assert len(rows(run.pk, "before")) == 1  # nothing before the approval ran again
    (ask,) = rows(run.pk, "ask")
    assert ask.output["approved"] is True and ask.output["by"] == user.get_username()
    assert rows(run.pk, "yes")[0].output == {"ok": 1}
    assert rows(run.pk, "no")[0].status == "skipped"
    again = approve(user, run.pk, {"approved": False})
    assert again.status_code == 409


def test_hundred_concurrent_approvals_apply_exactly_once(user, workers):  # noqa: F811
    worker = workers()
    run = start_run(user, APPROVAL)
    parked(run.pk)
    worker.stop()
    codes: list[int] = []
    barrier = threading.Barrier(10)

    def approver(k: int) -> None:
        try:
            barrier.wait()
            for j in range(10):
                approved = (k + j) % 2 == 0
                codes.append(approve(user, run.pk, {"approved": approved}).status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=approver, args=(k,)) for k in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(codes) == 100
    assert codes.count(200) == 1 and codes.count(409) == 99
    workers()
    wait_for(lambda: status_of(run.pk) == "succeeded")
    decided = [n for n in ("yes", "no") if rows(run.pk, n)[0].status == "succeeded"]
    assert len(decided) == 1


def test_a_long_delay_survives_a_worker_restart_and_fires_once(user, workers):  # noqa: F811
    document = {
        "version": 1,
        "name": "sleepy",
        "nodes": [
            {"id": "a", "type": "transform", "config": {"output": 1}},
            {"id": "nap", "type": "delay", "config": {"seconds": 3}},
            {"id": "b", "type": "output", "config": {"value": "{{ a }}"}},
        ],
        "edges": [
            {"id": "e1", "source": "a", "target": "nap"},
            {"id": "e2", "source": "nap", "target": "b"},
        ],
    }
    first = workers(SWITCHYARD_DURABLE_DELAY_S="1")
    run = start_run(user, document)
    waiting = parked(run.pk)
    assert waiting.wake_at is not None and waiting.lease_owner == ""  # no worker is held
    first.kill()
    workers(SWITCHYARD_DURABLE_DELAY_S="1")
    wait_for(lambda: status_of(run.pk) == "succeeded")
    done = WorkflowRun.objects.get(pk=run.pk)
    assert done.outputs == {"b": 1}
    (nap,) = rows(run.pk, "nap")  # one attempt: it parked, then fired once
    assert nap.status == "succeeded"
    assert nap.duration_ms >= 2900  # the parked wait is its duration
    changes = {
        e.payload["status"]: e.at
        for e in RunEvent.objects.filter(run=run, type="node.status", payload__node="nap")
    }
    assert list(changes) == ["running", "waiting", "succeeded"]
    assert (changes["succeeded"] - changes["running"]).total_seconds() >= 3
    assert len(rows(run.pk, "a")) == 1 and len(rows(run.pk, "b")) == 1


def test_kill_9_mid_map_finishes_elsewhere_without_rerunning_finished_items(user, workers):  # noqa: F811
    document = {
        "version": 1,
        "name": "map20",
        "nodes": [
            {"id": "m", "type": "map", "config": {"items": list(range(20)), "max_concurrency": 2}},
            {"id": "nap", "type": "delay", "parent": "m", "config": {"seconds": 0.15}},
            {
                "id": "sq",
                "type": "transform",
                "parent": "m",
                "config": {"output": "{{ loop.item * loop.item }}"},
            },
        ],
        "edges": [{"id": "e1", "source": "nap", "target": "sq"}],
    }
    first = workers()
    run = start_run(user, document)
    wait_for(lambda: NodeRun.objects.filter(run=run, node_id="sq", status="succeeded").count() >= 5)
    first.kill()
    finished = {
        r.iteration: (r.attempt, r.started_at)
        for r in NodeRun.objects.filter(run=run, node_id="sq", status="succeeded")
    }
    assert 5 <= len(finished) < 20
    workers()
    wait_for(lambda: status_of(run.pk) in {"succeeded", "failed"}, timeout=60)
    assert status_of(run.pk) == "succeeded"
    assert rows(run.pk, "m")[-1].output == [i * i for i in range(20)]
    for iteration, (attempt, started) in finished.items():
        again = NodeRun.objects.filter(run=run, node_id="sq", iteration=iteration)
        assert [(r.attempt, r.started_at) for r in again] == [(attempt, started)], iteration
    assert NodeRun.objects.filter(run=run, node_id="sq", status="succeeded").count() == 20


# ---- on_failure: pause -------------------------------------------------------------------

PAUSING = {
    "version": 1,
    "name": "pausing",
    "settings": {"on_failure": "pause"},
    "nodes": [
        {"id": "a", "type": "transform", "config": {"output": {"v": 2}}},
        {"id": "calc", "type": "transform", "config": {"output": "{{ a.nope }}"}},
        {"id": "after", "type": "output", "config": {"value": "{{ input }}"}},
        {"id": "side", "type": "transform", "config": {"output": "side"}},
    ],
    "edges": [
        {"id": "e1", "source": "a", "target": "calc"},
        {"id": "e2", "source": "calc", "target": "after"},
    ],
}


def api(user) -> Client:
    return logged_in(user)


def retry(user, run_id: int, node_id: str, body: dict):
    url = f"/api/runs/{run_id}/nodes/{node_id}/retry/"
    return api(user).post(url, body, content_type="application/json")


def parked(run_id: int) -> WorkflowRun:
    """The run once paused and parked: its status comes with its events, its saved state and
    wake-up time a moment later, when the worker lets it go."""
    wait_for(lambda: status_of(run_id) == "paused")
    wait_for(lambda: WorkflowRun.objects.get(pk=run_id).lease_owner == "")
    return WorkflowRun.objects.get(pk=run_id)


def finished(run_id: int) -> WorkflowRun:
    wait_for(
        lambda: (
            status_of(run_id) in {"succeeded", "failed", "cancelled"}
            and WorkflowRun.objects.get(pk=run_id).lease_owner == ""
        )
    )
    return WorkflowRun.objects.get(pk=run_id)


def test_pause_then_retry_with_an_edited_config_edits_the_run_not_the_workflow(user, workers):  # noqa: F811
    workers()
    run = start_run(user, PAUSING)
    paused = parked(run.pk)
    (calc,) = rows(run.pk, "calc")
    assert calc.status == "waiting" and "a.nope: no such key" in calc.error["message"]
    assert rows(run.pk, "side")[0].status == "succeeded"  # independent branches went on
    assert rows(run.pk, "after") == []
    assert paused.finished_at is None

    refused = retry(user, run.pk, "calc", {"config": {"output": "{{ nowhere }}"}})
    assert refused.status_code == 400
    assert refused.json()["errors"][0]["code"] == "bad_reference"
    assert status_of(run.pk) == "paused"

    response = retry(user, run.pk, "calc", {"config": {"output": "{{ a.v * 10 }}"}})
    assert response.status_code == 200, response.content
    done = finished(run.pk)
    assert done.status == "succeeded" and done.outputs == {"after": 20}
    assert [(r.attempt, r.status, r.reason) for r in rows(run.pk, "calc")] == [
        (1, "failed", "retried by the user"),  # the parked attempt, once retried
        (2, "succeeded", ""),
    ]
    assert len(rows(run.pk, "a")) == 1 and len(rows(run.pk, "side")) == 1  # nothing re-ran
    (edit,) = done.document["edits"]
    assert edit["node"] == "calc" and edit["by"] == user.get_username()
    assert edit["before"] == {"output": "{{ a.nope }}"}
    calc_node = next(n for n in done.document["nodes"] if n["id"] == "calc")
    assert calc_node["config"] == {"output": "{{ a.v * 10 }}"}
    saved = done.workflow
    saved.refresh_from_db()
    assert saved.revision == 1  # the saved workflow did not change
    report = api(user).get(f"/api/runs/{run.pk}/").json()
    assert report["edits"][0]["config"] == {"output": "{{ a.v * 10 }}"}


def test_retry_with_save_also_changes_the_saved_workflow(user, workers):  # noqa: F811
    workers()
    run = start_run(user, PAUSING)
    parked(run.pk)
    body = {"config": {"output": "{{ a.v }}"}, "save": True}
    assert retry(user, run.pk, "calc", body).status_code == 200
    assert finished(run.pk).status == "succeeded"
    document = api(user).get(f"/api/workflows/{run.workflow_id}/").json()
    assert document["revision"] == 2
    calc = next(n for n in document["nodes"] if n["id"] == "calc")
    assert calc["config"] == {"output": "{{ a.v }}"}


def test_pause_then_retry_unchanged_fails_again_and_parks_again(user, workers):  # noqa: F811
    workers()
    run = start_run(user, PAUSING)
    parked(run.pk)
    assert retry(user, run.pk, "calc", {}).status_code == 200
    wait_for(lambda: len(rows(run.pk, "calc")) == 2)
    parked(run.pk)
    assert [(r.attempt, r.status) for r in rows(run.pk, "calc")] == [
        (1, "failed"),
        (2, "waiting"),
    ]


def test_pause_then_skip_skips_the_node_and_its_branch(user, workers):  # noqa: F811
    workers()
    run = start_run(user, PAUSING)
    parked(run.pk)
    response = retry(user, run.pk, "calc", {"action": "skip"})
    assert response.status_code == 200, response.content
    done = finished(run.pk)
    assert done.status == "succeeded"
    assert rows(run.pk, "calc")[-1].status == "skipped"
    assert rows(run.pk, "calc")[-1].reason == "skipped by the user"
    assert rows(run.pk, "after")[0].status == "skipped"
    assert retry(user, run.pk, "calc", {}).status_code == 409  # nothing waits any more


def test_pause_then_cancel_ends_the_run_cancelled(user, workers):  # noqa: F811
    workers()
    run = start_run(user, PAUSING)
    parked(run.pk)
    response = api(user).post(f"/api/runs/{run.pk}/cancel/")
    assert response.status_code == 200, response.content
    done = finished(run.pk)
    assert done.status == "cancelled" and done.finished_at is not None
    assert rows(run.pk, "calc")[-1].status == "cancelled"
    assert rows(run.pk, "after")[0].status == "cancelled"


def test_an_edited_config_survives_a_worker_killed_during_the_retry(user, workers):  # noqa: F811
    document = {
        "version": 1,
        "name": "slow fix",
        "settings": {"on_failure": "pause"},
        "nodes": [
            {"id": "a", "type": "transform", "config": {"output": {"s": 2}}},
            {"id": "nap", "type": "delay", "config": {"seconds": "{{ a.nope }}"}},
            {"id": "done", "type": "output", "config": {"value": "ok"}},
        ],
        "edges": [
            {"id": "e1", "source": "a", "target": "nap"},
            {"id": "e2", "source": "nap", "target": "done"},
        ],
    }
    first = workers()
    run = start_run(user, document)
    parked(run.pk)
    assert retry(user, run.pk, "nap", {"config": {"seconds": "{{ a.s }}"}}).status_code == 200
    wait_for(lambda: any(r.status == "running" for r in rows(run.pk, "nap")))
    first.kill()
    workers()
    done = finished(run.pk)
    assert done.status == "succeeded", done.error  # the takeover ran the edited config
    assert [r.status for r in rows(run.pk, "nap")] == ["failed", "failed", "succeeded"]
    assert rows(run.pk, "nap")[1].error["type"] == "worker_lost"


def test_an_approval_waiting_beside_a_running_branch_survives_a_takeover(user, workers):  # noqa: F811
    """The run is still running (a slow branch) while `ask` waits; the worker dies; the one
    that takes the run over from its rows still knows what `ask` waits for."""
    document = {
        **APPROVAL,
        "nodes": [*APPROVAL["nodes"], {"id": "slow", "type": "delay", "config": {"seconds": 2}}],
        "edges": [*APPROVAL["edges"], {"id": "e4", "source": "before", "target": "slow"}],
    }
    first = workers()
    run = start_run(user, document)
    wait_for(lambda: [r.status for r in rows(run.pk, "ask")] == ["waiting"])
    assert rows(run.pk, "ask")[0].wait["kind"] == "approval"
    assert status_of(run.pk) == "running"
    first.kill()
    workers()
    wait_for(lambda: status_of(run.pk) == "paused", timeout=30)
    response = approve(user, run.pk, {"approved": True, "data": {"ok": 2}})
    assert response.status_code == 200, response.content
    wait_for(lambda: status_of(run.pk) == "succeeded")
    assert [r.status for r in rows(run.pk, "slow")] == ["failed", "succeeded"]  # in flight twice
    assert len(rows(run.pk, "before")) == 1
    assert rows(run.pk, "yes")[0].output == {"ok": 2}
