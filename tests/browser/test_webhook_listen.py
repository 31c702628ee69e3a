"""A webhook node's "Listen for a test event" on the canvas (SPEC §8): press it on an inactive
workflow, send a request from the test, see the captured body in the inspector labelled as a
test event; no run starts."""

import re

import httpx
import pytest

from tests.browser.conftest import PASSWORD
from tests.browser.gestures import at, login, open_editor, select_node
from workflows import services
from workflows.models import WorkflowRun

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

HOOKED = {
    "version": 1,
    "name": "Listen on the canvas",
    "nodes": [
        {"id": "hook", "type": "webhook", "config": {"method": "POST"}, "position": at(150, 150)},
        {
            "id": "out",
            "type": "output",
            "config": {"value": "{{ input }}"},
            "position": at(450, 150),
        },
    ],
    "edges": [{"id": "e1", "source": "hook", "target": "out"}],
}


def test_listen_captures_a_test_event_and_shows_it_as_the_nodes_output(
    page, canvas_user, server_url
):
    workflow = services.workflow_create(owner=canvas_user, source=HOOKED)
    login(page, "carol", PASSWORD)
    open_editor(page, workflow.pk)
    select_node(page, "hook")
    page.click("[data-testid=listen-test-event]")
    page.wait_for_selector("[data-testid=webhook-listen][data-state=listening]")
    status = page.locator("[data-testid=listen-status]")
    assert re.search(r"Waiting for a test event… 1[12]\d s", status.inner_text())
    url = page.locator("[data-testid=webhook-test-url]").input_value()
    assert re.fullmatch(rf"{server_url}/hooks/[A-Za-z0-9_-]{{43}}/test/", url), url

    answer = httpx.post(url, json={"order": 7, "customer": "ada"})
    assert (answer.status_code, answer.json()) == (200, {"captured": True})
    output = page.locator("[data-testid=test-event-output]")
    output.wait_for(timeout=10_000)  # the canvas polls every second while it listens
    assert output.locator("h4").text_content() == "Output (test event)"
    assert '"customer": "ada"' in output.inner_text()
    assert page.get_attribute("[data-testid=webhook-listen]", "data-state") == "captured"
    assert WorkflowRun.objects.count() == 0

    # A second press restarts it; Cancel stops it and the test URL answers 404 again.
    page.click("[data-testid=listen-test-event]")
    page.wait_for_selector("[data-testid=webhook-listen][data-state=listening]")
    page.click("[data-testid=listen-cancel]")
    page.wait_for_selector("[data-testid=webhook-listen][data-state=idle]")
    assert httpx.post(url, json={}).status_code == 404
