"""Time travel on the canvas (issue 19): scrub a finished run; the canvas shows each moment as
its stored events say."""

import json
import re

import pytest

from tests.browser.conftest import PASSWORD
from tests.browser.gestures import at, login, node, open_editor
from workflows import services
from workflows.models import RunEvent, Workflow, WorkflowRun

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# lib/status.ts NODE_STATE_LOOK: the colour of each state
COLOURS = {
    "pending": "#94a3b8",
    "queued": "#7dd3fc",
    "running": "#3b82f6",
    "retrying": "#f59e0b",
    "waiting": "#a855f7",
    "succeeded": "#22c55e",
    "failed": "#ef4444",
    "skipped": "#cbd5e1",
    "upstream_failed": "#f97316",
    "cancelled": "#475569",
}
FINISHED = {"succeeded", "failed", "skipped", "upstream_failed", "cancelled"}

MAP_AND_RETRY = {
    "version": 1,
    "name": "Map then a flaky step",
    "nodes": [
        {"id": "start", "type": "start", "position": at(0, 120)},
        {
            "id": "each",
            "type": "map",
            "config": {"items": [1, 2, 3], "max_concurrency": 1},
            "position": at(260, 40),
            "size": {"width": 340, "height": 220},
        },
        {
            "id": "double",
            "type": "transform",
            "parent": "each",
            "config": {"output": "{{ input * 2 }}"},
            "position": at(320, 130),
        },
        {
            "id": "flaky",
            "type": "error",
            "config": {"message": "the service said no"},
            "retry": {"max_attempts": 2, "delay_s": 0},
            "position": at(700, 120),
        },
    ],
    "edges": [
        {"id": "e1", "source": "start", "target": "each"},
        {"id": "e2", "source": "each", "target": "flaky"},
    ],
}


def expected_statuses(events: list[RunEvent], seq: int, nodes: list[str]) -> dict[str, str]:
    """Each node's state after event `seq`, from the stored events: a body node shows the
    iteration that started last (lib/runEvents.ts)."""
    shown = {n: "pending" for n in nodes}
    per_iteration: dict[tuple[str, str], str] = {}
    latest: dict[str, str] = {}
    for event in events:
        if event.seq > seq or event.type != "node.status":
            continue
        node_id, status = event.payload["node"], event.payload["status"]
        path = event.payload.get("iteration")
        if path in (None, ""):
            shown[node_id] = status
            continue
        before = per_iteration.get((node_id, path))
        fresh = before is None or (before in FINISHED and status not in FINISHED)
        per_iteration[(node_id, path)] = status
        if fresh and status != "pending":
            latest[node_id] = path
        latest.setdefault(node_id, path)
        if latest[node_id] == path:
            shown[node_id] = status
    return shown


def colours(page) -> dict[str, str]:
    return dict(
        page.locator(".react-flow__node [data-node-id]").evaluate_all(
            "els => els.map(e => [e.dataset.nodeId, e.style.getPropertyValue('--state')])"
        )
    )


def node_statuses(page) -> dict[str, str]:
    """The canvas nodes' states (other elements naming a node, the inspector's, aside)."""
    return dict(
        page.locator(".react-flow__node [data-node-id]").evaluate_all(
            "els => els.map(e => [e.dataset.nodeId, e.dataset.status])"
        )
    )


def seq_shown(page) -> int:
    return int(page.locator("[data-testid=scrubber]").get_attribute("data-seq"))


def wait_seq(page, seq: int) -> None:
    page.wait_for_function(
        "seq => document.querySelector('[data-testid=scrubber]')?.dataset.seq === String(seq)"
        " && document.querySelector('[data-testid=status-bar]') !== null",
        arg=seq,
    )


def assert_moment(page, events, seq: int, nodes: list[str]) -> dict[str, str]:
    expected = expected_statuses(events, seq, nodes)
    page.wait_for_function(
        "expected => Object.entries(expected).every(([id, s]) =>"
        " document.querySelector(`[data-node-id='${id}']`)?.dataset.status === s)",
        arg=expected,
        timeout=5_000,
    )
    assert node_statuses(page) == expected
    assert colours(page) == {n: COLOURS[s] for n, s in expected.items()}
    return expected


def test_scrubbing_a_finished_run_with_a_map_and_a_retry_shows_each_moment_of_its_events(
    page, canvas_user
):
    workflow = services.workflow_create(owner=canvas_user, source=MAP_AND_RETRY)
    login(page, "carol", PASSWORD)
    open_editor(page, workflow.pk)
    page.click("[data-testid=run-button]")
    page.wait_for_url(re.compile(rf"/workflows/{workflow.pk}/runs/\d+/$"))
    run = WorkflowRun.objects.get(pk=int(page.url.rstrip("/").split("/")[-1]))
    page.wait_for_selector("[data-testid=scrubber]", timeout=30_000)  # shown once the run ended
    events = list(RunEvent.objects.filter(run=run).order_by("seq"))
    types = [(e.type, e.payload.get("node"), e.payload.get("status")) for e in events]
    assert ("node.status", "flaky", "retrying") in types, types
    assert any(e.payload.get("iteration") for e in events)
    last = events[-1].seq
    nodes = ["start", "each", "double", "flaky"]
    assert seq_shown(page) == last
    final = assert_moment(page, events, last, nodes)
    assert final["flaky"] == "failed" and final["double"] == "succeeded"

    # three moments: inside the map, the retry's wait, and one event before the end
    in_map = next(
        e.seq
        for e in events
        if e.payload.get("node") == "double" and e.payload.get("status") == "running"
    )
    retrying = next(e.seq for e in events if e.payload.get("status") == "retrying")
    slider = page.locator("[data-testid=scrub-slider]")
    slider.focus()
    page.keyboard.press("Home")
    wait_seq(page, 0)
    assert set(node_statuses(page).values()) == {"pending"}
    for _ in range(in_map):
        page.keyboard.press("ArrowRight")
    wait_seq(page, in_map)
    moment = assert_moment(page, events, in_map, nodes)
    assert moment["double"] == "running" and moment["each"] == "running"
    assert moment["flaky"] == "pending"
    # the inspector reads that moment too, not the run's end
    node(page, "flaky").locator(".wf-node-name").click()
    page.locator("[data-testid=inspect-panel] .panel-title .badge[data-status=pending]").wait_for()

    for _ in range(retrying - in_map - 1):
        page.keyboard.press(".")  # the page's own key for the next event, wherever the focus is
    slider.focus()
    page.keyboard.press("ArrowRight")
    wait_seq(page, retrying)
    moment = assert_moment(page, events, retrying, nodes)
    assert moment["flaky"] == "retrying" and moment["double"] == "succeeded"
    page.locator("[data-testid=inspect-panel] .panel-title .badge[data-status=retrying]").wait_for()

    page.keyboard.press("End")
    wait_seq(page, last)
    page.keyboard.press("ArrowLeft")
    wait_seq(page, last - 1)
    assert_moment(page, events, last - 1, nodes)
    assert page.locator("[data-testid=status-bar]").get_attribute("data-run-status") == "running"

    # a click on the slider's middle jumps there; the step buttons move one event
    box = slider.bounding_box()
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.wait_for_function(
        "last => Number(document.querySelector('[data-testid=scrubber]').dataset.seq) < last - 1",
        arg=last,
    )
    middle = seq_shown(page)
    assert_moment(page, events, middle, nodes)
    page.click("[data-testid=scrub-next]")
    wait_seq(page, middle + 1)
    assert_moment(page, events, middle + 1, nodes)

    # play at 100x runs to the end: the canvas is live again
    page.select_option("[data-testid=scrub-speed]", "100")
    page.click("[data-testid=scrub-play]")
    wait_seq(page, last)
    assert page.locator("[data-testid=scrubber]").get_attribute("data-replaying") == "false"
    assert_moment(page, events, last, nodes)


def two_runs_of(page, workflow, source: dict, changed: dict, user) -> tuple[int, int]:
    """Run the workflow from the canvas, change it, run it again: the two runs' ids."""
    ids = []
    for document in (source, changed):
        if ids:
            current = Workflow.objects.get(pk=workflow.pk)
            services.workflow_save(
                user=user,
                workflow_id=workflow.pk,
                source={**document, "revision": current.revision},
            )
        open_editor(page, workflow.pk)
        page.click("[data-testid=run-button]")
        page.wait_for_url(re.compile(rf"/workflows/{workflow.pk}/runs/\d+/$"))
        page.wait_for_selector("[data-testid=scrubber]", timeout=30_000)  # it ended
        ids.append(int(page.url.rstrip("/").split("/")[-1]))
    return ids[0], ids[1]


CHAIN = {
    "version": 1,
    "name": "Diffed",
    "nodes": [
        {"id": "start", "type": "start", "position": at(0, 100)},
        {
            "id": "fetch",
            "type": "transform",
            "config": {"output": {"status": 200, "items": list(range(30))}},
            "position": at(280, 100),
        },
        {"id": "keep", "type": "transform", "config": {"output": 1}, "position": at(560, 100)},
    ],
    "edges": [
        {"id": "e1", "source": "start", "target": "fetch"},
        {"id": "e2", "source": "fetch", "target": "keep"},
    ],
}


def test_two_runs_compared_on_the_canvas_highlight_the_changed_node_and_diff_its_output(
    page, canvas_user
):
    # the endpoint comes from the timetravel branch (GET /api/runs/{a}/diff/{b}/)
    pytest.importorskip("workflows.observability.diff", reason="no run diff in this back end yet")
    changed = json.loads(json.dumps(CHAIN))
    changed["nodes"][1]["config"]["output"] = {"status": 500, "items": [i + 1 for i in range(30)]}
    workflow = services.workflow_create(owner=canvas_user, source=CHAIN)
    login(page, "carol", PASSWORD)
    first, second = two_runs_of(page, workflow, CHAIN, changed, canvas_user)

    page.click("[data-testid=history-button]")
    for run_id in (second, first):
        page.locator(
            f"[data-testid=history-entry][data-run-id='{run_id}'] [data-testid=history-compare]"
        ).check()
    page.click("[data-testid=compare-runs]")
    page.wait_for_url(f"**/workflows/{workflow.pk}/diff/{first}/{second}/")
    rows = page.locator("[data-testid=diff-row]")
    rows.first.wait_for()
    assert rows.evaluate_all("els => els.map(e => [e.dataset.node, e.dataset.change])") == [
        ["fetch", "changed"],
        ["start", "same"],
        ["keep", "same"],
    ]
    # the changed node is outlined in the change's colour and labelled; the others are dimmed
    look = node(page, "fetch").evaluate(
        "e => [getComputedStyle(e).outlineColor, getComputedStyle(e, '::after').content]"
    )
    assert look == ["rgb(245, 158, 11)", '"changed · output differs"']
    assert node(page, "keep").evaluate("e => getComputedStyle(e).opacity") == "0.55"

    fetch = rows.nth(0)
    fetch.locator("summary").click()
    assert fetch.locator("[data-testid=diff-status] .badge").evaluate_all(
        "els => els.map(e => e.dataset.status)"
    ) == ["succeeded", "succeeded"]
    changes = fetch.locator("[data-testid=json-change]")
    assert changes.count() == 20  # the first changes; all of them on demand
    assert changes.first.inner_text() == "$.items[0]: 0 → 1"  # (PostgreSQL orders the keys)
    fetch.locator("[data-testid=diff-show-all]").click()
    page.wait_for_function(
        "() => document.querySelectorAll('[data-testid=json-change]').length === 31"
    )
    shown = changes.all_inner_texts()
    assert "$.status: 200 → 500" in shown and "$.items[29]: 29 → 30" in shown


LOGGED = {
    "version": 1,
    "name": "Logged",
    "nodes": [
        {
            "id": "fetch",
            "type": "http",
            "config": {"method": "GET", "url": "https://api.example.com/items"},
            "position": at(100, 100),
        }
    ],
    "edges": [],
}


def stored_run(workflow, user, events: list[tuple[str, dict]]) -> WorkflowRun:
    """A finished run of `workflow` whose stored events are `events` (type, payload)."""
    from django.utils import timezone

    run = WorkflowRun.objects.create(
        workflow=workflow,
        document=workflow.document,
        revision=workflow.revision,
        status="succeeded",
        created_by=user,
    )
    now = timezone.now()
    RunEvent.objects.bulk_create(
        RunEvent(run=run, seq=i + 1, type=kind, payload=payload, at=now)
        for i, (kind, payload) in enumerate(events)
    )
    return run


def test_a_nodes_log_lines_show_per_attempt_in_the_inspector_and_follow_the_scrubber(
    page, canvas_user
):
    workflow = services.workflow_create(owner=canvas_user, source=LOGGED)
    fetch = {"node": "fetch"}
    run = stored_run(
        workflow,
        canvas_user,
        [
            ("run.status", {"status": "running"}),
            ("node.status", {**fetch, "status": "running", "attempt": 1}),
            ("node.log", {**fetch, "attempt": 1, "message": "GET https://api.example.com/items"}),
            ("node.log", {**fetch, "attempt": 1, "message": "timed out after 3 s; retry in 1 s"}),
            ("node.status", {**fetch, "status": "retrying", "attempt": 1}),
            ("node.status", {**fetch, "status": "running", "attempt": 2}),
            ("node.log", {**fetch, "attempt": 2, "message": "200 in 41 ms"}),
            ("node.status", {**fetch, "status": "succeeded", "attempt": 2, "duration_ms": 41}),
            ("node.log", {"node": None, "message": "no event for 30 s"}),
            ("run.status", {"status": "succeeded"}),
        ],
    )
    login(page, "carol", PASSWORD)
    page.goto(f"/workflows/{workflow.pk}/runs/{run.pk}/")
    page.wait_for_selector("[data-testid=scrubber]")
    assert page.locator("[data-testid=run-log]").inner_text().endswith("no event for 30 s")
    node(page, "fetch").locator(".wf-node-name").click()
    log = page.locator("[data-testid=node-log]")
    log.locator("[data-testid=log-line]").nth(2).wait_for()
    groups = log.locator(".log-group")
    assert groups.evaluate_all("els => els.map(e => e.dataset.attempt)") == ["1", "2"]
    assert groups.nth(0).inner_text().startswith("Attempt 1")
    assert groups.nth(1).locator("[data-testid=log-line]").inner_text().endswith("200 in 41 ms")

    # at event 3 only the first line had been written
    page.locator("[data-testid=scrub-slider]").focus()
    page.keyboard.press("Home")
    for _ in range(3):
        page.keyboard.press("ArrowRight")
    wait_seq(page, 3)
    lines = log.locator("[data-testid=log-line]")
    page.wait_for_function(
        "() => document.querySelectorAll('[data-testid=node-log] [data-testid=log-line]').length"
        " === 1"
    )
    assert lines.inner_text().endswith("GET https://api.example.com/items")


FAILS_AT_THE_END = {
    "version": 1,
    "name": "Fails at the end",
    "nodes": [
        {"id": "start", "type": "start", "position": at(0, 100)},
        {"id": "prepare", "type": "transform", "config": {"output": 1}, "position": at(260, 100)},
        {"id": "boom", "type": "error", "config": {"message": "no"}, "position": at(520, 100)},
    ],
    "edges": [
        {"id": "e1", "source": "start", "target": "prepare"},
        {"id": "e2", "source": "prepare", "target": "boom"},
    ],
}


def test_a_retried_runs_timeline_spans_its_own_executions_not_the_reused_nodes_old_times(
    page, canvas_user
):
    workflow = services.workflow_create(owner=canvas_user, source=FAILS_AT_THE_END)
    login(page, "carol", PASSWORD)
    open_editor(page, workflow.pk)
    page.click("[data-testid=run-button]")
    page.wait_for_url(re.compile(rf"/workflows/{workflow.pk}/runs/\d+/$"))
    page.wait_for_selector("[data-testid=scrubber]", timeout=30_000)
    first = page.url
    page.wait_for_timeout(2500)  # the retry starts seconds after the first run's nodes ran
    page.click("[data-testid=run-retry]")
    page.wait_for_function("first => location.href !== first", arg=first)
    page.wait_for_selector("[data-testid=scrubber]", timeout=30_000)
    carried = page.locator("[data-testid=gantt] .gantt-track[data-carried=true]")
    carried.first.wait_for()
    rows = page.locator("[data-testid=gantt] .gantt-row")
    labels = rows.evaluate_all(
        "els => els.map(e => [e.querySelector('.gantt-label').textContent,"
        " e.querySelector('.gantt-track').dataset.carried === 'true'])"
    )
    assert ["boom", False] in labels and ["start", True] in labels and ["prepare", True] in labels
    # the axis ends at the retry's own length (well under the 2.5 s the first run lay behind)
    end = page.locator("[data-testid=gantt] .gantt-scale span").nth(2).inner_text()
    assert end.endswith(" ms"), end
