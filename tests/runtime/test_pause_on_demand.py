"""Pause on demand through the API and a worker (SPEC §8 Control): `POST /api/runs/{id}/pause/`
lets the running nodes finish, starts nothing new and parks the run `paused`; `resume`
continues from there; a run that is not running answers 409 `run_state`."""

from __future__ import annotations

import pytest

from tests.runtime.conftest import logged_in
from tests.runtime.test_control_flow import finished, parked, rows, status_of
from tests.runtime.test_worker import start_run, workers  # noqa: F401 (fixture)
from tests.runtime.workers import wait_for
from workflows.models import RunEvent, WorkflowRun

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow, pytest.mark.timeout(120)]

SLOW = {
    "version": 1,
    "name": "pausable",
    "nodes": [
        {"id": "a", "type": "transform", "config": {"output": 1}},
        {"id": "slow", "type": "delay", "config": {"seconds": 1.5}},
        {"id": "after", "type": "transform", "config": {"output": "{{ a + 1 }}"}},
        {"id": "end", "type": "output", "config": {"value": "{{ after }}"}},
    ],
    "edges": [
        {"id": "e1", "source": "a", "target": "slow"},
        {"id": "e2", "source": "slow", "target": "after"},
        {"id": "e3", "source": "after", "target": "end"},
    ],
}


def post(user, path: str, body: dict | None = None):
    return logged_in(user).post(path, body or {}, content_type="application/json")


def test_pause_lets_the_running_node_finish_starts_nothing_and_resume_continues(user, workers):  # noqa: F811
    workers()
    run = start_run(user, SLOW)
    wait_for(lambda: [r.status for r in rows(run.pk, "slow")] == ["running"])
    response = post(user, f"/api/runs/{run.pk}/pause/")
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "running"  # until its worker parks it
    again = post(user, f"/api/runs/{run.pk}/pause/")
    assert again.status_code == 409
    assert again.json()["errors"][0]["code"] == "run_state"

    paused = parked(run.pk)
    assert [r.status for r in rows(run.pk, "slow")] == ["succeeded"]  # it finished
    assert rows(run.pk, "after") == []  # nothing new started
    assert paused.finished_at is None and paused.pause_request["by"] == user.get_username()
    events = list(RunEvent.objects.filter(run_id=run.pk).order_by("seq").values("type", "payload"))
    messages = [str(e["payload"]) for e in events if e["type"] == "node.log"]
    assert any(f"pause requested by {user.get_username()}" in m for m in messages), messages
    runs = [e["payload"].get("status") for e in events if e["type"] == "run.status"]
    assert runs[-1] == "paused"

    resumed = post(user, f"/api/runs/{run.pk}/resume/")
    assert resumed.status_code == 200, resumed.content
    done = finished(run.pk)
    assert done.status == "succeeded" and done.outputs == {"end": 2}
    assert len(rows(run.pk, "a")) == 1 and len(rows(run.pk, "slow")) == 1  # nothing ran twice
    assert done.pause_request is None
    assert post(user, f"/api/runs/{run.pk}/pause/").status_code == 409  # ended


def test_pausing_a_run_that_is_not_running_is_409_naming_its_state(user):
    run = start_run(user, SLOW)  # no worker: it stays queued
    response = post(user, f"/api/runs/{run.pk}/pause/")
    assert response.status_code == 409
    (error,) = response.json()["errors"]
    assert error["code"] == "run_state"
    assert "queued, not running" in error["message"]
    assert WorkflowRun.objects.get(pk=run.pk).pause_request is None
    assert status_of(run.pk) == "queued"


BESIDE = {
    "version": 1,
    "name": "approve beside a slow branch",
    "nodes": [
        {"id": "a", "type": "transform", "config": {"output": 1}},
        {"id": "ask", "type": "approval", "config": {"prompt": "go?"}},
        {"id": "yes", "type": "transform", "config": {"output": "{{ ask.data }}"}},
        {"id": "slow", "type": "delay", "config": {"seconds": 3}},
        {"id": "c", "type": "transform", "config": {"output": 3}},
    ],
    "edges": [
        {"id": "e1", "source": "a", "target": "ask"},
        {"id": "e2", "source": "ask", "source_handle": "approved", "target": "yes"},
        {"id": "e3", "source": "a", "target": "slow"},
        {"id": "e4", "source": "slow", "target": "c"},
    ],
}


def test_an_approval_decided_while_another_branch_runs_applies_at_once(user, workers):  # noqa: F811
    workers()
    run = start_run(user, BESIDE)
    wait_for(lambda: [r.status for r in rows(run.pk, "ask")] == ["waiting"])
    assert status_of(run.pk) == "running"  # the slow branch goes on beside the approval
    path = f"/api/runs/{run.pk}/nodes/ask/approve/"
    response = post(user, path, {"approved": True, "data": {"ok": 1}})
    assert response.status_code == 200, response.content
    again = post(user, path, {"approved": False})
    assert again.status_code == 409
    assert again.json()["errors"][0]["code"] == "already_decided"
    wait_for(lambda: [r.status for r in rows(run.pk, "yes")] == ["succeeded"])
    assert [r.status for r in rows(run.pk, "slow")] == ["running"]  # applied before it ended
    assert status_of(run.pk) == "running"
    done = finished(run.pk)
    assert done.status == "succeeded" and done.live_decisions is None
    assert rows(run.pk, "yes")[0].output == {"ok": 1}
    (ask,) = rows(run.pk, "ask")
    assert ask.output["by"] == user.get_username()
    runs = list(
        RunEvent.objects.filter(run_id=run.pk, type="run.status").values_list("payload", flat=True)
    )
    assert [p["status"] for p in runs] == ["running", "succeeded"]  # it never paused


def test_deciding_a_node_that_does_not_wait_while_running_is_409(user, workers):  # noqa: F811
    workers()
    run = start_run(user, BESIDE)
    wait_for(lambda: [r.status for r in rows(run.pk, "ask")] == ["waiting"])
    response = post(user, f"/api/runs/{run.pk}/nodes/slow/approve/", {"approved": True})
    assert response.status_code == 409
    assert response.json()["errors"][0]["code"] == "node_state"
    missing = post(user, f"/api/runs/{run.pk}/nodes/nope/approve/", {"approved": True})
    assert "has no node nope" in missing.json()["errors"][0]["message"]


def test_a_pending_node_changed_while_paused_runs_with_the_new_config(user, workers):  # noqa: F811
    workers()
    run = start_run(user, SLOW)
    wait_for(lambda: [r.status for r in rows(run.pk, "slow")] == ["running"])
    path = f"/api/runs/{run.pk}/nodes/after/config/"
    early = post(user, path, {"config": {"output": 5}})
    assert early.status_code == 409 and "not paused" in early.json()["errors"][0]["message"]
    assert post(user, f"/api/runs/{run.pk}/pause/").status_code == 200
    parked(run.pk)

    bad = post(user, path, {"config": {"output": "{{ nowhere }}"}})
    assert bad.status_code == 400
    assert bad.json()["errors"][0]["code"] == "bad_reference"
    started = post(user, f"/api/runs/{run.pk}/nodes/slow/config/", {"config": {"seconds": 0}})
    assert started.status_code == 409
    assert started.json()["errors"][0]["code"] == "node_state"
    response = post(user, path, {"config": {"output": "{{ a + 41 }}"}})
    assert response.status_code == 200, response.content
    (edit,) = response.json()["edits"]
    assert edit["node"] == "after" and edit["by"] == user.get_username() and edit["at"]

    assert post(user, f"/api/runs/{run.pk}/resume/").status_code == 200
    done = finished(run.pk)
    assert done.status == "succeeded" and done.outputs == {"end": 42}
    assert done.workflow.revision == 1  # the saved workflow did not change
