"""What a run's record says after the user acted on it (issue 18, "Wrong facts in the
record"): rows, reports and API bodies tell what happened, on the real PostgreSQL."""

import pytest

from tests.observability.drive import execute
from workflows import control, services
from workflows.models import NodeRun, WorkflowRun

pytestmark = pytest.mark.django_db(transaction=True)

PAUSING = {
    "version": 1,
    "name": "pausing",
    "settings": {"on_failure": "pause"},
    "nodes": [
        {"id": "a", "type": "transform", "config": {"output": {"v": 2}}},
        {"id": "calc", "type": "transform", "config": {"output": "{{ a.nope }}"}},
        {"id": "after", "type": "output", "config": {"value": "{{ input }}"}},
    ],
    "edges": [
        {"id": "e1", "source": "a", "target": "calc"},
        {"id": "e2", "source": "calc", "target": "after"},
    ],
}


def started(user, document: dict) -> WorkflowRun:
    workflow = services.workflow_create(owner=user, source=document)
    assert workflow.valid, workflow.errors
    return execute(services.run_create(user=user, workflow_id=workflow.pk).pk)


def test_a_node_retried_after_a_pause_succeeds_without_its_old_error(user, client):
    run = started(user, PAUSING)
    assert run.status == "paused"
    control.run_resume(run=run, node_id="calc", config={"output": "{{ a.v * 10 }}"}, by="alice")
    assert execute(run.pk).status == "succeeded"
    rows = NodeRun.objects.filter(run=run, node_id="calc").order_by("attempt")
    assert [(r.attempt, r.status, r.error is None) for r in rows] == [
        (1, "failed", False),  # the parked attempt keeps the error it failed with
        (2, "succeeded", True),
    ]
    client.force_login(user)
    body = client.get(f"/api/runs/{run.pk}/").json()
    assert body["nodes"]["calc"]["status"] == "succeeded"
    assert body["nodes"]["calc"]["error"] is None


def test_a_run_resumed_past_its_timeout_fails_at_once_and_starts_nothing(user):
    from datetime import timedelta

    document = {**PAUSING, "settings": {"on_failure": "pause", "timeout_s": 60}}
    run = started(user, document)
    assert run.status == "paused"
    state = {**run.state, "started": run.state["started"] - 62}  # parked for 62 s
    WorkflowRun.objects.filter(pk=run.pk).update(
        state=state, started_at=run.started_at - timedelta(seconds=62)
    )
    run.refresh_from_db()
    control.run_resume(run=run, node_id="calc", config={"output": "{{ a.v }}"}, by="alice")
    done = execute(run.pk)
    assert done.status == "failed"
    assert done.error == {"message": "run timed out after 60 s", "type": "timeout"}
    assert not NodeRun.objects.filter(run=run, node_id="calc", attempt=2).exists()
    assert not NodeRun.objects.filter(run=run, node_id="after", status="succeeded").exists()
    running = done.events.filter(type="node.status", payload__status="running")
    assert sorted(running.values_list("payload__node", flat=True)) == ["a", "calc"]  # before


def test_a_secret_value_in_an_output_is_stored_and_shown_masked(user, client, settings):
    secret = "tok-9f8e7d6c5b"
    settings.SWITCHYARD_SECRETS = {"api": secret}
    document = {
        "version": 1,
        "name": "echo",
        "inputs": {"key": {"type": "string"}},
        "nodes": [
            {"id": "t", "type": "transform", "config": {"output": {"echo": "{{ inputs.key }}"}}},
            {"id": "out", "type": "output", "config": {"value": "{{ t }}"}},
        ],
        "edges": [{"id": "e", "source": "t", "target": "out"}],
    }
    workflow = services.workflow_create(owner=user, source=document)
    created = services.run_create(user=user, workflow_id=workflow.pk, inputs={"key": secret})
    run = execute(created.pk)
    assert run.status == "succeeded"
    assert run.outputs == {"out": {"echo": "***"}}
    rows = NodeRun.objects.filter(run=run)
    assert {row.node_id: row.output for row in rows} == {
        "t": {"echo": "***"},
        "out": {"echo": "***"},
    }
    assert NodeRun.objects.get(run=run, node_id="out").input == {"echo": "***"}
    client.force_login(user)
    body = client.get(f"/api/runs/{run.pk}/").content.decode()
    assert body.count(secret) == 1  # the run's inputs, as the caller gave them; no output
