"""Parking a run and resuming it: approvals (approve, reject, timeout), durable delays and
breakpoints. Resumes happen on an Execution restored from the snapshot, as a worker would."""

import asyncio
import json

import pytest

from engine import Execution
from tests.engine import support
from tests.engine.support import build, doc
from tests.engine.test_containers import reg

pytestmark = pytest.mark.timeout(30)


class FakeClock:
    def __init__(self, now: float = 1_000_000.0) -> None:
        self.now = now

    def time(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.now += seconds


def approval_doc(**config) -> dict:
    return doc(
        [
            "before",
            ("ask", "approval", {"config": {"prompt": "ship it?", **config}}),
            ("yes", "noop", {"config": {"value": "{{ ask.data }}"}}),
            "no",
        ],
        [("before", "ask"), ("ask", "yes", "approved"), ("ask", "no", "rejected")],
    )


def start(document: dict, **options):
    execution = Execution(build(document, reg), registry=reg, options=options)
    report = asyncio.run(execution.run())
    return report, json.loads(json.dumps(execution.snapshot()))


def resume(document: dict, snapshot: dict, act=None, **options):
    events: list = []
    execution = Execution(
        build(document, reg), registry=reg, snapshot=snapshot, sink=events.append, options=options
    )
    if act is not None:
        act(execution)
    report = asyncio.run(execution.run()).to_dict()
    return report, [e.to_dict() for e in events], execution


def test_approval_parks_the_run_and_approve_continues_from_there():
    document = approval_doc()
    support.executions.clear()
    report, snapshot = start(document)
    assert report.status == "paused"
    assert snapshot["nodes"]["ask"]["status"] == "waiting"
    assert snapshot["nodes"]["yes"]["status"] == "pending"
    report, _, _ = resume(
        document, snapshot, lambda e: e.approve_node("ask", True, {"note": "ok"}, by="ann")
    )
    assert report["status"] == "succeeded"
    output = report["nodes"]["ask"]["output"]
    assert (output["approved"], output["data"], output["by"]) == (True, {"note": "ok"}, "ann")
    assert output["at"].endswith("Z")
    assert report["nodes"]["yes"]["output"] == {"note": "ok"}
    assert report["nodes"]["no"]["status"] == "skipped"
    assert support.executions.count(("before", 1)) == 1  # nothing before the approval re-ran


def test_reject_follows_the_rejected_handle():
    document = approval_doc()
    _, snapshot = start(document)
    report, _, _ = resume(document, snapshot, lambda e: e.approve_node("ask", False))
    assert report["nodes"]["no"]["status"] == "succeeded"
    assert report["nodes"]["yes"]["status"] == "skipped"


def test_a_second_decision_is_refused():
    document = approval_doc()
    _, snapshot = start(document)

    def twice(execution: Execution) -> None:
        execution.approve_node("ask", True)
        with pytest.raises(ValueError, match="not waiting"):
            execution.approve_node("ask", False)

    report, _, _ = resume(document, snapshot, twice)
    assert report["nodes"]["yes"]["status"] == "succeeded"


def test_approval_timeout_rejects_by_itself_once_the_deadline_passed():
    document = approval_doc(timeout_s=60)
    clock = FakeClock()
    report, snapshot = start(document, clock=clock)
    assert snapshot["wake_at"] == clock.now + 60
    early, _, _ = resume(document, snapshot, clock=clock)
    assert early["status"] == "paused"  # not yet
    clock.now += 61
    report, _, _ = resume(document, snapshot, clock=clock)
    assert report["status"] == "succeeded"
    assert report["nodes"]["ask"]["output"]["by"] == "timeout"
    assert report["nodes"]["no"]["status"] == "succeeded"


def test_long_delay_parks_and_fires_once_after_its_time():
    document = doc(
        ["a", ("wait", "delay", {"config": {"seconds": 600}}), "b"], [("a", "wait"), ("wait", "b")]
    )
    clock = FakeClock()
    support.executions.clear()
    report, snapshot = start(document, clock=clock, durable_delay_threshold_s=5)
    assert report.status == "paused"
    assert snapshot["wake_at"] == clock.now + 600
    clock.now += 600
    report, events, _ = resume(document, snapshot, clock=clock, durable_delay_threshold_s=5)
    assert report["status"] == "succeeded"
    assert report["nodes"]["b"]["output"] == {}  # the run inputs, passed through the delay
    assert support.executions == [("a", 1), ("b", 1)]
    fired = [e for e in events if e["node"] == "wait" and e["status"] == "succeeded"]
    assert len(fired) == 1


def test_breakpoint_pauses_a_debug_run_before_the_node():
    document = doc(["a", ("b", "noop", {"breakpoint": True}), "c"], [("a", "b"), ("b", "c")])
    support.executions.clear()
    plain, _ = start(document)
    assert plain.status == "succeeded"  # breakpoints only stop debug runs
    support.executions.clear()
    report, snapshot = start(document, debug=True)
    assert report.status == "paused"
    assert support.executions == [("a", 1)]
    report, _, _ = resume(document, snapshot, lambda e: e.retry_node("b"), debug=True)
    assert report["status"] == "succeeded"
    assert support.executions == [("a", 1), ("b", 1), ("c", 1)]
