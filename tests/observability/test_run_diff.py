"""Two runs of one workflow compared node by node (SPEC §8 "Run diff"): over the API and
`manage.py diff_runs`, from the rows the real worker wrote and the documents the runs ran."""

import copy
import io
import json

import pytest
from django.core.management import CommandError, call_command
from rest_framework.test import APIClient

from tests.factories import workflow_for
from tests.observability.drive import execute
from workflows.observability import diff

pytestmark = pytest.mark.django_db(transaction=True)

WIDE = {f"k{i}": "{{ inputs.n + " + str(i) + " }}" for i in range(30)}
DOCUMENT = {
    "version": 1,
    "name": "diffed",
    "inputs": {"n": {"type": "integer", "default": 1}},
    "nodes": [
        {"id": "a", "type": "transform", "config": {"output": 1}},
        {"id": "b", "type": "transform", "config": {"output": {"n": "{{ inputs.n }}", "x": 1}}},
        {"id": "wide", "type": "transform", "config": {"output": WIDE}},
        {"id": "d", "type": "transform", "config": {"output": "{{ a }}"}},
    ],
    "edges": [
        {"id": "e1", "source": "a", "target": "b"},
        {"id": "e2", "source": "a", "target": "d"},
    ],
}


@pytest.fixture
def client(user, settings) -> APIClient:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    api = APIClient()
    api.force_login(user)
    return api


def start(client, workflow_id: int, **inputs):
    response = client.post(f"/api/workflows/{workflow_id}/runs/", {"inputs": inputs}, format="json")
    assert response.status_code == 201, response.json()
    return execute(response.json()["id"])


@pytest.fixture
def two_runs(client, user):
    """Run 1 of the document; then `b` gets another config, `d` goes, `e` comes, `a` moves on
    the canvas only; run 2 with another input."""
    workflow = workflow_for(user, DOCUMENT)
    first = start(client, workflow.pk, n=1)
    edited = copy.deepcopy(DOCUMENT)
    edited["nodes"][0]["position"] = {"x": 500, "y": 500}
    edited["nodes"][1]["config"]["output"]["x"] = 2
    edited["nodes"] = [n for n in edited["nodes"] if n["id"] != "d"]
    edited["nodes"].append({"id": "e", "type": "error", "config": {"message": "new and failing"}})
    edited["edges"] = [edited["edges"][0], {"id": "e3", "source": "a", "target": "e"}]
    saved = client.put(
        f"/api/workflows/{workflow.pk}/", {**edited, "revision": workflow.revision}, format="json"
    )
    assert saved.status_code == 200, saved.json()
    second = start(client, workflow.pk, n=2)
    return first, second


def test_the_diff_says_per_node_what_changed_how_it_ended_and_took(client, two_runs):
    first, second = two_runs

    response = client.get(f"/api/runs/{first.pk}/diff/{second.pk}/")

    assert response.status_code == 200, response.json()
    body = response.json()
    nodes = body["nodes"]
    assert list(nodes) == ["a", "b", "wide", "e", "d"]
    assert nodes["a"]["change"] == "same"  # moved on the canvas only
    assert nodes["a"]["status"] == ["succeeded", "succeeded"]
    assert nodes["a"]["output_changed"] is False and "output_diff" not in nodes["a"]
    assert all(isinstance(ms, int) for ms in nodes["a"]["duration_ms"])
    assert nodes["b"]["change"] == "changed"
    assert nodes["b"]["output_diff"] == {
        "changes": [
            {"path": "$.n", "op": "changed", "a": 1, "b": 2},
            {"path": "$.x", "op": "changed", "a": 1, "b": 2},
        ],
        "total": 2,
        "truncated": False,
    }
    assert nodes["e"]["change"] == "added" and nodes["e"]["status"] == [None, "failed"]
    assert nodes["d"]["change"] == "removed" and nodes["d"]["status"] == ["succeeded", None]
    assert body["summary"] == {
        "added": 1,
        "removed": 1,
        "changed": 1,
        "same": 2,
        "status_changed": 2,
        "output_changed": 3,
    }


def test_a_long_output_diff_is_cut_and_a_node_asked_for_alone_comes_whole(client, two_runs):
    first, second = two_runs

    cut = client.get(f"/api/runs/{first.pk}/diff/{second.pk}/").json()["nodes"]["wide"]
    whole = client.get(f"/api/runs/{first.pk}/diff/{second.pk}/?node=wide").json()

    assert cut["output_diff"]["total"] == 30
    assert len(cut["output_diff"]["changes"]) == 20 and cut["output_diff"]["truncated"]
    assert list(whole["nodes"]) == ["wide"]
    assert len(whole["nodes"]["wide"]["output_diff"]["changes"]) == 30
    assert whole["nodes"]["wide"]["output_diff"]["truncated"] is False


def test_the_changes_listed_in_a_whole_diff_are_bounded_in_all(client, two_runs, monkeypatch):
    first, second = two_runs
    monkeypatch.setattr(diff, "CHANGES_BUDGET", 21)

    nodes = client.get(f"/api/runs/{first.pk}/diff/{second.pk}/").json()["nodes"]

    listed = {n: len(e["output_diff"]["changes"]) for n, e in nodes.items() if "output_diff" in e}
    assert listed == {"b": 2, "wide": 19, "d": 0}
    assert nodes["d"]["output_diff"] == {
        "changes": [],
        "total": 1,
        "truncated": True,
    }


def test_runs_of_different_workflows_are_refused_with_400(client, user, two_runs):
    first, _ = two_runs
    other = start(client, workflow_for(user, DOCUMENT).pk)

    response = client.get(f"/api/runs/{first.pk}/diff/{other.pk}/")

    assert response.status_code == 400
    (error,) = response.json()["errors"]
    assert error["code"] == "different_workflows"
    assert "only runs of the same workflow can be compared" in error["message"]


def test_a_run_the_user_may_not_read_is_404(client, two_runs, django_user_model):
    first, second = two_runs
    stranger = APIClient()
    stranger.force_login(django_user_model.objects.create_user("eve", password="pw-eve-1"))

    assert stranger.get(f"/api/runs/{first.pk}/diff/{second.pk}/").status_code == 404
    assert client.get(f"/api/runs/{first.pk}/diff/99999999/").status_code == 404
    missing = client.get(f"/api/runs/{first.pk}/diff/{second.pk}/?node=nope")
    assert missing.status_code == 404
    assert "node nope is in neither run" in missing.json()["errors"][0]["message"]


def test_diff_runs_prints_the_changed_nodes_and_their_output_changes(two_runs):
    first, second = two_runs
    out = io.StringIO()

    call_command("diff_runs", str(first.pk), str(second.pk), stdout=out)

    lines = out.getvalue().splitlines()
    assert lines[0].startswith(f"Run {first.pk} (revision 1) → run {second.pk} (revision 2)")
    assert "1 added, 1 removed, 1 changed, 2 same" in lines[0]
    assert any(line.split()[:2] == ["changed", "b"] and "output changed" in line for line in lines)
    assert "      $.x: 1 → 2" in lines
    assert any(line.split()[:3] == ["added", "e", "-"] for line in lines)
    assert "… 10 more (--node to see them all)" in out.getvalue()
    assert not any(line.split()[:2] == ["same", "a"] for line in lines)


def test_diff_runs_json_is_the_api_body(client, two_runs):
    first, second = two_runs
    out = io.StringIO()

    call_command("diff_runs", str(first.pk), str(second.pk), "--json", stdout=out)

    assert (
        json.loads(out.getvalue()) == client.get(f"/api/runs/{first.pk}/diff/{second.pk}/").json()
    )


def test_diff_runs_of_different_workflows_says_why(client, user, two_runs):
    first, _ = two_runs
    other = start(client, workflow_for(user, DOCUMENT).pk)

    with pytest.raises(CommandError, match="only runs of the same workflow"):
        call_command("diff_runs", str(first.pk), str(other.pk), stdout=io.StringIO())
