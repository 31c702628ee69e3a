"""Issue 13, defect 4: CPU-bound node work (expressions) never blocks the event loop: other
runs on it go on (and, in a worker, its lease renewals), a node's `timeout_s` stops a long
evaluation, and so does cancelling the run; the thread it ran in is free again at once."""

import asyncio
import time

from engine import Execution, budget
from engine.handlers import Registry
from engine.handlers.builtin import register_builtins
from tests.engine.support import build, doc

REGISTRY = Registry()
register_builtins(REGISTRY)
# Legal but slow: some tens of milliseconds of Python each, far within the expression limits.
SLOW = "{{ len([i for i in range(40000) if i % 3 == 0]) }}"


class LoopWatch:
    """How late the event loop runs a 10 ms timer while the block runs (its worst lag)."""

    def __init__(self) -> None:
        self.worst = 0.0
        self._task: asyncio.Task | None = None

    async def _measure(self) -> None:
        while True:
            before = time.monotonic()
            await asyncio.sleep(0.01)
            self.worst = max(self.worst, time.monotonic() - before - 0.01)

    async def __aenter__(self) -> "LoopWatch":
        self._task = asyncio.create_task(self._measure())
        await asyncio.sleep(0)
        return self

    async def __aexit__(self, *exc: object) -> None:
        self._task.cancel()


def slow_run(templates: int = 200, **node: object) -> Execution:
    document = doc([("slow", "transform", {"config": {"output": [SLOW] * templates}, **node})])
    return Execution(build(document, REGISTRY))


def steady_run(steps: int = 10) -> Execution:
    """A chain of short delays: it only gets on when the loop does."""
    nodes = [(f"d{k}", "delay", {"config": {"seconds": 0.05}}) for k in range(steps)]
    edges = [(f"d{k}", f"d{k + 1}") for k in range(steps - 1)]
    return Execution(build(doc(nodes, edges), REGISTRY))


async def threads_idle(within: float = 1.0) -> bool:
    deadline = time.monotonic() + within
    while budget.running() and time.monotonic() < deadline:
        await asyncio.sleep(0.01)
    return budget.running() == 0


async def test_a_long_evaluation_times_out_while_the_loop_and_other_runs_go_on():
    slow, steady = slow_run(timeout_s=2), steady_run()
    async with LoopWatch() as watch:
        started = time.monotonic()
        slow_task = asyncio.create_task(slow.run())
        steady_report = await steady.run()
        steady_took = time.monotonic() - started
        slow_report = await slow_task
        slow_took = time.monotonic() - started
    node = slow_report.to_dict()["nodes"]["slow"]
    assert node["status"] == "failed"
    assert node["error"] == {"message": "timed out after 2 s", "type": "timeout"}
    assert 1.9 <= slow_took < 3.5, slow_took
    assert steady_report.status == "succeeded"
    assert steady_took < 1.5, steady_took  # 10 delays of 50 ms, not held up behind the render
    assert watch.worst < 0.2, watch.worst
    assert await threads_idle()


async def test_the_issue_expression_with_a_timeout_fails_fast_and_blocks_nothing():
    expression = "{{ [[0]*1000000]*100000 == [[0]*1000000]*100000 }}"
    document = doc([("eq", "transform", {"config": {"output": expression}, "timeout_s": 2})])
    steady = steady_run()
    async with LoopWatch() as watch:
        started = time.monotonic()
        report, steady_report = await asyncio.gather(
            Execution(build(document, REGISTRY)).run(), steady.run()
        )
        took = time.monotonic() - started
    node = report.to_dict()["nodes"]["eq"]
    assert node["status"] == "failed"
    assert node["error"]["type"] == "expression"
    assert "result too large" in node["error"]["message"]
    assert took < 3, took
    assert steady_report.status == "succeeded"
    assert watch.worst < 0.2, watch.worst


async def test_cancelling_the_run_stops_its_evaluation_thread():
    execution = slow_run()
    task = asyncio.create_task(execution.run())
    deadline = time.monotonic() + 5
    while not budget.running() and time.monotonic() < deadline:
        await asyncio.sleep(0.01)
    assert budget.running() == 1  # the render went to a thread
    execution.cancel("enough")
    report = await asyncio.wait_for(task, 2)
    assert report.status == "cancelled"
    assert await threads_idle(0.5)


async def test_long_router_cases_are_evaluated_off_the_loop():
    slow_false = "len([i for i in range(100000) if i % 7 == 3]) < 0"
    cases = [{"handle": f"c{k}", "expression": slow_false} for k in range(4)]
    document = doc(
        [
            ("route", "router", {"config": {"cases": cases, "default": "rest"}}),
            ("after", "transform", {"config": {"output": "taken"}}),
        ],
        [("route", "after", "rest")],
    )
    async with LoopWatch() as watch:
        report, steady_report = await asyncio.gather(
            Execution(build(document, REGISTRY)).run(), steady_run(4).run()
        )
    assert report.to_dict()["nodes"]["after"]["output"] == "taken"
    assert steady_report.status == "succeeded"
    assert watch.worst < 0.2, watch.worst


async def test_small_evaluations_stay_inline(monkeypatch):
    document = doc([("quick", "transform", {"config": {"output": "{{ [1, 2, 3] }}"}})])
    execution = Execution(build(document, REGISTRY))
    seen = []
    original = budget._in_thread

    async def spy(work: object) -> object:
        seen.append(work)
        return await original(work)

    monkeypatch.setattr(budget, "_in_thread", spy)
    report = await execution.run()
    assert report.to_dict()["nodes"]["quick"]["output"] == [1, 2, 3]
    assert seen == []
