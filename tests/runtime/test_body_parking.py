"""Waiting inside a loop or map body, across real worker processes: an approval in a map's
body parks the map and the run (no worker held) until each iteration is decided over the API,
through a restart of every worker; a sub-workflow in a body parks the parent on its paused
child the same way, and the child's end resumes that iteration. Nothing finished runs again."""

from __future__ import annotations

import pytest
from django.test import Client
from django.utils import timezone

from tests.runtime.conftest import logged_in
from tests.runtime.test_subworkflows import asking_child, ended, save
from tests.runtime.test_worker import start_run, workers  # noqa: F401 (fixture)
from tests.runtime.workers import wait_for
from workflows.models import NodeRun, RunEvent, WorkflowRun

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow, pytest.mark.timeout(120)]

MAP_ASKS = {
    "version": 1,
    "name": "ask per item",
    "nodes": [
        {"id": "before", "type": "transform", "config": {"output": [1, 2, 3]}},
        {"id": "m", "type": "map", "config": {"items": "{{ before }}", "max_concurrency": 3}},
        {"id": "work", "type": "transform", "parent": "m", "config": {"output": "{{ input }}"}},
        {"id": "ask", "type": "approval", "parent": "m", "config": {"prompt": "item?"}},
        {"id": "yes", "type": "transform", "parent": "m", "config": {"output": "{{ work * 10 }}"}},
        {"id": "total", "type": "transform", "config": {"output": "{{ m }}"}},
    ],
    "edges": [
        {"id": "e1", "source": "before", "target": "m"},
        {"id": "e2", "source": "work", "target": "ask"},
        {"id": "e3", "source": "ask", "source_handle": "approved", "target": "yes"},
        {"id": "e4", "source": "m", "target": "total"},
    ],
}


def api(user) -> Client:
    return logged_in(user)


def approve(user, run_id: int, body: dict):
    url = f"/api/runs/{run_id}/nodes/ask/approve/"
    return api(user).post(url, body, content_type="application/json")


def parked(run_id: int, waiting: int) -> WorkflowRun:
    """The run paused, let go by its worker, with `waiting` approval rows still waiting."""

    def ready() -> bool:
        run = WorkflowRun.objects.get(pk=run_id)
        rows = NodeRun.objects.filter(run_id=run_id, node_id="ask", status="waiting")
        return run.status == "paused" and run.lease_owner == "" and rows.count() == waiting

    wait_for(ready, timeout=60)
    return WorkflowRun.objects.get(pk=run_id)


def rows(run_id: int, node_id: str) -> list[tuple[str, int, str]]:
    found = NodeRun.objects.filter(run_id=run_id, node_id=node_id).order_by("iteration", "attempt")
    return [(row.iteration, row.attempt, row.status) for row in found]


def test_each_iteration_is_approved_on_its_own_across_a_restart_of_every_worker(user, workers):  # noqa: F811
    first = workers()
    run = start_run(user, MAP_ASKS)
    run = parked(run.pk, waiting=3)
    assert run.wake_at is None and run.finished_at is None
    report = api(user).get(f"/api/runs/{run.pk}/").json()
    (container,) = [r for r in report["node_runs"] if r["node_id"] == "m"]
    assert container["status"] == "waiting"
    assert container["wait"]["kind"] == "body"
    assert container["wait"]["data"] == {"iterations": ["m[0]", "m[1]", "m[2]"]}
    asks = [
        (r["iteration"], r["wait"]["kind"]) for r in report["node_runs"] if r["node_id"] == "ask"
    ]
    assert sorted(asks) == [("m[0]", "approval"), ("m[1]", "approval"), ("m[2]", "approval")]

    response = approve(user, run.pk, {"approved": True})
    assert response.status_code == 409
    (error,) = response.json()["errors"]
    assert error["code"] == "iteration_required"
    assert "m[0], m[1], m[2]" in error["message"]
    assert approve(user, run.pk, {"approved": True, "iteration": "m[7]"}).status_code == 409

    first.kill()  # only durable state can resume it
    workers()
    response = approve(user, run.pk, {"approved": True, "data": {"ok": 1}, "iteration": "m[1]"})
    assert response.status_code == 200, response.content
    run = parked(run.pk, waiting=2)
    assert rows(run.pk, "yes") == [("m[1]", 1, "succeeded")]
    again = approve(user, run.pk, {"approved": False, "iteration": "m[1]"})
    assert again.status_code == 409  # decided once: the second decision changes nothing

    assert approve(user, run.pk, {"approved": False, "iteration": "m[0]"}).status_code == 200
    run = parked(run.pk, waiting=1)
    # the one left needs no iteration named
    assert approve(user, run.pk, {"approved": True}).status_code == 200
    run = ended(run.pk)
    assert run.status == "succeeded", run.error
    total = NodeRun.objects.get(run=run, node_id="total")
    assert total.output == [None, 20, 30]  # m[0] rejected: its `yes` was skipped
    assert rows(run.pk, "before") == [("", 1, "succeeded")]
    assert rows(run.pk, "m") == [("", 1, "succeeded")]  # the map's one attempt, continued
    assert rows(run.pk, "work") == [
        ("m[0]", 1, "succeeded"),
        ("m[1]", 1, "succeeded"),
        ("m[2]", 1, "succeeded"),
    ]
    assert rows(run.pk, "yes") == [
        ("m[0]", 0, "skipped"),
        ("m[1]", 1, "succeeded"),
        ("m[2]", 1, "succeeded"),
    ]
    decided = {
        row.iteration: (row.output["approved"], row.output["by"])
        for row in NodeRun.objects.filter(run=run, node_id="ask")
    }
    name = user.get_username()
    assert decided == {"m[0]": (False, name), "m[1]": (True, name), "m[2]": (True, name)}


def test_cancelling_a_run_waiting_in_a_body_cancels_every_waiting_iteration(user, workers):  # noqa: F811
    workers()
    run = parked(start_run(user, MAP_ASKS).pk, waiting=3)
    assert api(user).post(f"/api/runs/{run.pk}/cancel/").status_code == 200
    run = ended(run.pk)
    assert run.status == "cancelled"
    assert {status for _, _, status in rows(run.pk, "ask")} == {"cancelled"}
    assert rows(run.pk, "m") == [("", 1, "cancelled")]
    assert not NodeRun.objects.filter(run=run, status="waiting").exists()


def test_a_subworkflow_in_a_map_body_parks_the_parent_until_each_child_ends(user, workers):  # noqa: F811
    workers()
    child_id = save(user, asking_child())
    document = {
        "version": 1,
        "name": "map of children",
        "nodes": [
            {"id": "m", "type": "map", "config": {"items": [1, 2], "max_concurrency": 2}},
            {
                "id": "call",
                "type": "subworkflow",
                "parent": "m",
                "config": {"workflow": child_id, "inputs": {"n": "{{ loop.item }}"}},
            },
        ],
        "edges": [],
    }
    run = start_run(user, document)

    def all_parked() -> bool:
        kids = list(WorkflowRun.objects.filter(parent_run_id=run.pk))
        parent = WorkflowRun.objects.get(pk=run.pk)
        return (
            len(kids) == 2
            and all(kid.status == "paused" and kid.lease_owner == "" for kid in kids)
            and parent.status == "paused"
            and parent.lease_owner == ""  # the parent holds no worker while children wait
        )

    wait_for(all_parked, timeout=60)
    parent = WorkflowRun.objects.get(pk=run.pk)
    assert parent.state["nodes"]["m"]["wait"]["data"] == {"iterations": ["m[0]", "m[1]"]}
    kids = {kid.parent_iteration: kid for kid in WorkflowRun.objects.filter(parent_run_id=run.pk)}
    assert approve(user, kids["m[1]"].pk, {"approved": True}).status_code == 200
    assert ended(kids["m[1]"].pk).status == "succeeded"

    def second_done() -> bool:
        parent = WorkflowRun.objects.get(pk=run.pk)
        done = NodeRun.objects.filter(run=run, node_id="call", iteration="m[1]", status="succeeded")
        return parent.status == "paused" and parent.lease_owner == "" and done.exists()

    wait_for(second_done, timeout=60)  # woken, continued m[1], parked again on m[0]
    assert approve(user, kids["m[0]"].pk, {"approved": True}).status_code == 200
    run = ended(run.pk)
    assert run.status == "succeeded", run.error
    assert NodeRun.objects.get(run=run, node_id="m").output == [{"doubled": 2}, {"doubled": 4}]
    assert WorkflowRun.objects.filter(parent_run_id=run.pk).count() == 2  # no child started twice
    assert rows(run.pk, "call") == [("m[0]", 1, "succeeded"), ("m[1]", 1, "succeeded")]


def test_several_iterations_decided_before_a_worker_resumes_apply_together(user, workers):  # noqa: F811
    first = workers()
    run = parked(start_run(user, MAP_ASKS).pk, waiting=3)
    first.kill()  # no worker: the run stays paused (due) after the first decision
    assert approve(user, run.pk, {"approved": True, "iteration": "m[2]"}).status_code == 200
    due = WorkflowRun.objects.get(pk=run.pk)
    assert due.status == "paused" and due.wake_at is not None  # paused until a worker resumes
    assert approve(user, run.pk, {"approved": False, "iteration": "m[0]"}).status_code == 200
    again = approve(user, run.pk, {"approved": True, "iteration": "m[2]"})
    assert again.status_code == 409
    assert again.json()["errors"][0]["code"] == "already_decided"
    # one waits undecided: named without its iteration, it is the one meant
    assert approve(user, run.pk, {"approved": True}).status_code == 200
    assert approve(user, run.pk, {"approved": True}).status_code == 409  # nothing left
    workers()
    run = ended(run.pk)
    assert run.status == "succeeded", run.error
    assert NodeRun.objects.get(run=run, node_id="total").output == [None, 20, 30]
    assert rows(run.pk, "m") == [("", 1, "succeeded")]


def test_a_decision_the_saved_state_no_longer_allows_is_dropped_with_a_warning(user, workers):  # noqa: F811
    """A state edited by hand (the API checks every decision when it is made): the worker
    does not crash on it again and again; the run says what it dropped and parks again."""
    workers()
    run = parked(start_run(user, MAP_ASKS).pk, waiting=3)
    state = {**run.state, "approve": [{"node": "ask", "iteration": "m[9]", "approved": True}]}
    WorkflowRun.objects.filter(pk=run.pk).update(state=state, wake_at=timezone.now())
    from workflows import dispatch

    dispatch.run_queued(run.pk)

    def warned() -> bool:
        return RunEvent.objects.filter(run_id=run.pk, payload__level="warning").exists()

    wait_for(warned, timeout=30)
    run = parked(run.pk, waiting=3)
    (warning,) = RunEvent.objects.filter(run=run, payload__level="warning")
    assert warning.payload["message"] == (
        "the decision on ask in m[9] was not applied: 'm has no iteration 9'"
    )


def test_a_long_delay_in_a_map_body_parks_the_run_and_fires_once_after_a_restart(user, workers):  # noqa: F811
    document = {
        "version": 1,
        "name": "sleepy items",
        "nodes": [
            {"id": "m", "type": "map", "config": {"items": [1, 2], "max_concurrency": 2}},
            {"id": "nap", "type": "delay", "parent": "m", "config": {"seconds": 3}},
            {
                "id": "v",
                "type": "transform",
                "parent": "m",
                "config": {"output": "{{ loop.item }}"},
            },
        ],
        "edges": [{"id": "e1", "source": "nap", "target": "v"}],
    }
    first = workers(SWITCHYARD_DURABLE_DELAY_S="1")
    run = start_run(user, document)

    def parked_on_time() -> bool:
        current = WorkflowRun.objects.get(pk=run.pk)
        return current.status == "paused" and current.lease_owner == "" and current.wake_at

    wait_for(parked_on_time, timeout=30)  # no worker is held while the items sleep
    waiting = WorkflowRun.objects.get(pk=run.pk)
    assert waiting.state["nodes"]["m"]["wait"]["data"] == {"iterations": ["m[0]", "m[1]"]}
    first.kill()
    workers(SWITCHYARD_DURABLE_DELAY_S="1")
    run = ended(run.pk)
    assert run.status == "succeeded", run.error
    assert NodeRun.objects.get(run=run, node_id="m").output == [1, 2]
    assert rows(run.pk, "nap") == [("m[0]", 1, "succeeded"), ("m[1]", 1, "succeeded")]
    nap = NodeRun.objects.get(run=run, node_id="nap", iteration="m[0]")
    assert nap.duration_ms >= 2900  # its one attempt spans the parked time


def test_breakpoints_in_a_body_are_passed_per_iteration_in_a_debug_run(user, workers):  # noqa: F811
    workers()
    document = {
        "version": 1,
        "name": "debug a body",
        "nodes": [
            {"id": "m", "type": "map", "config": {"items": [1, 2]}},
            {
                "id": "inner",
                "type": "transform",
                "parent": "m",
                "breakpoint": True,
                "config": {"output": "{{ loop.item * 2 }}"},
            },
        ],
        "edges": [],
    }
    client = api(user)
    workflow = client.post("/api/workflows/", document, content_type="application/json").json()
    created = client.post(
        f"/api/workflows/{workflow['id']}/runs/", {"mode": "debug"}, content_type="application/json"
    )
    run_id = created.json()["id"]

    def at_breakpoints(count: int) -> bool:
        run = WorkflowRun.objects.get(pk=run_id)
        rows = NodeRun.objects.filter(run_id=run_id, node_id="inner", status="waiting")
        return run.status == "paused" and run.lease_owner == "" and rows.count() == count

    wait_for(lambda: at_breakpoints(2), timeout=30)
    resume = client.post(f"/api/runs/{run_id}/resume/", {}, content_type="application/json")
    assert resume.status_code == 409
    (error,) = resume.json()["errors"]
    assert error["code"] == "node_required"
    assert "inner in m[0], inner in m[1]" in error["message"]
    step = client.post(
        f"/api/runs/{run_id}/nodes/inner/retry/",
        {"iteration": "m[1]"},
        content_type="application/json",
    )
    assert step.status_code == 200, step.content
    wait_for(lambda: at_breakpoints(1), timeout=30)
    # the breakpoint's row became the attempt that ran: no stale `waiting` row is left
    assert rows(run_id, "inner") == [("m[0]", 0, "waiting"), ("m[1]", 1, "succeeded")]
    # one left: resume needs no node named
    assert (
        client.post(f"/api/runs/{run_id}/resume/", {}, content_type="application/json").status_code
        == 200
    )
    run = ended(run_id)
    assert run.status == "succeeded", run.error
    assert NodeRun.objects.get(run=run, node_id="m").output == [2, 4]
