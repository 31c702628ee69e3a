"""The workflow list's search, tag filter and sort, and the runs page across workflows (issue
17, "lower but real")."""

from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.browser.conftest import PASSWORD
from tests.browser.gestures import login, open_editor, save, select_node
from tests.observability.drive import execute
from workflows import selectors, services
from workflows.models import RunTrigger, Workflow

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def make(owner, name: str, tags: list[str], nodes: int = 1):
    document = {
        "name": name,
        "tags": tags,
        "nodes": [
            {"id": f"n{i}", "type": "transform", "config": {"output": i}} for i in range(nodes)
        ],
        "edges": [],
    }
    return services.workflow_create(owner=owner, source=document)


def names(page) -> list[str]:
    return [
        row.locator("td").first.locator("a").inner_text()
        for row in page.locator("[data-testid=workflow-row]").all()
    ]


def test_search_filter_and_sort_the_workflow_list(page, canvas_user):
    make(canvas_user, "Orders sync", ["shop"], 2)
    make(canvas_user, "Alerts", ["ops"], 5)
    make(canvas_user, "Billing", ["shop", "finance"], 3)
    login(page, "carol", PASSWORD)
    page.wait_for_selector("[data-testid=workflow-row]")
    assert names(page) == ["Billing", "Alerts", "Orders sync"]  # recently updated first

    page.fill("[data-testid=workflow-search]", "ORD")
    assert names(page) == ["Orders sync"]
    page.fill("[data-testid=workflow-search]", "")
    page.select_option("[data-testid=tag-filter]", "shop")
    assert names(page) == ["Billing", "Orders sync"]
    page.select_option("[data-testid=tag-filter]", "")
    page.select_option("[data-testid=workflow-sort]", "name")
    assert names(page) == ["Alerts", "Billing", "Orders sync"]
    page.select_option("[data-testid=workflow-sort]", "nodes")
    assert names(page) == ["Alerts", "Billing", "Orders sync"]


def test_the_runs_page_lists_runs_of_every_workflow_and_opens_one(page, canvas_user):
    first = make(canvas_user, "First flow", [])
    second = make(canvas_user, "Second flow", [])
    queued = [
        services.run_create(user=canvas_user, workflow_id=w.pk, trigger=RunTrigger.MANUAL).pk
        for w in (first, second)
    ]
    with ThreadPoolExecutor(1) as pool:  # off Playwright's event loop, as a worker would
        runs = [pool.submit(execute, run_id).result() for run_id in queued]
    login(page, "carol", PASSWORD)
    page.click("[data-testid=runs-link]")
    page.wait_for_selector("[data-testid=run-row]")
    rows = page.locator("[data-testid=run-row]")
    assert [int(r.get_attribute("data-run-id")) for r in rows.all()] == [runs[1].pk, runs[0].pk]
    assert "Second flow" in rows.first.inner_text()
    assert rows.first.get_attribute("data-status") == "succeeded"
    page.select_option("[data-testid=run-status-filter]", "failed")
    page.wait_for_selector("text=No runs match.")
    page.select_option("[data-testid=run-status-filter]", "")
    page.locator("[data-testid=run-row]").nth(1).click()
    page.wait_for_url(f"**/workflows/{first.pk}/runs/{runs[0].pk}/")


def test_a_sub_workflow_node_picks_a_saved_workflow_by_name(page, canvas_user):
    child = make(canvas_user, "Child flow", [])
    parent = services.workflow_create(
        owner=canvas_user,
        source={
            "name": "Parent",
            "nodes": [
                {"id": "call", "type": "subworkflow", "config": {}, "position": {"x": 0, "y": 0}}
            ],
            "edges": [],
        },
    )
    login(page, "carol", PASSWORD)
    open_editor(page, parent.pk)
    select_node(page, "call")
    picker = page.locator("[data-testid=subworkflow-picker]")
    page.wait_for_function(
        "() => document.querySelector('[data-testid=subworkflow-picker]').options.length > 1"
    )
    options = picker.locator("option").all_inner_texts()
    assert f"Child flow (#{child.pk})" in options
    assert not any(o.startswith("Parent") for o in options)  # not itself
    picker.select_option(str(child.pk))
    save(page)
    saved = selectors.workflow_document(workflow=parent)
    assert saved["nodes"][0]["config"]["workflow"] == child.pk


def test_a_loop_frame_keeps_its_title_readable_in_a_run(page, canvas_user):
    loop = {
        "id": "each",
        "name": "Repeat per order",
        "type": "loop",
        "config": {"mode": "count", "count": 3},
        "position": {"x": 0, "y": 0},
        "size": {"width": 260, "height": 180},
    }
    body = {
        "id": "cell",
        "type": "transform",
        "parent": "each",
        "config": {"output": "{{ loop.index }}"},
        "position": {"x": 40, "y": 80},
    }
    workflow = services.workflow_create(
        owner=canvas_user, source={"name": "Loops", "nodes": [loop, body], "edges": []}
    )
    login(page, "carol", PASSWORD)
    open_editor(page, workflow.pk)
    page.click("[data-testid=run-button]")
    page.wait_for_function(
        "() => ['succeeded', 'failed'].includes("
        "document.querySelector('[data-testid=status-bar]')?.dataset.runStatus)"
    )
    name = page.locator("[data-node-id=each] .wf-container-head .wf-node-name")
    shown = name.evaluate("el => el.getBoundingClientRect().width")
    needed = name.evaluate("el => el.scrollWidth")
    assert shown >= needed - 1, (shown, needed)  # the whole title, not "R…"
    assert name.inner_text() == "Repeat per order"


def test_new_workflow_then_back_leaves_no_orphan_draft(page, canvas_user):
    make(canvas_user, "Kept", [])
    login(page, "carol", PASSWORD)
    page.wait_for_selector("[data-testid=workflow-row]")
    page.click("[data-testid=new-workflow]")
    page.wait_for_url("**/workflows/*/")
    page.wait_for_selector("[data-testid=editor][data-loaded=true]")
    page.go_back()
    page.wait_for_selector("[data-testid=workflow-row]")
    page.wait_for_function(
        "() => document.querySelectorAll('[data-testid=workflow-row]').length === 1"
    )
    assert names(page) == ["Kept"]
    assert list(Workflow.objects.values_list("name", flat=True)) == ["Kept"]

    # a new workflow that was saved (built on) stays
    page.click("[data-testid=new-workflow]")
    page.wait_for_selector("[data-testid=editor][data-loaded=true]")
    select_node(page, "start")
    page.fill("#node-name", "Begin")
    save(page)
    page.go_back()
    page.wait_for_selector("[data-testid=workflow-row]")
    page.wait_for_function(
        "() => document.querySelectorAll('[data-testid=workflow-row]').length === 2"
    )
    assert Workflow.objects.count() == 2
