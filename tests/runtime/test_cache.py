"""Reusing unchanged work through the real worker (SPEC §8): a cached node's key is written
with its successful row; a later run of the workflow finds it and the node ends `reused`
(reused_from, the run read's reuse summary); an edit recomputes only what it touched; a worker
killed mid-computation leaves no key behind."""

from __future__ import annotations

import copy
import io
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from tests.observability.drive import execute
from tests.runtime.workers import WorkerProcess, wait_for
from workflows import services
from workflows.models import NodeRun, RunEvent, WorkflowRun

pytestmark = pytest.mark.django_db(transaction=True)

CACHED = {"ttl_s": 600}
CHAIN = {
    "version": 1,
    "name": "cached chain",
    "nodes": [
        {"id": "a", "type": "transform", "config": {"output": {"v": 1}}, "cache": CACHED},
        {"id": "b", "type": "transform", "config": {"output": "{{ a.v + 1 }}"}, "cache": CACHED},
        {"id": "c", "type": "output", "config": {"value": "{{ b * 10 }}"}, "cache": CACHED},
        {"id": "plain", "type": "transform", "config": {"output": "{{ c }}"}},
    ],
    "edges": [
        {"id": "e1", "source": "a", "target": "b"},
        {"id": "e2", "source": "b", "target": "c"},
        {"id": "e3", "source": "c", "target": "plain"},
    ],
}


@pytest.fixture
def client(user, settings) -> Client:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    api = Client()
    api.force_login(user)
    return api


def start(client, workflow_id: int) -> WorkflowRun:
    response = client.post(f"/api/workflows/{workflow_id}/runs/", {}, "application/json")
    assert response.status_code == 201, response.json()
    return execute(response.json()["id"])


def rows(run: WorkflowRun) -> dict[str, NodeRun]:
    return {row.node_id: row for row in NodeRun.objects.filter(run=run).order_by("attempt")}


@pytest.fixture
def workflow(user):
    return services.workflow_create(owner=user, source=CHAIN)


def test_a_chain_run_twice_reuses_all_three_nodes(client, workflow):
    first = start(client, workflow.pk)
    NodeRun.objects.filter(run=first).update(duration_ms=1500)  # as if each had taken 1.5 s
    second = start(client, workflow.pk)

    found = rows(second)
    assert second.status == "succeeded"
    assert {n: found[n].status for n in found} == {
        "a": "reused",
        "b": "reused",
        "c": "reused",
        "plain": "succeeded",
    }
    assert {found[n].reused_from for n in "abc"} == {first.pk}
    assert second.outputs == {"c": 20}
    body = client.get(f"/api/runs/{second.pk}/").json()
    assert body["reuse"] == {"nodes": 3, "saved_ms": 4500}
    assert body["nodes"]["b"]["reused_from"] == first.pk
    attempts = {row["node_id"]: row for row in body["node_runs"]}
    assert attempts["b"]["reused_from"] == first.pk and "reused_from" not in attempts["plain"]
    assert body["nodes"]["plain"]["output"] == 20
    events = RunEvent.objects.filter(run=second, type="node.status", payload__status="reused")
    assert sorted(e.payload["node"] for e in events) == ["a", "b", "c"]
    assert {e.payload["reused_from"] for e in events} == {first.pk}


def test_changing_one_config_recomputes_that_node_and_its_dependants_only(client, workflow):
    first = start(client, workflow.pk)
    edited = copy.deepcopy(CHAIN)
    edited["nodes"][1]["config"]["output"] = "{{ a.v + 2 }}"
    saved = client.put(
        f"/api/workflows/{workflow.pk}/",
        {**edited, "revision": workflow.revision},
        "application/json",
    )
    assert saved.status_code == 200, saved.json()

    second = start(client, workflow.pk)

    found = rows(second)
    assert found["a"].status == "reused" and found["a"].reused_from == first.pk
    assert [found[n].status for n in ("b", "c", "plain")] == ["succeeded"] * 3
    assert second.outputs == {"c": 30}


def test_a_result_older_than_its_ttl_is_computed_again(client, workflow):
    first = start(client, workflow.pk)
    NodeRun.objects.filter(run=first).update(finished_at=timezone.now() - timedelta(seconds=601))

    second = start(client, workflow.pk)

    assert {row.status for row in rows(second).values()} == {"succeeded"}


def test_nodes_without_cache_keep_no_key_and_are_never_reused(client, workflow):
    first = start(client, workflow.pk)
    second = start(client, workflow.pk)

    assert rows(first)["plain"].cache_key == "" and rows(second)["plain"].status == "succeeded"
    assert all(len(rows(first)[n].cache_key) == 64 for n in "abc")


def test_a_result_of_another_workflow_is_not_reused(client, user, workflow):
    start(client, workflow.pk)
    other = services.workflow_create(owner=user, source={**CHAIN, "name": "copy"})

    again = start(client, other.pk)

    assert "reused" not in {row.status for row in rows(again).values()}


def test_the_admin_shows_reused_attempts_in_teal(client, workflow, django_user_model):
    start(client, workflow.pk)
    second = start(client, workflow.pk)
    admin = Client()
    admin.force_login(django_user_model.objects.create_superuser("root", "r@example.com", "pw-1"))

    html = admin.get(f"/admin/workflows/workflowrun/{second.pk}/change/").content.decode()

    assert html.count('data-status="reused" style="background:#14b8a6') == 3


def test_inspect_says_where_a_reused_output_came_from(client, workflow):
    first = start(client, workflow.pk)
    second = start(client, workflow.pk)
    out = io.StringIO()

    call_command("inspect", str(second.pk), stdout=out)

    line = next(x for x in out.getvalue().splitlines() if x.strip().startswith("b "))
    assert "reused" in line and f"output reused from run {first.pk} (cache)" in line


NAP = {
    "version": 1,
    "name": "cached nap",
    "nodes": [
        {"id": "nap", "type": "delay", "config": {"seconds": 2}, "cache": CACHED},
        {"id": "out", "type": "output", "config": {"value": "done"}},
    ],
    "edges": [{"id": "e1", "source": "nap", "target": "out"}],
}


@pytest.mark.slow
def test_a_worker_killed_during_a_cached_nodes_first_computation_stores_no_key(user):
    workflow = services.workflow_create(owner=user, source=NAP)
    run = services.run_create(user=user, workflow_id=workflow.pk)
    keys = NodeRun.objects.filter(run__workflow=workflow).exclude(cache_key="")
    worker = WorkerProcess()
    try:
        wait_for(lambda: NodeRun.objects.filter(run=run, node_id="nap", status="running").exists())
        worker.kill()  # mid-computation
        assert not keys.exists()
        worker = WorkerProcess()  # takes the run over: the nap runs again, to its end
        wait_for(lambda: WorkflowRun.objects.get(pk=run.pk).status == "succeeded", timeout=40)
    finally:
        worker.stop()
    naps = list(NodeRun.objects.filter(run=run, node_id="nap").order_by("attempt"))
    assert [row.status for row in naps] == ["failed", "succeeded"]  # lost, then computed
    assert naps[0].cache_key == "" and len(naps[1].cache_key) == 64
    assert keys.count() == 1
