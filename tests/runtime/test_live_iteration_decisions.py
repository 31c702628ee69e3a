"""Decisions inside a loop or map body while the run runs (SPEC §8: a waiting node waits
alone): an approval in an iteration (`iteration: "m[1]"`) decided while a branch beside the
map still runs is applied at once by the worker holding the run, as at top level; one decided
while its container still runs other items waits until the container parks, then applies."""

from __future__ import annotations

import pytest

from tests.runtime.conftest import logged_in
from tests.runtime.test_body_parking import approve, rows
from tests.runtime.test_control_flow import finished, status_of
from tests.runtime.test_worker import start_run, workers  # noqa: F401 (fixture)
from tests.runtime.workers import wait_for
from workflows.models import NodeRun, RunEvent, WorkflowRun

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow, pytest.mark.timeout(120)]

MAP_BESIDE_SLOW = {
    "version": 1,
    "name": "ask per item beside a slow branch",
    "nodes": [
        {"id": "before", "type": "transform", "config": {"output": [1, 2, 3]}},
        {"id": "m", "type": "map", "config": {"items": "{{ before }}", "max_concurrency": 3}},
        {"id": "work", "type": "transform", "parent": "m", "config": {"output": "{{ input }}"}},
        {"id": "ask", "type": "approval", "parent": "m", "config": {"prompt": "item?"}},
        {"id": "yes", "type": "transform", "parent": "m", "config": {"output": "{{ work * 10 }}"}},
        {"id": "total", "type": "transform", "config": {"output": "{{ m }}"}},
        {"id": "slow", "type": "delay", "config": {"seconds": 6}},
    ],
    "edges": [
        {"id": "e1", "source": "before", "target": "m"},
        {"id": "e2", "source": "work", "target": "ask"},
        {"id": "e3", "source": "ask", "source_handle": "approved", "target": "yes"},
        {"id": "e4", "source": "m", "target": "total"},
        {"id": "e5", "source": "before", "target": "slow"},
    ],
}


def waiting_asks(run_id: int) -> int:
    return NodeRun.objects.filter(run_id=run_id, node_id="ask", status="waiting").count()


def test_iteration_approvals_while_a_branch_runs_apply_at_once_and_the_run_never_pauses(
    user,
    workers,  # noqa: F811
):
    workers()
    run = start_run(user, MAP_BESIDE_SLOW)
    wait_for(lambda: waiting_asks(run.pk) == 3, timeout=30)
    assert status_of(run.pk) == "running"  # the slow branch goes on beside the map

    several = approve(user, run.pk, {"approved": True})
    assert several.status_code == 409
    (error,) = several.json()["errors"]
    assert error["code"] == "iteration_required" and "m[0], m[1], m[2]" in error["message"]
    unknown = approve(user, run.pk, {"approved": True, "iteration": "m[7]"})
    assert unknown.status_code == 409
    assert unknown.json()["errors"][0]["code"] == "node_state"

    response = approve(user, run.pk, {"approved": True, "data": {"ok": 1}, "iteration": "m[1]"})
    assert response.status_code == 200, response.content
    again = approve(user, run.pk, {"approved": False, "iteration": "m[1]"})
    assert again.status_code == 409
    assert again.json()["errors"][0]["code"] == "already_decided"
    wait_for(lambda: ("m[1]", 1, "succeeded") in rows(run.pk, "yes"), timeout=30)
    assert [status for _, _, status in rows(run.pk, "slow")] == ["running"]  # applied at once
    assert status_of(run.pk) == "running"

    # decided one right after the other: the second may come while the map runs m[0] on
    assert approve(user, run.pk, {"approved": False, "iteration": "m[0]"}).status_code == 200
    assert approve(user, run.pk, {"approved": True, "iteration": "m[2]"}).status_code == 200
    wait_for(lambda: waiting_asks(run.pk) == 0, timeout=30)
    assert [status for _, _, status in rows(run.pk, "slow")] == ["running"]

    done = finished(run.pk)
    assert done.status == "succeeded", done.error
    assert done.live_decisions is None
    assert NodeRun.objects.get(run=done, node_id="total").output == [None, 20, 30]
    assert rows(run.pk, "m") == [("", 1, "succeeded")]  # one attempt, continued
    assert rows(run.pk, "work") == [(f"m[{i}]", 1, "succeeded") for i in range(3)]
    decided = {
        row.iteration: (row.output["approved"], row.output["by"])
        for row in NodeRun.objects.filter(run=done, node_id="ask")
    }
    name = user.get_username()
    assert decided == {"m[0]": (False, name), "m[1]": (True, name), "m[2]": (True, name)}
    statuses = RunEvent.objects.filter(run_id=run.pk, type="run.status")
    assert [e.payload["status"] for e in statuses.order_by("seq")] == ["running", "succeeded"]
    assert not RunEvent.objects.filter(run_id=run.pk, payload__level="warning").exists()
    assert WorkflowRun.objects.get(pk=run.pk).state is None


DEBUG_BESIDE_SLOW = {
    "version": 1,
    "name": "breakpoints in a body beside a slow branch",
    "nodes": [
        {"id": "m", "type": "map", "config": {"items": [1, 2]}},
        {
            "id": "inner",
            "type": "transform",
            "parent": "m",
            "breakpoint": True,
            "config": {"output": "{{ loop.item * 2 }}"},
        },
        {"id": "slow", "type": "delay", "config": {"seconds": 6}},
    ],
    "edges": [],
}


def test_breakpoints_in_iterations_are_passed_or_skipped_while_a_branch_runs(user, workers):  # noqa: F811
    workers()
    client = logged_in(user)
    workflow = client.post("/api/workflows/", DEBUG_BESIDE_SLOW, content_type="application/json")
    created = client.post(
        f"/api/workflows/{workflow.json()['id']}/runs/",
        {"mode": "debug"},
        content_type="application/json",
    )
    run_id = created.json()["id"]

    def at_breakpoints() -> bool:
        found = NodeRun.objects.filter(run_id=run_id, node_id="inner", status="waiting")
        return found.count() == 2

    wait_for(at_breakpoints, timeout=30)
    assert status_of(run_id) == "running"  # the slow branch runs on

    def retry(body: dict):
        url = f"/api/runs/{run_id}/nodes/inner/retry/"
        return client.post(url, body, content_type="application/json")

    several = retry({})
    assert several.status_code == 409
    assert several.json()["errors"][0]["code"] == "iteration_required"
    assert retry({"iteration": "m[0]"}).status_code == 200
    again = retry({"iteration": "m[0]"})
    assert again.status_code == 409, again.content
    wait_for(lambda: ("m[0]", 1, "succeeded") in rows(run_id, "inner"), timeout=30)
    assert [status for _, _, status in rows(run_id, "slow")] == ["running"]  # applied at once
    assert retry({"iteration": "m[1]", "action": "skip"}).status_code == 200

    done = finished(run_id)
    assert done.status == "succeeded", done.error
    assert rows(run_id, "inner") == [("m[0]", 1, "succeeded"), ("m[1]", 0, "skipped")]
    assert NodeRun.objects.get(run_id=run_id, node_id="m").output == [2, None]
    statuses = RunEvent.objects.filter(run_id=run_id, type="run.status").order_by("seq")
    assert [e.payload["status"] for e in statuses] == ["running", "succeeded"]
