"""What readers of a run say about it (issue 18, "Wrong facts in the record"): the run read,
`inspect`, `visualise --run` and the timeline, on runs executed in-process."""

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
