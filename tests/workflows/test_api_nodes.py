"""Pinned data and testing one node through the API (issue 17): `POST/DELETE
/api/workflows/{id}/nodes/{node}/pin/` and `POST .../test/`."""

from __future__ import annotations

import pytest

from engine.limits import MAX_PINNED_BYTES
from tests.observability.drive import execute
from tests.runtime.test_secrets_in_runs import EchoServer
from workflows import services
from workflows.models import NodeRun, Workflow, WorkflowRun

pytestmark = pytest.mark.django_db(transaction=True)

SECRET = "s3cr3t-value-123"


def chain(user, **fetch) -> Workflow:
    """fetch → use → out: `use` adds one to what fetch gives."""
    document = {
        "nodes": [
            {"id": "fetch", "type": "transform", "config": {"output": {"v": 1}}, **fetch},
            {"id": "use", "type": "transform", "config": {"output": "{{ fetch.v + 1 }}"}},
            {"id": "out", "type": "output", "config": {"value": "{{ use }}"}},
        ],
        "edges": [
            {"id": "e1", "source": "fetch", "target": "use"},
            {"id": "e2", "source": "use", "target": "out"},
        ],
    }
    workflow = services.workflow_create(owner=user, source=document)
    assert workflow.valid, workflow.errors
    return workflow


def manual_run(api, workflow_id: int) -> WorkflowRun:
    body = {"inputs": {}, "trigger": "manual"}
    response = api.post(f"/api/workflows/{workflow_id}/runs/", body, format="json")
    assert response.status_code == 201, response.json()
    return execute(response.json()["id"])


def row(run: WorkflowRun, node_id: str) -> NodeRun:
    return NodeRun.objects.filter(run=run, node_id=node_id).order_by("-attempt").first()


def pin_url(workflow_id: int, node: str) -> str:
    return f"/api/workflows/{workflow_id}/nodes/{node}/pin/"


def test_pinning_a_run_s_output_saves_it_and_manual_runs_reuse_it(api, user):
    workflow = chain(user)
    first = manual_run(api, workflow.pk)
    response = api.post(pin_url(workflow.pk, "fetch"), {"run": first.pk}, format="json")
    assert response.status_code == 200, response.json()
    assert response.json()["pinned"]["output"] == {"v": 1}
    assert response.json()["revision"] == workflow.revision + 1
    saved = api.get(f"/api/workflows/{workflow.pk}/").json()
    assert saved["nodes"][0]["pinned"]["output"] == {"v": 1}
    assert saved["nodes"][0]["pinned"]["run"] == first.pk
    # the live config changes; a manual run still takes the pinned output
    saved["nodes"][0]["config"] = {"output": {"v": 100}}
    assert api.put(f"/api/workflows/{workflow.pk}/", saved, format="json").status_code == 200
    second = manual_run(api, workflow.pk)
    fetch = row(second, "fetch")
    assert (fetch.status, fetch.output, fetch.reason) == ("reused", {"v": 1}, "pinned output")
    assert second.outputs == {"out": 2}


def test_an_api_run_never_uses_pinned_data(api, user):
    workflow = chain(user, pinned={"output": {"v": 41}})
    response = api.post(f"/api/workflows/{workflow.pk}/runs/", {}, format="json")
    run = execute(response.json()["id"])
    assert row(run, "fetch").status == "succeeded"
    assert run.outputs == {"out": 2}


def test_unpinning_runs_the_node_again(api, user):
    workflow = chain(user, pinned={"output": {"v": 41}})
    response = api.delete(pin_url(workflow.pk, "fetch"))
    assert response.status_code == 200
    assert response.json()["pinned"] is None
    assert "pinned" not in api.get(f"/api/workflows/{workflow.pk}/").json()["nodes"][0]
    assert manual_run(api, workflow.pk).outputs == {"out": 2}


def test_a_pin_over_the_size_limit_is_refused_and_nothing_is_stored(api, user):
    workflow = chain(user)
    big = {"output": "x" * (MAX_PINNED_BYTES + 1)}
    response = api.post(pin_url(workflow.pk, "fetch"), big, format="json")
    assert response.status_code == 400
    error = response.json()["errors"][0]
    assert error["field"] == "pinned.output"
    assert "1,048,576-byte limit for pinned data" in error["message"]
    workflow.refresh_from_db()
    assert workflow.revision == 1


def test_only_a_node_that_succeeded_can_be_pinned(api, user):
    workflow = chain(user)
    document = api.get(f"/api/workflows/{workflow.pk}/").json()
    document["nodes"][1]["config"] = {"output": "{{ fetch.v.nothing.here }}"}
    api.put(f"/api/workflows/{workflow.pk}/", document, format="json")
    run = manual_run(api, workflow.pk)
    assert row(run, "use").status == "failed"
    response = api.post(pin_url(workflow.pk, "use"), {"run": run.pk}, format="json")
    assert response.status_code == 400
    assert response.json()["errors"][0]["code"] == "not_pinnable"
    assert "only a node that succeeded can be pinned" in response.json()["errors"][0]["message"]


def test_a_pin_request_names_what_is_wrong(api, user):
    workflow = chain(user)
    response = api.post(pin_url(workflow.pk, "fetch"), {"run": "x", "extra": 1}, format="json")
    assert response.status_code == 400
    messages = [e["message"] for e in response.json()["errors"]]
    assert "extra: unknown field" in messages
    assert "run: must be a run id (a positive integer)" in messages
    assert api.post(pin_url(workflow.pk, "nope"), {"output": 1}, format="json").status_code == 404
    # handles, when given, is a list (found by make apicheck: null was taken as the default)
    response = api.post(
        pin_url(workflow.pk, "fetch"), {"output": 1, "handles": None}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["errors"][0]["message"] == "handles: must be a list of strings"


def test_a_user_the_workflow_is_shared_with_can_neither_pin_nor_test(
    api, other_api, user, other_user
):
    workflow = chain(user)
    services.workflow_share(user=user, workflow_id=workflow.pk, names=[other_user.username])
    for response in (
        other_api.post(pin_url(workflow.pk, "fetch"), {"output": 1}, format="json"),
        other_api.delete(pin_url(workflow.pk, "fetch")),
        other_api.post(f"/api/workflows/{workflow.pk}/nodes/fetch/test/"),
    ):
        assert response.status_code == 403
        assert response.json()["errors"][0]["code"] == "read_only"


def trial_url(workflow_id: int, node: str) -> str:
    return f"/api/workflows/{workflow_id}/nodes/{node}/test/"


def test_testing_a_node_runs_it_with_the_last_run_s_inputs_and_records_no_run(api, user):
    workflow = chain(user)
    manual_run(api, workflow.pk)
    document = api.get(f"/api/workflows/{workflow.pk}/").json()
    document["nodes"][1]["config"] = {"output": "{{ fetch.v * 10 }}"}
    api.put(f"/api/workflows/{workflow.pk}/", document, format="json")
    runs, rows = WorkflowRun.objects.count(), NodeRun.objects.count()
    response = api.post(trial_url(workflow.pk, "use"))
    assert response.status_code == 200, response.json()
    body = response.json()
    assert (body["status"], body["input"], body["output"]) == ("succeeded", {"v": 1}, 10)
    assert (WorkflowRun.objects.count(), NodeRun.objects.count()) == (runs, rows)


def test_testing_a_node_takes_upstream_pinned_data_first(api, user):
    workflow = chain(user, pinned={"output": {"v": 41}})
    body = api.post(trial_url(workflow.pk, "use")).json()  # no run needed: fetch is pinned
    assert (body["status"], body["output"]) == ("succeeded", 42)


def test_testing_without_upstream_output_says_what_to_do(api, user):
    workflow = chain(user)
    response = api.post(trial_url(workflow.pk, "use"))
    assert response.status_code == 400
    message = response.json()["errors"][0]["message"]
    assert message == (
        "upstream node fetch has no output to test with (the workflow has not run yet): run "
        "the workflow once, or pin fetch's output"
    )


def test_a_tested_http_node_sends_the_secret_and_the_answer_never_shows_it(api, user, settings):
    settings.SWITCHYARD_SECRETS = {"api": SECRET}
    settings.SWITCHYARD_HTTP_ALLOW_PRIVATE = True
    server = EchoServer()
    try:
        headers = {"Authorization": "Bearer {{ secrets.api }}"}
        document = {
            "nodes": [
                {"id": "call", "type": "http", "config": {"url": server.url, "headers": headers}}
            ],
            "edges": [],
        }
        workflow = services.workflow_create(owner=user, source=document)
        assert workflow.valid, workflow.errors
        response = api.post(trial_url(workflow.pk, "call"))
    finally:
        server.close()
    assert response.status_code == 200, response.json()
    assert server.received == [f"Bearer {SECRET}"]  # the secret was there for the real call
    assert response.json()["status"] == "succeeded"
    assert response.json()["output"]["body"]["ok"] is True
    assert SECRET not in response.content.decode()


def test_a_tested_node_is_bounded_by_its_timeout(api, user):
    document = {
        "nodes": [{"id": "wait", "type": "delay", "config": {"seconds": 30}, "timeout_s": 0.3}],
        "edges": [],
    }
    workflow = services.workflow_create(owner=user, source=document)
    response = api.post(trial_url(workflow.pk, "wait"))
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "failed"
    assert body["error"]["type"] == "timeout"


@pytest.mark.parametrize(
    ("node", "why"),
    [
        ("ask", "an approval waits for a person's decision"),
        ("each", "a loop runs its body once per iteration: run the workflow"),
        ("hook", "a webhook node is started by a request: use its test URL (listen)"),
    ],
)
def test_nodes_that_cannot_run_alone_are_refused_naming_why(api, user, node, why):
    document = {
        "nodes": [
            {"id": "hook", "type": "webhook", "config": {"method": "POST"}},
            {"id": "ask", "type": "approval", "config": {"prompt": "ok?"}},
            {"id": "each", "type": "loop", "config": {"count": 2}},
        ],
        "edges": [],
    }
    workflow = services.workflow_create(owner=user, source=document)
    response = api.post(trial_url(workflow.pk, node))
    assert response.status_code == 400, response.json()
    error = response.json()["errors"][0]
    assert error["code"] == "not_testable"
    assert error["message"] == f"node {node} cannot be tested on its own: {why}"
