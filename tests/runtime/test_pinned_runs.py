"""Pinned data on a real worker (issue 17): a run a person starts from the canvas takes a
node's pinned output (the node ends `reused`, its row says why); a run the node's webhook
starts runs the node for real, whatever is pinned."""

from __future__ import annotations

import httpx
import pytest

from tests.runtime.test_worker import finished
from tests.runtime.workers import ServerProcess, wait_for
from workflows import services, triggers
from workflows.models import NodeRun, RunTrigger, Trigger, WorkflowRun

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow, pytest.mark.timeout(120)]


@pytest.fixture(scope="module")
def server(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        process = ServerProcess()
    yield f"http://127.0.0.1:{process.port}"
    process.stop()


def pinned_workflow(user):
    """hook (pinned: a request seen before) → fetch (pinned) → out; active, so its webhook
    starts runs."""
    document = {
        "nodes": [
            {
                "id": "hook",
                "type": "webhook",
                "config": {"method": "POST"},
                "pinned": {"output": {"body": {"order": 7}}},
            },
            {
                "id": "fetch",
                "type": "transform",
                "config": {"output": {"source": "live"}},
                "pinned": {"output": {"source": "pinned"}},
            },
            {"id": "out", "type": "output", "config": {"value": "{{ fetch.source }}"}},
        ],
        "edges": [
            {"id": "e1", "source": "hook", "target": "fetch"},
            {"id": "e2", "source": "fetch", "target": "out"},
        ],
    }
    workflow = services.workflow_create(owner=user, source=document)
    assert workflow.valid, workflow.errors
    triggers.workflow_activate(user=user, workflow_id=workflow.pk)
    return workflow


def fetch_row(run_id: int) -> NodeRun:
    return NodeRun.objects.filter(run_id=run_id, node_id="fetch").order_by("-attempt").first()


def test_a_manual_run_takes_the_pin_and_a_webhook_run_never_does(user, server):
    workflow = pinned_workflow(user)
    manual = services.run_create(user=user, workflow_id=workflow.pk, trigger=RunTrigger.MANUAL)
    wait_for(lambda: finished(manual.pk), timeout=60)
    hook = NodeRun.objects.get(run_id=manual.pk, node_id="hook")
    assert (hook.status, hook.output) == ("reused", {"body": {"order": 7}})
    row = fetch_row(manual.pk)
    assert (row.status, row.output, row.reason) == ("reused", {"source": "pinned"}, "pinned output")
    assert WorkflowRun.objects.get(pk=manual.pk).outputs == {"out": "pinned"}

    token = Trigger.objects.get(workflow=workflow).token
    response = httpx.post(f"{server}/hooks/{token}/", json={"order": 1})
    assert response.status_code == 202, response.text
    hooked = response.json()["run"]
    wait_for(lambda: finished(hooked), timeout=60)
    run = WorkflowRun.objects.get(pk=hooked)
    assert run.trigger == "webhook"
    assert NodeRun.objects.get(run=run, node_id="hook").output["body"] == {"order": 1}
    row = fetch_row(hooked)
    assert (row.status, row.output, row.reason) == ("succeeded", {"source": "live"}, "")
    assert run.outputs == {"out": "live"}
