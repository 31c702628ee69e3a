"""The dagger-style YAML import (issue 18, docs/api.md "Dagger-style documents"): nodes name
their upstream nodes in `dependencies` and their attempts in `try_count`; top-level fields
outside the document format (`author`, `signature`, …) are kept under `metadata`. Through the
API's import and `import_workflow`, it becomes edges and retries; malformed input is a 400
naming the bad field, and nothing is stored."""

import json

import pytest
import yaml
from django.core.management import CommandError

from tests.engine.test_run_workflow_command import run_command
from tests.workflows.test_commands import run
from workflows.models import Workflow

pytestmark = pytest.mark.django_db

DAGGER = """\
name: nightly report
author: ann@example.com
signature: 9f86d081884c7d65
nodes:
  - id: fetch
    type: transform
    config: {output: [1, 2, 3]}
    try_count: 3
  - id: total
    type: transform
    config: {output: "{{ sum(fetch) }}"}
    dependencies: [fetch]
  - id: count
    type: transform
    config: {output: "{{ len(fetch) }}"}
    dependencies: [fetch]
  - id: report
    type: output
    config: {value: {total: "{{ total }}", count: "{{ count }}"}}
    dependencies: [total, count]
"""


def import_yaml(api, text: str):
    return api.post("/api/workflows/import/", text, content_type="application/yaml")


def edges(body: dict) -> set[tuple[str, str, str]]:
    return {(e["source"], e["source_handle"], e["target"]) for e in body["edges"]}


def test_dagger_yaml_becomes_edges_retries_and_metadata(api):
    response = import_yaml(api, DAGGER)
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["valid"] is True, body["errors"]
    assert edges(body) == {
        ("fetch", "out", "total"),
        ("fetch", "out", "count"),
        ("total", "out", "report"),
        ("count", "out", "report"),
    }
    nodes = {node["id"]: node for node in body["nodes"]}
    assert nodes["fetch"]["retry"]["max_attempts"] == 3
    assert nodes["total"]["retry"]["max_attempts"] == 1
    assert not any("dependencies" in node or "try_count" in node for node in body["nodes"])
    assert body["metadata"] == {"author": "ann@example.com", "signature": "9f86d081884c7d65"}
    exported = api.get(f"/api/workflows/{body['id']}/export/?format=yaml")
    document = yaml.safe_load(exported.content)
    assert document["metadata"]["author"] == "ann@example.com"
    again = import_yaml(api, exported.content.decode())  # the native form imports back
    assert again.status_code == 201, again.content
    assert edges(again.json()) == edges(body) and again.json()["metadata"] == body["metadata"]


def test_a_workflow_without_metadata_reads_without_it(api):
    response = import_yaml(api, "name: plain\nnodes: [{id: a, type: transform}]\n")
    assert response.status_code == 201
    assert "metadata" not in response.json()


def test_import_workflow_keeps_the_metadata(tmp_path, user):
    path = tmp_path / "nightly.yaml"
    path.write_text(DAGGER)
    workflow_id = int(run("import_workflow", str(path), "--owner", "alice"))
    workflow = Workflow.objects.get(pk=workflow_id)
    assert workflow.metadata["signature"] == "9f86d081884c7d65"
    assert workflow.edges.count() == 4


@pytest.mark.django_db(transaction=True)
@pytest.mark.timeout(60)
def test_a_dagger_file_runs_in_dependency_order(tmp_path):
    path = tmp_path / "nightly.yaml"
    path.write_text(DAGGER)
    code, out, _ = run_command(str(path), "--json")
    report = json.loads(out)
    assert code == 0, report
    assert report["outputs"] == {"report": {"total": 6, "count": 3}}
    nodes = report["nodes"]
    assert nodes["report"]["started_at"] > max(
        nodes["total"]["finished_at"], nodes["count"]["finished_at"]
    )


@pytest.mark.parametrize(
    ("change", "code", "field", "words"),
    [
        (
            ("total", "dependencies", ["fetch", "nope"]),
            "missing_node",
            "nodes[1].dependencies",
            "nope",
        ),
        (
            ("fetch", "dependencies", ["report"]),
            "cycle",
            "nodes[0].dependencies",
            "fetch -> total -> report -> fetch",
        ),
        (("fetch", "try_count", 0), "bad_try_count", "nodes[0].try_count", "between 1 and 100"),
        (("fetch", "try_count", "three"), "bad_try_count", "nodes[0].try_count", "an integer"),
        (("fetch", "try_count", 101), "bad_try_count", "nodes[0].try_count", "between 1 and 100"),
        (
            ("total", "dependencies", "fetch"),
            "bad_dependencies",
            "nodes[1].dependencies",
            "a list of node ids",
        ),
        (("total", "dependencies", ["total"]), "cycle", "nodes[1].dependencies", "total -> total"),
    ],
)
def test_malformed_dagger_input_is_400_naming_the_field(api, change, code, field, words):
    document = yaml.safe_load(DAGGER)
    node_id, key, value = change
    (node,) = [node for node in document["nodes"] if node["id"] == node_id]
    node[key] = value
    response = import_yaml(api, yaml.safe_dump(document))
    assert response.status_code == 400, response.content
    errors = response.json()["errors"]
    assert any(
        e["code"] == code and e.get("field") == field and words in e["message"] for e in errors
    ), errors
    assert not Workflow.objects.exists()


def test_try_count_beside_a_retry_policy_is_refused(api):
    document = yaml.safe_load(DAGGER)
    document["nodes"][0]["retry"] = {"max_attempts": 2}
    response = import_yaml(api, yaml.safe_dump(document))
    assert response.status_code == 400
    (error,) = response.json()["errors"]
    assert error["field"] == "nodes[0].try_count" and "retry" in error["message"]


def test_import_workflow_names_the_bad_dependency(tmp_path, user):
    document = yaml.safe_load(DAGGER)
    document["nodes"][1]["dependencies"] = ["ghost"]
    path = tmp_path / "bad.yml"
    path.write_text(yaml.safe_dump(document))
    with pytest.raises(CommandError, match=r"missing_node: .*ghost"):
        run("import_workflow", str(path), "--owner", "alice")
    assert not Workflow.objects.exists()


def test_metadata_must_be_an_object(api):
    response = api.post(
        "/api/workflows/import/",
        json.dumps({"name": "x", "metadata": [1], "nodes": []}),
        content_type="application/json",
    )
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "metadata"
