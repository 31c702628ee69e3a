"""Recovery on failure through real workers on PostgreSQL (issue 18): a node's
`on_failure: {"run": <workflow>}` starts that workflow as a linked child run with the failure
as input `failure`; the node stays failed and its error, events, rows and the API say what the
recovery did; a recovery workflow that fails with the same recovery stops after one level;
saving or running a document whose recovery names no workflow is refused with its errors."""

from __future__ import annotations

import pytest
from django.test import Client

from tests.runtime.test_subworkflows import children, ended, node_row, save, start
from tests.runtime.test_worker import workers  # noqa: F401 (fixture)
from workflows import services
from workflows.errors import NotRunnable
from workflows.models import NodeRun, RunEvent

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow, pytest.mark.timeout(120)]


def recovery_document(name: str = "cleanup", *, recover_with=None) -> dict:
    """Records the failure it was given as output `seen` (and fails too with `recover_with`)."""
    nodes = [
        {
            "id": "seen",
            "type": "output",
            "config": {"value": "{{ inputs.failure.node }}: {{ inputs.failure.error.message }}"},
        }
    ]
    if recover_with is not None:
        nodes.append(
            {
                "id": "also_bad",
                "type": "transform",
                "config": {"output": "{{ 1 / 0 }}"},
                "on_failure": {"run": recover_with},
            }
        )
    return {
        "version": 1,
        "name": name,
        "inputs": {"failure": {"type": "object", "required": False}},
        "nodes": nodes,
        "edges": [],
    }


def failing_document(recovery, on_failure: str = "continue") -> dict:
    return {
        "version": 1,
        "name": "nightly",
        "settings": {"on_failure": on_failure},
        "nodes": [
            {"id": "first", "type": "transform", "config": {"output": {"n": 0}}},
            {
                "id": "divide",
                "type": "transform",
                "config": {"output": "{{ 10 / first.n }}"},
                "retry": {"max_attempts": 2},
                "on_failure": {"run": recovery},
            },
            {"id": "after", "type": "transform", "config": {"output": "{{ divide }}"}},
            {"id": "other", "type": "transform", "config": {"output": "independent"}},
        ],
        "edges": [
            {"id": "e1", "source": "first", "target": "divide"},
            {"id": "e2", "source": "divide", "target": "after"},
            {"id": "e3", "source": "first", "target": "other"},
        ],
    }


def test_a_failed_node_runs_its_recovery_workflow_as_a_linked_child_run(user, workers):  # noqa: F811
    workers()
    recovery_id = save(user, recovery_document())
    run = ended(start(user, failing_document("cleanup")).pk)  # named by its name
    assert run.status == "failed"
    (child,) = children(run.pk)
    assert (child.workflow_id, child.trigger, child.status) == (
        recovery_id,
        "subworkflow",
        "succeeded",
    )
    assert (child.parent_node, child.parent_iteration) == ("divide", "divide[on_failure]")
    failure = child.inputs["failure"]
    assert failure["node"] == "divide" and failure["run"] == run.pk and failure["attempts"] == 1
    assert failure["error"]["type"] == "expression" and failure["input"] == {"n": 0}
    assert child.outputs["seen"].startswith("divide: ")
    row = node_row(run.pk, "divide")
    assert row.status == "failed" and row.attempt == 1  # an expression error is not retried
    assert row.error["recovery"] == {"workflow": "cleanup", "run": child.pk, "status": "succeeded"}
    assert node_row(run.pk, "other").status == "succeeded"
    assert node_row(run.pk, "after").status == "upstream_failed"
    logs = RunEvent.objects.filter(run=run, type="node.log").values_list("payload", flat=True)
    said = f"recovery workflow cleanup run {child.pk} succeeded"
    assert any(p["node"] == "divide" and p["message"] == said for p in logs)
    (failed,) = [
        p
        for p in RunEvent.objects.filter(run=run, type="node.status").values_list(
            "payload", flat=True
        )
        if p["node"] == "divide" and p["status"] == "failed"
    ]
    assert failed["error"]["recovery"]["status"] == "succeeded"
    client = Client()
    client.force_login(user)
    body = client.get(f"/api/runs/{run.pk}/").json()
    assert body["nodes"]["divide"]["error"]["recovery"]["run"] == child.pk
    assert [c["id"] for c in body["child_runs"]] == [child.pk]


def test_a_recovery_workflow_failing_with_the_same_recovery_stops_after_one_level(user, workers):  # noqa: F811
    workers()
    loop_id = save(user, recovery_document("loop"))
    services.workflow_save(
        user=user,
        workflow_id=loop_id,
        source={**recovery_document("loop", recover_with=loop_id), "revision": 1},
    )
    run = ended(start(user, failing_document(loop_id)).pk)
    (first,) = children(run.pk)
    first = ended(first.pk)
    assert first.status == "failed"
    assert children(first.pk) == []  # the recovery's own failure started nothing
    recovery = node_row(first.pk, "also_bad").error["recovery"]
    assert recovery["status"] == "refused"
    assert "already recovering" in recovery["message"]
    assert node_row(run.pk, "divide").error["recovery"]["status"] == "failed"


def test_an_unknown_recovery_workflow_is_a_validation_error_everywhere(user):
    workflow = services.workflow_create(owner=user, source=failing_document("no such thing"))
    assert workflow.valid is False
    (error,) = [e for e in workflow.errors if e["code"] == "unknown_workflow"]
    assert error["node"] == "divide" and error["field"] == "on_failure.run"
    assert "no workflow 'no such thing'" in error["message"]
    with pytest.raises(NotRunnable) as refused:
        services.run_create(user=user, workflow_id=workflow.pk)
    assert any(e["code"] == "unknown_workflow" for e in refused.value.errors)
    client = Client()
    client.force_login(user)
    answer = client.post(f"/api/workflows/{workflow.pk}/validate/", {}, "application/json")
    assert any(e["code"] == "unknown_workflow" for e in answer.json()["errors"])
    no_input = save(user, {**recovery_document("plain"), "inputs": {}})
    workflow = services.workflow_create(owner=user, source=failing_document(no_input))
    (error,) = [e for e in workflow.errors if e["code"] == "unknown_workflow"]
    assert "declares no input `failure`" in error["message"]


@pytest.mark.parametrize("path", ["", "m[2]"])
def test_a_worker_lost_mid_recovery_has_the_next_attempt_adopt_the_recovery_child(user, path):
    """The node was in flight while its recovery ran: its new attempt (after a takeover)
    adopts the recovery run the lost attempt started instead of starting a second one."""
    from workflows.models import WorkflowRun
    from workflows.runtime.child_runs import lost_attempt_child
    from workflows.runtime.snapshots import WORKER_LOST

    recovery_id = save(user, recovery_document())
    parent = services.run_create(user=user, workflow_id=save(user, failing_document("cleanup")))
    mark = f"{path}/divide[on_failure]" if path else "divide[on_failure]"
    child = services.run_create(user=user, workflow_id=recovery_id, inputs={"failure": {}})
    WorkflowRun.objects.filter(pk=child.pk).update(
        parent_run=parent, parent_node="divide", parent_iteration=mark, parent_attempt=1
    )
    NodeRun.objects.create(
        run=parent, node_id="divide", iteration=path, attempt=1, status="failed",
        error={"message": "the worker running it was lost", "type": WORKER_LOST},
    )  # fmt: skip
    parent = WorkflowRun.objects.get(pk=parent.pk)
    assert lost_attempt_child(parent, "divide", mark, 2) == child.pk
    assert lost_attempt_child(parent, "divide", path, 2) is None  # not the node's own child


def test_a_body_node_recovers_per_iteration_on_a_worker(user, workers):  # noqa: F811
    workers()
    save(user, recovery_document())
    document = {
        "version": 1,
        "name": "batch",
        "nodes": [
            {"id": "m", "type": "map", "config": {"items": [1, 0, 2], "item_failure": "skip"}},
            {
                "id": "divide",
                "type": "transform",
                "parent": "m",
                "config": {"output": "{{ 10 / loop.item }}"},
                "on_failure": {"run": "cleanup"},
            },
        ],
        "edges": [],
    }
    run = ended(start(user, document).pk)
    assert run.status == "succeeded", run.error
    (child,) = children(run.pk)
    assert child.parent_iteration == "m[1]/divide[on_failure]"
    assert ended(child.pk).status == "succeeded"
    assert child.inputs["failure"]["iteration"] == "m[1]"
    row = NodeRun.objects.get(run=run, node_id="divide", iteration="m[1]")
    assert row.error["recovery"]["run"] == child.pk
