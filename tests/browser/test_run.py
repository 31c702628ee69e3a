"""Running a workflow from the canvas: live states, final states equal to the NodeRuns,
and the same states when the run is opened again from the history."""

import re

import pytest

from tests.browser.conftest import ARTIFACTS, PASSWORD
from tests.browser.gestures import at, login, node, open_editor, statuses
from workflows import selectors, services
from workflows.models import WorkflowRun

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


# start -> wait (a delay, to be seen running) -> check (condition, true)
#   check.true  -> boom (fails, no error edge) -> after (upstream_failed)
#   check.false -> never (skipped)
BRANCHING = {
    "version": 1,
    "name": "Condition, delay and a failure",
    "nodes": [
        {"id": "start", "type": "start", "position": at(0, 150)},
        {"id": "wait", "type": "delay", "config": {"seconds": 1.5}, "position": at(280, 150)},
        {
            "id": "check",
            "type": "condition",
            "config": {"expression": "1 < 2"},
            "position": at(560, 150),
        },
        {"id": "boom", "type": "error", "config": {"message": "boom"}, "position": at(840, 40)},
        {"id": "after", "type": "transform", "config": {"output": 1}, "position": at(1120, 40)},
        {"id": "never", "type": "transform", "config": {"output": 2}, "position": at(840, 280)},
    ],
    "edges": [
        {"id": "e1", "source": "start", "target": "wait"},
        {"id": "e2", "source": "wait", "target": "check"},
        {"id": "e3", "source": "check", "source_handle": "true", "target": "boom"},
        {"id": "e4", "source": "boom", "target": "after"},
        {"id": "e5", "source": "check", "source_handle": "false", "target": "never"},
    ],
}

EXPECTED = {
    "start": "succeeded",
    "wait": "succeeded",
    "check": "succeeded",
    "boom": "failed",
    "after": "upstream_failed",
    "never": "skipped",
}


def wait_for_run_end(page) -> str:
    bar = page.locator("[data-testid=status-bar]")
    page.wait_for_function(
        "() => ['succeeded', 'failed', 'cancelled'].includes("
        "document.querySelector('[data-testid=status-bar]')?.dataset.runStatus)",
        timeout=30_000,
    )
    return bar.get_attribute("data-run-status")


def test_a_run_shows_live_states_that_end_equal_to_its_node_runs(page, canvas_user):
    workflow = services.workflow_create(owner=canvas_user, source=BRANCHING)
    assert workflow.valid, workflow.errors
    login(page, "carol", PASSWORD)
    open_editor(page, workflow.pk)

    page.click("[data-testid=run-button]")
    page.wait_for_url(re.compile(rf"/workflows/{workflow.pk}/runs/\d+/$"))
    node(page, "wait").and_(page.locator("[data-status=running]")).wait_for(timeout=20_000)
    assert wait_for_run_end(page) == "failed"

    run = WorkflowRun.objects.get(workflow=workflow)
    recorded = {
        nid: report["status"] for nid, report in selectors.run_report(run=run)["nodes"].items()
    }
    assert recorded == EXPECTED
    assert statuses(page) == recorded
    assert "failed" in node(page, "boom").inner_text()
    page.screenshot(path=str(ARTIFACTS / "run.png"))

    page.click("[data-testid=back-to-editor]")
    page.wait_for_function(
        "() => document.querySelector('[data-node-id]')?.dataset.status === 'idle'"
    )
    page.click("[data-testid=history-button]")
    page.click(f"[data-testid=history-run][data-run-id='{run.pk}']")
    page.wait_for_url(re.compile(rf"/runs/{run.pk}/$"))
    assert wait_for_run_end(page) == "failed"
    assert statuses(page) == recorded
    page.locator("[data-testid=gantt]").wait_for()
    executed = run.node_runs.filter(started_at__isnull=False).count()
    assert executed == 4  # start, wait, check, boom: the skipped and upstream_failed never ran
    assert page.locator(".gantt-row").count() == executed


def test_inspecting_a_failed_node_shows_its_error(page, canvas_user):
    workflow = services.workflow_create(owner=canvas_user, source=BRANCHING)
    login(page, "carol", PASSWORD)
    open_editor(page, workflow.pk)
    page.click("[data-testid=run-button]")
    assert wait_for_run_end(page) == "failed"

    node(page, "boom").click()

    panel = page.locator("[data-testid=inspect-panel]")
    panel.locator("[data-testid=inspect-error]").wait_for()
    assert "boom" in panel.locator("[data-testid=inspect-error]").inner_text()


SLOW = {
    "version": 1,
    "name": "One slow node",
    "nodes": [
        {"id": "start", "type": "start", "position": at(0, 150)},
        {"id": "slow", "type": "delay", "config": {"seconds": 4}, "position": at(280, 150)},
        {"id": "after", "type": "transform", "config": {"output": 1}, "position": at(560, 150)},
    ],
    "edges": [
        {"id": "e1", "source": "start", "target": "slow"},
        {"id": "e2", "source": "slow", "target": "after"},
    ],
}


def test_the_timeline_bar_of_a_running_node_grows_until_it_ends(page, canvas_user):
    """Issue 17: a running node's bar stayed a sliver until the run's next event."""
    workflow = services.workflow_create(owner=canvas_user, source=SLOW)
    login(page, "carol", PASSWORD)
    open_editor(page, workflow.pk)
    page.click("[data-testid=run-button]")
    bar = page.locator(".gantt-bar[data-running=true]")
    bar.wait_for(timeout=20_000)
    row = page.locator(".gantt-row", has=bar)
    track = row.locator(".gantt-track")
    first_text = row.inner_text()
    page.wait_for_timeout(1500)  # no event arrives meanwhile: only the clock moves
    # the slow node spans most of the run so far (it was a sliver), and its duration counts up
    assert bar.bounding_box()["width"] > 0.5 * track.bounding_box()["width"]
    assert row.inner_text() != first_text
    assert wait_for_run_end(page) == "succeeded"
    bar.wait_for(state="detached", timeout=10_000)


def viewport_scale(page) -> float:
    transform = page.locator(".react-flow__viewport").evaluate("el => el.style.transform")
    return float(re.search(r"scale\(([\d.]+)\)", transform).group(1))


def test_the_zoom_a_user_chose_is_kept_between_edit_and_run(page, canvas_user):
    """Issue 17: switching to the run view and back refitted the graph, losing the user's zoom."""
    workflow = services.workflow_create(owner=canvas_user, source=SLOW)
    login(page, "carol", PASSWORD)
    open_editor(page, workflow.pk)
    page.wait_for_timeout(300)  # the opening fit
    box = page.locator("[data-testid=canvas]").bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.mouse.wheel(0, -400)
    page.wait_for_timeout(300)
    zoomed = viewport_scale(page)
    page.click("[data-testid=run-button]")
    page.wait_for_url(re.compile(rf"/workflows/{workflow.pk}/runs/\d+/$"))
    page.wait_for_timeout(300)
    assert viewport_scale(page) == pytest.approx(zoomed, abs=0.01)
    page.click("[data-testid=back-to-editor]")
    page.wait_for_timeout(300)
    assert viewport_scale(page) == pytest.approx(zoomed, abs=0.01)
