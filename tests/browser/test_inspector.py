"""The run inspector: why a node did not run, the input each node got, and sub-workflow runs
(from the parent's node to the child run on its own canvas, and back)."""

import json
import re

import pytest

from tests.browser.conftest import PASSWORD
from tests.browser.gestures import at, login, node, open_editor, statuses, wait_for_run_end
from workflows import services
from workflows.models import NodeRun, WorkflowRun

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def run_from_the_editor(page, workflow_id: int) -> str:
    open_editor(page, workflow_id)
    page.click("[data-testid=run-button]")
    page.wait_for_url(re.compile(rf"/workflows/{workflow_id}/runs/\d+/$"))
    return wait_for_run_end(page)


def inspect(page, node_id: str):
    node(page, node_id).locator(".wf-node-name").click()
    panel = page.locator("[data-testid=inspect-panel]")
    panel.locator("header strong", has_text=node_id).wait_for()
    return panel


# start -> check (true) -> boom (fails) -> after (upstream_failed); check.false -> never (skipped)
# start -> make -> use: `use` gets make's output as its input
REASONS = {
    "version": 1,
    "name": "Reasons and inputs",
    "nodes": [
        {"id": "start", "type": "start", "position": at(0, 150)},
        {
            "id": "check",
            "type": "condition",
            "config": {"expression": "1 < 2"},
            "position": at(280, 150),
        },
        {"id": "boom", "type": "error", "config": {"message": "boom"}, "position": at(560, 40)},
        {"id": "after", "type": "transform", "config": {"output": 1}, "position": at(840, 40)},
        {"id": "never", "type": "transform", "config": {"output": 2}, "position": at(560, 280)},
        {
            "id": "make",
            "type": "transform",
            "config": {"output": {"order": 4217, "lines": ["tea"]}},
            "position": at(280, 420),
        },
        {
            "id": "use",
            "type": "transform",
            "config": {"output": "{{ input.order }}"},
            "position": at(560, 420),
        },
    ],
    "edges": [
        {"id": "e1", "source": "start", "target": "check"},
        {"id": "e2", "source": "check", "source_handle": "true", "target": "boom"},
        {"id": "e3", "source": "boom", "target": "after"},
        {"id": "e4", "source": "check", "source_handle": "false", "target": "never"},
        {"id": "e5", "source": "start", "target": "make"},
        {"id": "e6", "source": "make", "target": "use"},
    ],
}


def test_the_inspector_says_why_a_skipped_or_upstream_failed_node_did_not_run(page, canvas_user):
    workflow = services.workflow_create(owner=canvas_user, source=REASONS)
    login(page, "carol", PASSWORD)
    assert run_from_the_editor(page, workflow.pk) == "failed"
    assert node(page, "never").get_attribute("data-status") == "skipped"
    assert node(page, "after").get_attribute("data-status") == "upstream_failed"

    reason = inspect(page, "never").locator("[data-testid=inspect-reason]")
    reason.wait_for()
    assert reason.inner_text() == "branch check.false not taken"
    reason = inspect(page, "after").locator("[data-testid=inspect-reason]")
    page.locator("[data-testid=inspect-reason]", has_text="upstream boom failed").wait_for()
    # the text is the NodeRun's reason, as recorded
    run = WorkflowRun.objects.get(workflow=workflow)
    assert reason.inner_text() == NodeRun.objects.get(run=run, node_id="after").reason
    # a node that ran has no reason to give
    inspect(page, "make")
    assert page.locator("[data-testid=inspect-reason]").count() == 0


def test_the_inspector_shows_the_input_a_finished_node_got(page, canvas_user):
    workflow = services.workflow_create(owner=canvas_user, source=REASONS)
    login(page, "carol", PASSWORD)
    assert run_from_the_editor(page, workflow.pk) == "failed"
    recorded = NodeRun.objects.get(run__workflow=workflow, node_id="use").input
    assert recorded == {"order": 4217, "lines": ["tea"]}

    shown = inspect(page, "use").locator("[data-testid=inspect-input] pre")
    shown.wait_for()
    assert json.loads(shown.inner_text()) == recorded
    assert "4217" in inspect(page, "use").locator("[data-testid=inspect-output] pre").inner_text()


CHILD = {
    "version": 1,
    "name": "Child: double",
    "inputs": {"n": {"type": "number", "default": 1}},
    "nodes": [
        {"id": "twice", "type": "transform", "config": {"output": "{{ inputs.n * 2 }}"}},
        {"id": "doubled", "type": "output", "config": {"value": "{{ twice }}"}},
    ],
    "edges": [{"id": "e1", "source": "twice", "target": "doubled"}],
}


def parent_document(child_id: int) -> dict:
    return {
        "version": 1,
        "name": "Parent",
        "nodes": [
            {"id": "first", "type": "transform", "config": {"output": {"n": 21}}},
            {
                "id": "call",
                "type": "subworkflow",
                "config": {"workflow": child_id, "inputs": {"n": "{{ first.n }}"}},
                "position": at(300, 0),
            },
            {
                "id": "result",
                "type": "output",
                "config": {"value": "{{ call }}"},
                "position": at(600, 0),
            },
        ],
        "edges": [
            {"id": "e1", "source": "first", "target": "call"},
            {"id": "e2", "source": "call", "target": "result"},
        ],
    }


def test_a_sub_workflow_node_opens_its_child_run_and_the_child_links_back(page, canvas_user):
    child = services.workflow_create(owner=canvas_user, source=CHILD)
    parent = services.workflow_create(owner=canvas_user, source=parent_document(child.pk))
    assert parent.valid, parent.errors
    login(page, "carol", PASSWORD)
    assert run_from_the_editor(page, parent.pk) == "succeeded"
    parent_run = WorkflowRun.objects.get(workflow=parent)
    child_run = WorkflowRun.objects.get(workflow=child)
    assert (child_run.parent_run_id, child_run.parent_node) == (parent_run.pk, "call")

    # the API's shape, as the canvas reads it
    report = page.evaluate(f"fetch('/api/runs/{parent_run.pk}/').then(r => r.json())")
    assert report["child_runs"] == [
        {
            "id": child_run.pk,
            "workflow": child.pk,
            "node": "call",
            "iteration": None,
            "attempt": 1,
            "status": "succeeded",
        }
    ]
    child_report = page.evaluate(f"fetch('/api/runs/{child_run.pk}/').then(r => r.json())")
    parent_of_child = (child_report["parent_run"], child_report["parent_workflow"])
    assert parent_of_child == (parent_run.pk, parent.pk)

    # the links come straight from the reports: no run is looked up for its workflow
    looked_up = []
    page.on(
        "request",
        lambda r: (
            looked_up.append(r.url) if re.search(rf"/api/runs/{child_run.pk}/$", r.url) else None
        ),
    )

    link = inspect(page, "call").locator(
        f"[data-testid=child-run-link][data-run-id='{child_run.pk}'][data-ready=true]"
    )
    link.wait_for()
    assert link.get_attribute("href") == f"/workflows/{child.pk}/runs/{child_run.pk}/"
    assert looked_up == []
    link.click()
    page.wait_for_url(re.compile(rf"/workflows/{child.pk}/runs/{child_run.pk}/$"))
    assert wait_for_run_end(page) == "succeeded"
    page.wait_for_function(
        "() => [...document.querySelectorAll('[data-node-id]')]"
        ".every(e => e.dataset.status === 'succeeded')"
    )
    assert statuses(page) == {"twice": "succeeded", "doubled": "succeeded"}
    assert "42" in inspect(page, "twice").locator("[data-testid=inspect-output] pre").inner_text()

    back = page.locator("[data-testid=parent-run-link][data-ready=true]")
    back.wait_for()
    assert "node call" in back.inner_text()
    back.click()
    page.wait_for_url(re.compile(rf"/workflows/{parent.pk}/runs/{parent_run.pk}/$"))
    assert wait_for_run_end(page) == "succeeded"
    page.wait_for_function(
        "() => document.querySelector(\"[data-node-id='call']\")?.dataset.status === 'succeeded'"
    )


APPROVING_CHILD = {
    "version": 1,
    "name": "Child: approve",
    "inputs": {"n": {"type": "number", "default": 1}},
    "nodes": [
        {"id": "ok", "type": "approval", "config": {"prompt": "Go on?"}},
        {"id": "done", "type": "transform", "config": {"output": 1}, "position": at(300, 0)},
    ],
    "edges": [{"id": "e1", "source": "ok", "source_handle": "approved", "target": "done"}],
}


def test_a_node_waiting_for_its_child_run_names_it_and_links_to_it(page, canvas_user):
    child = services.workflow_create(owner=canvas_user, source=APPROVING_CHILD)
    assert child.valid, child.errors
    parent = services.workflow_create(owner=canvas_user, source=parent_document(child.pk))
    assert parent.valid, parent.errors
    login(page, "carol", PASSWORD)
    open_editor(page, parent.pk)
    page.click("[data-testid=run-button]")
    page.wait_for_url(re.compile(rf"/workflows/{parent.pk}/runs/\d+/$"))

    # the parent parks with `call` waiting for the child, which waits at its approval
    label = node(page, "call").locator("[data-testid=node-wait-link][data-ready=true]")
    label.wait_for(timeout=30_000)
    child_run = WorkflowRun.objects.get(workflow=child)
    assert label.inner_text() == f"waiting for run #{child_run.pk}"
    assert node(page, "call").get_attribute("data-status") == "waiting"
    assert node(page, "call").get_attribute("data-wait") == "subworkflow"
    # no approval dialog on the parent: it does not wait for a decision
    assert page.locator("[data-testid=approval-dialog]").count() == 0
    panel = inspect(page, "call")
    assert f"run #{child_run.pk}" in panel.locator("[data-testid=subworkflow-wait]").inner_text()
    assert panel.locator("[data-testid=approval-prompt]").count() == 0

    label.click()
    page.wait_for_url(re.compile(rf"/workflows/{child.pk}/runs/{child_run.pk}/$"))
    # the child's approval node keeps its dialog
    dialog = page.locator("[data-testid=approval-dialog]")
    dialog.wait_for(timeout=20_000)
    assert "Go on?" in dialog.locator("[data-testid=approval-text]").inner_text()
    assert node(page, "ok").get_attribute("data-wait") is None
