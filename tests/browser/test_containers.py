"""Containers and approvals on the canvas: build a map with a body by dragging, run it and
watch its progress; decide an approval from the dialog."""

import re

import pytest

from tests.browser.conftest import ARTIFACTS, PASSWORD
from tests.browser.gestures import (
    at,
    connect,
    drag_node_from_palette,
    drag_node_onto,
    login,
    node,
    open_editor,
    save,
    select_node,
    statuses,
    wait_for_run_end,
)
from workflows import control, selectors, services
from workflows.models import NodeRun, Workflow, WorkflowRun

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def saved_document(workflow: Workflow) -> dict:
    return selectors.workflow_document(workflow=Workflow.objects.get(pk=workflow.pk))


def test_a_map_built_by_dragging_runs_its_body_per_item_with_progress(page, canvas_user):
    start = {"id": "start", "type": "start", "position": at(0, 100)}
    workflow = services.workflow_create(
        owner=canvas_user, source={"version": 1, "name": "Map", "nodes": [start], "edges": []}
    )
    login(page, "carol", PASSWORD)
    open_editor(page, workflow.pk)

    container = drag_node_from_palette(page, "map", 900, 150)
    body = drag_node_from_palette(page, "transform", 500, 760)
    assert (container, body) == ("map", "transform")
    assert node(page, "map").get_attribute("data-status") == "idle"
    drag_node_onto(page, "transform", "map")
    page.locator("[data-testid=notice]", has_text='"transform" is now inside "map"').wait_for()
    connect(page, "start", "map")
    page.wait_for_selector(".react-flow__edge")

    select_node(page, "map")
    page.fill("#cfg-items", "[1, 2, 3]")
    select_node(page, "transform")
    page.fill("#cfg-output", "{{ input * 10 }}")
    save(page)
    page.screenshot(path=str(ARTIFACTS / "map-build.png"))

    document = saved_document(workflow)
    by_id = {n["id"]: n for n in document["nodes"]}
    assert by_id["transform"]["parent"] == "map"
    assert by_id["map"]["config"]["items"] == [1, 2, 3]
    # positions stay absolute in the document: the body node lies inside its frame
    assert by_id["transform"]["position"]["x"] > by_id["map"]["position"]["x"]
    assert by_id["transform"]["position"]["y"] > by_id["map"]["position"]["y"]
    assert [(e["source"], e["target"]) for e in document["edges"]] == [("start", "map")]
    assert Workflow.objects.get(pk=workflow.pk).valid, Workflow.objects.get(pk=workflow.pk).errors

    page.click("[data-testid=run-button]")
    page.wait_for_url(re.compile(rf"/workflows/{workflow.pk}/runs/\d+/$"))
    assert wait_for_run_end(page) == "succeeded"
    progress = node(page, "map").locator("[data-testid=node-progress]")
    progress.wait_for()
    assert progress.inner_text() == "3/3"
    assert statuses(page) == {"start": "succeeded", "map": "succeeded", "transform": "succeeded"}
    page.screenshot(path=str(ARTIFACTS / "map-run.png"))

    # the inspector picks an iteration: its output, and the canvas shows that iteration
    node(page, "transform").locator(".wf-node-name").click()
    picker = page.locator("[data-testid=iteration-picker]")
    picker.wait_for()
    picker.select_option("map[0]")
    page.locator("[data-testid=inspect-iteration]", has_text="map #1").wait_for()
    page.locator("[data-testid=inspect-output] pre", has_text="10").wait_for()
    assert "map #1" in node(page, "transform").locator("[data-testid=node-iteration]").inner_text()
    run = WorkflowRun.objects.get(workflow=workflow)
    outputs = dict(
        NodeRun.objects.filter(run=run, node_id="transform").values_list("iteration", "output")
    )
    assert outputs == {"map[0]": 10, "map[1]": 20, "map[2]": 30}


APPROVAL = {
    "version": 1,
    "name": "Ship after approval",
    "nodes": [
        {"id": "start", "type": "start", "position": at(0, 100)},
        {
            "id": "ok",
            "type": "approval",
            "config": {"prompt": "Ship it?"},
            "position": at(300, 100),
        },
        {"id": "ship", "type": "transform", "config": {"output": 1}, "position": at(600, 0)},
        {"id": "hold", "type": "transform", "config": {"output": 2}, "position": at(600, 220)},
    ],
    "edges": [
        {"id": "e1", "source": "start", "target": "ok"},
        {"id": "e2", "source": "ok", "source_handle": "approved", "target": "ship"},
        {"id": "e3", "source": "ok", "source_handle": "rejected", "target": "hold"},
    ],
}


def start_run_to_the_dialog(page, workflow) -> None:
    open_editor(page, workflow.pk)
    page.click("[data-testid=run-button]")
    page.wait_for_url(re.compile(rf"/workflows/{workflow.pk}/runs/\d+/$"))
    dialog = page.locator("[data-testid=approval-dialog]")
    dialog.wait_for(timeout=20_000)
    assert "Ship it?" in dialog.locator("[data-testid=approval-text]").inner_text()
    assert node(page, "ok").get_attribute("data-status") == "waiting"


def test_approving_from_the_dialog_resumes_the_run_down_the_approved_branch(page, canvas_user):
    workflow = services.workflow_create(owner=canvas_user, source=APPROVAL)
    login(page, "carol", PASSWORD)
    start_run_to_the_dialog(page, workflow)

    page.fill("[data-testid=approval-data]", '{"ticket": "OPS-1"}')
    page.click("[data-testid=approval-approve]")
    page.locator("[data-testid=approval-dialog]").wait_for(state="detached")

    assert wait_for_run_end(page) == "succeeded"
    node(page, "ship").and_(page.locator("[data-status=succeeded]")).wait_for()
    assert statuses(page) == {
        "start": "succeeded",
        "ok": "succeeded",
        "ship": "succeeded",
        "hold": "skipped",
    }
    decision = NodeRun.objects.filter(run__workflow=workflow, node_id="ok").latest("attempt")
    assert decision.output["approved"] is True
    assert decision.output["data"] == {"ticket": "OPS-1"}
    page.screenshot(path=str(ARTIFACTS / "approval-run.png"))


def test_a_decision_already_made_elsewhere_is_shown_as_already_decided(page, canvas_user):
    workflow = services.workflow_create(owner=canvas_user, source=APPROVAL)
    login(page, "carol", PASSWORD)
    start_run_to_the_dialog(page, workflow)

    # someone else decides first (another tab, another user)
    run = WorkflowRun.objects.get(workflow=workflow)
    control.run_approve(run=run, node_id="ok", approved=False, by="dave")

    page.click("[data-testid=approval-approve]")
    conflict = page.locator("[data-testid=approval-conflict]")
    conflict.wait_for()
    assert conflict.inner_text().startswith("Already decided")
    assert page.locator("[data-testid=approval-approve]").count() == 0
    page.click("[data-testid=approval-close]")
    page.locator("[data-testid=approval-dialog]").wait_for(state="detached")


def test_nodes_a_running_graph_grows_appear_beside_their_source_with_states(page, canvas_user):
    document = {
        "version": 1,
        "name": "Fan out",
        "nodes": [
            {"id": "start", "type": "start", "position": at(0, 100)},
            {
                "id": "fan",
                "type": "fan_out",
                "config": {"items": ["a", "b"]},
                "position": at(300, 100),
            },
        ],
        "edges": [{"id": "e1", "source": "start", "target": "fan"}],
    }
    workflow = services.workflow_create(owner=canvas_user, source=document)
    login(page, "carol", PASSWORD)
    open_editor(page, workflow.pk)

    page.click("[data-testid=run-button]")
    page.wait_for_url(re.compile(rf"/workflows/{workflow.pk}/runs/\d+/$"))
    assert wait_for_run_end(page) == "succeeded"
    for added in ("fan_0", "fan_1", "fan_join"):
        node(page, added).and_(page.locator("[data-status=succeeded]")).wait_for()
    boxes = {n: node(page, n).bounding_box() for n in ("fan", "fan_0", "fan_1", "fan_join")}
    assert boxes["fan_0"]["x"] > boxes["fan"]["x"]
    assert boxes["fan_0"]["y"] != boxes["fan_1"]["y"]
    assert boxes["fan_join"]["x"] > boxes["fan_0"]["x"]


def test_renaming_a_node_rewrites_the_expressions_that_name_it(page, canvas_user):
    document = {
        "version": 1,
        "name": "Rename",
        "nodes": [
            {"id": "fetch", "type": "transform", "config": {"output": 1}, "position": at(0, 0)},
            {
                "id": "check",
                "type": "condition",
                "config": {"expression": "fetch > 0"},
                "position": at(300, 0),
            },
            {
                "id": "report",
                "type": "transform",
                "config": {"output": "got {{ fetch }}"},
                "position": at(600, 0),
            },
        ],
        "edges": [
            {"id": "e1", "source": "fetch", "target": "check"},
            {"id": "e2", "source": "check", "source_handle": "true", "target": "report"},
        ],
    }
    workflow = services.workflow_create(owner=canvas_user, source=document)
    login(page, "carol", PASSWORD)
    open_editor(page, workflow.pk)

    select_node(page, "fetch")
    page.fill("[data-testid=node-id-input]", "Bad id")
    page.keyboard.press("Enter")
    page.locator("[data-testid=node-settings] [role=alert]", has_text="lowercase").wait_for()
    page.fill("[data-testid=node-id-input]", "load")
    page.keyboard.press("Enter")
    node(page, "load").wait_for()
    save(page)

    saved = saved_document(workflow)
    by_id = {n["id"]: n for n in saved["nodes"]}
    assert set(by_id) == {"load", "check", "report"}
    assert by_id["check"]["config"] == {"expression": "load > 0"}
    assert by_id["report"]["config"] == {"output": "got {{ load }}"}
    assert saved["edges"][0]["source"] == "load"
    assert Workflow.objects.get(pk=workflow.pk).valid


def test_a_resized_frame_keeps_its_size_in_the_document_and_a_node_dragged_out_leaves_the_body(
    page, canvas_user, server_url
):
    document = {
        "version": 1,
        "name": "Frame",
        "nodes": [
            {"id": "each", "type": "map", "config": {"items": [1]}, "position": at(0, 0)},
            {"id": "inner", "type": "transform", "parent": "each", "position": at(30, 80)},
            {"id": "after", "type": "transform", "position": at(700, 400)},
        ],
        "edges": [],
    }
    workflow = services.workflow_create(owner=canvas_user, source=document)
    login(page, "carol", PASSWORD)
    open_editor(page, workflow.pk)
    frame = node(page, "each")
    before = frame.bounding_box()
    zoom = before["width"] / 480  # a frame without a size is drawn 480 wide

    frame.locator(".wf-node-name").click()
    handle = page.locator(".react-flow__resize-control.handle.bottom.right")
    box = handle.bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.mouse.down()
    page.mouse.move(box["x"] + 60, box["y"] + 50, steps=8)
    page.mouse.move(box["x"] + 120, box["y"] + 100, steps=8)
    page.mouse.up()
    resized = frame.bounding_box()
    assert resized["width"] > before["width"] + 80
    assert resized["height"] > before["height"] + 60

    drag_node_onto(page, "inner", "after", dy=-160)
    page.locator("[data-testid=notice]", has_text='"inner" left "each"').wait_for()
    save(page)
    by_id = {n["id"]: n for n in saved_document(workflow)["nodes"]}
    assert by_id["inner"]["parent"] is None
    # the frame's size is in the document, in canvas units
    size = by_id["each"]["size"]
    assert abs(size["width"] - resized["width"] / zoom) < 4
    assert abs(size["height"] - resized["height"] / zoom) < 4
    assert "size" not in by_id["after"]

    def frame_width_in_canvas_units(viewer) -> float:
        # the zoom differs after a reload: compare widths in canvas units (a node is 220 wide)
        ratio = node(viewer, "after").bounding_box()["width"] / 220
        return node(viewer, "each").bounding_box()["width"] / ratio

    page.reload()
    page.wait_for_selector("[data-testid=editor][data-loaded=true]")
    assert abs(frame_width_in_canvas_units(page) - size["width"]) < 4

    # another browser (no shared storage) draws the same frame
    other = page.context.browser.new_context(
        viewport={"width": 1280, "height": 800}, base_url=server_url
    )
    try:
        viewer = other.new_page()
        login(viewer, "carol", PASSWORD)
        open_editor(viewer, workflow.pk)
        assert abs(frame_width_in_canvas_units(viewer) - size["width"]) < 4
    finally:
        other.close()


NESTED = {
    "version": 1,
    "name": "A loop inside a map",
    "nodes": [
        {"id": "start", "type": "start", "position": at(0, 200)},
        {
            "id": "per_item",
            "type": "map",
            "config": {"items": ["a", "b", "c"], "max_concurrency": 2},
            "position": at(300, 0),
        },
        {
            "id": "repeat",
            "type": "loop",
            "parent": "per_item",
            "config": {"mode": "count", "count": 2},
            "position": at(340, 80),
        },
        {
            "id": "cell",
            "type": "transform",
            "parent": "repeat",
            "config": {"output": "{{ input }}{{ loop.index }}"},
            "position": at(380, 160),
        },
        {
            "id": "done",
            "type": "output",
            "config": {"value": "{{ per_item }}"},
            "position": at(1100, 200),
        },
    ],
    "edges": [
        {"id": "e1", "source": "start", "target": "per_item"},
        {"id": "e2", "source": "per_item", "target": "done"},
    ],
}


def test_a_loop_inside_a_map_shows_both_progresses_and_the_inner_body_states(page, canvas_user):
    workflow = services.workflow_create(owner=canvas_user, source=NESTED)
    assert workflow.valid, workflow.errors
    login(page, "carol", PASSWORD)
    open_editor(page, workflow.pk)
    # the frames nest on the canvas: the loop's frame lies inside the map's, the cell inside both
    outer, inner, cell = (node(page, i).bounding_box() for i in ("per_item", "repeat", "cell"))
    assert outer["x"] < inner["x"] < cell["x"] and outer["y"] < inner["y"] < cell["y"]
    assert inner["x"] + inner["width"] <= outer["x"] + outer["width"] + 1

    page.click("[data-testid=run-button]")
    page.wait_for_url(re.compile(rf"/workflows/{workflow.pk}/runs/\d+/$"))
    assert wait_for_run_end(page) == "succeeded"
    expected = {"per_item": "3/3", "repeat": "2/2"}
    for container, text in expected.items():
        progress = node(page, container).locator("[data-testid=node-progress]").first
        progress.wait_for()
        assert progress.inner_text() == text, container
    assert statuses(page) == {
        "start": "succeeded",
        "per_item": "succeeded",
        "repeat": "succeeded",
        "cell": "succeeded",
        "done": "succeeded",
    }
    # the inner body node shows its latest iteration; the inspector lists all six
    assert "repeat #2" in node(page, "cell").locator("[data-testid=node-iteration]").inner_text()
    node(page, "cell").locator(".wf-node-name").click()
    picker = page.locator("[data-testid=iteration-picker]")
    picker.wait_for()
    assert picker.locator("option").count() == 1 + 6  # "latest" and 3 items x 2 rounds
    picker.select_option("per_item[1]/repeat[0]")
    page.locator("[data-testid=inspect-output] pre", has_text="b0").wait_for()
    page.screenshot(path=str(ARTIFACTS / "nested-containers-run.png"))
    run = WorkflowRun.objects.get(workflow=workflow)
    assert run.outputs["done"] == [["a0", "a1"], ["b0", "b1"], ["c0", "c1"]]
