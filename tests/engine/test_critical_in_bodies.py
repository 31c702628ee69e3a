"""`critical: true` inside a loop or map body (issue 18): a critical body node's failure halts
its own iteration only (the rest of that body is cancelled), and the container then follows
its own rules — a map with `item_failure: skip` goes on with `null` for the item, with `fail`
it fails (other items cancelled), a loop stops and fails — never the whole run, unless the
container itself is critical. A restored run keeps the halted iteration as it was."""

import pytest

from engine.causes import CRITICAL_HALT_REASON
from tests.engine import support
from tests.engine.support import doc
from tests.engine.test_body_parking import body_status, step
from tests.engine.test_containers import run

pytestmark = pytest.mark.timeout(60)

DIVIDE = "{{ 10 / (loop.item - 2) }}"  # fails for the item 2 only
HALTED = CRITICAL_HALT_REASON.format("bad")


def container_doc(kind: str, config: dict, critical_container: bool = False) -> dict:
    return doc(
        [
            ("c", kind, {"config": config, "critical": critical_container}),
            ("bad", "transform", {"parent": "c", "critical": True, "config": {"output": DIVIDE}}),
            ("slow", "noop", {"parent": "c", "config": {"value": "{{ loop.item }}", "sleep": 0.2}}),
            ("after", "noop", {}),
            ("independent", "noop", {"config": {"sleep": 0.3}}),
            ("later", "noop", {}),
        ],
        [("c", "after"), ("independent", "later")],
    )


def test_in_a_map_that_skips_failed_items_only_the_failing_items_body_halts():
    report, _ = run(container_doc("map", {"items": [1, 2, 3], "item_failure": "skip"}))
    assert report["status"] == "succeeded"
    assert report["nodes"]["c"]["output"] == [
        {"bad": -10.0, "slow": 1},
        None,
        {"bad": 10.0, "slow": 3},
    ]
    assert body_status(report, "c", "slow") == ["succeeded", "cancelled", "succeeded"]
    assert report["iterations"]["c"][1]["slow"]["reason"] == HALTED
    assert report["nodes"]["after"]["status"] == "succeeded"
    assert report["nodes"]["later"]["status"] == "succeeded"


def test_in_a_map_that_fails_on_an_item_the_map_fails_and_the_run_goes_on():
    report, _ = run(container_doc("map", {"items": [1, 2, 3], "item_failure": "fail"}))
    assert report["nodes"]["c"]["status"] == "failed"
    assert report["nodes"]["after"]["status"] == "upstream_failed"
    assert report["nodes"]["independent"]["status"] == "succeeded"  # not halted
    assert report["nodes"]["later"]["status"] == "succeeded"
    assert report["status"] == "failed"
    assert [cause["node"] for cause in report["root_causes"]] == ["bad"]


def test_in_a_loop_the_loop_stops_at_that_iteration_and_fails_without_halting_the_run():
    report, _ = run(container_doc("loop", {"mode": "for_each", "items": [1, 2, 3]}))
    assert report["nodes"]["c"]["status"] == "failed"
    assert len(report["iterations"]["c"]) == 2  # never reached the item 3
    assert body_status(report, "c", "slow") == ["succeeded", "cancelled"]
    assert report["nodes"]["later"]["status"] == "succeeded"
    assert report["status"] == "failed"


def test_a_critical_container_failing_because_of_its_body_halts_the_run():
    document = container_doc("loop", {"mode": "for_each", "items": [1, 2, 3]}, True)
    report, _ = run(document)
    assert report["nodes"]["c"]["status"] == "failed"
    assert report["nodes"]["independent"]["status"] == "cancelled"
    assert report["nodes"]["independent"]["reason"] == CRITICAL_HALT_REASON.format("c")


def test_a_halted_iteration_stays_halted_when_the_parked_map_is_resumed():
    document = doc(
        [
            ("m", "map", {"config": {"items": [1, 2, 3], "item_failure": "skip"}}),
            ("ask", "approval", {"parent": "m"}),
            ("bad", "transform", {"parent": "m", "critical": True, "config": {"output": DIVIDE}}),
            ("slow", "noop", {"parent": "m", "config": {"value": "{{ loop.item }}", "sleep": 0.1}}),
            ("ok", "noop", {"parent": "m", "config": {"value": "ok"}}),
        ],
        [("ask", "ok", "approved")],
    )
    support.executions.clear()
    report, snapshot, _ = step(document)
    assert report["status"] == "paused"
    assert body_status(report, "m", "slow") == ["succeeded", "cancelled", "succeeded"]
    assert body_status(report, "m", "ask") == ["waiting", "cancelled", "waiting"]  # halted too
    ran = sorted(support.executions)
    for index in (0, 2):
        report, snapshot, _ = step(
            document, snapshot, lambda e, i=index: e.approve_node("ask", True, iteration=f"m[{i}]")
        )
    assert report["status"] == "succeeded"
    output = report["nodes"]["m"]["output"]
    assert output[1] is None and output[0]["ok"] == output[2]["ok"] == "ok"
    assert body_status(report, "m", "slow") == ["succeeded", "cancelled", "succeeded"]
    assert [e for e in sorted(support.executions) if e[0] == "slow"] == [
        e for e in ran if e[0] == "slow"
    ]  # the resumes ran no body node again
