"""Sub-workflow nodes across real worker processes: the child run's outputs become the node's
output, failures and the depth limit name the runs, the child is visible in the API, the
parent's cancellation reaches the child, a worker killed mid-child leaves one child that
another worker finishes without re-running what it had done, and a child that parks parks its
parent (no worker held) until the child's end resumes it."""

from __future__ import annotations

import pytest
from django.test import Client

from tests.runtime.conftest import logged_in
from tests.runtime.test_worker import workers  # noqa: F401 (fixture)
from tests.runtime.workers import wait_for
from workflows import services
from workflows.models import NodeRun, RunEvent, WorkflowRun

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow, pytest.mark.timeout(120)]

ENDED = {"succeeded", "failed", "cancelled"}


def child_document(**extra_nodes) -> dict:
    """Doubles its input `n` and records it as output `doubled`."""
    return {
        "version": 1,
        "name": "child",
        "inputs": {"n": {"type": "number", "default": 1}},
        "nodes": [
            {"id": "twice", "type": "transform", "config": {"output": "{{ inputs.n * 2 }}"}},
            {"id": "doubled", "type": "output", "config": {"value": "{{ twice }}"}},
        ],
        "edges": [{"id": "e1", "source": "twice", "target": "doubled"}],
    }


def parent_document(workflow_id, inputs=None, **node) -> dict:
    call = {
        "id": "call",
        "type": "subworkflow",
        "config": {"workflow": workflow_id, "inputs": inputs or {"n": "{{ first.n }}"}},
        **node,
    }
    return {
        "version": 1,
        "name": "parent",
        "nodes": [
            {"id": "first", "type": "transform", "config": {"output": {"n": 21}}},
            call,
            {"id": "result", "type": "output", "config": {"value": "{{ call }}"}},
        ],
        "edges": [
            {"id": "e1", "source": "first", "target": "call"},
            {"id": "e2", "source": "call", "target": "result"},
        ],
    }


def save(user, document: dict) -> int:
    return services.workflow_create(owner=user, source=document).pk


def start(user, document: dict) -> WorkflowRun:
    return services.run_create(user=user, workflow_id=save(user, document))


def ended(run_id: int) -> WorkflowRun:
    """The run once it ended and its worker recorded the end (outputs, lease released: the
    status itself is written earlier, with the run's last events)."""

    def done() -> bool:
        run = WorkflowRun.objects.get(pk=run_id)
        return run.status in ENDED and run.lease_owner == ""

    wait_for(done, timeout=60)
    return WorkflowRun.objects.get(pk=run_id)


def node_row(run_id: int, node_id: str) -> NodeRun:
    return NodeRun.objects.filter(run_id=run_id, node_id=node_id).order_by("-attempt").first()


def children(run_id: int) -> list[WorkflowRun]:
    return list(WorkflowRun.objects.filter(parent_run_id=run_id).order_by("pk"))


def test_child_run_outputs_become_the_node_output_and_the_child_is_in_the_api(user, workers):  # noqa: F811
    workers()
    child_id = save(user, child_document())
    run = ended(start(user, parent_document(child_id)).pk)
    assert run.status == "succeeded", run.error
    assert run.outputs == {"result": {"doubled": 42}}
    (child,) = children(run.pk)
    assert (child.workflow_id, child.trigger) == (child_id, "subworkflow")
    assert child.parent_node == "call"
    assert child.status == "succeeded" and child.inputs == {"n": 21}
    assert child.created_by == user and child.lease_owner == ""
    client = Client()
    client.force_login(user)
    body = client.get(f"/api/runs/{child.pk}/").json()
    assert (body["parent_run"], body["parent_node"]) == (run.pk, "call")
    assert body["parent_workflow"] == run.workflow_id
    assert body["trigger"] == "subworkflow"
    parent_body = client.get(f"/api/runs/{run.pk}/").json()
    assert parent_body["parent_workflow"] is None
    assert parent_body["child_runs"] == [
        {
            "id": child.pk,
            "workflow": child_id,
            "node": "call",
            "iteration": None,
            "attempt": 1,
            "status": "succeeded",
        }
    ]
    listed = client.get(f"/api/runs/?workflow={child_id}").json()["results"]
    assert [(r["id"], r["parent_run"]) for r in listed] == [(child.pk, run.pk)]


def test_a_failed_child_fails_the_node_naming_the_child_run(user, workers):  # noqa: F811
    workers()
    failing = save(
        user,
        {
            "version": 1,
            "name": "broken child",
            "inputs": {"n": {"type": "number", "default": 1}},
            "nodes": [{"id": "boom", "type": "error", "config": {"message": "disk full"}}],
            "edges": [],
        },
    )
    run = ended(start(user, parent_document(failing)).pk)
    (child,) = children(run.pk)
    assert run.status == "failed" and child.status == "failed"
    error = node_row(run.pk, "call").error
    assert error["type"] == "subworkflow"
    assert error["message"] == f"sub-workflow run {child.pk} failed: node boom failed: disk full"
    assert node_row(run.pk, "result").status == "upstream_failed"


def test_a_workflow_calling_itself_stops_at_the_depth_limit(user, workers):  # noqa: F811
    workers(SWITCHYARD_MAX_SUBWORKFLOW_DEPTH="2")
    workflow_id = save(user, {"version": 1, "name": "self", "nodes": [], "edges": []})
    document = {
        "version": 1,
        "name": "self",
        "nodes": [{"id": "again", "type": "subworkflow", "config": {"workflow": workflow_id}}],
        "edges": [],
    }
    services.workflow_save(user=user, workflow_id=workflow_id, source={**document, "revision": 1})
    run = ended(services.run_create(user=user, workflow_id=workflow_id).pk)
    chain = [run]
    while children(chain[-1].pk):
        (child,) = children(chain[-1].pk)
        chain.append(child)
    assert len(chain) == 3  # depths 0, 1 and 2
    assert all(r.status == "failed" for r in chain)
    deepest = node_row(chain[-1].pk, "again").error
    assert deepest["type"] == "recursion"
    ids = " -> ".join(str(r.pk) for r in chain)
    assert deepest["message"] == (
        f"sub-workflow nesting deeper than 2 levels (runs {ids}; a workflow calling itself?)"
    )
    top = node_row(run.pk, "again").error["message"]
    assert top.startswith(f"sub-workflow run {chain[1].pk} failed: node again failed: ")


def test_a_missing_foreign_or_invalid_workflow_is_a_clear_node_error(user, other_user, workers):  # noqa: F811
    workers()
    foreign = save(other_user, child_document())
    invalid = save(
        user,
        {
            "version": 1,
            "name": "draft",
            "nodes": [{"id": "x", "type": "nope"}],
            "edges": [],
        },
    )
    child_id = save(user, child_document())
    cases = {
        999999: "sub-workflow 999999: no such workflow (it does not exist or belongs to another "
        "user than alice)",
        foreign: f"sub-workflow {foreign}: no such workflow (it does not exist or belongs to "
        "another user than alice)",
        invalid: f"sub-workflow {invalid} (draft) cannot run: ",
        "abc": "config.workflow must be a workflow id, got 'abc'",
    }
    runs = {ref: start(user, parent_document(ref)) for ref in cases}
    bad_inputs = start(user, parent_document(child_id, inputs={"nope": 1}))
    for ref, message in cases.items():
        run = ended(runs[ref].pk)
        assert run.status == "failed"
        error = node_row(run.pk, "call").error
        assert error["message"].startswith(message), error
        assert children(run.pk) == []
    run = ended(bad_inputs.pk)
    assert node_row(run.pk, "call").error["message"] == (
        f"sub-workflow {child_id} (child) cannot run: inputs.nope: the workflow declares no "
        "such input"
    )
    assert not WorkflowRun.objects.filter(workflow_id__in=[foreign, invalid]).exists()


def test_subworkflow_in_a_map_body_starts_one_child_per_item(user, workers):  # noqa: F811
    workers()
    child_id = save(user, child_document())
    document = {
        "version": 1,
        "name": "map parent",
        "nodes": [
            {"id": "m", "type": "map", "config": {"items": [1, 2, 3], "max_concurrency": 3}},
            {
                "id": "call",
                "type": "subworkflow",
                "parent": "m",
                "config": {"workflow": child_id, "inputs": {"n": "{{ loop.item }}"}},
            },
        ],
        "edges": [],
    }
    run = ended(start(user, document).pk)
    assert run.status == "succeeded", run.error
    assert node_row(run.pk, "m").output == [{"doubled": 2}, {"doubled": 4}, {"doubled": 6}]
    started = {(c.parent_iteration, c.inputs["n"], c.status) for c in children(run.pk)}
    assert started == {("m[0]", 1, "succeeded"), ("m[1]", 2, "succeeded"), ("m[2]", 3, "succeeded")}


def slow_child() -> dict:
    nodes = [{"id": "a", "type": "transform", "config": {"output": "{{ inputs.n }}"}}]
    edges = []
    for k in range(1, 4):
        nodes.append({"id": f"d{k}", "type": "delay", "config": {"seconds": 0.6}})
        edges.append({"id": f"e{k}", "source": "a" if k == 1 else f"d{k - 1}", "target": f"d{k}"})
    nodes.append({"id": "doubled", "type": "output", "config": {"value": "{{ a * 2 }}"}})
    edges.append({"id": "e_out", "source": "d3", "target": "doubled"})
    return {
        "version": 1,
        "name": "slow child",
        "inputs": {"n": {"type": "number", "default": 1}},
        "nodes": nodes,
        "edges": edges,
    }


def test_kill_9_mid_child_adopts_the_child_and_reruns_nothing_it_finished(user, workers):  # noqa: F811
    first = workers()
    child_id = save(user, slow_child())
    run = start(user, parent_document(child_id))
    wait_for(
        lambda: (
            children(run.pk)
            and node_row(children(run.pk)[0].pk, "d1") is not None
            and node_row(children(run.pk)[0].pk, "d1").status == "succeeded"
        )
    )
    first.kill()
    (child,) = children(run.pk)
    done_before = {
        r.node_id: (r.attempt, r.started_at)
        for r in NodeRun.objects.filter(run=child, status="succeeded")
    }
    assert {"a", "d1"} <= set(done_before) and "doubled" not in done_before
    workers()
    run = ended(run.pk)
    assert run.status == "succeeded", run.error
    assert run.outputs == {"result": {"doubled": 42}}
    assert [c.pk for c in children(run.pk)] == [child.pk]  # adopted, not started again
    child.refresh_from_db()
    assert child.status == "succeeded" and child.parent_attempt == 2
    for node_id, (attempt, started) in done_before.items():
        rows = NodeRun.objects.filter(run=child, node_id=node_id)
        assert [(r.attempt, r.started_at) for r in rows] == [(attempt, started)], node_id
    calls = list(NodeRun.objects.filter(run=run, node_id="call").order_by("attempt"))
    assert [(c.attempt, c.status) for c in calls] == [(1, "failed"), (2, "succeeded")]
    assert calls[0].error["type"] == "worker_lost"


def test_cancelling_the_parent_cancels_the_child(user, workers):  # noqa: F811
    workers()
    child_id = save(
        user,
        {
            "version": 1,
            "name": "sleepy child",
            "inputs": {"n": {"type": "number", "default": 1}},
            "nodes": [{"id": "nap", "type": "delay", "config": {"seconds": 20}}],
            "edges": [],
        },
    )
    run = start(user, parent_document(child_id))
    wait_for(
        lambda: (
            children(run.pk)
            and NodeRun.objects.filter(run=children(run.pk)[0], node_id="nap").exists()
        )
    )
    client = Client()
    client.force_login(user)
    assert client.post(f"/api/runs/{run.pk}/cancel/").status_code == 200
    run = ended(run.pk)
    (child,) = children(run.pk)
    child = ended(child.pk)
    assert (run.status, child.status) == ("cancelled", "cancelled")
    assert (child.finished_at - run.finished_at).total_seconds() <= 0  # the child ended first
    assert node_row(child.pk, "nap").status == "cancelled"
    assert child.lease_owner == ""


def asking_child() -> dict:
    """Asks before doubling its input; a rejection fails it."""
    return {
        "version": 1,
        "name": "asking child",
        "inputs": {"n": {"type": "number", "default": 1}},
        "nodes": [
            {"id": "prepare", "type": "transform", "config": {"output": "{{ inputs.n }}"}},
            {"id": "ask", "type": "approval", "config": {"prompt": "double it?"}},
            {"id": "doubled", "type": "output", "config": {"value": "{{ prepare * 2 }}"}},
            {"id": "refuse", "type": "error", "config": {"message": "not approved"}},
        ],
        "edges": [
            {"id": "e0", "source": "prepare", "target": "ask"},
            {"id": "e1", "source": "ask", "source_handle": "approved", "target": "doubled"},
            {"id": "e2", "source": "ask", "source_handle": "rejected", "target": "refuse"},
        ],
    }


def parked(run_id: int) -> tuple[WorkflowRun, WorkflowRun]:
    """The parent once it parked on its paused child (no lease held by anyone), and the child."""

    def both() -> bool:
        kids = children(run_id)
        run = WorkflowRun.objects.get(pk=run_id)
        return (
            len(kids) == 1
            and kids[0].status == "paused"
            and kids[0].lease_owner == ""
            and run.status == "paused"
            and run.lease_owner == ""
        )

    wait_for(both)
    return WorkflowRun.objects.get(pk=run_id), children(run_id)[0]


def api(user) -> Client:
    return logged_in(user)


def decide(user, child_id: int, approved: bool):
    url = f"/api/runs/{child_id}/nodes/ask/approve/"
    return api(user).post(url, {"approved": approved}, content_type="application/json")


def attempts(run_id: int, node_id: str) -> list[tuple[int, str]]:
    rows = NodeRun.objects.filter(run_id=run_id, node_id=node_id).order_by("attempt")
    return [(row.attempt, row.status) for row in rows]


def test_a_paused_child_parks_the_parent_and_its_approval_resumes_both_after_a_restart(
    user,
    workers,  # noqa: F811
):
    first = workers()
    run = start(user, parent_document(save(user, asking_child())))
    run, child = parked(run.pk)
    assert run.wake_at is None and run.finished_at is None
    assert run.state["nodes"]["call"]["status"] == "waiting"
    assert run.state["nodes"]["call"]["wait"]["kind"] == "subworkflow"
    assert run.state["nodes"]["call"]["wait"]["data"] == {"run": child.pk}
    assert attempts(run.pk, "call") == [(1, "waiting")]
    first.kill()  # every worker: only durable state can resume the parent
    workers()
    assert decide(user, child.pk, True).status_code == 200
    child = ended(child.pk)
    run = ended(run.pk)
    assert (child.status, run.status) == ("succeeded", "succeeded"), (child.error, run.error)
    assert run.outputs == {"result": {"doubled": 42}}
    assert [c.pk for c in children(run.pk)] == [child.pk]
    assert attempts(run.pk, "first") == [(1, "succeeded")]
    assert attempts(run.pk, "call") == [(1, "succeeded")]  # the parked attempt, continued
    assert attempts(child.pk, "prepare") == [(1, "succeeded")]
    call = node_row(run.pk, "call")
    assert call.output == {"doubled": 42}
    # The continued attempt keeps its first start, before the child even paused.
    assert call.started_at < child.started_at < child.finished_at <= call.finished_at
    span = (call.finished_at - call.started_at).total_seconds() * 1000
    assert abs(call.duration_ms - span) <= 2
    assert node_row(run.pk, "result").output == {"doubled": 42}
    logs = [
        event.payload["message"]
        for event in RunEvent.objects.filter(run=run, type="node.log", payload__node="call")
    ]
    assert f"sub-workflow run {child.pk} paused: this run waits for it without a worker" in logs
    assert f"continuing sub-workflow run {child.pk}" in logs


def test_a_rejected_child_fails_the_parked_parent_node_with_the_child_error(user, workers):  # noqa: F811
    workers()
    run = start(user, parent_document(save(user, asking_child())))
    run, child = parked(run.pk)
    assert decide(user, child.pk, False).status_code == 200
    child = ended(child.pk)
    run = ended(run.pk)
    assert (child.status, run.status) == ("failed", "failed")
    error = node_row(run.pk, "call").error
    assert error == {
        "message": f"sub-workflow run {child.pk} failed: node refuse failed: not approved",
        "type": "subworkflow",
    }
    assert attempts(run.pk, "call") == [(1, "failed")]
    assert node_row(run.pk, "result").status == "upstream_failed"


def test_cancelling_a_parked_parent_cancels_its_child_first(user, workers):  # noqa: F811
    workers()
    run = start(user, parent_document(save(user, asking_child())))
    run, child = parked(run.pk)
    client = api(user)
    response = client.post(f"/api/runs/{run.pk}/resume/", {}, content_type="application/json")
    assert response.status_code == 409
    assert f"waits for sub-workflow run {child.pk}" in response.json()["errors"][0]["message"]
    assert client.post(f"/api/runs/{run.pk}/cancel/").status_code == 200
    run = ended(run.pk)
    child = ended(child.pk)
    assert (run.status, child.status) == ("cancelled", "cancelled")
    assert (child.finished_at - run.finished_at).total_seconds() <= 0
    assert node_row(run.pk, "call").status == "cancelled"
    assert node_row(child.pk, "ask").status == "cancelled"
    assert run.wake_at is None and child.lease_owner == ""


def test_cancelling_a_parked_child_fails_the_parent_node(user, workers):  # noqa: F811
    workers()
    run = start(user, parent_document(save(user, asking_child())))
    run, child = parked(run.pk)
    assert api(user).post(f"/api/runs/{child.pk}/cancel/").status_code == 200
    run = ended(run.pk)
    assert run.status == "failed"
    assert node_row(run.pk, "call").error == {
        "message": f"sub-workflow run {child.pk} was cancelled",
        "type": "subworkflow",
    }


def test_a_parent_following_a_busy_child_is_not_stalled_but_the_quiet_child_is(user, workers):  # noqa: F811
    workers(SWITCHYARD_STALL_S="1")
    child_id = save(
        user,
        {
            "version": 1,
            "name": "busy child",
            "inputs": {"n": {"type": "number", "default": 1}},
            "nodes": [
                {"id": "work", "type": "delay", "config": {"seconds": 3}},
                {"id": "doubled", "type": "output", "config": {"value": "{{ inputs.n * 2 }}"}},
            ],
            "edges": [{"id": "e1", "source": "work", "target": "doubled"}],
        },
    )
    run = start(user, parent_document(child_id))
    seen: list = []

    def done() -> bool:
        current = WorkflowRun.objects.get(pk=run.pk)
        seen.append(current.stalled_at)
        return current.status in ENDED and current.lease_owner == ""

    wait_for(done, timeout=30)
    run = WorkflowRun.objects.get(pk=run.pk)
    assert run.status == "succeeded", run.error
    assert run.outputs == {"result": {"doubled": 42}}
    assert len(seen) > 20 and not any(seen)
    warnings = RunEvent.objects.filter(run=run, type="node.log", payload__level="warning")
    assert not warnings.exists()
    # The child itself, executed in the parent's worker, is watched: its quiet 3 s delay is
    # a stall of the child (the warning is the child's, with what was running).
    (child,) = children(run.pk)
    messages = [
        event.payload["message"]
        for event in RunEvent.objects.filter(run=child, type="node.log", payload__level="warning")
    ]
    assert len(messages) == 1 and messages[0].startswith("stalled: no event for ")
    assert messages[0].endswith(" s while work running")


def test_a_grandchild_approval_parks_every_level_and_its_end_resumes_them_in_turn(user, workers):  # noqa: F811
    workers()
    asking = save(user, asking_child())
    middle = save(
        user,
        {
            "version": 1,
            "name": "middle",
            "inputs": {"n": {"type": "number", "default": 1}},
            "nodes": [
                {
                    "id": "call",
                    "type": "subworkflow",
                    "config": {"workflow": asking, "inputs": {"n": "{{ inputs.n }}"}},
                },
                {"id": "relay", "type": "output", "config": {"value": "{{ call.doubled }}"}},
            ],
            "edges": [{"id": "e1", "source": "call", "target": "relay"}],
        },
    )
    run = start(user, parent_document(middle))
    run, child = parked(run.pk)
    child, grandchild = parked(child.pk)
    assert decide(user, grandchild.pk, True).status_code == 200
    run = ended(run.pk)
    assert run.status == "succeeded", run.error
    assert run.outputs == {"result": {"relay": 42}}
    assert [ended(r.pk).status for r in (child, grandchild)] == ["succeeded", "succeeded"]
    assert attempts(run.pk, "call") == [(1, "succeeded")]
    assert attempts(child.pk, "call") == [(1, "succeeded")]
