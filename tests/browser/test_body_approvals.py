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


def pauses(page) -> int:
    return int(page.get_attribute("[data-testid=status-bar]", "data-run-pauses") or 0)


def wait_paused_with(page, text: str, after: int = 0) -> int:
    """The map waits (purple) and says why; the run has paused more than `after` times (the
    canvas counts them from the events). Returns that count."""
    node(page, "orders").locator("[data-testid=container-wait]", has_text=text).wait_for(
        timeout=20_000
    )
    page.wait_for_function(
        """n => {
            const bar = document.querySelector("[data-testid=status-bar]");
            return bar?.dataset.runStatus === "paused" && Number(bar.dataset.runPauses) > n;
        }""",
        arg=after,
        timeout=20_000,
    )
    assert node(page, "orders").get_attribute("data-status") == "waiting"
    return pauses(page)


def decide(page, approve: bool) -> None:
    """Decide the last approval left: the dialog closes."""
    page.click("[data-testid=approval-approve]" if approve else "[data-testid=approval-reject]")
    page.locator("[data-testid=approval-dialog]").wait_for(state="detached")


def decide_and_stay(page, approve: bool, path: str) -> None:
    """Decide one iteration while others still wait: the dialog stays and says so."""
    page.click("[data-testid=approval-approve]" if approve else "[data-testid=approval-reject]")
    verb = "Approved" if approve else "Rejected"
    page.locator("[data-testid=approval-decided]", has_text=f"{verb} ok in {path}.").wait_for()


OUTCOME = """path => {
    const dialog = document.querySelector("[data-testid=approval-dialog]");
    if (!dialog) return {kind: "closed"};
    const later = dialog.querySelector("[data-testid=approval-later-notice]");
    if (later) return {kind: "later", text: later.textContent};
    const decided = dialog.querySelector("[data-testid=approval-decided]");
    if (decided && decided.textContent.includes(` in ${path}.`)) return {kind: "decided"};
    return null;
}"""


def decide_now(page, approve: bool, path: str) -> bool:
    """Decide `path` in the open dialog at once, without waiting for the run to pause. The
    run may be queued for an earlier decision (accepted: the worker applies them together) or
    a worker may hold it already (409 run_state: the dialog says so and offers the decision
    again when the run pauses). Returns whether it had to wait for that pause."""
    dialog = page.locator("[data-testid=approval-dialog]")
    assert (
        dialog.locator("[data-testid=approval-iteration-text]").get_attribute("data-iteration")
        == path
    )
    page.click("[data-testid=approval-approve]" if approve else "[data-testid=approval-reject]")
    outcome = page.wait_for_function(OUTCOME, arg=path, timeout=20_000).json_value()
    if outcome["kind"] != "later":
        return False
    assert outcome["text"].startswith(
        "The run is continuing from an earlier decision; decide this one when it pauses again"
    ), outcome
    assert "Already decided" not in outcome["text"]
    # the UI recovers by itself once the run has paused again: the same iteration is offered
    dialog.locator("[data-testid=approval-paused-again]").wait_for(timeout=20_000)
    assert (
        dialog.locator("[data-testid=approval-iteration-text]").get_attribute("data-iteration")
        == path
    )
    page.click("[data-testid=approval-approve]" if approve else "[data-testid=approval-reject]")
    outcome = page.wait_for_function(OUTCOME, arg=path, timeout=20_000).json_value()
    assert outcome["kind"] in ("decided", "closed"), outcome
    return True


def chooser_paths(page) -> list[str]:
    options = page.locator("[data-testid=approval-iteration] option")
    return [v for v in options.evaluate_all("els => els.map(e => e.value)") if v]


def show_iteration(page, path: str) -> None:
    """Pick an iteration in the map's inspector: the body nodes show that iteration."""
    node(page, "orders").locator(".wf-node-name").first.click()
    page.locator("[data-testid=iteration-picker]").select_option(path)


def start_run(page, workflow) -> None:
    login(page, "carol", PASSWORD)
    open_editor(page, workflow.pk)
    page.click("[data-testid=run-button]")
    page.wait_for_url(re.compile(rf"/workflows/{workflow.pk}/runs/\d+/$"))


def latest_rows(workflow, nodes: list[str]) -> tuple[WorkflowRun, dict[tuple[str, str], NodeRun]]:
    run = WorkflowRun.objects.get(workflow=workflow)
    latest: dict[tuple[str, str], NodeRun] = {}
    for row in NodeRun.objects.filter(run=run, node_id__in=nodes).order_by("attempt"):
        latest[(row.node_id, row.iteration)] = row
    return run, latest


def assert_per_item(page, workflow, expected: dict[str, dict[str, str]]) -> dict[tuple, NodeRun]:
    """The run succeeded; per item (with the iteration picker) and in the NodeRun rows, each
    body node ended as expected."""
    assert wait_for_run_end(page) == "succeeded"
    page.wait_for_function(
        "() => document.querySelector(\"[data-node-id='orders']\")?.dataset.status === 'succeeded'"
    )
    assert node(page, "orders").locator("[data-testid=container-wait]").count() == 0
    assert node(page, "done").get_attribute("data-status") == "succeeded"
    for path, states in expected.items():
        show_iteration(page, path)
        for body, state in states.items():
            shown = f"[data-node-id={body}][data-iteration='{path}'][data-status={state}]"
            page.locator(shown).wait_for()
    run, latest = latest_rows(workflow, sorted({n for states in expected.values() for n in states}))
    assert run.status == "succeeded"
    for path, states in expected.items():
        for body, state in states.items():
            row = latest.get((body, path))
            assert row is not None and row.status == state, (body, path, row and row.status)
    return latest


def test_approvals_in_a_map_body_are_decided_per_item_from_the_dialog(page, canvas_user):
    workflow = services.workflow_create(owner=canvas_user, source=MAP_WITH_APPROVAL)
    assert workflow.valid, workflow.errors
    start_run(page, workflow)

    # all three items wait at the approval: the map says so, the run is paused
    paused = wait_paused_with(page, "3 iterations wait for approval")
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
    decide_and_stay(page, approve=True, path="orders[0]")
    # the dialog stays for the two left, and offers the next one; item 1 is gone at once
    assert chooser_paths(page) == ["orders[1]", "orders[2]"]
    assert (
        dialog.locator("[data-testid=approval-iteration-text]").get_attribute("data-iteration")
        == "orders[1]"
    )
    page.click("[data-testid=approval-later]")
    dialog.wait_for(state="detached")
    # that item's wait is gone; the others still wait once the run has paused again
    paused = wait_paused_with(page, "2 iterations wait for approval", after=paused)
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
    decide_and_stay(page, approve=False, path="orders[1]")
    assert dialog.locator("h2").inner_text() == "Approval: ok in item 3 (orders[2])"
    page.click("[data-testid=approval-later]")
    dialog.wait_for(state="detached")
    wait_paused_with(page, "waiting: approval in orders[2]", after=paused)

    # 3. the map's own button opens the dialog for the one item left: approve item 3
    page.locator("[data-testid=iteration-picker]").select_option("")  # back to "latest"
    node(page, "orders").locator("[data-testid=container-approval-open]").click()
    dialog.wait_for()
    assert dialog.locator("h2").inner_text() == "Approval: ok in item 3 (orders[2])"
    decide(page, approve=True)

    # per item, with the iteration picker: approved items shipped, the rejected one skipped it
    expected = {
        "orders[0]": {"ok": "succeeded", "ship": "succeeded"},
        "orders[1]": {"ok": "succeeded", "ship": "skipped"},
        "orders[2]": {"ok": "succeeded", "ship": "succeeded"},
    }
    latest = assert_per_item(page, workflow, expected)
    page.screenshot(path=str(ARTIFACTS / "body-approvals-done.png"))

    # the database agrees
    run = WorkflowRun.objects.get(workflow=workflow)
    decisions = {path: latest[("ok", path)].output for path in expected}
    assert [decisions[p]["approved"] for p in expected] == [True, False, True]
    assert decisions["orders[0]"]["data"] == {"ticket": "OPS-1"}
    assert {d["by"] for d in decisions.values()} == {"carol"}
    assert latest[("ship", "orders[0]")].output == "shipped a"
    assert latest[("ship", "orders[2]")].output == "shipped c"
    assert run.outputs["done"][0] == "shipped a"
    assert run.outputs["done"][2] == "shipped c"


def test_items_are_decided_back_to_back_without_waiting_for_the_run_to_pause(page, canvas_user):
    """Three decisions one after another from the dialog: each decided item leaves the chooser
    at once; a decision made while the run is queued for the previous one is applied with it,
    and one a worker refuses (it holds the run already) is offered again when the run pauses."""
    workflow = services.workflow_create(owner=canvas_user, source=MAP_WITH_APPROVAL)
    start_run(page, workflow)
    wait_paused_with(page, "3 iterations wait for approval")
    dialog = page.locator("[data-testid=approval-dialog]")
    dialog.wait_for()
    dialog.locator("[data-testid=approval-iteration]").select_option("orders[0]")

    deferred = []
    deferred.append(decide_now(page, approve=True, path="orders[0]"))
    # item 1 left the chooser at once; item 2 is offered next
    assert chooser_paths(page) == ["orders[1]", "orders[2]"]
    deferred.append(decide_now(page, approve=False, path="orders[1]"))
    assert dialog.locator("h2").inner_text() == "Approval: ok in item 3 (orders[2])"
    deferred.append(decide_now(page, approve=True, path="orders[2]"))
    dialog.wait_for(state="detached")
    print(f"decisions that waited for the run to pause again: {deferred}")

    expected = {
        "orders[0]": {"ok": "succeeded", "ship": "succeeded"},
        "orders[1]": {"ok": "succeeded", "ship": "skipped"},
        "orders[2]": {"ok": "succeeded", "ship": "succeeded"},
    }
    latest = assert_per_item(page, workflow, expected)
    decisions = [latest[("ok", path)].output["approved"] for path in expected]
    assert decisions == [True, False, True]
    # each item decided exactly once: one attempt per body node and item
    run = WorkflowRun.objects.get(workflow=workflow)
    for path in expected:
        assert NodeRun.objects.filter(run=run, node_id="ok", iteration=path).count() == 1
    assert [
        row.output
        for row in NodeRun.objects.filter(run=run, node_id="ship").order_by("iteration")
        if row.status == "succeeded"
    ] == ["shipped a", "shipped c"]
    page.screenshot(path=str(ARTIFACTS / "body-approvals-back-to-back.png"))


MAP_WITH_SLOW_SHIPPING = {
    **MAP_WITH_APPROVAL,
    "name": "Ship each order after approval, slowly",
    "nodes": [
        *MAP_WITH_APPROVAL["nodes"],
        {
            "id": "pack",
            "type": "delay",
            "parent": "orders",
            "config": {"seconds": 3},
            "position": {"x": 490, "y": 150},
        },
    ],
    "edges": [
        {"id": "e1", "source": "start", "target": "orders"},
        {"id": "e2", "source": "ok", "source_handle": "approved", "target": "pack"},
        {"id": "e4", "source": "pack", "target": "ship"},
        {"id": "e3", "source": "orders", "target": "done"},
    ],
}


def test_a_decision_made_while_a_worker_holds_the_run_is_accepted_and_applied(page, canvas_user):
    """Item 1 approved: a worker takes the run and packs it for 3 s (a delay holds the worker).
    Deciding item 2 meanwhile is accepted (issue 18: a decision in an iteration while the run
    runs is applied by the worker holding it, once the map parks again), not refused with
    `run_state`; the dialog goes on to item 3 and no "decide later" notice shows."""
    workflow = services.workflow_create(owner=canvas_user, source=MAP_WITH_SLOW_SHIPPING)
    assert workflow.valid, workflow.errors
    start_run(page, workflow)
    wait_paused_with(page, "3 iterations wait for approval")
    dialog = page.locator("[data-testid=approval-dialog]")
    dialog.wait_for()
    dialog.locator("[data-testid=approval-iteration]").select_option("orders[0]")
    decide_and_stay(page, approve=True, path="orders[0]")

    # the worker holds the run while item 1 is packed
    page.wait_for_selector("[data-testid=status-bar][data-run-status=running]", timeout=20_000)
    decide_and_stay(page, approve=False, path="orders[1]")
    assert dialog.locator("[data-testid=approval-later-notice]").count() == 0
    page.screenshot(path=str(ARTIFACTS / "body-approvals-decided-while-running.png"))
    decide_now(page, approve=True, path="orders[2]")
    dialog.wait_for(state="detached")

    expected = {
        "orders[0]": {"ok": "succeeded", "pack": "succeeded", "ship": "succeeded"},
        "orders[1]": {"ok": "succeeded", "pack": "skipped", "ship": "skipped"},
        "orders[2]": {"ok": "succeeded", "pack": "succeeded", "ship": "succeeded"},
    }
    latest = assert_per_item(page, workflow, expected)
    assert [latest[("ok", p)].output["approved"] for p in expected] == [True, False, True]
