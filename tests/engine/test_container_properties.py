"""Hypothesis properties of loop and map containers, against a small reference of what each
should do.

A random container (loop in any mode, or map) over a random count or item list, with random
`max_iterations`, `max_concurrency`, `item_failure` and a random set of failing iterations; its
body is `gate` (an `error` node failing the chosen iterations) -> `nap` (a short sleep) -> `val`
(`[loop.index, loop.item]`). Properties: the run's status, the container's output and error
type, and the number of iterations equal the reference's; a map never has more iterations in
flight than `max_concurrency`; a loop's iterations run one after another in index order; with
`item_failure: "skip"` a failing item gives null and the map goes on, with `"fail"` the map
fails naming a failing iteration.
"""

from __future__ import annotations

import asyncio
import itertools
import math

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from engine import Execution
from engine.handlers.base import Registry
from engine.handlers.builtin import register_builtins
from tests.engine import support
from tests.engine.support import build, doc

pytestmark = pytest.mark.timeout(300)

reg = Registry()
register_builtins(reg)
reg.register(support.Noop)

MODES = ("count", "for_each", "while", "do_while")
VALUE = "{{ [loop.index, loop.item] }}"


@st.composite
def containers(draw) -> dict:
    kind = draw(st.sampled_from(["loop", "map"]))
    items = draw(st.lists(st.integers(0, 99), max_size=10))
    failing = draw(st.one_of(st.just(set()), st.sets(st.integers(0, 11), max_size=3)))
    case = {
        "kind": kind,
        "items": items,
        "failing": failing,
        "sleep": draw(st.sampled_from([0, 0.0005, 0.002])),
    }
    if kind == "loop":
        case["mode"] = draw(st.sampled_from(MODES))
        case["max_iterations"] = draw(st.integers(1, 12))
    else:
        case["max_concurrency"] = draw(st.integers(1, 4))
        case["item_failure"] = draw(st.sampled_from(["fail", "skip"]))
    return case


def document(case: dict) -> dict:
    n = len(case["items"])
    if case["kind"] == "map":
        config = {
            "items": case["items"],
            "max_concurrency": case["max_concurrency"],
            "item_failure": case["item_failure"],
        }
    else:
        config = {"mode": case["mode"], "max_iterations": case["max_iterations"]}
        config.update(
            {
                "count": {"count": n},
                "for_each": {"items": case["items"]},
                "while": {"condition": f"loop.index < {n}"},
                "do_while": {"condition": f"loop.index < {n - 1}"},
            }[case["mode"]]
        )
    fails = " or ".join(f"loop.index == {k}" for k in sorted(case["failing"])) or "false"
    nap = {"sleep": case["sleep"]} if case["sleep"] else {}
    return doc(
        [
            ("c", case["kind"], {"config": config}),
            ("gate", "error", {"parent": "c", "config": {"message": "bad", "when": fails}}),
            ("nap", "noop", {"parent": "c", "config": nap}),
            ("val", "transform", {"parent": "c", "config": {"output": VALUE}}),
        ],
        [("gate", "nap"), ("nap", "val")],
    )  # fmt: skip


def expected(case: dict) -> dict:
    """What the container must do: status, iterations run, output (or error type)."""
    items = case["items"]
    failing = case["failing"]

    def result(i: int) -> list:
        item = items[i] if case["kind"] == "map" or case.get("mode") == "for_each" else None
        return [i, item]

    if case["kind"] == "map":
        n = len(items)
        if case["item_failure"] == "skip":
            output = [None if i in failing else result(i) for i in range(n)]
            return {"status": "succeeded", "iterations": n, "output": output}
        if any(i < n for i in failing):
            return {"status": "failed", "error_type": "error"}  # iterations depend on timing
        return {"status": "succeeded", "iterations": n, "output": [result(i) for i in range(n)]}
    n, limit, mode = len(items), case["max_iterations"], case["mode"]
    target = max(n, 1) if mode == "do_while" else n
    first_failure = min(failing, default=math.inf)
    if mode in ("count", "for_each") and target > limit:
        return {"status": "failed", "iterations": 0, "error_type": "max_iterations"}
    if first_failure < min(target, limit):
        return {"status": "failed", "iterations": first_failure + 1, "error_type": "error"}
    if target > limit:
        return {"status": "failed", "iterations": limit, "error_type": "max_iterations"}
    return {
        "status": "succeeded",
        "iterations": target,
        "output": [result(i) for i in range(target)],
    }


def run(case: dict) -> tuple[dict, list[dict]]:
    events: list = []
    execution = Execution(build(document(case), reg), sink=events.append, registry=reg)
    report = asyncio.run(execution.run()).to_dict()
    return report, [event.to_dict() for event in events]


def iteration_spans(events: list[dict]) -> dict[int, tuple[int, int]]:
    """Each iteration's first and last event, by seq."""
    spans: dict[int, tuple[int, int]] = {}
    for event in events:
        path = event.get("iteration")
        if not path:
            continue
        index = int(path.removeprefix("c[").removesuffix("]"))
        first, _ = spans.get(index, (event["seq"], event["seq"]))
        spans[index] = (first, event["seq"])
    return spans


def most_in_flight(spans: dict[int, tuple[int, int]]) -> int:
    moments = sorted(
        [(first, 1) for first, _ in spans.values()] + [(last, -1) for _, last in spans.values()]
    )
    current = peak = 0
    for _, step in moments:  # at one seq a start sorts before an end: overlap is counted
        current += step
        peak = max(peak, current)
    return peak


def edge(kind: str, items: list, failing: set, **config) -> dict:
    return {"kind": kind, "items": items, "failing": failing, "sleep": 0, **config}


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=containers())
@example(case=edge("loop", [], set(), mode="do_while", max_iterations=3))  # runs once anyway
@example(case=edge("loop", [], set(), mode="while", max_iterations=3))  # runs never
@example(case=edge("loop", [5, 6], set(), mode="count", max_iterations=1))  # refused upfront
@example(case=edge("loop", [5] * 4, {2}, mode="while", max_iterations=3))  # fails in the body
@example(case=edge("map", [], set(), max_concurrency=1, item_failure="fail"))
@example(case=edge("map", [1, 2, 3], {0, 2}, max_concurrency=2, item_failure="skip"))
def test_containers_match_the_reference(case: dict):
    report, events = run(case)
    want = expected(case)
    node = report["nodes"]["c"]
    assert report["status"] == want["status"], (node, want)
    assert node["status"] == want["status"]
    ran = report["iterations"].get("c", [])
    if "iterations" in want:
        assert len(ran) == want["iterations"]
    if "output" in want:
        assert node["output"] == want["output"]
    if "error_type" in want:
        assert node["error"]["type"] == want["error_type"]
    spans = iteration_spans(events)
    assert sorted(spans) == list(range(len(ran)))
    if case["kind"] == "map":
        assert most_in_flight(spans) <= case["max_concurrency"]
        if want["status"] == "failed":
            failed_at = int(node["error"]["message"].split()[1])
            assert failed_at in case["failing"]
            assert node["error"]["message"].endswith("node gate failed: bad")
        elif case["item_failure"] == "skip":
            for i in case["failing"] & set(range(len(ran))):
                assert ran[i]["gate"]["status"] == "failed"
                assert ran[i]["val"]["status"] == "upstream_failed"
    else:
        order = sorted(spans.items(), key=lambda pair: pair[1][0])
        assert [index for index, _ in order] == sorted(spans)  # started in index order
        for (_, (_, last)), (_, (first, _)) in itertools.pairwise(order):
            assert last < first  # one iteration at a time
        values = [row["val"]["output"][0] for row in ran if row["val"]["status"] == "succeeded"]
        assert values == list(range(len(values)))  # loop.index counts 0, 1, 2, ...


@settings(max_examples=40, deadline=None)
@given(
    items=st.lists(st.integers(0, 9), min_size=1, max_size=12),
    width=st.integers(1, 5),
)
def test_a_map_fills_its_slots(items: list, width: int):
    """Not only never above max_concurrency: with enough items and slow bodies, exactly it."""
    case = {
        "kind": "map",
        "items": items,
        "failing": set(),
        "sleep": 0.005,
        "max_concurrency": width,
        "item_failure": "fail",
    }
    report, events = run(case)
    assert report["status"] == "succeeded"
    assert most_in_flight(iteration_spans(events)) == min(width, len(items))
