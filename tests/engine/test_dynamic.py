"""Dynamic growth: `fan_out` adds one node per item and a merge to the running graph, the
additions are validated, `graph.changed` says what was added, and a restore grows again."""

import asyncio
import json

import pytest

from engine import Execution
from tests.engine import support
from tests.engine.support import build, doc
from tests.engine.test_containers import reg, run

pytestmark = pytest.mark.timeout(30)


def test_fan_out_adds_a_node_per_item_joined_by_a_merge():
    document = doc([("fan", "fan_out", {"config": {"items": ["x", "y", "z"]}})])
    report, events = run(document)
    assert report["status"] == "succeeded"
    assert [report["nodes"][f"fan_{k}"]["output"] for k in range(3)] == ["x", "y", "z"]
    assert sorted(report["nodes"]["fan_join"]["output"]) == ["x", "y", "z"]
    (changed,) = [e for e in events if e["type"] == "graph.changed"]
    assert changed["node"] == "fan"
    assert {n["id"] for n in changed["nodes"]} == {"fan_join", "fan_0", "fan_1", "fan_2"}
    assert len(changed["edges"]) == 6


def test_growth_that_reuses_an_id_fails_the_node_with_a_clear_error():
    document = doc(["fan_0", ("fan", "fan_out", {"config": {"items": [1]}})])
    report, _ = run(document)
    error = report["nodes"]["fan"]["error"]
    assert report["nodes"]["fan"]["status"] == "failed"
    assert error["type"] == "graph" and "ids already in the graph: fan_0" in error["message"]


def test_a_restored_run_grows_again_and_reruns_no_finished_added_node():
    document = doc(
        [
            ("fan", "fan_out", {"config": {"items": [1, 2]}}),
            ("slow", "noop", {"config": {"sleep": 0.3}}),
        ]
    )
    graph = build(document, reg)
    support.executions.clear()

    async def crash() -> dict:
        execution = Execution(graph, registry=reg)
        task = asyncio.create_task(execution.run())
        while (
            "fan_join" not in execution.graph.index
            or execution.records[execution.graph.index["fan_join"]].status != "succeeded"
        ):
            await asyncio.sleep(0.005)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        return json.loads(json.dumps(execution.snapshot()))

    snapshot = asyncio.run(crash())
    execution = Execution(build(document, reg), registry=reg, snapshot=snapshot)
    report = asyncio.run(execution.run()).to_dict()
    assert report["status"] == "succeeded"
    assert report["nodes"]["fan_join"]["attempts"] == 1
    assert sorted(report["nodes"]["fan_join"]["output"]) == [1, 2]
