"""Pinned data and testing one node on the canvas (issue 17): "Pin output" on a node's output
in the inspector marks the node with a pin; the next manual run takes the pinned output (the
node ends reused, "pinned output used") although the node's config changed; "Unpin" runs it
again. "Test node" runs one node alone and shows its output in place, and says why an
approval cannot be tested."""

import re

import pytest

from tests.browser.conftest import PASSWORD
from tests.browser.gestures import at, login, node, open_editor, select_node, statuses
from tests.browser.test_run import wait_for_run_end
from workflows import selectors, services
from workflows.models import WorkflowRun

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CHAIN = {
    "version": 1,
    "name": "Pinned chain",
    "nodes": [
        {"id": "fetch", "type": "transform", "config": {"output": {"v": 1}}, "position": at(0, 0)},
        {
            "id": "use",
            "type": "transform",
            "config": {"output": "{{ fetch.v + 1 }}"},
            "position": at(300, 0),
        },
        {"id": "ask", "type": "approval", "config": {"prompt": "ok?"}, "position": at(600, 0)},
    ],
    "edges": [{"id": "e1", "source": "fetch", "target": "use"}],
}


def run_from_canvas(page, workflow_id: int) -> str:
    page.click("[data-testid=run-button]")
    page.wait_for_url(re.compile(rf"/workflows/{workflow_id}/runs/\d+/$"))
    return wait_for_run_end(page)


def inspect(page, node_id: str) -> None:
    node(page, node_id).locator(".wf-node-name").click()
    page.wait_for_selector("[data-testid=inspect-panel]")


def test_pin_a_node_s_output_and_manual_runs_use_it_until_unpinned(page, canvas_user):
    chain = {**CHAIN, "nodes": CHAIN["nodes"][:2]}
    workflow = services.workflow_create(owner=canvas_user, source=chain)
    login(page, "carol", PASSWORD)
    open_editor(page, workflow.pk)
    assert page.locator("[data-testid=pin-mark]").count() == 0

    assert run_from_canvas(page, workflow.pk) == "succeeded"
    inspect(page, "fetch")
    page.click("[data-testid=pin-output]")
    note = page.locator("[data-testid=pinned-note]")
    note.wait_for()
    first_run = WorkflowRun.objects.get(workflow=workflow).pk
    assert f"Pinned from run #{first_run}" in note.inner_text()
    assert node(page, "fetch").locator("[data-testid=pin-mark]").inner_text().strip() == (
        "📌 pinned output"
    )

    # change what fetch computes; the pin still stands in for it in a manual run
    page.click("[data-testid=back-to-editor]")
    select_node(page, "fetch")
    assert page.locator("[data-testid=pinned-note]").is_visible()
    current = selectors.workflow_get(user=canvas_user, workflow_id=workflow.pk)
    document = selectors.workflow_document(workflow=current)
    document["nodes"][0]["config"] = {"output": {"v": 100}}
    document["revision"] = current.revision
    services.workflow_save(user=canvas_user, workflow_id=workflow.pk, source=document)
    open_editor(page, workflow.pk)

    assert run_from_canvas(page, workflow.pk) == "succeeded"
    assert statuses(page)["fetch"] == "reused"
    mark = node(page, "fetch").locator("[data-testid=pin-mark]")
    assert mark.get_attribute("data-used") == "true"
    assert mark.inner_text().strip() == "📌 pinned output used"
    inspect(page, "use")
    assert page.locator("[data-testid=inspect-output]").inner_text().endswith("2")

    # unpin: the next run computes fetch again
    inspect(page, "fetch")
    page.click("[data-testid=unpin]")
    page.locator("[data-testid=pin-mark]").wait_for(state="detached")
    page.click("[data-testid=back-to-editor]")
    assert run_from_canvas(page, workflow.pk) == "succeeded"
    assert statuses(page)["fetch"] == "succeeded"
    inspect(page, "use")
    assert page.locator("[data-testid=inspect-output]").inner_text().endswith("101")


def test_test_one_node_shows_its_output_in_place_and_refuses_an_approval(page, canvas_user):
    workflow = services.workflow_create(owner=canvas_user, source=CHAIN)
    login(page, "carol", PASSWORD)
    open_editor(page, workflow.pk)

    select_node(page, "use")
    page.click("[data-testid=test-node]")
    error = page.locator("[data-testid=test-error]")
    error.wait_for()
    assert "upstream node fetch has no output to test with" in error.inner_text()

    select_node(page, "fetch")
    page.click("[data-testid=test-node]")
    page.locator("[data-testid=test-result][data-status=succeeded]").wait_for()
    assert '"v": 1' in page.locator("[data-testid=test-output]").inner_text()
    page.click("[data-testid=pin-tested]")  # pin the tested output: "use" can now be tested
    node(page, "fetch").locator("[data-testid=pin-mark]").wait_for()

    select_node(page, "use")
    page.click("[data-testid=test-node]")
    page.locator("[data-testid=test-result][data-status=succeeded]").wait_for()
    assert page.locator("[data-testid=test-output]").inner_text().strip() == "2"
    assert WorkflowRun.objects.filter(workflow=workflow).count() == 0  # no run recorded

    select_node(page, "ask")
    button = page.locator("[data-testid=test-node]")
    assert button.is_disabled()
    assert page.locator("[data-testid=test-hint]").inner_text() == (
        "Cannot test this node on its own: an approval waits for a person's decision."
    )


BRANCHY = {
    "version": 1,
    "name": "Branchy",
    "nodes": [
        {
            "id": "check",
            "name": "Big order?",
            "type": "condition",
            "config": {"expression": "1 > 5"},
            "position": at(0, 0),
        },
        {"id": "big", "type": "transform", "config": {"output": 1}, "position": at(300, -80)},
        {"id": "small", "type": "transform", "config": {"output": 2}, "position": at(300, 80)},
        {
            "id": "call",
            "name": "Call shop",
            "type": "http",
            "config": {"url": "https://example.com"},
            "position": at(0, 240),
        },
    ],
    "edges": [
        {"id": "e1", "source": "check", "source_handle": "true", "target": "big"},
        {"id": "e2", "source": "check", "source_handle": "false", "target": "small"},
    ],
}


def test_the_inspector_speaks_in_names_branches_and_words(page, canvas_user):
    workflow = services.workflow_create(owner=canvas_user, source=BRANCHY)
    login(page, "carol", PASSWORD)
    open_editor(page, workflow.pk)

    select_node(page, "call")
    labels = page.locator("[data-testid=node-settings] label").all_inner_texts()
    assert "URL" in [label.strip(" *") for label in labels]
    assert any(label.startswith("Timeout (seconds)") for label in labels)
    assert not any(label in ("Url", "Timeout s") for label in labels)
    join = page.locator("#node-join option:checked").inner_text()
    assert join == "None failed, at least one succeeded (default)"

    page.click("[data-testid=run-button]")
    page.wait_for_url(re.compile(rf"/workflows/{workflow.pk}/runs/\d+/$"))
    wait_for_run_end(page)
    inspect(page, "check")
    assert page.locator("[data-testid=inspect-name]").inner_text() == "Big order?"
    assert page.locator("[data-testid=inspect-branch]").inner_text() == "false branch"
    labels = page.locator("[data-testid=gantt] .gantt-label").all_inner_texts()
    assert "Big order?" in labels and "check" not in labels  # the timeline says names too


def test_the_approval_dialog_names_the_node_by_its_name(page, canvas_user):
    document = {
        "name": "Sign-off",
        "nodes": [
            {
                "id": "ask",
                "name": "Manager sign-off",
                "type": "approval",
                "config": {"prompt": "Ship it?"},
                "position": at(0, 0),
            }
        ],
        "edges": [],
    }
    workflow = services.workflow_create(owner=canvas_user, source=document)
    login(page, "carol", PASSWORD)
    open_editor(page, workflow.pk)
    page.click("[data-testid=run-button]")
    page.wait_for_url(re.compile(rf"/workflows/{workflow.pk}/runs/\d+/$"))
    dialog = page.locator("[data-testid=approval-dialog]")
    if not dialog.is_visible():
        page.wait_for_function(
            "() => document.querySelector('[data-node-id=ask]')?.dataset.status === 'waiting'"
        )
        if not dialog.is_visible():
            inspect(page, "ask")
            page.click("[data-testid=approval-open]")
    dialog.wait_for()
    assert dialog.locator("h2").inner_text() == "Approval: Manager sign-off"
