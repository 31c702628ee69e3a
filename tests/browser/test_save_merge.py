"""A stale save merges (issue 17 #9): two tabs edit one workflow; changes to different nodes
merge without a question, a node changed in both asks, and nothing local is lost unasked."""

import pytest

from tests.browser.conftest import PASSWORD, browser_page
from tests.browser.gestures import at, login, open_editor, select_node, wait_saved
from workflows import selectors, services
from workflows.models import Workflow

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

THREE = {
    "version": 1,
    "name": "Two tabs",
    "nodes": [
        {"id": "a", "type": "transform", "config": {"output": "a0"}, "position": at(0, 0)},
        {"id": "b", "type": "transform", "config": {"output": "b0"}, "position": at(300, 0)},
    ],
    "edges": [{"id": "e1", "source": "a", "target": "b"}],
}


def outputs(workflow) -> dict:
    document = selectors.workflow_document(workflow=Workflow.objects.get(pk=workflow.pk))
    return {n["id"]: n["config"]["output"] for n in document["nodes"]}


def edit_output(page, node_id: str, value: str) -> None:
    select_node(page, node_id)
    page.fill("#cfg-output", value)
    page.click("[data-testid=save-button]")


def test_two_tabs_changes_merge_and_a_real_conflict_asks(browser, server_url, canvas_user):
    workflow = services.workflow_create(owner=canvas_user, source=THREE)
    with (
        browser_page(browser, server_url, "tab one") as one,
        browser_page(browser, server_url, "tab two") as two,
    ):
        for tab in (one, two):
            login(tab, "carol", PASSWORD)
            open_editor(tab, workflow.pk)

        edit_output(two, "b", "b-two")
        wait_saved(two)
        edit_output(one, "a", "a-one")
        dialog = one.locator("[data-testid=conflict-dialog]")
        dialog.wait_for()
        assert "node b" in one.locator("[data-testid=merge-taken]").inner_text()
        assert "node a" in one.locator("[data-testid=merge-kept]").inner_text()
        assert one.locator("[data-testid=merge-conflict]").count() == 0
        one.click("[data-testid=merge-save]")
        wait_saved(one)
        assert outputs(workflow) == {"a": "a-one", "b": "b-two"}
        select_node(one, "b")  # the editor shows the merge: tab two's change is here too
        assert one.locator("#cfg-output").input_value() == "b-two"

        # tab two changes `a` too: a real conflict, mine unless theirs is taken
        edit_output(two, "a", "a-two")
        conflict = two.locator("[data-testid=merge-conflict][data-key='node:a']")
        conflict.wait_for()
        assert "node a: config" in conflict.inner_text()
        assert conflict.locator("[data-testid=merge-mine]").is_checked()
        conflict.locator("[data-testid=merge-theirs]").check()
        two.click("[data-testid=merge-save]")
        wait_saved(two)
        assert outputs(workflow) == {"a": "a-one", "b": "b-two"}

        # and the other way: tab one keeps its own change to `b` over tab two's
        edit_output(two, "b", "b-two-again")
        wait_saved(two)
        edit_output(one, "b", "b-one")
        one.locator("[data-testid=merge-conflict][data-key='node:b']").wait_for()
        one.click("[data-testid=merge-save]")
        wait_saved(one)
        assert outputs(workflow) == {"a": "a-one", "b": "b-one"}


def test_an_open_tab_is_told_when_the_workflow_was_saved_elsewhere(
    browser, server_url, canvas_user
):
    workflow = services.workflow_create(owner=canvas_user, source=THREE)
    with (
        browser_page(browser, server_url, "tab one") as one,
        browser_page(browser, server_url, "tab two") as two,
    ):
        for tab in (one, two):
            login(tab, "carol", PASSWORD)
            open_editor(tab, workflow.pk)
        edit_output(two, "b", "b-two")
        wait_saved(two)
        banner = one.locator("[data-testid=remote-change-banner]")
        banner.wait_for(timeout=15_000)  # checked every 5 s
        assert "Changed elsewhere" in banner.inner_text()
        one.click("[data-testid=remote-change-merge]")  # nothing unsaved here: their version
        select_node(one, "b")
        assert one.locator("#cfg-output").input_value() == "b-two"
        assert banner.count() == 0

        # with unsaved changes here, the banner leads to the merge
        select_node(one, "a")
        one.fill("#cfg-output", "a-one")
        edit_output(two, "b", "b-three")
        wait_saved(two)
        banner.wait_for(timeout=15_000)
        one.click("[data-testid=remote-change-merge]")
        one.locator("[data-testid=merge-taken]").wait_for()
        one.click("[data-testid=merge-save]")
        wait_saved(one)
        assert outputs(workflow) == {"a": "a-one", "b": "b-three"}
