"""The editor for daily use (issue 17): ids, undo steps, readable canvas, branches, retry."""

import itertools
import re

import pytest

from tests.browser.conftest import ARTIFACTS, PASSWORD, browser_page
from tests.browser.gestures import (
    at,
    drag_node_from_palette,
    login,
    node,
    open_editor,
    save,
    statuses,
    wait_for_run_end,
)
from workflows import selectors, services
from workflows.models import Workflow, WorkflowRun

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def create_workflow(owner, name: str, nodes=(), edges=()) -> Workflow:
    document = {"version": 1, "name": name, "nodes": list(nodes), "edges": list(edges)}
    return services.workflow_create(owner=owner, source=document)


def edge_ids(page) -> set[str]:
    return set(page.locator(".react-flow__edge").evaluate_all("els => els.map(e => e.dataset.id)"))


def test_a_dropped_loop_gets_an_id_that_is_not_a_reserved_word(page, canvas_user):
    workflow = create_workflow(canvas_user, "Loop ids")
    login(page, "carol", PASSWORD)
    open_editor(page, workflow.pk)

    added = drag_node_from_palette(page, "loop", 600, 300)
    save(page)

    assert added == "loop_1"
    saved = selectors.workflow_document(workflow=Workflow.objects.get(pk=workflow.pk))
    assert [n["id"] for n in saved["nodes"]] == ["loop_1"]
    problems = page.locator("[data-testid=problems]")
    assert "reserved" not in (problems.inner_text() if problems.count() else "")


def test_one_undo_restores_a_deleted_node_with_its_edges(page, canvas_user):
    nodes = [
        {"id": "a", "type": "transform", "config": {"output": 1}, "position": {"x": 0, "y": 0}},
        {"id": "b", "type": "transform", "config": {"output": 2}, "position": {"x": 320, "y": 0}},
        {"id": "c", "type": "transform", "config": {"output": 3}, "position": {"x": 640, "y": 0}},
    ]
    edges = [{"id": "e1", "source": "a", "target": "b"}, {"id": "e2", "source": "b", "target": "c"}]
    workflow = create_workflow(canvas_user, "Undo delete", nodes, edges)
    login(page, "carol", PASSWORD)
    open_editor(page, workflow.pk)
    page.wait_for_function("() => document.querySelectorAll('.react-flow__edge').length === 2")

    node(page, "b").locator(".wf-node-name").click()
    page.keyboard.press("Delete")
    node(page, "b").wait_for(state="detached")
    assert edge_ids(page) == set()
    page.locator(".react-flow__pane").click(position={"x": 20, "y": 20})

    page.keyboard.press("Control+z")
    node(page, "b").wait_for()
    page.wait_for_function("() => document.querySelectorAll('.react-flow__edge').length === 2")
    assert set(statuses(page)) == {"a", "b", "c"}
    assert edge_ids(page) == {"e1", "e2"}

    page.keyboard.press("Control+Shift+z")
    node(page, "b").wait_for(state="detached")
    assert edge_ids(page) == set()


FAILING = {
    "version": 1,
    "name": "Fails at boom",
    "nodes": [
        {"id": "start", "type": "start", "position": at(0, 0)},
        {"id": "prep", "type": "transform", "config": {"output": 1}, "position": at(300, 0)},
        {"id": "boom", "type": "error", "config": {"message": "boom"}, "position": at(600, 0)},
    ],
    "edges": [
        {"id": "e1", "source": "start", "target": "prep"},
        {"id": "e2", "source": "prep", "target": "boom"},
    ],
}


def run_id_in_url(page) -> int:
    return int(re.search(r"/runs/(\d+)/$", page.url).group(1))


def test_a_failed_run_offers_retry_and_rerun_in_the_toolbar_and_the_history(page, canvas_user):
    workflow = services.workflow_create(owner=canvas_user, source=FAILING)
    login(page, "carol", PASSWORD)
    open_editor(page, workflow.pk)
    page.click("[data-testid=run-button]")
    page.wait_for_url(re.compile(rf"/workflows/{workflow.pk}/runs/\d+/$"))
    assert wait_for_run_end(page) == "failed"
    first = run_id_in_url(page)

    page.click("[data-testid=run-retry]")
    page.wait_for_url(re.compile(rf"/runs/(?!{first}/)\d+/$"))
    retried = WorkflowRun.objects.get(pk=run_id_in_url(page))
    assert (retried.source_run_id, retried.from_node, retried.trigger) == (first, "boom", "rerun")
    assert wait_for_run_end(page) == "failed"

    page.click("[data-testid=history-button]")
    row = page.locator(f"[data-testid=history-entry][data-run-id='{first}']")
    row.locator("[data-testid=history-rerun]").click()
    page.wait_for_function(
        "ids => !ids.some(id => location.pathname.endsWith(`/runs/${id}/`))",
        arg=[first, retried.pk],
    )
    rerun = WorkflowRun.objects.get(pk=run_id_in_url(page))
    assert (rerun.source_run_id, rerun.from_node, rerun.trigger) == (first, "", "rerun")
    assert row.locator("[data-testid=history-retry]").count() == 1


APPROVAL = {
    "version": 1,
    "name": "Ship after approval",
    "nodes": [
        {"id": "start", "type": "start", "position": at(0, 0)},
        {"id": "prep", "type": "transform", "config": {"output": 7}, "position": at(300, 0)},
        {
            "id": "gate",
            "type": "approval",
            "config": {"prompt": "Ship order {{ prep }}?"},
            "position": at(600, 0),
        },
        {"id": "ship", "type": "transform", "config": {"output": 1}, "position": at(900, 0)},
    ],
    "edges": [
        {"id": "e1", "source": "start", "target": "prep"},
        {"id": "e2", "source": "prep", "target": "gate"},
        {"id": "e3", "source": "gate", "source_handle": "approved", "target": "ship"},
    ],
}

# Set on every page before it loads: whether the approval prompt ever showed a raw template.
WATCH_PROMPT = """
window.__sawTemplate = false;
new MutationObserver(() => {
  const text = document.querySelector("[data-testid=approval-text]")?.textContent ?? "";
  if (text.includes("{{")) window.__sawTemplate = true;
}).observe(document, { subtree: true, childList: true, characterData: true });
"""


def test_a_second_viewers_approval_dialog_shows_who_decided_and_never_the_template(
    browser, server_url, canvas_user
):
    workflow = services.workflow_create(owner=canvas_user, source=APPROVAL)
    with (
        browser_page(browser, server_url, "the deciding viewer") as first,
        browser_page(browser, server_url, "the second viewer") as second,
    ):
        second.add_init_script(WATCH_PROMPT)
        for page in (first, second):
            login(page, "carol", PASSWORD)
        open_editor(first, workflow.pk)
        first.click("[data-testid=run-button]")
        first.wait_for_url(re.compile(rf"/workflows/{workflow.pk}/runs/\d+/$"))
        second.goto(first.url)

        for page in (first, second):
            page.locator("[data-testid=approval-dialog]").wait_for(timeout=20_000)
            page.locator("[data-testid=approval-text]", has_text="Ship order 7?").wait_for()
        first.click("[data-testid=approval-approve]")

        decided = second.locator("[data-testid=approval-decided-elsewhere]")
        decided.wait_for()
        assert "moved on" not in decided.inner_text()  # decided, never "moved on"
        # status comes before the output that names who decided: the text completes within a moment
        decided.filter(has_text="approved").wait_for(timeout=5_000)
        assert "carol" in decided.inner_text()
        assert second.locator("[data-testid=approval-approve]").count() == 0
        assert not second.evaluate("window.__sawTemplate")
        second.click("[data-testid=approval-close]")
        second.locator("[data-testid=approval-dialog]").wait_for(state="detached")
        assert wait_for_run_end(second) == "succeeded"


SUMMARISED = [
    {"id": "pause", "type": "delay", "config": {"seconds": 3}, "position": at(0, 0)},
    {
        "id": "check",
        "type": "condition",
        "config": {"expression": "score > 5"},
        "position": at(300, 0),
    },
    {
        "id": "fetch",
        "type": "http",
        "config": {"method": "GET", "url": "https://api.x.com"},
        "position": at(600, 0),
    },
]


def test_collapsed_panels_and_a_hidden_minimap_give_the_canvas_the_width_and_stay_so(
    browser, server_url, canvas_user
):
    workflow = create_workflow(canvas_user, "Small screen", SUMMARISED)
    context = browser.new_context(viewport={"width": 1280, "height": 720}, base_url=server_url)
    context.set_default_timeout(15_000)
    page = context.new_page()
    try:
        login(page, "carol", PASSWORD)
        open_editor(page, workflow.pk)
        summaries = {
            nid: node(page, nid).locator("[data-testid=node-summary]").inner_text()
            for nid in ("pause", "check", "fetch")
        }
        assert summaries == {"pause": "3 s", "check": "score > 5", "fetch": "GET api.x.com"}
        page.locator(".react-flow__minimap").wait_for()

        page.click("[data-testid=toggle-palette]")
        page.click("[data-testid=toggle-inspector]")
        page.click("[data-testid=toggle-minimap]")
        page.locator(".react-flow__minimap").wait_for(state="detached")
        assert page.locator("[data-testid=canvas]").bounding_box()["width"] >= 1280 - 40
        page.screenshot(path=str(ARTIFACTS / "editor-collapsed-1280.png"))

        page.reload()
        page.wait_for_selector("[data-testid=editor][data-loaded=true]")
        node(page, "pause").wait_for()
        assert page.locator("[data-testid=palette]").count() == 0
        assert not page.locator("[data-testid=side-panel]").is_visible()
        assert page.locator(".react-flow__minimap").count() == 0
        assert page.locator("[data-testid=canvas]").bounding_box()["width"] >= 1280 - 40

        page.click("[data-testid=toggle-palette]")
        page.locator("[data-testid=palette]").wait_for()
        page.click("[data-testid=toggle-minimap]")
        page.locator(".react-flow__minimap").wait_for()
    finally:
        context.close()


BRANCHES = {
    "nodes": [
        {"id": "start", "type": "start", "position": at(0, 0)},
        {
            "id": "check",
            "type": "condition",
            "config": {"expression": "1 < 2"},
            "position": at(300, 0),
        },
        {"id": "yes", "type": "transform", "config": {"output": 1}, "position": at(600, 0)},
        {"id": "no", "type": "transform", "config": {"output": 2}, "position": at(600, 200)},
        {"id": "done", "type": "transform", "config": {"output": 3}, "position": at(900, 100)},
    ],
    "edges": [
        {"id": "e1", "source": "start", "target": "check"},
        {"id": "e2", "source": "check", "source_handle": "true", "target": "yes"},
        {"id": "e3", "source": "check", "source_handle": "false", "target": "no"},
        {"id": "e4", "source": "yes", "target": "done"},
        {"id": "e5", "source": "no", "target": "done"},
    ],
}


def path_points(page, edge_id: str) -> list[tuple[float, float]]:
    """The corners of an edge's drawn path (its M/L/Q end points), in canvas units."""
    d = page.locator(f".react-flow__edge[data-id='{edge_id}'] path.react-flow__edge-path")
    numbers = [float(v) for v in re.findall(r"-?[\d.]+", d.get_attribute("d"))]
    return list(zip(numbers[::2], numbers[1::2], strict=False))


def shared_length(a: list[tuple[float, float]], b: list[tuple[float, float]]) -> float:
    """How long the two polylines run on top of each other (axis-parallel segments)."""
    total = 0.0
    for (ax1, ay1), (ax2, ay2) in itertools.pairwise(a):
        for (bx1, by1), (bx2, by2) in itertools.pairwise(b):
            if abs(ax1 - ax2) < 0.5 and abs(bx1 - bx2) < 0.5 and abs(ax1 - bx1) < 2:
                low, high = max(min(ay1, ay2), min(by1, by2)), min(max(ay1, ay2), max(by1, by2))
                total += max(0.0, high - low)
            if abs(ay1 - ay2) < 0.5 and abs(by1 - by2) < 0.5 and abs(ay1 - by1) < 2:
                low, high = max(min(ax1, ax2), min(bx1, bx2)), min(max(ax1, ax2), max(bx1, bx2))
                total += max(0.0, high - low)
    return total


@pytest.mark.parametrize("flip", [False, True])
def test_branch_edges_are_labelled_and_kept_apart_by_auto_layout(page, canvas_user, flip):
    edges = BRANCHES["edges"]
    if flip:  # the other edge order: dagre may stack the branches the other way round
        edges = [edges[0], edges[2], edges[1], *edges[3:]]
    workflow = create_workflow(canvas_user, "Branches", BRANCHES["nodes"], edges)
    login(page, "carol", PASSWORD)
    open_editor(page, workflow.pk)
    page.wait_for_function("() => document.querySelectorAll('.react-flow__edge').length === 5")

    label = ".react-flow__edge[data-id='{}'] .react-flow__edge-text"
    assert page.locator(label.format("e2")).text_content() == "true"
    assert page.locator(label.format("e3")).text_content() == "false"
    assert page.locator(label.format("e1")).count() == 0

    page.locator(".react-flow__pane").click(position={"x": 20, "y": 20})
    page.keyboard.press("Shift+L")
    page.wait_for_selector("[data-testid=save-indicator][data-state=dirty]")
    page.wait_for_timeout(300)
    page.screenshot(path=str(ARTIFACTS / f"branches-laid-out-{int(flip)}.png"))
    assert shared_length(path_points(page, "e2"), path_points(page, "e3")) < 4
    # the true branch's target above the false one's: the branches leave without crossing
    assert node(page, "yes").bounding_box()["y"] < node(page, "no").bounding_box()["y"]
