"""What readers of a run say about it (issue 18, "Wrong facts in the record"): the run read,
`inspect`, `visualise --run` and the timeline, on runs executed in-process."""

import json
from io import StringIO

import pytest
from django.core.management import call_command

from tests.observability.drive import execute
from workflows import services
from workflows.observability import timeline

pytestmark = pytest.mark.django_db(transaction=True)


def command(*args) -> str:
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def executed(user, document: dict):
    workflow = services.workflow_create(owner=user, source=document)
    assert workflow.valid, workflow.errors
    return execute(services.run_create(user=user, workflow_id=workflow.pk).pk)


GROWING = {
    "version": 1,
    "name": "growing",
    "nodes": [{"id": "fan", "type": "fan_out", "config": {"items": ["x", "y"]}}],
    "edges": [],
}


def test_nodes_added_at_run_time_are_in_every_reader_of_the_run(user, api):
    run = executed(user, GROWING)
    assert run.status == "succeeded"
    added = {"fan_0", "fan_1", "fan_join"}
    body = api.get(f"/api/runs/{run.pk}/").json()
    assert added <= set(body["nodes"])
    assert body["nodes"]["fan_join"]["status"] == "succeeded"
    listing = command("inspect", str(run.pk))
    assert all(f"{node_id} " in listing for node_id in added), listing
    assert "fan_join (merge) in run" in command("inspect", str(run.pk), "fan_join")
    diagram = command("visualise", str(run.workflow_id), "--run", str(run.pk))
    assert all(node_id in diagram for node_id in added), diagram
    path = timeline.timeline(run)["critical_path"]
    assert path[0] == "fan" and path[-1] == "fan_join", path


def test_inspect_of_a_body_node_tells_its_iterations_not_pending(user):
    document = {
        "version": 1,
        "name": "mapped",
        "nodes": [
            {"id": "m", "type": "map", "config": {"items": [1, 2, 3]}},
            {"id": "sq", "type": "transform", "parent": "m", "config": {"output": "{{ input }}"}},
        ],
        "edges": [],
    }
    run = executed(user, document)
    assert run.status == "succeeded"
    out = command("inspect", str(run.pk), "sq")
    header = out.splitlines()[0]
    assert header == f"Node sq (transform) in run {run.pk}: succeeded in 3 of 3 iterations"
    assert "pending" not in out and "never decided" not in out
    assert out.count("Attempt 1 iteration m[") == 3
    body = json.loads(command("inspect", str(run.pk), "sq", "--json"))
    assert body["status"] == "succeeded" and body["reason"] is None
    assert [a["input"] for a in body["attempts"]] == [1, 2, 3]


def test_inspect_of_an_upstream_failed_node_shows_no_input(user):
    document = {
        "version": 1,
        "name": "joined",
        "nodes": [
            {"id": "a", "type": "transform", "config": {"output": {"v": 1}}},
            {"id": "bad", "type": "transform", "config": {"output": "{{ a.nope }}"}},
            {"id": "join", "type": "merge", "config": {"mode": "object"}},
        ],
        "edges": [
            {"id": "e1", "source": "a", "target": "join"},
            {"id": "e2", "source": "a", "target": "bad"},
            {"id": "e3", "source": "bad", "target": "join"},
        ],
    }
    run = executed(user, document)
    body = json.loads(command("inspect", str(run.pk), "join", "--json"))
    assert body["status"] == "upstream_failed"
    assert body["input"] is None
    out = command("inspect", str(run.pk), "join")
    assert "Input: none (it never ran)" in out and '"v": 1' not in out


def test_a_dry_run_names_only_the_stood_in_call_as_not_performed(user, api):
    document = {
        "version": 1,
        "name": "dry",
        "nodes": [
            {
                "id": "fetch",
                "type": "http",
                "config": {"method": "GET", "url": "http://127.0.0.1:9/never"},
            },
            {"id": "gate", "type": "condition", "config": {"expression": "True"}},
            {"id": "nap", "type": "delay", "config": {"seconds": 0}},
            {"id": "join", "type": "merge", "config": {"mode": "list"}},
            {"id": "off", "type": "transform", "disabled": True, "config": {"output": 1}},
        ],
        "edges": [
            {"id": "e1", "source": "fetch", "target": "gate"},
            {"id": "e2", "source": "gate", "source_handle": "true", "target": "nap"},
            {"id": "e3", "source": "nap", "target": "join"},
            {"id": "e4", "source": "join", "target": "off"},
        ],
    }
    workflow = services.workflow_create(owner=user, source=document)
    assert workflow.valid, workflow.errors
    created = api.post(f"/api/workflows/{workflow.pk}/runs/", {"mode": "dry_run"}, format="json")
    run = execute(created.json()["id"])
    assert run.status == "succeeded"
    report = api.get(f"/api/runs/{run.pk}/").json()
    assert report["placeholders"] == ["fetch"]
    labels = {node_id: node["dry_run"] for node_id, node in report["nodes"].items()}
    assert labels == {
        "fetch": "placeholder",
        "gate": "ran",
        "nap": "ran",
        "join": "ran",
        "off": "ran",
    }
    assert "side effects not performed: fetch\n" in command("inspect", str(run.pk))
