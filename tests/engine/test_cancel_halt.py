"""cancel(), on_failure=halt and on_failure=pause."""

import asyncio
import json
import time

from engine import Execution
from tests.engine.support import Hang, build, doc, run, statuses
from tests.engine.test_containers import reg as approval_registry


async def start_then(document, action, after: float = 0.1):
    events: list = []
    execution = Execution(build(document), sink=events.append)
    task = asyncio.create_task(execution.run())
    await asyncio.sleep(after)
    started = time.monotonic()
    action(execution)
    report = await task
    return report.to_dict(), time.monotonic() - started, [e.to_dict() for e in events]


def test_cancel_stops_running_handlers_and_cancels_everything_unfinished():
    Hang.cancelled.clear()
    document = doc(["a", ("h1", "hang"), ("h2", "hang"), "after"], [("a", "h1"), ("h1", "after")])
    report, took, events = asyncio.run(start_then(document, lambda e: e.cancel("user asked")))
    assert took < 1
    assert sorted(Hang.cancelled) == ["h1", "h2"]
    assert report["status"] == "cancelled"
    assert statuses(report) == {
        "a": "succeeded",
        "h1": "cancelled",
        "h2": "cancelled",
        "after": "cancelled",
    }
    assert report["nodes"]["after"]["reason"] == "run cancelled: user asked"
    assert report["nodes"]["after"]["started_at"] is None
    assert report["nodes"]["h1"]["finished_at"] is not None
    assert events[-1]["type"] == "run.status" and events[-1]["status"] == "cancelled"


def test_cancel_before_the_run_starts_runs_nothing():
    execution = Execution(build(doc(["a"])))
    execution.cancel()
    report = asyncio.run(execution.run()).to_dict()
    assert report["status"] == "cancelled"
    assert report["nodes"]["a"]["status"] == "cancelled"
    assert report["nodes"]["a"]["started_at"] is None
    assert report["started_at"] is None  # it never ran: queued straight to cancelled


def test_cancelling_a_paused_run_ends_it_without_running_it_again():
    events: list = []
    document = doc(["a", ("ask", "approval"), "b"], [("a", "ask"), ("ask", "b", "approved")])
    first = Execution(build(document, approval_registry), registry=approval_registry)
    asyncio.run(first.run())
    snapshot = json.loads(json.dumps(first.snapshot()))
    execution = Execution(
        build(document, approval_registry),
        registry=approval_registry,
        snapshot=snapshot,
        sink=events.append,
    )
    execution.cancel("by user")
    report = asyncio.run(execution.run()).to_dict()
    assert report["status"] == "cancelled"
    runs = [e.status for e in events if e.type == "run.status"]
    assert runs == ["cancelled"]  # paused -> cancelled, never `running` again
    assert [(e.node, e.status) for e in events if e.type == "node.status"] == [
        ("ask", "cancelled"),
        ("b", "cancelled"),
    ]


def test_halt_cancels_running_nodes_within_a_second_and_starts_nothing_new():
    Hang.cancelled.clear()
    document = doc(
        [("bad", "fail", {"config": {"sleep": 0.05}}), ("slow", "hang"), "later", "after_bad"],
        [("slow", "later"), ("bad", "after_bad")],
        settings={"on_failure": "halt"},
    )
    started = time.monotonic()
    report, _ = run(document)
    assert time.monotonic() - started < 1
    assert Hang.cancelled == ["slow"]
    assert report["status"] == "failed"
    assert report["nodes"]["slow"]["status"] == "cancelled"
    assert report["nodes"]["slow"]["reason"] == "cancelled by halt after node bad failed"
    assert report["nodes"]["later"]["status"] == "cancelled"
    assert report["nodes"]["later"]["started_at"] is None
    assert report["nodes"]["after_bad"]["status"] == "upstream_failed"
    assert report["error"]["message"] == "node bad failed: boom"


def test_halt_does_not_trigger_on_a_handled_failure():
    document = doc(
        [("bad", "fail"), "fix", ("slow", "noop", {"config": {"sleep": 0.1}})],
        [("bad", "fix", "error")],
        settings={"on_failure": "halt"},
    )
    report, _ = run(document)
    assert report["status"] == "succeeded"
    assert report["nodes"]["slow"]["status"] == "succeeded"


def test_halt_leaves_queued_nodes_cancelled():
    document = doc(
        [("bad", "fail"), ("q1", "hang"), ("q2", "hang")],
        settings={"on_failure": "halt", "max_parallel": 1},
    )
    report, _ = run(document)
    assert statuses(report) == {"bad": "failed", "q1": "cancelled", "q2": "cancelled"}
    assert report["nodes"]["q1"]["started_at"] is None


def test_continue_lets_independent_branches_finish():
    document = doc(
        [("bad", "fail"), "after", ("other", "noop", {"config": {"sleep": 0.05}}), "other2"],
        [("bad", "after"), ("other", "other2")],
    )
    report, _ = run(document)
    assert report["status"] == "failed"
    assert statuses(report) == {
        "bad": "failed",
        "after": "upstream_failed",
        "other": "succeeded",
        "other2": "succeeded",
    }


def test_pause_parks_the_run_with_the_failed_node_waiting():
    document = doc(
        [
            ("bad", "fail", {"config": {"times": 1}}),
            "after",
            ("other", "noop", {"config": {"sleep": 0.05}}),
        ],
        [("bad", "after")],
        settings={"on_failure": "pause"},
    )
    graph = build(document)
    first = Execution(graph)
    report = asyncio.run(first.run()).to_dict()
    assert report["status"] == "paused"
    assert statuses(report) == {"bad": "waiting", "after": "pending", "other": "succeeded"}
    assert report["finished_at"] is None
    snapshot = first.snapshot()

    resumed = Execution(graph, snapshot=snapshot)
    resumed.retry_node("bad")
    report = asyncio.run(resumed.run()).to_dict()
    assert report["status"] == "succeeded"
    assert report["nodes"]["bad"]["attempts"] == 2
    assert report["nodes"]["after"]["status"] == "succeeded"


def test_a_paused_node_retried_into_success_has_no_error_left():
    document = doc(
        [("bad", "fail", {"config": {"times": 1}}), "after"],
        [("bad", "after")],
        settings={"on_failure": "pause"},
    )
    graph = build(document)
    first = Execution(graph)
    asyncio.run(first.run())
    assert first.record_of("bad").error is not None
    resumed = Execution(graph, snapshot=first.snapshot())
    resumed.retry_node("bad")
    report = asyncio.run(resumed.run()).to_dict()
    assert report["nodes"]["bad"]["status"] == "succeeded"
    assert report["nodes"]["bad"]["error"] is None


def test_paused_node_can_be_skipped_on_resume():
    document = doc([("bad", "fail"), "after"], [("bad", "after")], settings={"on_failure": "pause"})
    graph = build(document)
    first = Execution(graph)
    asyncio.run(first.run())
    resumed = Execution(graph, snapshot=first.snapshot())
    resumed.skip_node("bad")
    report = asyncio.run(resumed.run()).to_dict()
    assert report["status"] == "succeeded"
    assert statuses(report) == {"bad": "skipped", "after": "skipped"}


def test_resume_of_a_node_that_is_not_waiting_is_refused():
    execution = Execution(build(doc(["a"])))
    try:
        execution.retry_node("a")
    except ValueError as exc:
        assert "'a' is pending, not waiting" in str(exc)
    else:
        raise AssertionError("retry_node accepted a pending node")
