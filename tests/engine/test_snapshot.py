"""Durable state: snapshots are JSON, a restored run never repeats completed nodes, nodes that
were in flight run again as a new attempt, and seq continues."""

import asyncio
import json

import pytest

from engine import Execution
from tests.engine import support
from tests.engine.support import build, doc, statuses

pytestmark = pytest.mark.timeout(30)


async def crash_while(execution: Execution, node_id: str, status: str = "running") -> dict:
    """Run until `node_id` reaches `status`, then kill the run like a dying worker would."""
    task = asyncio.create_task(execution.run())
    index = execution.graph.index[node_id]
    while execution.records[index].status != status:
        await asyncio.sleep(0.005)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    return json.loads(json.dumps(execution.snapshot()))  # it must survive JSON


def finish(graph, snapshot, **kwargs):
    events: list = []
    execution = Execution(graph, snapshot=snapshot, sink=events.append, **kwargs)
    report = asyncio.run(execution.run()).to_dict()
    return report, [e.to_dict() for e in events]


def chain_graph():
    return build(
        doc(["a", ("b", "noop", {"config": {"sleep": 0.2}}), "c"], [("a", "b"), ("b", "c")])
    )


def test_restored_run_repeats_only_the_node_that_was_in_flight():
    graph = chain_graph()
    support.executions.clear()
    snapshot = asyncio.run(crash_while(Execution(graph, inputs={"k": 1}), "b"))
    assert snapshot["nodes"]["a"]["status"] == "succeeded"
    assert snapshot["nodes"]["b"]["status"] == "running"
    report, _ = finish(graph, snapshot)
    assert support.executions == [("a", 1), ("b", 1), ("b", 2), ("c", 1)]
    assert report["status"] == "succeeded"
    assert report["nodes"]["b"]["attempts"] == 2
    assert report["nodes"]["c"]["output"] == {"k": 1}  # inputs came back from the snapshot


def test_seq_continues_after_a_restore():
    graph = chain_graph()
    snapshot = asyncio.run(crash_while(Execution(graph), "b"))
    _, events = finish(graph, snapshot)
    assert events[0]["seq"] == snapshot["seq"] + 1
    assert [e["seq"] for e in events] == list(
        range(snapshot["seq"] + 1, snapshot["seq"] + 1 + len(events))
    )


def test_restored_run_keeps_skips_and_does_not_announce_them_again():
    graph = build(
        doc(
            [
                ("c", "choose", {"config": {"handles": ["a"]}}),
                ("x", "noop", {"config": {"sleep": 0.2}}),
                "y",
                "m",
            ],
            [("c", "x", "a"), ("c", "y", "b"), ("x", "m"), ("y", "m")],
        )
    )
    snapshot = asyncio.run(crash_while(Execution(graph), "x"))
    assert snapshot["nodes"]["y"]["status"] == "skipped"
    assert snapshot["edges"]  # edge states are part of the snapshot
    support.executions.clear()
    report, events = finish(graph, snapshot)
    assert statuses(report) == {
        "c": "succeeded",
        "x": "succeeded",
        "y": "skipped",
        "m": "succeeded",
    }
    assert [e["node"] for e in events if e["status"] == "skipped"] == []
    assert [n for n, _ in support.executions] == ["x", "m"]


def test_queued_nodes_run_after_a_restore():
    graph = build(
        doc([("a", "noop", {"config": {"sleep": 0.2}}), "b", "c"], settings={"max_parallel": 1})
    )
    snapshot = asyncio.run(crash_while(Execution(graph), "b", status="queued"))
    assert {snapshot["nodes"][n]["status"] for n in ("b", "c")} == {"queued"}
    report, _ = finish(graph, snapshot)
    assert statuses(report) == dict.fromkeys("abc", "succeeded")
    assert report["nodes"]["b"]["attempts"] == 1


def test_restoring_a_finished_run_runs_nothing():
    graph = chain_graph()
    first = Execution(graph)
    done = asyncio.run(first.run()).to_dict()
    support.executions.clear()
    report, events = finish(graph, first.snapshot())
    assert support.executions == []
    assert events == []
    assert report == done


def test_snapshot_is_json_at_every_event():
    graph = chain_graph()
    snapshots = []
    execution = Execution(
        graph, sink=lambda event: snapshots.append(json.dumps(execution.snapshot()))
    )
    asyncio.run(execution.run())
    assert len(snapshots) == execution.snapshot()["seq"]


def test_store_sees_each_node_settle_before_its_successors_start():
    graph = chain_graph()
    seen = []

    class Store:
        async def node_settled(self, execution, node_id, record):
            successors = [
                execution.records[t].status for t, _ in graph.out_pairs[graph.index[node_id]]
            ]
            seen.append((node_id, str(record.status), [str(s) for s in successors]))
            await asyncio.sleep(0.01)

    asyncio.run(Execution(graph, store=Store()).run())
    assert seen == [
        ("a", "succeeded", ["pending"]),
        ("b", "succeeded", ["pending"]),
        ("c", "succeeded", []),
    ]


def test_store_hears_about_skipped_nodes_too():
    graph = build(
        doc([("c", "choose", {"config": {"handles": []}}), "x", "y"], [("c", "x", "a"), ("x", "y")])
    )
    seen = []

    class Store:
        async def node_settled(self, execution, node_id, record):
            seen.append((node_id, str(record.status)))

    asyncio.run(Execution(graph, store=Store()).run())
    assert seen == [("c", "succeeded"), ("x", "skipped"), ("y", "skipped")]


def test_snapshot_of_another_graph_is_refused():
    snapshot = Execution(chain_graph()).snapshot()
    snapshot["nodes"]["ghost"] = snapshot["nodes"]["a"]
    with pytest.raises(ValueError, match="nodes not in the graph: ghost"):
        Execution(chain_graph(), snapshot=snapshot)


def test_restore_in_the_middle_of_a_halt_finishes_the_halt():
    graph = build(
        doc(
            [
                ("bad", "fail"),
                ("slow", "hang"),
                "later",
                ("idle", "noop", {"config": {"sleep": 0.5}}),
            ],
            [("slow", "later")],
            settings={"on_failure": "halt"},
        )
    )
    finished = Execution(graph)
    asyncio.run(finished.run())
    snapshot = finished.snapshot()
    # as if the worker died after cancelling `slow` but before the rest was recorded
    snapshot["status"] = "running"
    snapshot["nodes"]["later"] = {"status": "pending", "attempts": 0}
    snapshot["nodes"]["idle"] = {"status": "running", "attempts": 1, "started": 1.0}
    support.executions.clear()
    report, _ = finish(graph, snapshot)
    assert report["status"] == "failed"
    assert statuses(report) == {
        "bad": "failed",
        "slow": "cancelled",
        "later": "cancelled",
        "idle": "cancelled",
    }
    assert support.executions == []
    assert report["nodes"]["later"]["reason"] == "cancelled by halt after node bad failed"
