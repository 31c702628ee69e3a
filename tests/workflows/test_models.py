"""What the database itself guarantees about workflows and runs."""

import pytest
from django.db import IntegrityError, transaction

from engine.states import NodeState, RunState
from tests.factories import NodeRunFactory, RunEventFactory, RunFactory, workflow_for
from workflows.models import NodeRun, RunEvent, WorkflowEdge, WorkflowNode, WorkflowRun

pytestmark = pytest.mark.django_db


def test_status_choices_are_the_engines_states():
    run_status = WorkflowRun._meta.get_field("status")
    node_status = NodeRun._meta.get_field("status")
    assert [value for value, _ in run_status.choices] == [state.value for state in RunState]
    assert [value for value, _ in node_status.choices] == [state.value for state in NodeState]
    assert run_status.default == "queued"


def test_a_node_id_is_unique_within_a_workflow_only(user):
    first, second = workflow_for(user), workflow_for(user)
    WorkflowNode.objects.create(workflow=second, node_id="extra", type="transform")
    WorkflowNode.objects.create(workflow=first, node_id="extra", type="transform")
    with pytest.raises(IntegrityError), transaction.atomic():
        WorkflowNode.objects.create(workflow=first, node_id="extra", type="transform")


def test_event_seq_is_unique_per_run(user):
    run = RunFactory(workflow=workflow_for(user))
    RunEventFactory(run=run, seq=1)
    RunEventFactory(run=RunFactory(workflow=run.workflow), seq=1)
    with pytest.raises(IntegrityError), transaction.atomic():
        RunEventFactory(run=run, seq=1)


def test_a_node_attempt_is_recorded_once_per_iteration(user):
    run = RunFactory(workflow=workflow_for(user))
    NodeRunFactory(run=run, node_id="n0", iteration="", attempt=1)
    NodeRunFactory(run=run, node_id="n0", iteration="", attempt=2)
    NodeRunFactory(run=run, node_id="n0", iteration="each[0]", attempt=1)
    with pytest.raises(IntegrityError), transaction.atomic():
        NodeRunFactory(run=run, node_id="n0", iteration="", attempt=1)


def test_deleting_a_workflow_removes_its_graph_and_runs(user):
    workflow = workflow_for(user)
    run = RunFactory(workflow=workflow)
    NodeRunFactory(run=run)
    RunEventFactory(run=run)
    workflow.delete()
    for model in (WorkflowNode, WorkflowEdge, WorkflowRun, NodeRun, RunEvent):
        assert not model.objects.exists()


def test_events_read_back_in_seq_order(user):
    run = RunFactory(workflow=workflow_for(user))
    for seq in (2, 3, 1):
        RunEventFactory(run=run, seq=seq)
    assert list(run.events.values_list("seq", flat=True)) == [1, 2, 3]


def test_admin_shows_a_workflow_with_its_nodes_and_a_run_with_its_attempts(client, user):
    user.is_staff = user.is_superuser = True
    user.save()
    client.force_login(user)
    workflow = workflow_for(user)
    run = RunFactory(workflow=workflow)
    NodeRunFactory(run=run, node_id="n1", status="failed")
    page = client.get(f"/admin/workflows/workflow/{workflow.pk}/change/")
    assert page.status_code == 200
    assert b"n2" in page.content
    run_page = client.get(f"/admin/workflows/workflowrun/{run.pk}/change/")
    assert run_page.status_code == 200
    assert b"failed" in run_page.content
    assert client.get("/admin/workflows/workflowrun/?status=failed").status_code == 200
