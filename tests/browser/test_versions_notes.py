"""Version history, "+" on an output handle and sticky notes on the canvas (issue 17)."""

import pytest

from tests.browser.conftest import PASSWORD
from tests.browser.gestures import at, login, node, node_ids, open_editor, save, select_node
from workflows import selectors, services
from workflows.models import Workflow

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

TWO = {
    "version": 1,
    "name": "Versions",
    "nodes": [
        {"id": "a", "type": "transform", "config": {"output": "first"}, "position": at(0, 0)},
        {
            "id": "check",
            "type": "condition",
            "config": {"expression": "1 > 0"},
            "position": at(320, 0),
        },
    ],
    "edges": [{"id": "e1", "source": "a", "target": "check"}],
}


def document(workflow) -> dict:
    return selectors.workflow_document(workflow=Workflow.objects.get(pk=workflow.pk))


def edit_output(page, node_id: str, value: str) -> None:
    select_node(page, node_id)
    page.fill("#cfg-output", value)
    save(page)


def test_versions_show_the_changed_node_and_restore_the_old_config(page, canvas_user):
    workflow = services.workflow_create(owner=canvas_user, source=TWO)
    login(page, "carol", PASSWORD)
    open_editor(page, workflow.pk)
    edit_output(page, "a", "second")
    edit_output(page, "a", "third")
    assert Workflow.objects.get(pk=workflow.pk).revision == 3

    page.click("[data-testid=versions-button]")
    entries = page.locator("[data-testid=version-entry]")
    entries.first.wait_for()
    assert [e.get_attribute("data-revision") for e in entries.all()] == ["3", "2", "1"]
    assert "carol" in entries.nth(2).inner_text()

    page.click("[data-testid=version-entry][data-revision='1']")
    line = page.locator("[data-testid=version-diff-line][data-kind=node]")
    line.first.wait_for()
    assert line.count() == 1
    assert line.get_attribute("data-id") == "a"
    assert "node a: changed: config" in line.inner_text()

    page.click("[data-testid=version-restore]")
    page.wait_for_selector("[data-testid=version-entry][data-revision='4']")
    assert "Restored revision 1 as revision 4" in page.locator("[data-testid=notice]").inner_text()
    select_node(page, "a")
    assert page.locator("#cfg-output").input_value() == "first"  # the canvas shows the old config
    assert document(workflow)["nodes"][0]["config"] == {"output": "first"}
    assert Workflow.objects.get(pk=workflow.pk).revision == 4
    # the new revision is current: editing and saving again works without a conflict
    edit_output(page, "a", "fourth")
    assert Workflow.objects.get(pk=workflow.pk).revision == 5


def test_plus_on_an_output_handle_adds_a_connected_node_in_one_undo_step(page, canvas_user):
    workflow = services.workflow_create(owner=canvas_user, source=TWO)
    login(page, "carol", PASSWORD)
    open_editor(page, workflow.pk)
    check = node(page, "check")
    check.hover()
    check.locator("[data-testid=add-after][data-handle=false]").click()
    page.fill("[data-testid=node-picker-search]", "dela")
    assert page.locator("[data-testid^=node-picker-]:is(button)").count() == 1
    page.click("[data-testid=node-picker-delay]")
    page.wait_for_selector("[data-node-id=delay]")
    assert page.locator("[data-testid=node-picker]").count() == 0
    source = check.bounding_box()
    added = node(page, "delay").bounding_box()
    assert added["x"] > source["x"] + source["width"]  # placed to the right
    save(page)
    saved = document(workflow)
    assert [n["id"] for n in saved["nodes"]] == ["a", "check", "delay"]
    edge = next(e for e in saved["edges"] if e["target"] == "delay")
    assert (edge["source"], edge["source_handle"]) == ("check", "false")

    page.keyboard.press("Control+z")  # one step takes back node and edge together
    page.wait_for_function("() => !document.querySelector('[data-node-id=delay]')")
    assert sorted(node_ids(page)) == ["a", "check"]
    assert page.locator(".react-flow__edge").count() == 1


def test_a_sticky_note_is_edited_moved_resized_and_survives_a_reload(page, canvas_user):
    workflow = services.workflow_create(owner=canvas_user, source=TWO)
    login(page, "carol", PASSWORD)
    open_editor(page, workflow.pk)
    page.click("[data-testid=add-note]")
    note = page.locator("[data-testid=sticky-note]")
    note.wait_for()
    note.locator("[data-testid=note-text]").fill("Ask Sam before changing the URL")

    bar = note.locator("[data-testid=note-bar]").bounding_box()
    before = note.bounding_box()
    page.mouse.move(bar["x"] + 20, bar["y"] + bar["height"] / 2)
    page.mouse.down()
    page.mouse.move(bar["x"] + 80, bar["y"] + 260, steps=6)
    page.mouse.up()
    moved = note.bounding_box()
    assert moved["x"] > before["x"] + 40 and moved["y"] > before["y"] + 40

    corner = note.locator("[data-testid=note-resize]").bounding_box()
    page.mouse.move(corner["x"] + 5, corner["y"] + 5)
    page.mouse.down()
    page.mouse.move(corner["x"] + 105, corner["y"] + 65, steps=6)
    page.mouse.up()
    assert note.bounding_box()["width"] > moved["width"] + 50
    save(page)

    (stored,) = document(workflow)["notes"]
    assert stored["text"] == "Ask Sam before changing the URL"
    assert stored["size"]["width"] > 220

    page.reload()
    page.wait_for_selector("[data-testid=editor][data-loaded=true]")
    note = page.locator("[data-testid=sticky-note]")
    note.wait_for()
    assert (
        note.locator("[data-testid=note-text]").input_value() == "Ask Sam before changing the URL"
    )

    note.locator("[data-testid=note-delete]").click()
    assert page.locator("[data-testid=sticky-note]").count() == 0
    save(page)
    assert document(workflow)["notes"] == []
