"""Triggers on the canvas (SPEC §8): add a webhook node, activate the workflow, send it a
request from the test, and watch the run appear in the history and colour live; a schedule
node shows its next fire times."""

import re

import httpx
import pytest

from tests.browser.conftest import PASSWORD
from tests.browser.gestures import (
    at,
    connect,
    drag_node_from_palette,
    login,
    node,
    open_editor,
    save,
    select_node,
    statuses,
    wait_for_run_end,
)
from workflows import services, triggers
from workflows.models import WorkflowRun

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

AFTER_HOOK = {
    "version": 1,
    "name": "Webhook on the canvas",
    "nodes": [
        {"id": "wait", "type": "delay", "config": {"seconds": 1.5}, "position": at(400, 150)},
        {
            "id": "out",
            "type": "output",
            "config": {"value": "{{ input }}"},
            "position": at(700, 150),
        },
        {
            "id": "tick",
            "type": "schedule",
            "config": {"cron": "*/5 * * * *"},
            "position": at(400, 400),
        },
    ],
    "edges": [{"id": "e1", "source": "wait", "target": "out"}],
}


def test_a_webhook_added_on_the_canvas_starts_a_run_that_appears_and_colours(
    page, canvas_user, server_url
):
    workflow = services.workflow_create(owner=canvas_user, source=AFTER_HOOK)
    login(page, "carol", PASSWORD)
    open_editor(page, workflow.pk)

    box = page.locator("[data-testid=canvas]").bounding_box()
    hook = drag_node_from_palette(page, "webhook", box["x"] + 150, box["y"] + 180)
    connect(page, hook, "wait")
    save(page)
    select_node(page, hook)
    url_box = page.locator("[data-testid=webhook-url]")
    url_box.wait_for()
    url = url_box.input_value()
    assert re.fullmatch(rf"{server_url}/hooks/[A-Za-z0-9_-]{{43}}/", url), url
    assert page.get_attribute("[data-testid=trigger-details]", "data-armed") == "false"

    assert httpx.post(url, json={"before": "activation"}).status_code == 404
    page.click("[data-testid=activation-toggle]")
    page.wait_for_selector("[data-testid=activation-toggle]:checked")
    page.wait_for_selector("[data-testid=trigger-details][data-armed=true]")

    page.click("[data-testid=history-button]")
    answer = httpx.post(url, json={"order": 7})
    assert answer.status_code == 202, answer.text
    run_id = answer.json()["run"]
    entry = page.locator(f"[data-testid=history-run][data-run-id='{run_id}']")
    entry.wait_for(timeout=10_000)  # the history polls: the run appears by itself
    assert "webhook" in entry.inner_text()
    entry.click()
    page.wait_for_url(re.compile(rf"/runs/{run_id}/$"))
    assert wait_for_run_end(page) == "succeeded"
    shown = statuses(page)
    assert (shown[hook], shown["wait"], shown["out"]) == ("succeeded", "succeeded", "succeeded")
    assert shown["tick"] == "skipped"  # not this run's trigger
    assert WorkflowRun.objects.get(pk=run_id).outputs["out"]["body"] == {"order": 7}
    assert node(page, hook).get_attribute("data-status") == "succeeded"


def test_a_schedule_node_shows_its_next_five_fire_times(page, canvas_user):
    workflow = services.workflow_create(owner=canvas_user, source=AFTER_HOOK)
    login(page, "carol", PASSWORD)
    open_editor(page, workflow.pk)
    select_node(page, "tick")
    times = page.locator("[data-testid=schedule-upcoming] li")
    times.first.wait_for()
    assert times.count() == 5


def test_the_editor_opens_on_one_read_of_each_resource_and_rereads_triggers_after_a_save(
    page, canvas_user
):
    """The document, node types and user are read once, started by the page before its
    script ran (issue 17: the 500-node load), and the activation switch shows the saved state
    from that same answer; a save then re-reads the armed triggers."""
    workflow = services.workflow_create(owner=canvas_user, source=AFTER_HOOK)
    triggers.workflow_activate(user=canvas_user, workflow_id=workflow.pk)
    login(page, "carol", PASSWORD)
    reads: list[str] = []
    page.on(
        "request",
        lambda r: r.method == "GET" and "/api/" in r.url and reads.append(r.url.split("/api/")[1]),
    )
    page.wait_for_load_state("networkidle")
    reads.clear()  # the workflow list's own reads
    open_editor(page, workflow.pk)
    toggle = page.locator("[data-testid=activation-toggle]")
    assert toggle.is_checked()
    page.wait_for_timeout(500)  # the validation and anything else the page reads on its own
    document = f"workflows/{workflow.pk}/"
    assert reads.count(document) == 1, reads
    assert reads.count("node-types/") == 1 and reads.count("me/") == 1, reads
    # the three were started by the page itself, and the app took each answer
    assert page.evaluate("Object.keys(window.__switchyardEarly)") == []

    select_node(page, "out")
    page.locator("#node-name").fill("Answer")
    save(page)
    page.wait_for_function(
        "path => performance.getEntriesByType('resource')"
        ".filter(e => e.name.endsWith(path)).length >= 2",
        arg=f"/api/{document}",
    )
    assert toggle.is_checked()
