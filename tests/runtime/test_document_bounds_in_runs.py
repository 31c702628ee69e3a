"""Bounded numbers in real runs (issue 13, defect 6): a document with a value past its
maximum does not run (400 naming the field, no run row), and a template that yields one at
run time fails its node cleanly: the worker goes on driving runs (it used to crash on every
drive of the run, `OverflowError` from an approval's 1e300-second timeout)."""

from __future__ import annotations

import pytest

from tests.runtime.conftest import logged_in
from tests.runtime.test_subworkflows import ended
from tests.runtime.test_worker import workers  # noqa: F401 (fixture)
from tests.runtime.workers import wait_for
from workflows import services
from workflows.models import NodeRun, WorkflowRun

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow, pytest.mark.timeout(120)]


def approval(timeout) -> dict:
    return {
        "version": 1,
        "name": "waits",
        "inputs": {"t": {"type": "number", "default": 60}},
        "nodes": [{"id": "ok", "type": "approval", "config": {"timeout_s": timeout}}],
        "edges": [],
    }


@pytest.mark.parametrize(
    ("node", "field", "message"),
    [
        (
            {"id": "ok", "type": "approval", "config": {"timeout_s": 1e300}},
            "config.timeout_s",
            "node ok: config.timeout_s: must be at most 2592000, got 1e+300",
        ),
        (
            {
                "id": "ok",
                "type": "transform",
                "config": {"output": 1},
                "retry": {"max_attempts": 1e9},
            },
            "retry.max_attempts",
            "node ok: retry.max_attempts must be an integer, got 1000000000.0",
        ),
        (
            {"id": "ok", "type": "transform", "config": {"output": 1}, "timeout_s": 1e308},
            "timeout_s",
            "node ok: timeout_s must be at most 604800, got 1e+308",
        ),
    ],
)
def test_a_document_past_a_maximum_does_not_run_and_the_answer_names_the_field(
    user, node, field, message
):
    document = {"version": 1, "name": "big", "nodes": [node], "edges": []}
    workflow = services.workflow_create(owner=user, source=document)
    response = logged_in(user).post(f"/api/workflows/{workflow.pk}/runs/", {}, "application/json")
    assert response.status_code == 400
    assert [(e["field"], e["message"]) for e in response.json()["errors"]] == [(field, message)]
    assert not WorkflowRun.objects.filter(workflow=workflow).exists()


def test_a_template_past_a_maximum_fails_the_node_and_the_worker_goes_on(user, workers):  # noqa: F811
    workers()
    workflow = services.workflow_create(owner=user, source=approval("{{ inputs.t }}"))
    assert workflow.valid
    huge = ended(services.run_create(user=user, workflow_id=workflow.pk, inputs={"t": 1e300}).pk)
    assert huge.status == "failed"
    error = NodeRun.objects.get(run=huge, node_id="ok").error
    assert error == {
        "type": "bad_config",
        "message": "config.timeout_s: must be at most 2592000, got 1e+300",
    }
    # The same worker parks the next run at an ordinary approval.
    fine = services.run_create(user=user, workflow_id=workflow.pk, inputs={"t": 60})
    wait_for(lambda: WorkflowRun.objects.get(pk=fine.pk).status == "paused", timeout=60)


def test_a_run_stored_before_the_maxima_parks_instead_of_breaking_every_drive(user, workers):  # noqa: F811
    """A queued run keeps the document it was created with: one from before documents had
    maxima (a literal 1e300-second approval timeout) must still park, its wake-up "never"."""
    from tests.runtime.conftest import make_run

    workers()
    document = {
        "version": 1,
        "name": "old",
        "nodes": [{"id": "ok", "type": "approval", "config": {"timeout_s": 1e300}}],
        "edges": [],
    }
    run = make_run(user, document)
    from workflows.runtime.worker import send_wakeup

    send_wakeup(run.pk)
    wait_for(lambda: WorkflowRun.objects.get(pk=run.pk).status == "paused", timeout=60)
    run.refresh_from_db()
    assert run.wake_at.year == 9999
    assert NodeRun.objects.get(run=run, node_id="ok").status == "waiting"
