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


class ParkingRunner:
    """A sub-workflow runner whose child parks the first time it is asked, then has ended
    (with `outcome`: outputs, or a NodeError to raise)."""

    def __init__(self, outcome) -> None:
        self.outcome = outcome
        self.calls: list[int] = []

    async def __call__(self, workflow, inputs, depth, node_id, *, attempt=1, **kwargs):
        from engine.handlers.base import NodeError, Wait

        self.calls.append(attempt)
        if len(self.calls) == 1:
            return Wait("subworkflow", data={"run": 57})
        if isinstance(self.outcome, NodeError):
            raise self.outcome
        return self.outcome


def subworkflow_doc(**node) -> dict:
    return doc(
        [
            "before",
            ("call", "subworkflow", {"config": {"workflow": 7}, **node}),
            ("after", "noop", {"config": {"value": "{{ call }}"}}),
        ],
        [("before", "call"), ("call", "after")],
    )


def test_a_parked_child_parks_the_node_and_continue_node_finishes_the_same_attempt():
    document = subworkflow_doc()
    runner = ParkingRunner({"doubled": 42})
    support.executions.clear()
    report, snapshot = start(document, run_subworkflow=runner)
    assert report.status == "paused"
    call = snapshot["nodes"]["call"]
    assert (call["status"], call["attempts"]) == ("waiting", 1)
    assert call["wait"] == {"kind": "subworkflow", "wake_at": None, "data": {"run": 57}}
    assert snapshot["wake_at"] is None  # only the child's end resumes it
    report, events, _ = resume(
        document, snapshot, lambda e: e.continue_node("call"), run_subworkflow=runner
    )
    assert report["status"] == "succeeded"
    assert runner.calls == [1, 1]  # the same attempt, asked again
    assert report["nodes"]["call"]["attempts"] == 1
    assert report["nodes"]["after"]["output"] == {"doubled": 42}
    assert support.executions.count(("before", 1)) == 1
    call_events = [
        (e["status"], e["attempt"])
        for e in events
        if e.get("node") == "call" and e["type"] == "node.status"
    ]
    assert call_events == [("running", 1), ("succeeded", 1)]


def test_a_child_that_failed_after_parking_fails_the_node_and_retries_start_over():
    from engine.handlers.base import NodeError

    document = subworkflow_doc(retry={"max_attempts": 2, "backoff": "fixed", "delay_s": 0})
    runner = ParkingRunner(NodeError("sub-workflow run 57 failed: boom", "subworkflow"))
    _, snapshot = start(document, run_subworkflow=runner)
    report, _, _ = resume(
        document, snapshot, lambda e: e.continue_node("call"), run_subworkflow=runner
    )
    assert report["status"] == "failed"
    assert runner.calls == [1, 1, 2]  # the parked attempt ends failed; the retry is attempt 2
    assert report["nodes"]["call"]["error"]["message"] == "sub-workflow run 57 failed: boom"


def test_continue_node_refuses_a_node_parked_by_a_failure():
    document = doc([("boom", "fail", {})], settings={"on_failure": "pause"})
    _, snapshot = start(document)
    execution = Execution(build(document, reg), registry=reg, snapshot=snapshot)
    with pytest.raises(ValueError, match="did not park in its handler"):
        execution.continue_node("boom")


@pytest.mark.parametrize("decide", ["approve", "skip"])
def test_a_decision_shows_the_run_running_before_the_node_it_decides(decide):
    document = approval_doc()
    _, snapshot = start(document)

    def act(execution):
        if decide == "approve":
            execution.approve_node("ask", True)
        else:
            execution.skip_node("ask")

    report, events, _ = resume(document, snapshot, act)
    assert report["status"] == "succeeded"
    changes = [(e["type"], e.get("node"), e["status"]) for e in events if e["status"]]
    ended = "succeeded" if decide == "approve" else "skipped"
    assert changes[:2] == [("run.status", None, "running"), ("node.status", "ask", ended)]
    assert [c for c in changes if c[0] == "run.status"] == [
        ("run.status", None, "running"),
        ("run.status", None, "succeeded"),
    ]
    assert [e["seq"] for e in events] == list(
        range(events[0]["seq"], events[0]["seq"] + len(events))
    )
