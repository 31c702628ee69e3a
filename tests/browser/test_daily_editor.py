"""The editor for daily use (issue 17): ids, undo steps, readable canvas, branches, retry."""

import pytest

from tests.browser.conftest import PASSWORD
from tests.browser.gestures import (
    drag_node_from_palette,
    login,
    node,
    open_editor,
    save,
    statuses,
)
from workflows import selectors, services
from workflows.models import Workflow

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
