"""The editor in a real browser: drag, connect, configure, save, reload; refusals; 409."""

import re

import pytest
from django.db.models import F

from tests.browser.conftest import ARTIFACTS, PASSWORD
from tests.browser.gestures import (
    connect,
    drag_node_from_palette,
    login,
    node,
    open_editor,
    save,
    select_node,
    statuses,
    wait_saved,
)
from workflows import selectors, services
from workflows.models import Workflow

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def create_workflow(owner, name: str, nodes=(), edges=()) -> Workflow:
    document = {"version": 1, "name": name, "nodes": list(nodes), "edges": list(edges)}
    return services.workflow_create(owner=owner, source=document)


def saved_document(workflow: Workflow) -> dict:
    return selectors.workflow_document(workflow=Workflow.objects.get(pk=workflow.pk))


def test_dragged_connected_and_configured_nodes_persist_after_reload(page, canvas_user):
    workflow = create_workflow(canvas_user, "Canvas test")
    login(page, "carol", PASSWORD)
    open_editor(page, workflow.pk)

    first = drag_node_from_palette(page, "transform", 520, 320)
    second = drag_node_from_palette(page, "delay", 860, 320)
    assert (first, second) == ("transform", "delay")
    connect(page, "transform", "delay")
    page.wait_for_selector(".react-flow__edge")
    select_node(page, "delay")
    page.fill("#cfg-seconds", "2.5")
    page.wait_for_selector("[data-testid=save-indicator][data-state=dirty]")
    save(page)
    page.screenshot(path=str(ARTIFACTS / "editor.png"))

    page.reload()
    page.wait_for_selector("[data-testid=editor][data-loaded=true]")
    assert set(statuses(page)) == {"transform", "delay"}
    assert page.locator(".react-flow__edge").count() == 1
    select_node(page, "delay")
    assert page.input_value("#cfg-seconds") == "2.5"

    document = saved_document(workflow)
    by_id = {n["id"]: n for n in document["nodes"]}
    assert by_id["delay"]["config"] == {"seconds": 2.5}
    assert by_id["delay"]["type"] == "delay"
    assert by_id["transform"]["position"]["x"] < by_id["delay"]["position"]["x"]
    assert [(e["source"], e["target"]) for e in document["edges"]] == [("transform", "delay")]


def test_an_edge_closing_a_cycle_is_refused_with_the_cycle_named(page, canvas_user):
    nodes = [
        {"id": "a", "type": "transform", "config": {"output": 1}, "position": {"x": 0, "y": 0}},
        {"id": "b", "type": "transform", "config": {"output": 2}, "position": {"x": 400, "y": 0}},
    ]
    edges = [{"id": "e1", "source": "a", "target": "b"}]
    workflow = create_workflow(canvas_user, "Cycle", nodes, edges)
    login(page, "carol", PASSWORD)
    open_editor(page, workflow.pk)

    connect(page, "b", "a")

    notice = page.locator("[data-testid=notice]")
    notice.wait_for()
    assert "cycle: b -> a -> b" in notice.inner_text()
    assert page.locator(".react-flow__edge").count() == 1
    assert page.get_attribute("[data-testid=save-indicator]", "data-state") == "saved"


def test_a_stale_save_offers_reload_or_saving_mine_merged(page, canvas_user):
    workflow = create_workflow(canvas_user, "Shared")
    login(page, "carol", PASSWORD)
    open_editor(page, workflow.pk)
    page.fill("[data-testid=workflow-name]", "Mine")
    Workflow.objects.filter(pk=workflow.pk).update(revision=F("revision") + 1)

    page.click("[data-testid=save-button]")
    page.locator("[data-testid=conflict-dialog]").wait_for()
    page.click("[data-testid=merge-save]")  # nothing changed there: mine, merged

    wait_saved(page)
    assert Workflow.objects.get(pk=workflow.pk).name == "Mine"


def test_the_workflow_list_creates_and_opens_a_workflow(page, canvas_user):
    login(page, "carol", PASSWORD)
    page.click("[data-testid=new-workflow]")
    page.wait_for_url(re.compile(r"/workflows/\d+/$"))
    page.wait_for_selector("[data-testid=editor][data-loaded=true]")
    assert statuses(page) == {"start": "idle"}
    assert Workflow.objects.get(owner=canvas_user).name == "Untitled workflow"


def test_the_list_renames_duplicates_and_deletes_after_confirmation(page, canvas_user):
    workflow = create_workflow(canvas_user, "Nightly import")
    login(page, "carol", PASSWORD)
    row = page.locator(f"[data-testid=workflow-row][data-workflow-id='{workflow.pk}']")

    row.get_by_role("button", name="Rename").click()
    page.get_by_label("Workflow name").fill("Nightly sync")
    page.get_by_role("button", name="Rename", exact=True).last.click()
    page.locator("[data-testid=workflow-row]", has_text="Nightly sync").wait_for()
    assert Workflow.objects.get(pk=workflow.pk).name == "Nightly sync"

    row.get_by_role("button", name="Duplicate").click()
    page.locator("[data-testid=workflow-row]", has_text="Nightly sync (copy)").wait_for()
    assert Workflow.objects.filter(owner=canvas_user).count() == 2

    row.locator("[data-testid=delete-workflow]").click()
    page.locator("[data-testid=confirm-delete]").wait_for()
    assert Workflow.objects.filter(pk=workflow.pk).exists()  # nothing happens before confirming
    page.click("[data-testid=confirm-delete-button]")
    row.wait_for(state="detached")
    assert not Workflow.objects.filter(pk=workflow.pk).exists()


def test_importing_a_yaml_file_opens_the_imported_workflow(page, canvas_user, tmp_path):
    source = tmp_path / "hello.yaml"
    source.write_text(
        "version: 1\nname: Hello from YAML\nnodes:\n"
        "  - {id: start, type: start, position: {x: 0, y: 0}}\n"
        "  - {id: greet, type: transform, config: {output: hi}, position: {x: 300, y: 0}}\n"
        "edges:\n  - {id: e1, source: start, target: greet}\n"
    )
    login(page, "carol", PASSWORD)
    page.set_input_files("[data-testid=import-file]", str(source))
    page.wait_for_url(re.compile(r"/workflows/\d+/$"))
    page.wait_for_selector("[data-testid=editor][data-loaded=true]")
    assert statuses(page) == {"start": "idle", "greet": "idle"}
    assert Workflow.objects.get(owner=canvas_user).name == "Hello from YAML"


def test_a_problem_in_the_list_focuses_its_node(page, canvas_user):
    nodes = [
        {"id": "start", "type": "start", "position": {"x": 0, "y": 0}},
        {"id": "pause", "type": "delay", "config": {}, "position": {"x": 300, "y": 0}},
    ]
    workflow = create_workflow(
        canvas_user, "Draft", nodes, [{"id": "e1", "source": "start", "target": "pause"}]
    )
    login(page, "carol", PASSWORD)
    open_editor(page, workflow.pk)

    problem = page.locator("[data-testid=problems] .problem", has_text="seconds")
    problem.click()

    page.wait_for_selector("[data-testid=node-settings]")
    assert page.input_value("[data-testid=node-id-input]") == "pause"
    assert "1" in node(page, "pause").locator(".wf-node-problems").inner_text()


def test_undo_and_redo_a_dropped_node(page, canvas_user):
    workflow = create_workflow(canvas_user, "Undo")
    login(page, "carol", PASSWORD)
    open_editor(page, workflow.pk)
    drag_node_from_palette(page, "delay", 600, 300)
    page.locator(".react-flow__pane").click(position={"x": 20, "y": 20})

    page.keyboard.press("Control+z")
    node(page, "delay").wait_for(state="detached")
    page.keyboard.press("Control+Shift+z")
    node(page, "delay").wait_for()
    assert statuses(page) == {"delay": "idle"}


def test_a_large_graph_opens_on_its_start_and_fit_draws_every_node_and_edge(page, canvas_user):
    count = 260
    nodes = [
        {
            "id": f"n{i}",
            "type": "transform",
            "config": {"output": i},
            "position": {"x": 260 * (i % 20), "y": 160 * (i // 20)},
        }
        for i in range(count)
    ]
    edges = [{"id": f"e{i}", "source": f"n{i - 1}", "target": f"n{i}"} for i in range(1, count)]
    workflow = create_workflow(canvas_user, "Large", nodes, edges)
    login(page, "carol", PASSWORD)
    open_editor(page, workflow.pk)
    node(page, "n0").wait_for()
    drawn = page.locator("[data-node-id]").count()
    assert 0 < drawn < count / 2  # only what is in view
    assert 0.5 <= node(page, "n0").bounding_box()["width"] / 220 <= 1  # readable

    page.keyboard.press("Shift+F")
    page.wait_for_function(
        "n => document.querySelectorAll('[data-node-id]').length === n", arg=count
    )
    page.wait_for_function(
        "n => document.querySelectorAll('.react-flow__edge').length === n", arg=count - 1
    )
    # an edge drawn to a node measured late ends at that node's measured input handle
    path = page.locator(".react-flow__edge[data-id='e259'] path").first.get_attribute("d")
    end_x, end_y = (float(v) for v in re.findall(r"-?[\d.]+", path)[-2:])
    handle = page.locator(".react-flow__handle.target[data-nodeid='n259']").bounding_box()
    origin = page.locator(".react-flow").bounding_box()
    transform = page.locator(".react-flow__viewport").evaluate("e => e.style.transform")
    tx, ty, zoom = (float(v) for v in re.findall(r"-?[\d.]+", transform))
    handle_x = (handle["x"] - origin["x"] - tx) / zoom  # a left handle's edge
    handle_y = (handle["y"] + handle["height"] / 2 - origin["y"] - ty) / zoom
    assert abs(end_x - handle_x) < 4 and abs(end_y - handle_y) < 4, (
        end_x,
        end_y,
        handle_x,
        handle_y,
    )
    page.screenshot(path=str(ARTIFACTS / "large-graph-fit.png"))
