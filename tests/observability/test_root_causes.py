"""A failed run names its root causes (SPEC §8) wherever the run is shown: the API's run read,
`run_workflow --json`, `inspect` and the admin's run page — computed from the rows the real
worker wrote."""

import io
import json

import pytest
from django.core.management import call_command
from django.test import Client

from tests.factories import workflow_for
from tests.observability.drive import execute

pytestmark = pytest.mark.django_db(transaction=True)

# `fetch` fails: `parse` and `store` cannot run; `audit` fails on its own; a map's three items
# fail the same way, which takes the map and `after` down.
FAILING = {
    "version": 1,
    "name": "failing",
    "nodes": [
        {"id": "fetch", "type": "error", "config": {"message": "upstream API said 503"}},
        {"id": "parse", "type": "transform", "config": {"output": "{{ input }}"}},
        {"id": "store", "type": "transform", "config": {"output": "{{ input }}"}},
        {"id": "audit", "type": "error", "config": {"message": "audit log unreachable"}},
        {
            "id": "each",
            "type": "map",
            "config": {"items": [1, 2, 3], "item_failure": "skip", "max_concurrency": 1},
        },
        {"id": "check", "type": "error", "parent": "each", "config": {"message": "bad item"}},
        {"id": "gate", "type": "error", "config": {"message": "no items", "when": "True"}},
        {"id": "after", "type": "transform", "config": {"output": 1}},
    ],
    "edges": [
        {"id": "e1", "source": "fetch", "target": "parse"},
        {"id": "e2", "source": "parse", "target": "store"},
        {"id": "e3", "source": "each", "target": "gate"},
        {"id": "e4", "source": "gate", "target": "after"},
    ],
}
MAP_FAILS = {
    "version": 1,
    "name": "map fails",
    "nodes": [
        {"id": "each", "type": "map", "config": {"items": [1, 2, 3], "max_concurrency": 1}},
        {"id": "check", "type": "error", "parent": "each", "config": {"message": "bad item"}},
        {"id": "after", "type": "transform", "config": {"output": 1}},
    ],
    "edges": [{"id": "e1", "source": "each", "target": "after"}],
}


@pytest.fixture
def client(user, settings) -> Client:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    api = Client()
    api.force_login(user)
    return api


@pytest.fixture
def failed_run(client, user):
    workflow = workflow_for(user, FAILING)
    response = client.post(f"/api/workflows/{workflow.pk}/runs/", {}, "application/json")
    assert response.status_code == 201, response.json()
    run = execute(response.json()["id"])
    assert run.status == "failed"
    return run


def test_the_run_read_names_each_root_cause_and_what_it_took_down(client, failed_run):
    body = client.get(f"/api/runs/{failed_run.pk}/").json()

    causes = {cause["node"]: cause for cause in body["root_causes"]}
    assert set(causes) == {"fetch", "audit", "gate"}
    assert causes["fetch"]["error"] == {"message": "upstream API said 503", "type": "error"}
    assert causes["fetch"]["affected"] == ["parse", "store"]
    assert causes["audit"]["affected"] == []
    assert causes["gate"]["affected"] == ["after"]
    assert body["nodes"]["parse"]["status"] == "upstream_failed"


def test_map_items_failing_the_same_way_are_one_cause_counting_them(client, user):
    workflow = workflow_for(user, MAP_FAILS)
    response = client.post(f"/api/workflows/{workflow.pk}/runs/", {}, "application/json")
    run = execute(response.json()["id"])

    (cause,) = client.get(f"/api/runs/{run.pk}/").json()["root_causes"]

    assert (cause["node"], cause["iteration"]) == ("check", "each[0]")
    assert cause["error"]["message"] == "bad item"
    assert cause["affected"] == ["each", "after"]


def test_a_succeeded_run_reads_with_no_root_causes(client, user):
    workflow = workflow_for(
        user, {"version": 1, "name": "ok", "nodes": [{"id": "a", "type": "start"}]}
    )
    response = client.post(f"/api/workflows/{workflow.pk}/runs/", {}, "application/json")
    run = execute(response.json()["id"])

    assert client.get(f"/api/runs/{run.pk}/").json()["root_causes"] == []


def test_inspect_prints_the_root_causes(failed_run):
    out = io.StringIO()
    call_command("inspect", str(failed_run.pk), stdout=out)

    text = out.getvalue()
    assert "Root causes (3):" in text
    assert "  fetch: upstream API said 503 (error) — took down 2: parse, store" in text


def test_the_admin_run_page_lists_the_root_causes(failed_run, django_user_model, settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    admin = django_user_model.objects.create_superuser("root", "root@example.com", "pw-root-1")
    client = Client()
    client.force_login(admin)

    html = client.get(f"/admin/workflows/workflowrun/{failed_run.pk}/change/").content.decode()

    line = "fetch: upstream API said 503 (error) — took down 2: parse, store"
    assert f'<li class="root-cause">{line}</li>' in html


def test_run_workflow_json_has_the_root_causes(tmp_path):
    path = tmp_path / "fails.json"
    path.write_text(json.dumps(FAILING))
    out = io.StringIO()
    with pytest.raises(SystemExit):
        call_command("run_workflow", str(path), "--json", stdout=out, stderr=io.StringIO())

    report = json.loads(out.getvalue())
    assert {cause["node"] for cause in report["root_causes"]} == {"fetch", "audit", "gate"}


def test_run_workflow_prints_the_root_causes(tmp_path):
    path = tmp_path / "fails.json"
    path.write_text(json.dumps(FAILING))
    out = io.StringIO()
    with pytest.raises(SystemExit):
        call_command("run_workflow", str(path), stdout=out, stderr=io.StringIO())

    assert "Root causes (3):" in out.getvalue()
    assert "  fetch: upstream API said 503 (error) — took down 2: parse, store" in out.getvalue()
