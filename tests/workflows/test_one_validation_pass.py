"""Validation answers in one pass, in one order, wherever it is asked (issue 18): the API
and the CLI name every problem of a document at once, the shape's first."""

import json

import pytest

from tests.engine.test_run_workflow_command import run_command

pytestmark = pytest.mark.django_db

DOCUMENT = {
    "version": 1,
    "name": "bad",
    "colour": "red",
    "nodes": [
        {"id": "a", "type": "transform", "config": {"output": "{{ nowhere.x }}"}},
        {"id": "b", "type": "transform", "disabled": "yes", "config": {"output": 1}},
    ],
    "edges": [{"id": "e1", "source": "a", "target": "b", "weight": 3}],
}
EXPECTED = [
    ("unknown_field", "colour"),
    ("bad_type", "nodes[1].disabled"),
    ("unknown_field", "edges[0].weight"),
    ("bad_reference", "config.output"),
]


def found(errors: list[dict]) -> list[tuple]:
    return [(error["code"], error.get("field")) for error in errors]


def test_the_api_names_every_problem_at_once_the_shape_first(api):
    response = api.post("/api/workflows/", DOCUMENT, format="json")
    assert response.status_code == 400
    assert found(response.json()["errors"]) == EXPECTED


def test_the_cli_names_the_same_problems_in_the_same_order(api, tmp_path):
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(DOCUMENT))
    code, out, _ = run_command(str(path), "--json")
    assert code == 2
    cli = json.loads(out)["errors"]
    assert found(cli) == EXPECTED
    assert cli == api.post("/api/workflows/", DOCUMENT, format="json").json()["errors"]
