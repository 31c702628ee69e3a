"""Pause on demand from the canvas (SPEC §8 Control): while the run runs, the run toolbar
offers Pause beside Cancel; pressing it lets the running node finish, starts nothing new and
the run shows `paused` (Resume offered instead of Pause); Resume continues to the end."""

import re

import pytest

from tests.browser.conftest import PASSWORD
from tests.browser.gestures import at, login, node, open_editor, statuses
from tests.browser.test_run import wait_for_run_end
from workflows import services
from workflows.models import NodeRun, WorkflowRun

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SLOW = {
    "version": 1,
    "name": "Pause me",
    "nodes": [
        {"id": "start", "type": "start", "position": at(0, 150)},
        {"id": "slow", "type": "delay", "config": {"seconds": 2}, "position": at(280, 150)},
        {"id": "after", "type": "transform", "config": {"output": 1}, "position": at(560, 150)},
    ],
    "edges": [
        {"id": "e1", "source": "start", "target": "slow"},
        {"id": "e2", "source": "slow", "target": "after"},
    ],
}


def run_status(page) -> str | None:
    return page.locator("[data-testid=status-bar]").get_attribute("data-run-status")


def test_pause_lets_the_running_node_finish_then_resume_continues(page, canvas_user):
    workflow = services.workflow_create(owner=canvas_user, source=SLOW)
    login(page, "carol", PASSWORD)
    open_editor(page, workflow.pk)
    assert page.locator("[data-testid=pause-button]").count() == 0  # no run, no Pause

    page.click("[data-testid=run-button]")
    page.wait_for_url(re.compile(rf"/workflows/{workflow.pk}/runs/\d+/$"))
    node(page, "slow").and_(page.locator("[data-status=running]")).wait_for(timeout=20_000)
    pause = page.locator("[data-testid=pause-button]")
    assert pause.is_visible() and page.locator("[data-testid=cancel-button]").is_visible()
    pause.click()

    page.wait_for_function(
        "() => document.querySelector('[data-testid=status-bar]')?.dataset.runStatus === 'paused'",
        timeout=20_000,
    )
    assert statuses(page)["slow"] == "succeeded"  # the running node finished
    assert statuses(page)["after"] == "pending"  # nothing new started
    assert page.locator("[data-testid=pause-button]").count() == 0
    run = WorkflowRun.objects.get(workflow=workflow)
    assert run.status == "paused" and run.pause_request["by"] == "carol"
    assert not NodeRun.objects.filter(run=run, node_id="after").exists()

    page.click("[data-testid=resume-button]")
    assert wait_for_run_end(page) == "succeeded"
    assert statuses(page)["after"] == "succeeded"
    assert page.locator("[data-testid=resume-button]").count() == 0
    assert WorkflowRun.objects.get(pk=run.pk).status == "succeeded"
