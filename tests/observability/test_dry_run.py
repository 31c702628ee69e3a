import json
from io import StringIO

import pytest
from django.core.management import call_command
from rest_framework.test import APIClient

from tests.factories import workflow_for
from tests.observability.conftest import Recorder
from tests.observability.drive import execute

pytestmark = pytest.mark.django_db(transaction=True)


def document(port: int, *, with_gate: bool = False) -> dict:
    doc = {
        "version": 1,
        "name": "side effects",
        "nodes": [
            {"id": "prepare", "type": "transform", "config": {"output": {"n": 2}}},
            {
                "id": "fetch",
                "type": "http",
                "config": {"method": "GET", "url": f"http://127.0.0.1:{port}/orders"},
            },
            {"id": "report", "type": "output", "config": {"value": "{{ prepare.n }}"}},
        ],
        "edges": [
            {"id": "e1", "source": "prepare", "target": "fetch"},
            {"id": "e2", "source": "fetch", "target": "report"},
        ],
    }
    if with_gate:  # a branch that is not taken: a real run would not call `notify` either
        doc["nodes"] += [
            {"id": "gate", "type": "condition", "config": {"expression": "False"}},
            {
                "id": "notify",
                "type": "http",
                "config": {"method": "GET", "url": f"http://127.0.0.1:{port}/notify"},
            },
        ]
        doc["edges"] += [
            {"id": "e3", "source": "report", "target": "gate"},
            {"id": "e4", "source": "gate", "source_handle": "true", "target": "notify"},
        ]
    return doc


@pytest.fixture
def client(user, settings) -> APIClient:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    api = APIClient()
    api.force_login(user)
    return api


def start(client, workflow, mode: str) -> int:
    response = client.post(f"/api/workflows/{workflow.pk}/runs/", {"mode": mode}, format="json")
    assert response.status_code == 201, response.json()
    return response.json()["id"]


def test_a_normal_run_calls_the_server(client, user, server):
    workflow = workflow_for(user, document(server.server_port))

    run = execute(start(client, workflow, "normal"))

    assert run.status == "succeeded"
    assert Recorder.hits == ["/orders"]


def test_dry_run_calls_no_http_handler_and_reports_what_would_run(client, user, server):
    workflow = workflow_for(user, document(server.server_port))

    run = execute(start(client, workflow, "dry_run"))

    assert Recorder.hits == []
    report = client.get(f"/api/runs/{run.pk}/").json()
    assert report["mode"] == "dry_run" and report["status"] == "succeeded"
    assert report["nodes"]["fetch"]["output"] == {"dry_run": True}
    assert report["outputs"] == {"report": 2}  # side-effect free nodes really ran
    out = StringIO()
    call_command("inspect", str(run.pk), stdout=out)
    assert "Dry run: would run prepare, fetch, report" in out.getvalue()
    assert "side effects not performed: fetch" in out.getvalue()


def test_dry_run_starts_no_sub_workflow(client, user, server):
    child = workflow_for(user, document(server.server_port))
    parent = workflow_for(
        user,
        {
            "version": 1,
            "name": "parent",
            "nodes": [{"id": "call", "type": "subworkflow", "config": {"workflow": child.pk}}],
            "edges": [],
        },
    )

    run = execute(start(client, parent, "dry_run"))

    assert run.status == "succeeded"
    assert not run.child_runs.exists()
    assert Recorder.hits == []
    report = client.get(f"/api/runs/{run.pk}/").json()
    assert report["nodes"]["call"]["output"] == {"dry_run": True}


def test_run_workflow_dry_run_calls_no_http_handler(user, server, tmp_path):
    path = tmp_path / "side.json"
    path.write_text(json.dumps(document(server.server_port)))
    out = StringIO()

    with pytest.raises(SystemExit) as exited:
        call_command(
            "run_workflow", str(path), "--dry-run", "--json", stdout=out, stderr=StringIO()
        )

    assert exited.value.code == 0
    assert Recorder.hits == []
    assert json.loads(out.getvalue())["nodes"]["fetch"]["output"] == {"dry_run": True}


def test_run_workflow_dry_run_json_says_which_nodes_would_run(user, server, tmp_path):
    path = tmp_path / "side.json"
    path.write_text(json.dumps(document(server.server_port, with_gate=True)))
    out = StringIO()

    with pytest.raises(SystemExit):
        call_command(
            "run_workflow", str(path), "--dry-run", "--json", stdout=out, stderr=StringIO()
        )

    report = json.loads(out.getvalue())
    assert Recorder.hits == []
    assert report["would_run"] == ["prepare", "fetch", "report", "gate"]
    assert report["placeholders"] == ["fetch"]
    dry = {node: body["dry_run"] for node, body in report["nodes"].items()}
    assert dry == {
        "prepare": "ran",
        "fetch": "placeholder",
        "report": "ran",
        "gate": "ran",
        "notify": "not run",
    }


def test_a_normal_run_report_has_no_dry_run_plan(user, server, tmp_path):
    path = tmp_path / "side.json"
    path.write_text(json.dumps(document(server.server_port)))
    out = StringIO()

    with pytest.raises(SystemExit):
        call_command("run_workflow", str(path), "--json", stdout=out, stderr=StringIO())

    report = json.loads(out.getvalue())
    assert Recorder.hits == ["/orders"]
    assert "would_run" not in report and "dry_run" not in report["nodes"]["fetch"]


def test_the_api_report_of_a_dry_run_says_which_nodes_would_run(client, user, server):
    workflow = workflow_for(user, document(server.server_port, with_gate=True))

    run = execute(start(client, workflow, "dry_run"))

    report = client.get(f"/api/runs/{run.pk}/").json()
    assert Recorder.hits == []
    assert report["would_run"] == ["prepare", "fetch", "report", "gate"]
    assert report["placeholders"] == ["fetch"]
    assert report["nodes"]["fetch"]["dry_run"] == "placeholder"
    assert report["nodes"]["prepare"]["dry_run"] == "ran"
    assert report["nodes"]["notify"]["dry_run"] == "not run"
    assert report["nodes"]["notify"]["reason"] == "branch gate.true not taken"
    normal = client.get(f"/api/runs/{execute(start(client, workflow, 'normal')).pk}/").json()
    assert "would_run" not in normal and "dry_run" not in normal["nodes"]["fetch"]
