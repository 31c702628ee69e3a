"""What the canvas shows of a failed run's root cause (run summary) and of nodes reused from an
earlier run (teal, with the time saved): SPEC §8."""

import re

import pytest

from tests.browser.conftest import PASSWORD
from tests.browser.gestures import at, login, node, open_editor, statuses
from tests.browser.test_run import wait_for_run_end
from workflows import services

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

TEAL = "#14b8a6"  # the node's state colour (its border and badge mix it)
CACHED = {"ttl_s": 600}
FAILING = {
    "version": 1,
    "name": "Fails at the fetch",
    "nodes": [
        {"id": "fetch", "type": "error", "config": {"message": "HTTP 503"}, "position": at(0, 0)},
        {"id": "parse", "type": "transform", "config": {"output": 1}, "position": at(280, 0)},
        {"id": "store", "type": "transform", "config": {"output": 2}, "position": at(560, 0)},
    ],
    "edges": [
        {"id": "e1", "source": "fetch", "target": "parse"},
        {"id": "e2", "source": "parse", "target": "store"},
    ],
}
CHAIN = {
    "version": 1,
    "name": "Cached chain",
    "nodes": [
        {"id": "a", "type": "transform", "config": {"output": 1}, "cache": CACHED},
        {"id": "b", "type": "transform", "config": {"output": "{{ a + 1 }}"}, "cache": CACHED},
        {"id": "c", "type": "transform", "config": {"output": "{{ b + 1 }}"}, "cache": CACHED},
    ],
    "edges": [
        {"id": "e1", "source": "a", "target": "b"},
        {"id": "e2", "source": "b", "target": "c"},
    ],
}
for i, spec in enumerate(CHAIN["nodes"]):
    spec["position"] = at(280 * i, 0)


def run_from_canvas(page, workflow_id: int) -> str:
    page.click("[data-testid=run-button]")
    page.wait_for_url(re.compile(rf"/workflows/{workflow_id}/runs/\d+/$"))
    return wait_for_run_end(page)


def test_a_failed_run_names_its_root_cause_in_the_run_summary(page, canvas_user):
    workflow = services.workflow_create(owner=canvas_user, source=FAILING)
    login(page, "carol", PASSWORD)
    open_editor(page, workflow.pk)

    assert run_from_canvas(page, workflow.pk) == "failed"

    block = page.locator("[data-testid=root-causes]")
    block.wait_for(timeout=10_000)
    text = block.inner_text()
    assert "Root cause" in text and "fetch" in text and "HTTP 503" in text
    assert "took down 2 nodes: parse, store" in text
    block.get_by_role("button", name="fetch").click()
    page.locator("[data-testid=inspect-panel]").wait_for()


def test_a_second_run_shows_the_reused_nodes_in_teal_and_the_time_saved(page, canvas_user):
    workflow = services.workflow_create(owner=canvas_user, source=CHAIN)
    login(page, "carol", PASSWORD)
    open_editor(page, workflow.pk)
    assert run_from_canvas(page, workflow.pk) == "succeeded"
    page.click("[data-testid=back-to-editor]")

    assert run_from_canvas(page, workflow.pk) == "succeeded"

    assert statuses(page) == {"a": "reused", "b": "reused", "c": "reused"}
    colour = node(page, "b").evaluate("e => getComputedStyle(e).getPropertyValue('--state')")
    assert colour.strip() == TEAL
    page.locator("[data-testid=reuse-note]").wait_for(timeout=10_000)
    assert "3 nodes reused" in page.locator("[data-testid=reuse-note]").inner_text()
