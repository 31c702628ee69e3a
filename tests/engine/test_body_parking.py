"""An approval (or a breakpoint) inside a loop or map body parks the run: the map lets its
other items finish, the container waits (`wait.kind` `body`), and deciding inside an
iteration continues the container in the same attempt — finished iterations never run again.
Resumes happen on executions restored from JSON snapshots, as a worker does."""

import asyncio
import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine import Execution
from engine.execution import waiting_leaves
from tests.engine import support
from tests.engine.support import build, doc
from tests.engine.test_approval import FakeClock
from tests.engine.test_containers import body, reg

pytestmark = pytest.mark.timeout(120)
VALUE = "{{ loop.index * 10 }}"


def map_with_approval(items=(1, 2, 3), **approval) -> dict:
    return doc(
        [
            "before",
            ("m", "map", {"config": {"items": list(items), "max_concurrency": 2}}),
            body("work", "m", "noop", value="{{ loop.item }}"),
            body("ask", "m", "approval", prompt="item {{ loop.item }}?", **approval),
            body("yes", "m", "noop", value="{{ loop.item * 10 }}"),
            body("no", "m", "noop", value="rejected"),
            "after",
        ],
        [
            ("before", "m"),
            ("work", "ask"),
            ("ask", "yes", "approved"),
            ("ask", "no", "rejected"),
            ("m", "after"),
        ],
    )


def step(document: dict, snapshot: dict | None = None, act=None, **options):
    """Run (or resume) to the next park or the end: report, snapshot, events."""
    events: list = []
    execution = Execution(
        build(document, reg), registry=reg, snapshot=snapshot, sink=events.append, options=options
    )
    if act is not None:
        act(execution)
    report = asyncio.run(execution.run()).to_dict()
    return report, json.loads(json.dumps(execution.snapshot())), [e.to_dict() for e in events]


def body_status(report: dict, container: str, node: str) -> list[str]:
    return [iteration[node]["status"] for iteration in report["iterations"][container]]


def test_every_item_parks_then_each_approval_continues_only_its_iteration():
    document = map_with_approval()
    support.executions.clear()
    report, snapshot, events = step(document)
    assert report["status"] == "paused"
    assert report["nodes"]["m"]["status"] == "waiting"
    assert snapshot["nodes"]["m"]["wait"]["kind"] == "body"
    assert snapshot["nodes"]["m"]["wait"]["data"] == {"iterations": ["m[0]", "m[1]", "m[2]"]}
    assert body_status(report, "m", "ask") == ["waiting"] * 3
    assert report["nodes"]["after"]["status"] == "pending"
    waiting = [(e["node"], e["iteration"]) for e in events if e.get("status") == "waiting"]
    assert sorted(waiting) == [("ask", "m[0]"), ("ask", "m[1]"), ("ask", "m[2]"), ("m", None)]

    report, snapshot, events = step(
        document, snapshot, lambda e: e.approve_node("ask", True, by="ann", iteration="m[1]")
    )
    assert report["status"] == "paused"  # m[0] and m[2] still wait
    assert body_status(report, "m", "ask") == ["waiting", "succeeded", "waiting"]
    assert body_status(report, "m", "yes") == ["pending", "succeeded", "pending"]
    assert report["iterations"]["m"][1]["yes"]["output"] == 20
    assert snapshot["nodes"]["m"]["wait"]["data"] == {"iterations": ["m[0]", "m[2]"]}
    assert snapshot["nodes"]["m"]["attempts"] == 1  # continued, not retried

    report, snapshot, _ = step(
        document, snapshot, lambda e: e.approve_node("ask", False, iteration="m[0]")
    )
    report, snapshot, _ = step(
        document, snapshot, lambda e: e.approve_node("ask", True, iteration="m[2]")
    )
    assert report["status"] == "succeeded"
    assert report["nodes"]["m"]["output"] == [  # two body sinks: a dict per item
        {"yes": None, "no": "rejected"},
        {"yes": 20, "no": None},
        {"yes": 30, "no": None},
    ]
    assert body_status(report, "m", "no") == ["succeeded", "skipped", "skipped"]
    assert report["nodes"]["after"]["status"] == "succeeded"
    # nothing ran twice: each body node once per item, the node before the map once
    assert support.executions.count(("before", 1)) == 1
    assert sorted(e for e in support.executions if e[0] == "work") == [("work", 1)] * 3


def test_several_iterations_decided_before_one_resume_go_on_together():
    document = map_with_approval()
    _, snapshot, _ = step(document)

    def decide(execution):
        execution.approve_node("ask", True, iteration="m[2]")
        execution.approve_node("ask", False, iteration="m[0]")
        with pytest.raises(ValueError, match="'ask' is succeeded, not waiting"):
            execution.approve_node("ask", True, iteration="m[2]")  # decided just now

    report, snapshot, _ = step(document, snapshot, decide)
    assert report["status"] == "paused"
    assert body_status(report, "m", "ask") == ["succeeded", "waiting", "succeeded"]
    assert snapshot["nodes"]["m"]["wait"]["data"] == {"iterations": ["m[1]"]}


def test_a_second_decision_or_a_wrong_iteration_changes_nothing():
    document = map_with_approval(items=[1, 2])
    _, snapshot, _ = step(document)
    _, snapshot, _ = step(
        document, snapshot, lambda e: e.approve_node("ask", True, iteration="m[0]")
    )
    execution = Execution(build(document, reg), registry=reg, snapshot=snapshot)
    with pytest.raises(ValueError, match="'ask' is succeeded, not waiting"):
        execution.approve_node("ask", True, iteration="m[0]")
    with pytest.raises(KeyError, match="m has no iteration 7"):
        execution.approve_node("ask", True, iteration="m[7]")
    with pytest.raises(KeyError, match="no iteration 'zz\\[0\\]'"):
        execution.approve_node("ask", True, iteration="zz[0]")
    with pytest.raises(ValueError, match="before is succeeded, not waiting for an iteration"):
        execution.approve_node("ask", True, iteration="before[0]")
    assert execution.snapshot()["nodes"]["m"]["status"] == "waiting"  # still parked
    assert json.loads(json.dumps(execution.snapshot())) == snapshot


def test_items_without_an_approval_finish_while_one_item_waits():
    document = doc(
        [
            ("m", "map", {"config": {"items": [0, 1, 0]}}),
            body("gate", "m", "condition", expression="loop.item == 1"),
            body("ask", "m", "approval"),
            (
                "done",
                "noop",
                {"parent": "m", "join": "one_success", "config": {"value": "{{ loop.index }}"}},
            ),
        ],
        [("gate", "ask", "true"), ("gate", "done", "false"), ("ask", "done", "approved")],
    )
    report, snapshot, _ = step(document)
    assert report["status"] == "paused"
    assert body_status(report, "m", "done") == ["succeeded", "pending", "succeeded"]
    assert snapshot["nodes"]["m"]["wait"]["data"]["iterations"] == ["m[1]"]
    report, _, _ = step(document, snapshot, lambda e: e.approve_node("ask", True, iteration="m[1]"))
    assert report["status"] == "succeeded"
    assert report["nodes"]["m"]["output"] == [0, 1, 2]


def test_a_loop_stops_at_the_iteration_that_waits_and_goes_on_after_it():
    document = doc(
        [
            ("l", "loop", {"config": {"mode": "count", "count": 3}}),
            body("ask", "l", "approval"),
            body("n", "l", "noop", value="{{ loop.index }}"),
        ],
        [("ask", "n", "approved")],
    )
    support.executions.clear()
    report, snapshot, _ = step(document)
    assert report["status"] == "paused"
    assert len(report["iterations"]["l"]) == 1  # iteration 1 has not started
    for index in range(3):
        assert snapshot["nodes"]["l"]["wait"]["data"] == {"iterations": [f"l[{index}]"]}
        report, snapshot, _ = step(
            document, snapshot, lambda e, i=index: e.approve_node("ask", True, iteration=f"l[{i}]")
        )
    assert report["status"] == "succeeded"
    assert report["nodes"]["l"]["output"] == [0, 1, 2]
    assert sorted(support.executions) == [("n", 1)] * 3


def test_nested_map_in_loop_parks_and_resumes_by_the_full_path():
    document = doc(
        [
            ("outer", "loop", {"config": {"mode": "count", "count": 2}}),
            ("m", "map", {"parent": "outer", "config": {"items": ["a", "b"]}}),
            body("ask", "m", "approval"),
            body("v", "m", "noop", value="{{ loop.item }}"),
        ],
        [("ask", "v", "approved")],
    )
    report, snapshot, _ = step(document)
    waits = snapshot["nodes"]["outer"]["wait"]["data"]  # every waiting leaf, by its full path
    assert waits == {"iterations": ["outer[0]/m[0]", "outer[0]/m[1]"]}
    inner = snapshot["iterations"]["outer"]["0"]["nodes"]["m"]["wait"]["data"]
    assert inner == {"iterations": ["m[0]", "m[1]"]}  # relative to the iteration it is in
    leaves = [(node, path, state["wait"]["kind"]) for node, path, state in waiting_leaves(snapshot)]
    assert leaves == [("ask", "outer[0]/m[0]", "approval"), ("ask", "outer[0]/m[1]", "approval")]
    for path in ("outer[0]/m[1]", "outer[0]/m[0]", "outer[1]/m[0]", "outer[1]/m[1]"):
        assert report["status"] == "paused", path
        report, snapshot, _ = step(
            document, snapshot, lambda e, p=path: e.approve_node("ask", True, iteration=p)
        )
    assert report["status"] == "succeeded"
    assert report["nodes"]["outer"]["output"] == [["a", "b"], ["a", "b"]]


def test_cancelling_a_run_parked_in_a_body_cancels_what_waits_inside():
    document = map_with_approval(items=[1, 2])
    _, snapshot, _ = step(document)
    report, snapshot, events = step(document, snapshot, lambda e: e.cancel("by user"))
    assert report["status"] == "cancelled"
    assert report["nodes"]["m"]["status"] == "cancelled"
    assert body_status(report, "m", "ask") == ["cancelled", "cancelled"]
    assert body_status(report, "m", "yes") == ["cancelled", "cancelled"]
    cancelled = {(e["node"], e["iteration"]) for e in events if e.get("status") == "cancelled"}
    assert {("ask", "m[0]"), ("ask", "m[1]"), ("m", None)} <= cancelled


def test_a_failing_item_fails_the_map_and_cancels_the_items_that_wait():
    document = doc(
        [
            ("m", "map", {"config": {"items": [1, 2, 0], "max_concurrency": 1}}),
            body("check", "m", "error", message="bad", when="loop.item == 0"),
            body("ask", "m", "approval"),
        ],
        [("check", "ask")],
    )
    report, _, _ = step(document)
    assert report["status"] == "failed"
    assert report["nodes"]["m"]["status"] == "failed"
    assert body_status(report, "m", "ask") == ["cancelled", "cancelled", "upstream_failed"]


def test_an_approval_timeout_inside_a_body_wakes_the_run_and_rejects():
    clock = FakeClock()
    document = map_with_approval(items=[1], timeout_s=60)
    report, snapshot, _ = step(document, clock=clock)
    assert snapshot["wake_at"] == clock.now + 60  # the run knows when to wake itself
    clock.now += 61
    report, snapshot, _ = step(document, snapshot, clock=clock)
    assert report["status"] == "succeeded"
    assert report["iterations"]["m"][0]["ask"]["output"]["by"] == "timeout"
    assert report["nodes"]["m"]["output"] == [{"yes": None, "no": "rejected"}]


def test_a_breakpoint_in_a_body_pauses_a_debug_run_per_iteration():
    document = doc(
        [
            ("m", "map", {"config": {"items": [1, 2]}}),
            ("inner", "noop", {"parent": "m", "breakpoint": True, "config": {"value": 1}}),
        ]
    )
    report, snapshot, _ = step(document, debug=True)
    assert body_status(report, "m", "inner") == ["waiting", "waiting"]
    for path in ("m[0]", "m[1]"):
        report, snapshot, _ = step(
            document, snapshot, lambda e, p=path: e.retry_node("inner", iteration=p), debug=True
        )
    assert report["status"] == "succeeded"
    assert body_status(report, "m", "inner") == ["succeeded", "succeeded"]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    items=st.integers(1, 6),
    data=st.data(),
    width=st.integers(1, 4),
)
def test_any_order_of_decisions_gives_the_reference_result_and_runs_nothing_twice(
    items: int, data, width: int
):
    """A map whose chosen items ask for approval: decided one by one in a random order (each
    resume restored from the JSON snapshot), the run ends with exactly the items approved (or
    never asked) giving their value, the rejected ones null, and no body node ran twice."""
    asks = data.draw(st.sets(st.integers(0, items - 1)), label="asks")
    verdicts = {i: data.draw(st.booleans(), label=f"approve {i}") for i in sorted(asks)}
    order = data.draw(st.permutations(sorted(asks)), label="order")
    document = doc(
        [
            ("m", "map", {"config": {"items": list(range(items)), "max_concurrency": width}}),
            body("gate", "m", "condition", expression=f"loop.index in {sorted(asks)}"),
            body("ask", "m", "approval"),
            ("val", "noop", {"parent": "m", "join": "one_success", "config": {"value": VALUE}}),
        ],
        [("gate", "ask", "true"), ("gate", "val", "false"), ("ask", "val", "approved")],
    )
    support.executions.clear()
    report, snapshot, _ = step(document)
    pending = set(asks)
    for index in order:
        assert report["status"] == "paused"
        waits = snapshot["nodes"]["m"]["wait"]["data"]["iterations"]
        assert waits == [f"m[{i}]" for i in sorted(pending)]
        report, snapshot, _ = step(
            document,
            snapshot,
            lambda e, i=index: e.approve_node("ask", verdicts[i], iteration=f"m[{i}]"),
        )
        pending.discard(index)
    assert report["status"] == "succeeded"
    expected = [None if verdicts.get(i) is False else i * 10 for i in range(items)]
    assert report["nodes"]["m"]["output"] == expected
    assert support.executions.count(("val", 1)) == sum(v is not None for v in expected)
    assert report["nodes"]["m"]["attempts"] == 1


def test_a_long_delay_in_a_body_parks_each_item_and_fires_once_when_due():
    clock = FakeClock()
    document = doc(
        [
            ("m", "map", {"config": {"items": [0.2, 120, 60]}}),
            body("nap", "m", "delay", seconds="{{ loop.item }}"),
            body("after", "m", "noop", value="{{ loop.item }}"),
        ],
        [("nap", "after")],
    )
    support.executions.clear()
    options = {"clock": clock, "durable_delay_threshold_s": 30}
    report, snapshot, _ = step(document, **options)
    assert report["status"] == "paused"
    # the 0.2 s delay is short: it slept; 120 s and 60 s park their items
    assert body_status(report, "m", "after") == ["succeeded", "pending", "pending"]
    assert snapshot["nodes"]["m"]["wait"]["data"] == {"iterations": ["m[1]", "m[2]"]}
    start = clock.now
    assert snapshot["wake_at"] == start + 60  # the earliest inside
    clock.now = start + 61
    report, snapshot, _ = step(document, snapshot, **options)
    assert body_status(report, "m", "after") == ["succeeded", "pending", "succeeded"]
    assert snapshot["wake_at"] == start + 120
    clock.now = start + 120
    report, snapshot, _ = step(document, snapshot, **options)
    assert report["status"] == "succeeded"
    assert report["nodes"]["m"]["output"] == [0.2, 120, 60]
    assert sorted(support.executions) == [("after", 1)] * 3  # each item's successor once
    assert [it["nap"]["attempts"] for it in report["iterations"]["m"]] == [1, 1, 1]


def test_an_iteration_decided_while_another_branch_runs_continues_its_container_at_once():
    """SPEC §8 (a waiting node waits alone): the map parks on its items' approvals while a
    slow branch beside it still runs; deciding inside an iteration then (`decide_now`)
    continues the container at once, and the run never pauses."""
    document = doc(
        [
            "before",
            ("m", "map", {"config": {"items": [1, 2], "max_concurrency": 2}}),
            body("work", "m", "noop", value="{{ loop.item }}"),
            body("ask", "m", "approval", prompt="item {{ loop.item }}?"),
            body("yes", "m", "noop", value="{{ loop.item * 10 }}"),
            body("no", "m", "noop", value="rejected"),
            "after",
            ("slow", "noop", {"config": {"sleep": 0.4}}),
        ],
        [
            ("before", "m"),
            ("work", "ask"),
            ("ask", "yes", "approved"),
            ("ask", "no", "rejected"),
            ("m", "after"),
            ("before", "slow"),
        ],
    )
    events: list = []
    execution = Execution(build(document, reg), registry=reg, sink=events.append)

    async def go():
        task = asyncio.create_task(execution.run())
        while execution.record_of("m").status != "waiting":
            await asyncio.sleep(0.005)
        execution.decide_now(lambda e: e.approve_node("ask", True, by="ann", iteration="m[0]"))
        execution.decide_now(lambda e: e.approve_node("ask", False, iteration="m[1]"))
        return await task

    report = asyncio.run(go()).to_dict()
    assert report["status"] == "succeeded", report
    assert body_status(report, "m", "yes") == ["succeeded", "skipped"]
    assert body_status(report, "m", "no") == ["skipped", "succeeded"]
    order = [(e.node, e.iteration, e.status) for e in events if e.type == "node.status"]
    assert order.index(("after", None, "succeeded")) < order.index(("slow", None, "succeeded"))
    assert [e.status for e in events if e.type == "run.status"] == ["running", "succeeded"]
    assert report["nodes"]["m"]["attempts"] == 1
