"""Pause on demand (SPEC §8 Control): running nodes finish, nothing new starts, the run parks
`paused`; resuming (a restored execution's `unpause`) continues from there."""

import asyncio
import json

from engine import Execution
from tests.engine import support
from tests.engine.support import build, doc
from tests.engine.test_waiting_properties import registry


def pausing_run(document, pause_after_s=0.02, by="alice"):
    events: list = []
    execution = Execution(build(document, registry), sink=events.append, registry=registry)

    async def go():
        task = asyncio.create_task(execution.run())
        await asyncio.sleep(pause_after_s)
        assert execution.pause(by)
        return await task

    report = asyncio.run(go()).to_dict()
    return execution, report, [event.to_dict() for event in events]


SLOW = {"config": {"sleep": 0.1}}
DOCUMENT = doc(
    ["a", ("slow", "noop", SLOW), "after", ("other", "noop", SLOW), "last"],
    [("a", "slow"), ("slow", "after"), ("a", "other"), ("other", "last")],
)


def states(report):
    return {node_id: node["status"] for node_id, node in report["nodes"].items()}


def test_running_nodes_finish_and_nothing_new_starts():
    support.executions.clear()
    _, report, events = pausing_run(DOCUMENT)
    assert report["status"] == "paused"
    assert states(report) == {
        "a": "succeeded",
        "slow": "succeeded",
        "other": "succeeded",
        "after": "pending",
        "last": "pending",
    }
    assert ("after", 1) not in support.executions
    logs = [e for e in events if e["type"] == "node.log" and e["node"] is None]
    assert "pause requested by alice" in logs[0]["message"]
    runs = [e["status"] for e in events if e["type"] == "run.status"]
    assert runs == ["running", "paused"]


def test_resume_continues_from_where_it_paused_and_runs_nothing_twice():
    execution, _, _ = pausing_run(DOCUMENT)
    snapshot = json.loads(json.dumps(execution.snapshot()))
    assert snapshot["pausing"] is True
    support.executions.clear()
    events: list = []
    resumed = Execution(
        build(DOCUMENT, registry), snapshot=snapshot, sink=events.append, registry=registry
    )
    resumed.unpause()
    report = asyncio.run(resumed.run()).to_dict()
    assert report["status"] == "succeeded"
    assert sorted(node for node, _ in support.executions) == ["after", "last"]
    runs = [e.to_dict()["status"] for e in events if e.type == "run.status"]
    assert runs == ["running", "succeeded"]


def test_a_restored_paused_run_stays_paused_until_unpaused():
    execution, _, _ = pausing_run(DOCUMENT)
    snapshot = json.loads(json.dumps(execution.snapshot()))
    support.executions.clear()
    again = Execution(build(DOCUMENT, registry), snapshot=snapshot, registry=registry)
    report = asyncio.run(again.run()).to_dict()
    assert report["status"] == "paused"
    assert support.executions == []


def test_an_approval_decided_while_paused_starts_nothing_until_resumed():
    document = doc(
        ["a", ("ask", "park", {}), ("slow", "noop", SLOW), "next"],
        [("a", "ask"), ("ask", "next", "approved"), ("a", "slow")],
    )
    execution, report, _ = pausing_run(document)
    assert states(report)["ask"] == "waiting"
    snapshot = json.loads(json.dumps(execution.snapshot()))
    decided = Execution(build(document, registry), snapshot=snapshot, registry=registry)
    decided.approve_node("ask", True)
    report = asyncio.run(decided.run()).to_dict()
    assert (report["status"], states(report)["ask"], states(report)["next"]) == (
        "paused",
        "succeeded",
        "pending",
    )
    snapshot = json.loads(json.dumps(decided.snapshot()))
    resumed = Execution(build(document, registry), snapshot=snapshot, registry=registry)
    resumed.unpause()
    report = asyncio.run(resumed.run()).to_dict()
    assert (report["status"], states(report)["next"]) == ("succeeded", "succeeded")


def test_pausing_an_ended_run_does_nothing():
    execution = Execution(build(doc(["a"]), registry), registry=registry)
    report = asyncio.run(execution.run())
    assert execution.pause() is False
    assert report.to_dict()["status"] == "succeeded"


def test_a_decision_while_the_run_runs_starts_its_branch_at_once():
    """An approval decided while another branch still runs: the worker holding the run
    applies it at once (`decide_now`), the approved branch runs beside the slow one."""
    document = doc(
        ["a", ("ask", "park", {}), ("slow", "noop", {"config": {"sleep": 0.3}}), "next"],
        [("a", "ask"), ("ask", "next", "approved"), ("a", "slow")],
    )
    events: list = []
    execution = Execution(build(document, registry), sink=events.append, registry=registry)

    async def go():
        task = asyncio.create_task(execution.run())
        while execution.record_of("ask").status != "waiting":
            await asyncio.sleep(0.005)
        output = execution.decide_now(lambda e: e.approve_node("ask", True, {"n": 1}, by="ann"))
        assert output["by"] == "ann"
        return await task

    report = asyncio.run(go()).to_dict()
    assert report["status"] == "succeeded"
    order = [(e.node, e.status) for e in events if e.type == "node.status"]
    assert order.index(("next", "succeeded")) < order.index(("slow", "succeeded"))
    runs = [e.status for e in events if e.type == "run.status"]
    assert runs == ["running", "succeeded"]  # it never paused


def test_deciding_now_on_a_parked_run_is_refused():
    document = doc(["a", ("ask", "park", {})], [("a", "ask")])
    execution = Execution(build(document, registry), registry=registry)
    asyncio.run(execution.run())
    try:
        execution.decide_now(lambda e: e.approve_node("ask", True))
    except ValueError as exc:
        assert "paused, not running" in str(exc)
    else:
        raise AssertionError("decided on a parked run")
    assert execution.record_of("ask").status == "waiting"
