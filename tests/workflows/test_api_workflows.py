"""Workflows through the REST API: create, read, replace, patch, delete, validate."""

import copy
import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from engine import load_document
from tests.factories import chain_document, workflow_for
from workflows.models import Workflow, WorkflowEdge, WorkflowNode

pytestmark = pytest.mark.django_db


def codes(response) -> set[str]:
    return {error["code"] for error in response.json()["errors"]}


def put(api, workflow_id, body):
    return api.put(f"/api/workflows/{workflow_id}/", body, format="json")


def saved(api, workflow_id) -> dict:
    return api.get(f"/api/workflows/{workflow_id}/").json()


# --- create and read ---------------------------------------------------------------------------


def test_create_answers_201_with_the_document_id_and_first_revision(api):
    response = api.post("/api/workflows/", chain_document(3), format="json")
    assert response.status_code == 201
    body = response.json()
    assert body["revision"] == 1
    assert body["valid"] is True
    assert body["errors"] == []
    assert [node["id"] for node in body["nodes"]] == ["n0", "n1", "n2"]
    assert Workflow.objects.get(pk=body["id"]).nodes.count() == 3


def test_read_gives_back_the_document_with_defaults_applied(api):
    document = chain_document(4, description="d", tags=["a"], variables={"k": 1})
    created = api.post("/api/workflows/", document, format="json").json()
    body = saved(api, created["id"])
    expected = load_document(document)
    for key in ("version", "name", "description", "tags", "inputs", "variables", "settings"):
        assert body[key] == expected[key]
    assert body["nodes"] == expected["nodes"]
    assert body["edges"] == expected["edges"]


def test_document_with_validation_problems_is_saved_as_a_draft(api):
    document = chain_document(2)
    document["nodes"].append({"id": "z", "type": "no_such_type"})
    response = api.post("/api/workflows/", document, format="json")
    assert response.status_code == 201
    body = response.json()
    assert body["valid"] is False
    assert "unknown_type" in {error["code"] for error in body["errors"]}
    assert saved(api, body["id"])["valid"] is False


def test_an_id_off_the_pattern_is_saved_as_a_draft(api):
    document = chain_document(2)
    document["nodes"].append({"id": "2nd", "type": "transform"})
    body = api.post("/api/workflows/", document, format="json").json()
    assert body["valid"] is False
    assert [e["node"] for e in body["errors"] if e["code"] == "bad_id"] == ["2nd"]


def test_an_id_with_capitals_is_valid_with_a_warning(api):
    document = chain_document(2)
    document["nodes"].append({"id": "Loop", "type": "transform", "config": {"output": 1}})
    response = api.post("/api/workflows/", document, format="json")
    body = response.json()
    assert response.status_code == 201
    assert body["valid"] is True
    warnings = [e for e in body["errors"] if e["code"] == "bad_id"]
    assert [(e["node"], e.get("severity")) for e in warnings] == [("Loop", "warning")]


def test_cycle_is_saved_as_a_draft_naming_the_cycle(api):
    document = chain_document(3)
    document["edges"].append({"id": "back", "source": "n2", "target": "n0"})
    body = api.post("/api/workflows/", document, format="json").json()
    cycle = [error for error in body["errors"] if error["code"] == "cycle"]
    assert body["valid"] is False
    assert cycle and all(name in cycle[0]["message"] for name in ("n0", "n1", "n2"))


@pytest.mark.parametrize(
    ("change", "code"),
    [
        (lambda d: d["nodes"].append({"id": "n0", "type": "transform"}), "duplicate_id"),
        (lambda d: d["edges"].append({"id": "e1", "source": "n0", "target": "n2"}), "duplicate_id"),
        (lambda d: d["edges"].append({"id": "x", "source": "n0", "target": "z"}), "missing_node"),
        (lambda d: d["nodes"].append({"id": "", "type": "transform"}), "bad_id"),
        (lambda d: d["nodes"].append({"id": "n" * 65, "type": "transform"}), "too_long"),
    ],
)
def test_structural_problems_are_refused_and_nothing_is_saved(api, change, code):
    document = chain_document(3)
    change(document)
    response = api.post("/api/workflows/", document, format="json")
    assert response.status_code == 400
    assert code in codes(response)
    assert not Workflow.objects.exists()
    assert not WorkflowNode.objects.exists()


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (lambda d: d.update(colour="red"), "colour"),
        (lambda d: d["nodes"][0].update(colour="red"), "nodes[0].colour"),
        (lambda d: d["edges"][0].update(weight=2), "edges[0].weight"),
        (lambda d: d.update(nodes={"n0": {}}), "nodes"),
        (lambda d: d["nodes"][1].update(disabled="yes"), "nodes[1].disabled"),
        (lambda d: d["nodes"][1].update(position={"x": "left", "y": 0}), "nodes[1].position.x"),
        (lambda d: d["nodes"][2].pop("type"), "nodes[2].type"),
        (lambda d: d["nodes"][0].update(size={"width": 300}), "nodes[0].size.height"),
        (lambda d: d["nodes"][0].update(size={"width": 0, "height": 9}), "nodes[0].size.width"),
        (lambda d: d["nodes"][0].update(size={"width": 1, "height": 9, "d": 1}), "nodes[0].size.d"),
    ],
)
def test_unknown_fields_and_wrong_types_are_refused_naming_the_field(api, change, field):
    document = chain_document(3)
    change(document)
    response = api.post("/api/workflows/", document, format="json")
    assert response.status_code == 400
    errors = response.json()["errors"]
    assert field in {error.get("field") for error in errors}
    assert any(field in error["message"] for error in errors)
    assert not Workflow.objects.exists()


def test_a_container_frame_size_is_kept_with_the_node(api):
    document = chain_document(2)
    document["nodes"][0]["size"] = {"width": 420.5, "height": 260}
    created = api.post("/api/workflows/", document, format="json").json()
    again = saved(api, created["id"])
    assert again["nodes"][0]["size"] == {"width": 420.5, "height": 260}
    assert "size" not in again["nodes"][1]


def test_malformed_json_is_a_clear_400(api):
    response = api.post("/api/workflows/", '{"nodes": [', content_type="application/json")
    assert response.status_code == 400
    assert codes(response) == {"malformed_json"}


def test_list_shows_the_users_workflows_with_node_count(api, user, other_user):
    workflow_for(user, chain_document(5, name="mine"))
    workflow_for(other_user, chain_document(2, name="theirs"))
    body = api.get("/api/workflows/").json()
    assert [(item["name"], item["node_count"]) for item in body] == [("mine", 5)]
    assert body[0]["last_run_status"] is None
    assert body[0]["valid"] is True


# --- replace (PUT) -----------------------------------------------------------------------------


def test_put_replaces_the_document_and_bumps_the_revision(api, user):
    workflow = workflow_for(user, chain_document(3))
    document = saved(api, workflow.pk)
    document["nodes"][1]["config"] = {"output": "changed"}
    document["nodes"].append({"id": "extra", "type": "transform", "config": {"output": 1}})
    document["edges"].append({"id": "e_extra", "source": "n2", "target": "extra"})
    response = put(api, workflow.pk, document)
    assert response.status_code == 200
    body = response.json()
    assert body["revision"] == 2
    assert saved(api, workflow.pk) == body
    assert body["nodes"][1]["config"] == {"output": "changed"}
    assert [node["id"] for node in body["nodes"]] == ["n0", "n1", "n2", "extra"]


def test_put_touches_only_changed_rows(api, user):
    workflow = workflow_for(user, chain_document(4))
    before = dict(WorkflowNode.objects.filter(workflow=workflow).values_list("node_id", "pk"))
    document = saved(api, workflow.pk)
    document["nodes"][2]["name"] = "renamed label"
    with CaptureQueriesContext(connection) as queries:
        assert put(api, workflow.pk, document).status_code == 200
    updates = [q["sql"] for q in queries if q["sql"].startswith('UPDATE "workflows_workflownode"')]
    assert len(updates) == 1
    assert "n2" in str(updates) or "renamed label" in str(updates)
    after = dict(WorkflowNode.objects.filter(workflow=workflow).values_list("node_id", "pk"))
    assert after == before
    # the node and edge rows: none inserted or deleted (the one insert keeps the revision)
    written = [q["sql"] for q in queries if "INSERT" in q["sql"] or "DELETE" in q["sql"]]
    assert [sql.split("(")[0] for sql in written] == ['INSERT INTO "workflows_workflowversion" ']


def test_renaming_a_node_keeps_edges_moved_onto_it(api, user):
    workflow = workflow_for(user, chain_document(3))
    document = saved(api, workflow.pk)
    document["nodes"][1]["id"] = "middle"
    document["edges"] = [
        {"id": "e1", "source": "n0", "target": "middle"},
        {"id": "e2", "source": "middle", "target": "n2"},
    ]
    assert put(api, workflow.pk, document).status_code == 200
    edges = WorkflowEdge.objects.filter(workflow=workflow).order_by("order")
    assert [(e.edge_id, e.source.node_id, e.target.node_id) for e in edges] == [
        ("e1", "n0", "middle"),
        ("e2", "middle", "n2"),
    ]


def test_stale_revision_gets_409_with_the_current_revision(api, user):
    workflow = workflow_for(user, chain_document(3))
    first_tab = saved(api, workflow.pk)
    second_tab = copy.deepcopy(first_tab)
    first_tab["name"] = "saved by the first tab"
    assert put(api, workflow.pk, first_tab).status_code == 200
    second_tab["name"] = "saved by the second tab"
    response = put(api, workflow.pk, second_tab)
    assert response.status_code == 409
    assert response.json()["revision"] == 2
    assert codes(response) == {"stale_revision"}
    assert saved(api, workflow.pk)["name"] == "saved by the first tab"


def test_put_without_revision_is_refused(api, user):
    workflow = workflow_for(user)
    document = saved(api, workflow.pk)
    del document["revision"]
    response = put(api, workflow.pk, document)
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "revision"


def test_bad_put_leaves_the_previous_document_intact(api, user):
    workflow = workflow_for(user, chain_document(5))
    before = saved(api, workflow.pk)
    document = copy.deepcopy(before)
    document["nodes"][0]["config"] = {"output": "new"}
    document["nodes"].append({"id": "n1", "type": "transform"})
    response = put(api, workflow.pk, document)
    assert response.status_code == 400
    assert "duplicate_id" in codes(response)
    assert saved(api, workflow.pk) == before


def test_put_can_empty_a_workflow(api, user):
    workflow = workflow_for(user, chain_document(4))
    document = saved(api, workflow.pk) | {"nodes": [], "edges": []}
    assert put(api, workflow.pk, document).status_code == 200
    assert not WorkflowNode.objects.filter(workflow=workflow).exists()
    assert not WorkflowEdge.objects.filter(workflow=workflow).exists()


# --- patch, delete, validate -------------------------------------------------------------------


def test_patch_changes_metadata_and_revalidates(api, user):
    document = chain_document(2)
    document["nodes"][1]["config"] = {"output": "{{ vars.threshold }}"}
    workflow = workflow_for(user, document)
    assert workflow.valid is False
    response = api.patch(
        f"/api/workflows/{workflow.pk}/",
        {"name": "renamed", "variables": {"threshold": 3}},
        format="json",
    )
    assert response.status_code == 200
    body = response.json()
    assert (body["name"], body["valid"], body["revision"]) == ("renamed", True, 2)
    assert len(body["nodes"]) == 2


def test_patch_refuses_graph_fields(api, user):
    workflow = workflow_for(user)
    response = api.patch(f"/api/workflows/{workflow.pk}/", {"nodes": []}, format="json")
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "nodes"
    assert WorkflowNode.objects.filter(workflow=workflow).count() == 3


def test_delete_removes_the_workflow(api, user):
    workflow = workflow_for(user)
    assert api.delete(f"/api/workflows/{workflow.pk}/").status_code == 204
    response = api.get(f"/api/workflows/{workflow.pk}/")
    assert response.status_code == 404
    assert codes(response) == {"not_found"}
    assert not WorkflowNode.objects.exists()


def test_validate_reports_a_posted_document_without_saving_it(api, user):
    workflow = workflow_for(user)
    document = chain_document(3)
    document["edges"].append({"id": "back", "source": "n2", "target": "n0"})
    response = api.post(f"/api/workflows/{workflow.pk}/validate/", document, format="json")
    assert response.status_code == 200
    assert response.json()["valid"] is False
    assert "cycle" in {error["code"] for error in response.json()["errors"]}
    assert saved(api, workflow.pk)["valid"] is True


def test_validate_without_a_body_checks_the_saved_document(api, user):
    workflow = workflow_for(user)
    response = api.post(f"/api/workflows/{workflow.pk}/validate/", {}, format="json")
    assert response.json() == {"valid": True, "errors": []}


def test_node_types_come_from_the_engine_registry(api):
    types = {item["type"]: item for item in api.get("/api/node-types/").json()}
    assert {"transform", "condition", "http", "merge", "output"} <= set(types)
    assert types["condition"]["outputs"] == ["true", "false"]
    assert types["http"]["config_schema"]["type"] == "object"


# --- size limits and query counts --------------------------------------------------------------


def test_body_over_the_limit_is_refused_with_413(api, settings):
    settings.SWITCHYARD_MAX_BODY_BYTES = 10_000
    document = chain_document(200)
    response = api.post("/api/workflows/", json.dumps(document), content_type="application/json")
    assert response.status_code == 413
    assert codes(response) == {"body_too_large"}
    assert not Workflow.objects.exists()


@pytest.mark.parametrize("size", [10, 500])
def test_reading_a_workflow_takes_the_same_queries_whatever_its_size(
    api, user, size, django_assert_max_num_queries
):
    workflow = workflow_for(user, chain_document(size))
    with django_assert_max_num_queries(6):
        response = api.get(f"/api/workflows/{workflow.pk}/")
    assert len(response.json()["nodes"]) == size


@pytest.mark.parametrize("size", [10, 500])
def test_saving_a_workflow_takes_the_same_queries_whatever_its_size(
    api, user, size, django_assert_max_num_queries
):
    workflow = workflow_for(user, chain_document(size))
    document = saved(api, workflow.pk)
    for node in document["nodes"][:5]:
        node["config"] = {"output": "changed"}
    document["nodes"] = [*document["nodes"][:-2], {"id": "fresh", "type": "transform"}]
    document["edges"] = [*document["edges"][:-2], {"id": "f", "source": "n0", "target": "fresh"}]
    with django_assert_max_num_queries(16):
        response = put(api, workflow.pk, document)
    assert response.status_code == 200
    assert saved(api, workflow.pk)["nodes"][-1]["id"] == "fresh"
