"""Sharing (SPEC §6) from the canvas: the owner shares a workflow from the Share dialog (an
unknown name is marked and nothing typed is lost); the user it is shared with sees it as
"shared by" its owner, opens it read-only (banner, Save disabled, no edits) and runs it; once
the owner removes them it is gone from their list."""

import re

import pytest

from tests.browser.conftest import ARTIFACTS, PASSWORD, browser_page
from tests.browser.gestures import at, login, node, open_editor, statuses, wait_for_run_end
from workflows import services
from workflows.models import Workflow, WorkflowRun

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


SIMPLE = {
    "version": 1,
    "name": "Alice's report",
    "nodes": [
        {"id": "start", "type": "start", "position": at(0, 100)},
        {"id": "wait", "type": "delay", "config": {"seconds": 0.3}, "position": at(300, 100)},
        {"id": "done", "type": "transform", "config": {"output": 42}, "position": at(600, 100)},
    ],
    "edges": [
        {"id": "e1", "source": "start", "target": "wait"},
        {"id": "e2", "source": "wait", "target": "done"},
    ],
}

BANNER = "Shared with you by alice — you can run it and see its runs; only alice can change it"


@pytest.fixture
def users(transactional_db, django_user_model):
    alice = django_user_model.objects.create_user(username="alice", password=PASSWORD)
    bob = django_user_model.objects.create_user(username="bob", password=PASSWORD)
    return alice, bob


@pytest.fixture
def second_page(browser, server_url):
    """Bob's own browser (no cookies shared with alice's page)."""
    with browser_page(browser, server_url, "bob's page") as second:
        yield second


def shared_names(workflow: Workflow) -> list[str]:
    return sorted(workflow.shared_with.values_list("username", flat=True))


def open_share_dialog(page) -> None:
    page.click("[data-testid=share-button]")
    page.wait_for_selector("[data-testid=share-dialog] [data-testid=share-input]:enabled")


def share_users(page) -> list[str]:
    return page.locator("[data-testid=share-user]").evaluate_all(
        "els => els.map(e => e.dataset.username)"
    )


def list_rows(page) -> dict[int, str]:
    """The list's rows: workflow id -> its "shared by" text ('' for one's own)."""
    page.wait_for_selector("[data-testid=workflow-list], .empty")
    return {
        int(row.get_attribute("data-workflow-id")): (
            row.locator("[data-testid=shared-by]").text_content()
            if row.locator("[data-testid=shared-by]").count()
            else ""
        )
        for row in page.locator("[data-testid=workflow-row]").all()
    }


def test_alice_shares_a_workflow_bob_runs_it_read_only_then_loses_it(page, second_page, users):
    alice, bob = users
    workflow = services.workflow_create(owner=alice, source=SIMPLE)
    assert workflow.valid, workflow.errors
    revision = workflow.revision

    # alice shares it; an unknown name is marked on that name and the list she typed stays
    login(page, "alice", PASSWORD)
    assert list_rows(page) == {workflow.pk: ""}
    open_editor(page, workflow.pk)
    assert page.locator("[data-testid=read-only-banner]").count() == 0
    open_share_dialog(page)
    page.wait_for_selector("[data-testid=share-empty]")
    page.fill("[data-testid=share-input]", "bob, zed")
    page.click("[data-testid=share-save]")
    page.wait_for_selector("[data-testid=share-user][data-invalid=true]")
    page.screenshot(path=str(ARTIFACTS / "sharing-dialog.png"))
    assert share_users(page) == ["bob", "zed"]
    assert page.locator("[data-testid=share-user-error]").all_text_contents() == [
        "no user named zed"
    ]
    assert shared_names(workflow) == []  # a refused list changes nothing
    page.locator("[data-testid=share-user][data-username=zed] [data-testid=share-remove]").click()
    page.click("[data-testid=share-save]")
    page.wait_for_selector("[data-testid=share-dialog]", state="detached")
    assert "Shared with bob" in page.locator("[data-testid=notice]").text_content()
    assert shared_names(workflow) == ["bob"]

    # bob sees it as shared by alice: he may duplicate it, not rename or delete it
    login(second_page, "bob", PASSWORD)
    assert list_rows(second_page) == {workflow.pk: "shared by alice"}
    row = second_page.locator(f"[data-testid=workflow-row][data-workflow-id='{workflow.pk}']")
    assert row.locator("[data-testid=rename-workflow]").is_disabled()
    assert row.locator("[data-testid=delete-workflow]").is_disabled()
    assert row.locator("[data-testid=duplicate-workflow]").is_enabled()

    # he opens it: read-only
    row.locator("a", has_text="Alice's report").click()
    second_page.wait_for_selector("[data-testid=editor][data-loaded=true]")
    banner = second_page.locator("[data-testid=read-only-banner]")
    assert banner.text_content().strip().endswith(BANNER)
    save = second_page.locator("[data-testid=save-button]")
    assert save.is_disabled()
    assert save.get_attribute("title") == BANNER
    assert second_page.locator("[data-testid=share-button]").count() == 0
    assert second_page.locator("[data-testid=palette]").count() == 0
    assert second_page.locator("[data-testid=workflow-name]").is_disabled()
    second_page.screenshot(path=str(ARTIFACTS / "sharing-read-only.png"))

    # a node does not move when dragged; its settings are read-only; Ctrl+S says why
    def offset() -> tuple[float, float]:
        # relative to another node: dragging a node that cannot move pans the canvas
        done, wait = (
            node(second_page, "done").bounding_box(),
            node(second_page, "wait").bounding_box(),
        )
        return round(done["x"] - wait["x"]), round(done["y"] - wait["y"])

    before = offset()
    box = node(second_page, "done").bounding_box()
    x, y = box["x"] + 60, box["y"] + 20
    second_page.mouse.move(x, y)
    second_page.mouse.down()
    second_page.mouse.move(x + 120, y + 90, steps=8)
    second_page.mouse.up()
    assert offset() == before
    node(second_page, "done").locator(".wf-node-name").click()
    second_page.wait_for_selector("[data-testid=node-settings]")
    assert second_page.locator("#node-name").is_disabled()
    assert second_page.locator("[data-testid=node-id-input]").is_disabled()
    second_page.keyboard.press("Delete")  # the selected node stays
    second_page.keyboard.press("Control+s")
    notice = second_page.locator("[data-testid=notice]")
    notice.wait_for()
    assert notice.text_content().startswith(BANNER)
    assert sorted(statuses(second_page)) == ["done", "start", "wait"]

    # he runs it and sees it finish
    second_page.click("[data-testid=run-button]")
    second_page.wait_for_url(re.compile(rf"/workflows/{workflow.pk}/runs/\d+/$"))
    assert wait_for_run_end(second_page) == "succeeded"
    second_page.wait_for_function(
        "() => [...document.querySelectorAll('[data-node-id]')]"
        ".every(e => e.dataset.status === 'succeeded')"
    )
    assert statuses(second_page) == {"start": "succeeded", "wait": "succeeded", "done": "succeeded"}
    assert banner.is_visible()

    run = WorkflowRun.objects.get(workflow=workflow)
    assert run.created_by_id == bob.pk
    assert run.status == "succeeded"
    workflow.refresh_from_db()
    assert workflow.revision == revision  # nothing bob did changed it
    assert workflow.owner_id == alice.pk

    # alice stops sharing it with bob
    page.reload()
    page.wait_for_selector("[data-testid=editor][data-loaded=true]")
    open_share_dialog(page)
    assert share_users(page) == ["bob"]
    page.locator("[data-testid=share-user][data-username=bob] [data-testid=share-remove]").click()
    page.wait_for_selector("[data-testid=share-empty]")
    page.click("[data-testid=share-save]")
    page.wait_for_selector("[data-testid=share-dialog]", state="detached")
    assert "Not shared with anyone" in page.locator("[data-testid=notice]").text_content()
    assert shared_names(workflow) == []

    # bob's list no longer has it, nor can he open it
    second_page.goto("/")
    assert list_rows(second_page) == {}
    second_page.goto(f"/workflows/{workflow.pk}/")
    second_page.wait_for_selector("text=Cannot open workflow")
    assert WorkflowRun.objects.filter(workflow=workflow).count() == 1
