"""Sharing (SPEC §6: a user sees and runs only workflows they own or that are shared with
them): the owner shares a workflow by username; the other user then lists it, reads it, runs
it and follows its runs, but cannot change it (403 naming the owner); unsharing takes it all
away again (404)."""

import pytest
from rest_framework.test import APIClient

from tests.factories import chain_document
from workflows.models import WorkflowRun

pytestmark = pytest.mark.django_db


def share(api, workflow_id: int, names: list[str]):
    return api.put(f"/api/workflows/{workflow_id}/sharing/", {"shared_with": names}, format="json")


@pytest.fixture
def carol_api(django_user_model) -> APIClient:
    client = APIClient()
    client.force_login(django_user_model.objects.create_user(username="carol", password="x"))
    return client


def test_a_shared_workflow_can_be_seen_and_run_but_not_changed(api, other_api, carol_api):
    created = api.post("/api/workflows/", chain_document(2, name="shared"), format="json").json()
    wid = created["id"]
    assert created["owner"] == "alice"
    assert other_api.get(f"/api/workflows/{wid}/").status_code == 404  # not shared yet

    response = share(api, wid, ["bob"])
    assert response.status_code == 200, response.content
    assert response.json() == {"owner": "alice", "shared_with": ["bob"]}

    listed = other_api.get("/api/workflows/").json()
    assert [(w["id"], w["owner"]) for w in listed] == [(wid, "alice")]
    body = other_api.get(f"/api/workflows/{wid}/").json()
    assert (body["name"], body["owner"], len(body["nodes"])) == ("shared", "alice", 2)
    assert other_api.get(f"/api/workflows/{wid}/export/?format=yaml").status_code == 200

    run = other_api.post(f"/api/workflows/{wid}/runs/", {}, format="json")
    assert run.status_code == 201, run.content
    run_id = run.json()["id"]
    assert WorkflowRun.objects.get(pk=run_id).created_by.username == "bob"
    assert other_api.get(f"/api/runs/{run_id}/").status_code == 200
    assert api.get(f"/api/runs/{run_id}/").status_code == 200  # the owner sees it too
    assert [r["id"] for r in other_api.get("/api/runs/").json()["results"]] == [run_id]
    assert carol_api.get(f"/api/runs/{run_id}/").status_code == 404  # not shared with carol

    for method, url, payload in [
        ("put", f"/api/workflows/{wid}/", {**body, "name": "mine now"}),
        ("patch", f"/api/workflows/{wid}/", {"name": "mine now"}),
        ("delete", f"/api/workflows/{wid}/", None),
        ("put", f"/api/workflows/{wid}/sharing/", {"shared_with": ["bob", "carol"]}),
    ]:
        response = getattr(other_api, method)(url, payload, format="json")
        assert response.status_code == 403, (method, url, response.content)
        (error,) = response.json()["errors"]
        assert error["code"] == "read_only"
        assert error["message"] == (
            f"workflow {wid} is shared with you to see and run; only its owner alice can change it"
        )
    assert api.get(f"/api/workflows/{wid}/").json()["name"] == "shared"  # nothing changed

    assert share(api, wid, []).json() == {"owner": "alice", "shared_with": []}
    assert other_api.get(f"/api/workflows/{wid}/").status_code == 404
    assert other_api.get(f"/api/runs/{run_id}/").status_code == 404
    assert other_api.get("/api/workflows/").json() == []


def test_me_names_the_logged_in_user(api, other_api):
    assert api.get("/api/me/").json() == {"username": "alice"}
    assert other_api.get("/api/me/").json() == {"username": "bob"}
    assert APIClient().get("/api/me/").status_code in (401, 403)


def test_sharing_with_unknown_users_changes_nothing_and_names_them(api, other_user):
    wid = api.post("/api/workflows/", chain_document(1), format="json").json()["id"]
    assert share(api, wid, ["bob"]).status_code == 200
    response = share(api, wid, ["bob", "zed", "ann"])
    assert response.status_code == 400
    assert [e["message"] for e in response.json()["errors"]] == [
        "shared_with: no user named 'ann'",
        "shared_with: no user named 'zed'",
    ]
    assert api.get(f"/api/workflows/{wid}/sharing/").json()["shared_with"] == ["bob"]
    bad = api.put(f"/api/workflows/{wid}/sharing/", {"shared_with": "bob"}, format="json")
    assert bad.status_code == 400
    assert bad.json()["errors"][0]["field"] == "shared_with"
    extra = api.put(f"/api/workflows/{wid}/sharing/", {"shared_with": [], "x": 1}, format="json")
    assert extra.status_code == 400 and extra.json()["errors"][0]["code"] == "unknown_field"


def test_the_list_keeps_one_row_per_workflow_shared_with_several(api, other_api, carol_api):
    wid = api.post("/api/workflows/", chain_document(3), format="json").json()["id"]
    assert share(api, wid, ["bob", "carol", "alice"]).json()["shared_with"] == ["bob", "carol"]
    owned = api.get("/api/workflows/").json()
    assert [(w["id"], w["node_count"]) for w in owned] == [(wid, 3)]
    assert [w["id"] for w in carol_api.get("/api/workflows/").json()] == [wid]
