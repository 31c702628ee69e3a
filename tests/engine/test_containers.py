"""Loop and map containers (SPEC §4 "Containers"): iterations in order, items concurrently,
nesting, `loop.*`, failures, per-iteration records and events, and restores that never re-run
a finished iteration."""

import asyncio
import json

import pytest

from engine import Execution
from engine.handlers.base import Registry
from engine.handlers.builtin import register_builtins
from tests.engine import support
from tests.engine.support import build, doc

pytestmark = pytest.mark.timeout(30)

reg = Registry()
register_builtins(reg)
for test_type in (support.Noop, support.Fail, support.Hang):
    reg.register(test_type)


def run(document: dict, inputs: dict | None = None, **options):
    events: list = []
    execution = Execution(
        build(document, reg), inputs=inputs, sink=events.append, registry=reg, options=options
    )
    report = asyncio.run(execution.run()).to_dict()
    return report, [event.to_dict() for event in events]


def body(node_id: str, parent: str, kind: str = "transform", **config) -> tuple:
    return (node_id, kind, {"parent": parent, "config": config})


def test_nested_loop_in_map_in_loop_sees_innermost_loop_variables():
    document = doc(
        [
            ("outer", "loop", {"config": {"mode": "count", "count": 2}}),
            ("m", "map", {"parent": "outer", "config": {"items": ["a", "b"]}}),
            ("inner", "loop", {"parent": "m", "config": {"mode": "count", "count": 2}}),
            body("cell", "inner", output="{{ input }}{{ loop.index }}"),
        ]
    )
    report, events = run(document)
    assert report["status"] == "succeeded"
    one = [["a0", "a1"], ["b0", "b1"]]
    assert report["nodes"]["outer"]["output"] == [one, one]
    assert "cell" not in report["nodes"]  # body nodes are reported per iteration
    assert len(report["iterations"]["outer"]) == 2
    assert len(report["iterations"]["outer[1]/m"]) == 2
    assert report["iterations"]["outer[1]/m[0]/inner"][1]["cell"]["output"] == "a1"
    paths = {e["iteration"] for e in events if e["node"] == "cell" and e["type"] == "node.status"}
    assert paths == {
        f"outer[{o}]/m[{m}]/inner[{i}]" for o in (0, 1) for m in (0, 1) for i in (0, 1)
    }
    assert [e["seq"] for e in events] == list(range(1, len(events) + 1))


def test_loop_runs_iterations_in_order_and_reports_progress():
    document = doc(
        [
            ("each", "loop", {"config": {"mode": "for_each", "items": [3, 1, 2]}}),
            ("wait", "noop", {"parent": "each", "config": {"sleep": 0.01}}),
            body("double", "each", output="{{ input * 2 }}"),
        ],
        [("wait", "double")],
    )
    support.executions.clear()
    report, events = run(document)
    assert report["nodes"]["each"]["output"] == [6, 2, 4]
    progress = [(e["done"], e["total"]) for e in events if e["type"] == "node.progress"]
    assert progress == [(0, 3), (1, 3), (2, 3), (3, 3)]
    starts = [e["iteration"] for e in events if e["status"] == "running" and e["node"] == "wait"]
    assert starts == ["each[0]", "each[1]", "each[2]"]


def test_while_checks_before_each_iteration_and_reads_the_last_one():
    document = doc(
        [
            ("w", "loop", {"config": {"mode": "while", "condition": "loop.index < 3"}}),
            body("step", "w", output="{{ loop.iteration }}"),
            ("zero", "loop", {"config": {"mode": "while", "condition": "false"}}),
            body("never", "zero", output=1),
        ]
    )
    report, _ = run(document)
    assert report["nodes"]["w"]["output"] == [1, 2, 3]
    assert report["nodes"]["zero"]["output"] == []


def test_do_while_runs_at_least_once_and_stops_on_the_body_result():
    document = doc(
        [
            ("once", "loop", {"config": {"mode": "do_while", "condition": "false"}}),
            body("a", "once", output="ran"),
            ("upto", "loop", {"config": {"mode": "do_while", "condition": "b < 4"}}),
            body("b", "upto", output="{{ loop.index * 2 }}"),
        ]
    )
    report, _ = run(document)
    assert report["nodes"]["once"]["output"] == ["ran"]
    assert report["nodes"]["upto"]["output"] == [0, 2, 4]


def test_runaway_loop_fails_at_max_iterations():
    document = doc(
        [
            (
                "spin",
                "loop",
                {"config": {"mode": "while", "condition": "true", "max_iterations": 5}},
            ),
            body("x", "spin", output=1),
        ]
    )
    report, _ = run(document)
    assert report["status"] == "failed"
    assert report["nodes"]["spin"]["error"]["type"] == "max_iterations"
    assert len(report["iterations"]["spin"]) == 5


def test_body_failure_stops_the_loop_and_fails_it():
    document = doc(
        [
            ("each", "loop", {"config": {"mode": "for_each", "items": [1, 0, 2]}}),
            body("check", "each", "error", message="zero", when="input == 0"),
        ]
    )
    report, _ = run(document)
    assert report["status"] == "failed"
    assert (
        report["nodes"]["each"]["error"]["message"] == "iteration 1 failed: node check failed: zero"
    )
    assert len(report["iterations"]["each"]) == 2  # iteration 2 never ran


def test_map_item_failure_skip_gives_null_and_goes_on():
    document = doc(
        [
            ("m", "map", {"config": {"items": [1, 0, 3], "item_failure": "skip"}}),
            body("check", "m", "error", message="zero", when="input == 0"),
        ]
    )
    report, _ = run(document)
    assert report["status"] == "succeeded"
    assert report["nodes"]["m"]["output"] == [1, None, 3]
    assert report["iterations"]["m"][1]["check"]["status"] == "failed"


def test_map_item_failure_fail_cancels_other_items_and_takes_the_error_edge():
    document = doc(
        [
            ("m", "map", {"config": {"items": [0, 1, 2], "max_concurrency": 3}}),
            ("slow", "hang", {"parent": "m"}),
            ("check", "error", {"parent": "m", "config": {"message": "bad", "when": "input == 0"}}),
            ("recover", "transform", {"config": {"output": "{{ input.error.message }}"}}),
        ],
        [("check", "slow"), ("m", "recover", "error")],
    )
    report, _ = run(document)
    assert report["status"] == "succeeded"  # handled through the error edge
    assert report["nodes"]["m"]["handled"] is True
    assert report["nodes"]["recover"]["output"].startswith("iteration 0 failed")
    items = report["iterations"]["m"]
    assert items[0]["slow"]["status"] == "upstream_failed"
    assert [item["slow"]["status"] for item in items[1:]] == ["cancelled", "cancelled"]


def test_map_keeps_item_order_and_limits_concurrency():
    document = doc(
        [
            ("m", "map", {"config": {"items": "{{ inputs.xs }}", "max_concurrency": 2}}),
            ("nap", "noop", {"parent": "m", "config": {"sleep": 0.05}}),
            body("sq", "m", output="{{ loop.item * loop.item }}"),
        ],
        [("nap", "sq")],
        inputs={"xs": {"type": "array"}},
    )
    report, events = run(document, inputs={"xs": [4, 3, 2, 1]})
    assert report["nodes"]["m"]["output"] == [16, 9, 4, 1]
    running, peak = set(), 0
    for e in events:
        if e["node"] == "nap" and e["type"] == "node.status":
            if e["status"] == "running":
                running.add(e["iteration"])
            elif e["status"] == "succeeded":
                running.discard(e["iteration"])
            peak = max(peak, len(running))
    assert peak == 2


def test_body_roots_get_the_item_and_nodes_read_outside_the_container():
    document = doc(
        [
            ("src", "transform", {"config": {"output": {"k": 5}}}),
            ("m", "map", {"config": {"items": [1, 2]}}),
            body("add", "m", output="{{ input + src.k }}"),
        ],
        [("src", "m")],
    )
    report, _ = run(document)
    assert report["nodes"]["m"]["output"] == [6, 7]


def test_restored_map_never_reruns_a_finished_item():
    document = doc(
        [
            ("m", "map", {"config": {"items": list(range(20)), "max_concurrency": 4}}),
            ("work", "noop", {"parent": "m", "config": {"sleep": 0.02}}),
        ]
    )
    graph = build(document, reg)
    support.executions.clear()

    async def crash() -> dict:
        execution = Execution(graph, registry=reg)
        task = asyncio.create_task(execution.run())
        while len(support.executions) < 9:
            await asyncio.sleep(0.002)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        return json.loads(json.dumps(execution.snapshot()))

    snapshot = asyncio.run(crash())
    done = {
        int(k)
        for k, s in snapshot["iterations"]["m"].items()
        if s["nodes"]["work"]["status"] == "succeeded"
    }
    assert done  # some items had finished when the worker died
    before = len(support.executions)
    execution = Execution(graph, registry=reg, snapshot=snapshot)
    report = asyncio.run(execution.run()).to_dict()
    assert report["status"] == "succeeded"
    assert report["nodes"]["m"]["output"] == list(range(20))
    rerun = {item["work"]["output"] for item in report["iterations"]["m"]}
    assert rerun == set(range(20))
    again = support.executions[before:]
    assert len(again) == 20 - len(done)  # only unfinished items ran again
    assert execution.record_of("work", "m[3]").status == "succeeded"
