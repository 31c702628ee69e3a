"""Runs through the REST API: creating a queued run, listing, reading the report, events."""

from datetime import timedelta

import pytest
from django.utils import timezone

from tests.factories import (
    NodeRunFactory,
    RunEventFactory,
    RunFactory,
    chain_document,
    workflow_for,
)
from workflows import dispatch
from workflows.models import WorkflowRun

pytestmark = pytest.mark.django_db


def codes(response) -> set[str]:
    return {error["code"] for error in response.json()["errors"]}


@pytest.fixture
def announced(monkeypatch) -> list[int]:
    """Run ids announced to the runtime through workflows.dispatch."""
    seen: list[int] = []
    monkeypatch.setattr(dispatch, "on_run_queued", [seen.append])
    return seen


def with_inputs(**inputs) -> dict:
    return chain_document(2, inputs=inputs)


def test_creating_a_run_records_a_queued_run_and_announces_it_after_commit(
    api, user, announced, django_capture_on_commit_callbacks
):
    workflow = workflow_for(user, with_inputs(city={"type": "string", "default": "Oslo"}))
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post(f"/api/workflows/{workflow.pk}/runs/", {"inputs": {}}, format="json")
    assert response.status_code == 201
    body = response.json()
    assert (body["status"], body["mode"], body["trigger"]) == ("queued", "normal", "api")
    assert body["workflow"] == workflow.pk
    assert body["inputs"] == {"city": "Oslo"}
    assert body["nodes"]["n0"]["status"] == "pending"
    assert announced == [body["id"]]
    run = WorkflowRun.objects.get(pk=body["id"])
    assert run.revision == workflow.revision
    assert [node["id"] for node in run.document["nodes"]] == ["n0", "n1"]


def test_run_request_with_dry_run_mode_and_start_node(api, user, announced):
    workflow = workflow_for(user)
    response = api.post(
        f"/api/workflows/{workflow.pk}/runs/",
        {"mode": "dry_run", "from_node": "n1"},
        format="json",
    )
    assert response.status_code == 201
    assert (response.json()["mode"], response.json()["from_node"]) == ("dry_run", "n1")


def test_an_invalid_workflow_cannot_run(api, user, announced):
    document = chain_document(2)
    document["nodes"][1]["type"] = "no_such_type"
    workflow = workflow_for(user, document)
    response = api.post(f"/api/workflows/{workflow.pk}/runs/", {}, format="json")
    assert response.status_code == 400
    assert "unknown_type" in codes(response)
    assert not WorkflowRun.objects.exists()
    assert announced == []


@pytest.mark.parametrize(
    ("inputs", "code"),
    [
        ({"nope": 1}, "unknown_input"),
        ({}, "missing_input"),
        ({"count": "three"}, "bad_input"),
    ],
)
def test_run_inputs_are_checked_against_the_declared_inputs(api, user, inputs, code):
    workflow = workflow_for(user, with_inputs(count={"type": "integer"}))
    response = api.post(f"/api/workflows/{workflow.pk}/runs/", {"inputs": inputs}, format="json")
    assert response.status_code == 400
    assert code in codes(response)
    assert not WorkflowRun.objects.exists()


def test_unknown_start_node_or_mode_is_refused(api, user):
    workflow = workflow_for(user)
    url = f"/api/workflows/{workflow.pk}/runs/"
    assert codes(api.post(url, {"from_node": "ghost"}, format="json")) == {"unknown_node"}
    response = api.post(url, {"mode": "turbo"}, format="json")
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "mode"


def test_runs_list_newest_first_filtered_by_workflow_and_status(api, user, other_user):
    first, second = workflow_for(user), workflow_for(user)
    old = RunFactory(workflow=first, status="succeeded")
    new = RunFactory(workflow=first, status="failed")
    RunFactory(workflow=second, status="failed")
    RunFactory(workflow=workflow_for(other_user), status="failed")
    WorkflowRun.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(hours=1))
    body = api.get(f"/api/runs/?workflow={first.pk}").json()
    assert body["count"] == 2
    assert [run["id"] for run in body["results"]] == [new.pk, old.pk]
    failed = api.get("/api/runs/?status=failed").json()
    assert failed["count"] == 2


def test_workflow_list_shows_the_last_run_status(api, user):
    workflow = workflow_for(user)
    RunFactory(workflow=workflow, status="failed")
    assert api.get("/api/workflows/").json()[0]["last_run_status"] == "failed"


def test_run_report_shows_each_nodes_latest_attempt_and_every_attempt(api, user):
    workflow = workflow_for(user, chain_document(3))
    run = RunFactory(workflow=workflow, document=chain_document(3), status="running")
    error = {"message": "boom", "type": "error"}
    NodeRunFactory(run=run, node_id="n0", attempt=1, status="failed", error=error)
    NodeRunFactory(run=run, node_id="n0", attempt=2, status="succeeded", output={"v": 1})
    NodeRunFactory(run=run, node_id="n1", attempt=1, status="running", finished_at=None)
    body = api.get(f"/api/runs/{run.pk}/").json()
    assert body["nodes"]["n0"]["status"] == "succeeded"
    assert body["nodes"]["n0"]["attempts"] == 2
    assert body["nodes"]["n0"]["output"] == {"v": 1}
    assert body["nodes"]["n1"]["finished_at"] is None
    assert body["nodes"]["n2"] == {
        "status": "pending",
        "attempts": 0,
        "started_at": None,
        "finished_at": None,
        "output": None,
        "error": None,
        "handled": False,
        "reason": None,
    }
    assert [(r["node_id"], r["attempt"]) for r in body["node_runs"]] == [
        ("n0", 1),
        ("n0", 2),
        ("n1", 1),
    ]
    assert body["node_runs"][0]["error"] == error
    assert body["nodes"]["n0"]["started_at"].endswith("Z")


def test_run_report_groups_container_body_runs_by_iteration(api, user):
    document = {
        "nodes": [
            {"id": "each", "type": "map", "config": {"items": [1, 2]}},
            {"id": "body", "type": "transform", "parent": "each"},
        ],
        "edges": [],
    }
    run = RunFactory(workflow=workflow_for(user), document=document)
    NodeRunFactory(run=run, node_id="each")
    NodeRunFactory(run=run, node_id="body", iteration="each[1]", output=20)
    NodeRunFactory(run=run, node_id="body", iteration="each[0]", output=10)
    body = api.get(f"/api/runs/{run.pk}/").json()
    assert set(body["nodes"]) == {"each"}
    outputs = [item["body"]["output"] for item in body["iterations"]["each"]]
    assert outputs == [10, 20]


def test_events_after_a_seq_come_in_order_up_to_the_limit(api, user):
    run = RunFactory(workflow=workflow_for(user))
    for seq in (3, 1, 2, 4):
        RunEventFactory(run=run, seq=seq, payload={"node": "n0", "status": f"s{seq}"})
    body = api.get(f"/api/runs/{run.pk}/events/?after=1&limit=2").json()
    assert [event["seq"] for event in body["events"]] == [2, 3]
    assert body["events"][0]["status"] == "s2"
    assert body["events"][0]["run"] == run.pk
    assert body["last_seq"] == 3
    assert api.get(f"/api/runs/{run.pk}/events/?after=4").json() == {"events": [], "last_seq": 4}


def test_bad_event_parameters_are_refused(api, user):
    run = RunFactory(workflow=workflow_for(user))
    response = api.get(f"/api/runs/{run.pk}/events/?after=soon")
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "after"
    negative = api.get(f"/api/runs/{run.pk}/events/?after=-5")
    assert negative.status_code == 400
    assert negative.json()["errors"][0]["message"] == "after: must be at least 0, got -5"
    empty = api.get(f"/api/runs/{run.pk}/events/?limit=0")
    assert empty.status_code == 400
    assert empty.json()["errors"][0]["message"] == "limit: must be at least 1, got 0"


def test_another_users_runs_are_not_found(other_api, user):
    run = RunFactory(workflow=workflow_for(user))
    assert other_api.get(f"/api/runs/{run.pk}/").status_code == 404
    assert other_api.get(f"/api/runs/{run.pk}/events/").status_code == 404
    assert other_api.get("/api/runs/").json()["count"] == 0
