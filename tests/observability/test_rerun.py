import pytest
from rest_framework.test import APIClient

from tests.factories import workflow_for
from tests.observability.conftest import Recorder
from tests.observability.drive import execute
from workflows.models import NodeRun, RunEvent

pytestmark = pytest.mark.django_db(transaction=True)

# a -> b -> c, and a -> d on a branch of its own.
DOCUMENT = {
    "version": 1,
    "name": "rerun",
    "nodes": [
        {"id": "a", "type": "transform", "config": {"output": 1}},
        {"id": "b", "type": "transform", "config": {"output": "{{ a + 1 }}"}},
        {"id": "c", "type": "output", "config": {"value": "{{ b * 10 }}"}},
        {"id": "d", "type": "output", "config": {"value": "{{ a }}"}},
    ],
    "edges": [
        {"id": "e1", "source": "a", "target": "b"},
        {"id": "e2", "source": "b", "target": "c"},
        {"id": "e3", "source": "a", "target": "d"},
    ],
}


@pytest.fixture
def client(user, settings) -> APIClient:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    api = APIClient()
    api.force_login(user)
    return api


@pytest.fixture
def source_run(client, user):
    workflow = workflow_for(user, DOCUMENT)
    response = client.post(f"/api/workflows/{workflow.pk}/runs/", {}, format="json")
    assert response.status_code == 201, response.json()
    run = execute(response.json()["id"])
    assert run.status == "succeeded"
    return run


def rerun_from(client, run, node: str):
    response = client.post(f"/api/runs/{run.pk}/rerun/", {"from_node": node}, format="json")
    assert response.status_code == 201, response.json()
    return execute(response.json()["id"])


def executed(run) -> set[str]:
    rows = NodeRun.objects.filter(run=run).exclude(reason__startswith="reused from run")
    return set(rows.values_list("node_id", flat=True))


def test_rerun_from_a_node_executes_exactly_it_and_its_descendants(client, source_run):
    rerun = rerun_from(client, source_run, "b")

    assert rerun.status == "succeeded"
    assert executed(rerun) == {"b", "c"}
    assert NodeRun.objects.filter(run=rerun).count() == 4  # a and d reused, not run again
    assert rerun.outputs == {"c": 20, "d": 1}


def test_rerun_reuses_upstream_outputs_and_says_so(client, source_run):
    rerun = rerun_from(client, source_run, "b")

    reused = NodeRun.objects.get(run=rerun, node_id="a")
    original = NodeRun.objects.get(run=source_run, node_id="a")
    assert reused.output == 1 and reused.status == "succeeded"
    assert reused.started_at == original.started_at
    assert reused.reason == f"reused from run {source_run.pk}"
    report = client.get(f"/api/runs/{rerun.pk}/").json()
    assert report["nodes"]["a"]["status"] == "succeeded"
    assert report["from_node"] == "b" and report["source_run"] == source_run.pk


def test_rerun_events_show_reused_nodes_first_and_keep_seq_without_gaps(client, source_run):
    rerun = rerun_from(client, source_run, "d")

    events = list(RunEvent.objects.filter(run=rerun).order_by("seq"))
    assert [e.seq for e in events] == list(range(1, len(events) + 1))
    reused = [(e.payload["node"], e.payload["status"]) for e in events[:3]]
    assert sorted(reused) == [("a", "succeeded"), ("b", "succeeded"), ("c", "succeeded")]
    assert executed(rerun) == {"d"}


def test_rerun_from_a_root_runs_everything_again(client, source_run):
    rerun = rerun_from(client, source_run, "a")

    assert executed(rerun) == {"a", "b", "c", "d"}


def test_rerun_from_an_unknown_node_is_refused_with_the_field_named(client, source_run):
    response = client.post(f"/api/runs/{source_run.pk}/rerun/", {"from_node": "zz"}, format="json")

    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "from_node"


def test_rerun_timeline_shows_only_what_the_rerun_executed(client, source_run):
    rerun = rerun_from(client, source_run, "b")

    body = client.get(f"/api/runs/{rerun.pk}/timeline/").json()

    assert sorted(span["node"] for span in body["spans"]) == ["b", "c"]
    assert body["critical_path"][-2:] == ["b", "c"]


# fetch -> shape -> report and fetch -> audit -> report: the http nodes count their calls.
def calls_document(port: int) -> dict:
    def http(node_id: str) -> dict:
        url = f"http://127.0.0.1:{port}/{node_id}"
        return {"id": node_id, "type": "http", "config": {"method": "GET", "url": url}}

    return {
        "version": 1,
        "name": "calls",
        "nodes": [
            http("fetch"),
            {"id": "shape", "type": "transform", "config": {"output": "{{ fetch.body.ok }}"}},
            http("audit"),
            {
                "id": "report",
                "type": "transform",
                "config": {"output": {"shape": "{{ shape }}", "audit": "{{ audit.status }}"}},
            },
        ],
        "edges": [
            {"id": "e1", "source": "fetch", "target": "shape"},
            {"id": "e2", "source": "fetch", "target": "audit"},
            {"id": "e3", "source": "shape", "target": "report"},
            {"id": "e4", "source": "audit", "target": "report"},
        ],
    }


def test_rerun_calls_no_handler_upstream_or_beside_from_node(client, user, server):
    workflow = workflow_for(user, calls_document(server.server_port))
    response = client.post(f"/api/workflows/{workflow.pk}/runs/", {}, format="json")
    source = execute(response.json()["id"])
    assert source.status == "succeeded" and sorted(Recorder.hits) == ["/audit", "/fetch"]
    Recorder.hits.clear()

    rerun = rerun_from(client, source, "shape")

    assert Recorder.hits == []  # fetch (upstream) and audit (a sibling) were not called again
    assert executed(rerun) == {"shape", "report"}
    report = client.get(f"/api/runs/{rerun.pk}/").json()
    assert report["nodes"]["report"]["output"] == {"shape": True, "audit": 200}
    for node in ("fetch", "audit"):
        assert report["nodes"][node]["reason"] == f"reused from run {source.pk}"
        assert report["nodes"][node]["attempts"] == 1
