"""Pause on demand reaches into loops and maps (SPEC §8 Control: running nodes finish, nothing
new starts): an iteration that was to start is held, its container parks with the run, and
the resume goes on from there, running no iteration twice."""

import asyncio
import json

from engine import Execution
from engine.handlers.base import Registry
from engine.handlers.containers import Loop, Map
from tests.engine import support
from tests.engine.support import build, doc

registry = Registry()
for handler in (support.Noop, Loop, Map):
    registry.register(handler)


def pausing_run(document, pause_after_s=0.05, by="alice"):
    events: list = []
    execution = Execution(build(document, registry), sink=events.append, registry=registry)

    async def go():
        task = asyncio.create_task(execution.run())
        await asyncio.sleep(pause_after_s)
        assert execution.pause(by)
        return await task

    return execution, asyncio.run(go()).to_dict()


def states(report):
    return {node_id: node["status"] for node_id, node in report["nodes"].items()}


SLOW = {"config": {"sleep": 0.1}}


def looping(container: dict) -> dict:
    return doc(
        [
            "a",
            ("turns", *container),
            ("step", "noop", {**SLOW, "parent": "turns"}),
            "after",
        ],
        [("a", "turns"), ("turns", "after")],
    )


LOOP = looping(("loop", {"config": {"mode": "count", "count": 3}}))
MAP = looping(("map", {"config": {"items": [1, 2, 3, 4], "max_concurrency": 2}}))


def ran(node_id: str) -> int:
    return sum(1 for node, _ in support.executions if node == node_id)


def resume(document, execution):
    snapshot = json.loads(json.dumps(execution.snapshot()))
    resumed = Execution(build(document, registry), snapshot=snapshot, registry=registry)
    resumed.unpause()
    return asyncio.run(resumed.run()).to_dict()


def test_a_loop_paused_mid_iteration_finishes_it_starts_no_other_and_resumes():
    support.executions.clear()
    execution, report = pausing_run(LOOP, pause_after_s=0.05)
    assert report["status"] == "paused"
    assert states(report)["turns"] == "waiting"
    assert states(report)["after"] == "pending"
    assert ran("step") == 1  # the running iteration finished; the next did not start
    assert [i["step"]["status"] for i in report["iterations"]["turns"]] == [
        "succeeded",
        "pending",
    ]
    support.executions.clear()
    report = resume(LOOP, execution)
    assert report["status"] == "succeeded", report
    assert ran("step") == 2 and ran("after") == 1  # the two left, once each
    assert [i["step"]["status"] for i in report["iterations"]["turns"]] == ["succeeded"] * 3


def test_a_map_paused_lets_its_running_items_finish_and_starts_the_rest_on_resume():
    support.executions.clear()
    execution, report = pausing_run(MAP, pause_after_s=0.05)
    assert report["status"] == "paused"
    assert ran("step") == 2  # the two running items (max_concurrency) finished
    support.executions.clear()
    report = resume(MAP, execution)
    assert report["status"] == "succeeded", report
    assert ran("step") == 2 and ran("after") == 1
    assert len(report["iterations"]["turns"]) == 4


def test_a_held_iteration_stays_held_until_the_resume():
    execution, _ = pausing_run(LOOP, pause_after_s=0.05)
    snapshot = json.loads(json.dumps(execution.snapshot()))
    support.executions.clear()
    again = Execution(build(LOOP, registry), snapshot=snapshot, registry=registry)
    report = asyncio.run(again.run()).to_dict()
    assert report["status"] == "paused"
    assert ran("step") == 0
