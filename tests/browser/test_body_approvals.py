"""An approval inside a map body: each item waits on its own; the map says why it waits, and the
dialog decides one iteration at a time (chosen in the dialog, picked in the inspector, or the
only one left)."""

import re

import pytest

from tests.browser.conftest import ARTIFACTS, PASSWORD
from tests.browser.gestures import login, node, open_editor, wait_for_run_end
from workflows import services
from workflows.models import NodeRun, WorkflowRun

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

MAP_WITH_APPROVAL = {
    "version": 1,
    "name": "Ship each order after approval",
    "nodes": [
        {"id": "start", "type": "start", "position": {"x": 0, "y": 160}},
        {
            "id": "orders",
            "type": "map",
            "config": {"items": ["a", "b", "c"]},
            "position": {"x": 260, "y": 40},
            "size": {"width": 720, "height": 300},
        },
        {
            "id": "ok",
            "type": "approval",
            "parent": "orders",
            "config": {"prompt": "Ship order {{ loop.item }}?"},
            "position": {"x": 300, "y": 150},
        },
        {
            "id": "ship",
            "type": "transform",
            "parent": "orders",
            "config": {"output": "shipped {{ loop.item }}"},
            "position": {"x": 680, "y": 150},
        },
        {
            "id": "done",
            "type": "output",
            "config": {"value": "{{ orders }}"},
            "position": {"x": 1080, "y": 160},
        },
    ],
    "edges": [
        {"id": "e1", "source": "start", "target": "orders"},
        {"id": "e2", "source": "ok", "source_handle": "approved", "target": "ship"},
        {"id": "e3", "source": "orders", "target": "done"},
    ],
}


def run_status(page) -> str:
    return page.get_attribute("[data-testid=status-bar]", "data-run-status")


def wait_paused_with(page, text: str) -> None:
    """The map waits (purple) and says why; the run is paused."""
    node(page, "orders").locator("[data-testid=container-wait]", has_text=text).wait_for(
        timeout=20_000
    )
    page.wait_for_selector("[data-testid=status-bar][data-run-status=paused]", timeout=20_000)
    assert node(page, "orders").get_attribute("data-status") == "waiting"


def decide(page, approve: bool) -> None:
    page.click("[data-testid=approval-approve]" if approve else "[data-testid=approval-reject]")
    page.locator("[data-testid=approval-dialog]").wait_for(state="detached")


def show_iteration(page, path: str) -> None:
    """Pick an iteration in the map's inspector: the body nodes show that iteration."""
    node(page, "orders").locator(".wf-node-name").first.click()
    page.locator("[data-testid=iteration-picker]").select_option(path)


def test_approvals_in_a_map_body_are_decided_per_item_from_the_dialog(page, canvas_user):
    workflow = services.workflow_create(owner=canvas_user, source=MAP_WITH_APPROVAL)
    assert workflow.valid, workflow.errors
    login(page, "carol", PASSWORD)
    open_editor(page, workflow.pk)
    page.click("[data-testid=run-button]")
    page.wait_for_url(re.compile(rf"/workflows/{workflow.pk}/runs/\d+/$"))

    # all three items wait at the approval: the map says so, the run is paused
    wait_paused_with(page, "3 iterations wait for approval")
    page.screenshot(path=str(ARTIFACTS / "body-approvals-paused.png"))

    # 1. the dialog (it opened by itself) lets the user choose the item: approve item 1
    dialog = page.locator("[data-testid=approval-dialog]")
    dialog.wait_for()
    chooser = dialog.locator("[data-testid=approval-iteration]")
    labels = chooser.locator("option").all_inner_texts()
    assert labels[1:] == ["item 1 (orders[0])", "item 2 (orders[1])", "item 3 (orders[2])"]
    chooser.select_option("orders[0]")
    text = dialog.locator("[data-testid=approval-iteration-text]").inner_text()
    assert text.startswith("Decides item 1 (orders[0]) only")
    dialog.locator("[data-testid=approval-text]", has_text="Ship order a?").wait_for()
    page.fill("[data-testid=approval-data]", '{"ticket": "OPS-1"}')
    decide(page, approve=True)
    # that item's wait is gone once the run's events say so; the others still wait
    wait_paused_with(page, "2 iterations wait for approval")
    page.screenshot(path=str(ARTIFACTS / "body-approvals-two-left.png"))

    # 2. the iteration picked in the inspector is the one decided: reject item 2
    node(page, "ok").locator(".wf-node-name").click()
    page.locator("[data-testid=iteration-picker]").select_option("orders[1]")
    assert node(page, "ok").get_attribute("data-status") == "waiting"
    panel = page.locator("[data-testid=inspect-panel]")
    panel.locator("[data-testid=approval-open]").click()
    dialog.wait_for()
    assert dialog.locator("h2").inner_text() == "Approval: ok in item 2 (orders[1])"
    assert (
        "picked in the inspector"
        in dialog.locator("[data-testid=approval-iteration-text]").inner_text()
    )
    dialog.locator("[data-testid=approval-text]", has_text="Ship order b?").wait_for()
    decide(page, approve=False)
    wait_paused_with(page, "waiting: approval in orders[2]")

    # 3. the map's own button opens the dialog for the one item left: approve item 3
    page.locator("[data-testid=iteration-picker]").select_option("")  # back to "latest"
    node(page, "orders").locator("[data-testid=container-approval-open]").click()
    dialog.wait_for()
    assert dialog.locator("h2").inner_text() == "Approval: ok in item 3 (orders[2])"
    decide(page, approve=True)

    assert wait_for_run_end(page) == "succeeded"
    page.wait_for_function(
        "() => document.querySelector(\"[data-node-id='orders']\")?.dataset.status === 'succeeded'"
    )
    assert node(page, "orders").locator("[data-testid=container-wait]").count() == 0
    assert node(page, "done").get_attribute("data-status") == "succeeded"

    # per item, with the iteration picker: approved items shipped, the rejected one skipped it
    expected = {
        "orders[0]": {"ok": "succeeded", "ship": "succeeded"},
        "orders[1]": {"ok": "succeeded", "ship": "skipped"},
        "orders[2]": {"ok": "succeeded", "ship": "succeeded"},
    }
    for path, states in expected.items():
        show_iteration(page, path)
        for body, state in states.items():
            shown = f"[data-node-id={body}][data-iteration='{path}'][data-status={state}]"
            page.locator(shown).wait_for()
    page.screenshot(path=str(ARTIFACTS / "body-approvals-done.png"))

    # the database agrees
    run = WorkflowRun.objects.get(workflow=workflow)
    assert run.status == "succeeded"
    latest: dict[tuple[str, str], NodeRun] = {}
    for row in NodeRun.objects.filter(run=run, node_id__in=["ok", "ship"]).order_by("attempt"):
        latest[(row.node_id, row.iteration)] = row
    for path, states in expected.items():
        for body, state in states.items():
            row = latest.get((body, path))
            assert row is not None and row.status == state, (body, path, row and row.status)
    decisions = {path: latest[("ok", path)].output for path in expected}
    assert [decisions[p]["approved"] for p in expected] == [True, False, True]
    assert decisions["orders[0]"]["data"] == {"ticket": "OPS-1"}
    assert {d["by"] for d in decisions.values()} == {"carol"}
    assert latest[("ship", "orders[0]")].output == "shipped a"
    assert latest[("ship", "orders[2]")].output == "shipped c"
    assert run.outputs["done"][0] == "shipped a"
    assert run.outputs["done"][2] == "shipped c"
