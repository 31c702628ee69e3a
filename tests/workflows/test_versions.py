"""Version history (issue 17): every saved revision of a workflow is kept with who saved it and
when; a revision can be read, compared node by node with the current document and restored as
a new revision (a stale revision gets 409, a reader 403); the list is paginated."""

import pytest

from tests.factories import chain_document
from workflows import selectors, versions
from workflows.models import Workflow, WorkflowVersion

pytestmark = pytest.mark.django_db


def save(api, wid: int, document: dict):
    return api.put(f"/api/workflows/{wid}/", document, format="json")


def changed_copy(body: dict, output) -> dict:
    """The workflow as read, with node n1's output changed."""
    nodes = [
        {**node, "config": {"output": output}} if node["id"] == "n1" else node
        for node in body["nodes"]
    ]
    return {**body, "nodes": nodes}


@pytest.fixture
def saved_twice(api) -> dict:
    """A workflow created (revision 1) and saved twice: n1's output 1 -> 10 -> 20."""
    body = api.post("/api/workflows/", chain_document(3, name="v"), format="json").json()
    body = save(api, body["id"], changed_copy(body, 10)).json()
    return save(api, body["id"], changed_copy(body, 20)).json()


def test_each_save_keeps_its_revision_with_who_saved_it(api, saved_twice):
    wid = saved_twice["id"]
    listed = api.get(f"/api/workflows/{wid}/versions/")
    assert listed.status_code == 200, listed.content
    page = listed.json()
    assert page["count"] == 3
    assert [v["revision"] for v in page["results"]] == [3, 2, 1]
    assert {v["saved_by"] for v in page["results"]} == {"alice"}
    assert all(v["saved_at"].endswith("Z") for v in page["results"])
    rows = WorkflowVersion.objects.filter(workflow_id=wid).order_by("revision")
    assert [r.document["nodes"][1]["config"]["output"] for r in rows] == [1, 10, 20]


def test_a_kept_revision_reads_as_its_whole_document(api, saved_twice):
    wid = saved_twice["id"]
    response = api.get(f"/api/workflows/{wid}/versions/2/")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["revision"] == 2 and body["saved_by"] == "alice"
    assert body["document"]["name"] == "v"
    assert body["document"]["nodes"][1]["config"] == {"output": 10}
    missing = api.get(f"/api/workflows/{wid}/versions/99/")
    assert missing.status_code == 404
    assert missing.json()["errors"][0]["code"] == "not_found"


def test_the_diff_names_the_changed_added_and_removed_nodes_and_edges(api, saved_twice):
    wid = saved_twice["id"]
    current = changed_copy(saved_twice, 20)
    current["nodes"] = [n for n in current["nodes"] if n["id"] != "n2"] + [
        {"id": "extra", "type": "transform", "config": {"output": 0}}
    ]
    current["edges"] = [{"id": "e9", "source": "n1", "target": "extra"}] + [
        e for e in current["edges"] if e["id"] != "e2"
    ]
    assert save(api, wid, current).status_code == 200
    diff = api.get(f"/api/workflows/{wid}/versions/2/diff/")
    assert diff.status_code == 200, diff.content
    body = diff.json()
    assert (body["revision"], body["current_revision"]) == (2, 4)
    assert body["fields"] == []
    assert body["nodes"] == [
        {"id": "n1", "change": "changed", "fields": ["config"]},
        {"id": "extra", "change": "added", "fields": []},
        {"id": "n2", "change": "removed", "fields": []},
    ]
    assert body["edges"] == [
        {"id": "e9", "change": "added", "fields": []},
        {"id": "e2", "change": "removed", "fields": []},
    ]


def test_the_current_revision_differs_from_itself_in_nothing(api, saved_twice):
    """The kept document and the one read back from the rows are the same document."""
    body = api.get(f"/api/workflows/{saved_twice['id']}/versions/3/diff/").json()
    assert (body["fields"], body["nodes"], body["edges"]) == ([], [], [])


def test_restoring_saves_the_old_document_as_a_new_revision(api, saved_twice):
    wid = saved_twice["id"]
    response = api.post(f"/api/workflows/{wid}/versions/1/restore/", {"revision": 3}, "json")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["revision"] == 4
    assert body["nodes"][1]["config"] == {"output": 1}
    assert api.get(f"/api/workflows/{wid}/").json()["nodes"][1]["config"] == {"output": 1}
    revisions = list(
        WorkflowVersion.objects.filter(workflow_id=wid).values_list("revision", flat=True)
    )
    assert sorted(revisions) == [1, 2, 3, 4]  # history is not rewritten
    assert WorkflowVersion.objects.get(workflow_id=wid, revision=3).document["nodes"][1][
        "config"
    ] == {"output": 20}


def test_restoring_with_a_stale_revision_is_a_conflict(api, saved_twice):
    wid = saved_twice["id"]
    response = api.post(f"/api/workflows/{wid}/versions/1/restore/", {"revision": 2}, "json")
    assert response.status_code == 409
    assert response.json()["errors"][0]["code"] == "stale_revision"
    assert Workflow.objects.get(pk=wid).revision == 3


def test_restore_needs_the_revision_and_no_other_field(api, saved_twice):
    url = f"/api/workflows/{saved_twice['id']}/versions/1/restore/"
    missing = api.post(url, {}, "json")
    assert missing.status_code == 400
    assert missing.json()["errors"][0]["field"] == "revision"
    unknown = api.post(url, {"revision": 3, "force": True}, "json")
    assert unknown.status_code == 400
    assert unknown.json()["errors"][0]["message"] == "force: unknown field"


def test_a_reader_lists_and_compares_but_only_the_owner_restores(api, other_api, saved_twice):
    wid = saved_twice["id"]
    assert other_api.get(f"/api/workflows/{wid}/versions/").status_code == 404
    api.put(f"/api/workflows/{wid}/sharing/", {"shared_with": ["bob"]}, format="json")
    assert other_api.get(f"/api/workflows/{wid}/versions/").json()["count"] == 3
    assert other_api.get(f"/api/workflows/{wid}/versions/1/diff/").status_code == 200
    response = other_api.post(f"/api/workflows/{wid}/versions/1/restore/", {"revision": 3}, "json")
    assert response.status_code == 403
    assert response.json()["errors"][0]["code"] == "read_only"
    assert Workflow.objects.get(pk=wid).revision == 3


def test_the_list_is_paginated(api, saved_twice):
    wid = saved_twice["id"]
    page = api.get(f"/api/workflows/{wid}/versions/?page_size=2").json()
    assert [v["revision"] for v in page["results"]] == [3, 2]
    assert page["next"] is not None
    second = api.get(f"/api/workflows/{wid}/versions/?page_size=2&page=2").json()
    assert [v["revision"] for v in second["results"]] == [1]
    too_big = api.get(f"/api/workflows/{wid}/versions/?page_size=100000")
    assert too_big.status_code == 400


def test_a_metadata_patch_is_a_kept_revision_too(api, saved_twice):
    wid = saved_twice["id"]
    response = api.patch(f"/api/workflows/{wid}/", {"name": "renamed"}, format="json")
    assert response.status_code == 200
    kept = api.get(f"/api/workflows/{wid}/versions/4/").json()
    assert kept["document"]["name"] == "renamed"
    diff = api.get(f"/api/workflows/{wid}/versions/3/diff/").json()
    assert diff["fields"] == ["name"]


def test_only_the_newest_revisions_are_kept(api, monkeypatch):
    monkeypatch.setattr(versions, "VERSIONS_KEPT", 2)
    body = api.post("/api/workflows/", chain_document(2), format="json").json()
    for output in (5, 6, 7):
        body = save(api, body["id"], changed_copy(body, output)).json()
    kept = WorkflowVersion.objects.filter(workflow_id=body["id"]).values_list("revision", flat=True)
    assert sorted(kept) == [3, 4]


def test_a_huge_revision_number_is_not_found(api, saved_twice):
    response = api.get(f"/api/workflows/{saved_twice['id']}/versions/99999999999999999999/")
    assert response.status_code == 404


def test_the_rows_document_is_the_kept_one(user):
    from workflows import services

    workflow = services.workflow_create(owner=user, source=chain_document(2))
    kept = WorkflowVersion.objects.get(workflow=workflow)
    assert kept.document == selectors.workflow_document(workflow=workflow)


def test_the_migration_keeps_each_existing_workflow_s_current_revision(user):
    import importlib

    from django.apps import apps

    from workflows import services

    migration = importlib.import_module("workflows.migrations.0014_versions")
    workflow = services.workflow_create(owner=user, source=chain_document(3, name="old"))
    Workflow.objects.filter(pk=workflow.pk).update(revision=7)
    WorkflowVersion.objects.all().delete()  # as before the migration
    migration.keep_current_revisions(apps, None)
    (kept,) = WorkflowVersion.objects.filter(workflow=workflow)
    assert (kept.revision, kept.saved_by, kept.document["name"]) == (7, user, "old")
    assert [n["id"] for n in kept.document["nodes"]] == ["n0", "n1", "n2"]
    assert kept.document == selectors.workflow_document(workflow=workflow)
