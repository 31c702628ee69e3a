"""Pinned data (issue 17): a node's `pinned` output stands in for running it in runs that use
pins (`use_pinned`, a person's runs), and is ignored otherwise (a trigger's runs); a pin is
bounded and storable like an output, and containers cannot be pinned."""

import pytest

from engine.document import load_document
from engine.handlers import registry as builtins
from engine.limits import MAX_PINNED_BYTES
from engine.pinning import PINNED_REASON
from engine.validation import all_problems
from tests.engine import support
from tests.engine.support import doc, run, statuses

pytestmark = pytest.mark.timeout(30)


def fetch_then_use(pinned: dict | None = None) -> dict:
    fields = {"config": {"value": "live"}}
    if pinned is not None:
        fields["pinned"] = pinned
    return doc(
        [("fetch", "noop", fields), ("use", "noop", {"config": {"value": "{{ fetch }}!"}})],
        [("fetch", "use")],
    )


def test_a_pinned_node_ends_reused_with_its_pin_and_does_not_run():
    support.executions.clear()
    report, events = run(fetch_then_use({"output": "pinned"}), options={"use_pinned": True})
    assert statuses(report) == {"fetch": "reused", "use": "succeeded"}
    assert report["nodes"]["fetch"]["output"] == "pinned"
    assert report["nodes"]["fetch"]["reason"] == PINNED_REASON
    assert report["nodes"]["use"]["output"] == "pinned!"
    assert ("fetch", 1) not in support.executions
    reused = [e for e in events if e["node"] == "fetch" and e["status"] == "reused"]
    assert reused[0]["reason"] == PINNED_REASON


def test_a_run_that_does_not_use_pins_runs_the_pinned_node():
    support.executions.clear()
    report, _ = run(fetch_then_use({"output": "pinned"}))
    assert statuses(report) == {"fetch": "succeeded", "use": "succeeded"}
    assert report["nodes"]["use"]["output"] == "live!"
    assert ("fetch", 1) in support.executions


def test_a_pinned_branching_node_takes_its_pinned_branch():
    document = doc(
        [("check", "choose", {"config": {"handles": ["a"]}}), "yes", "no"],
        [("check", "yes", "a"), ("check", "no", "b")],
    )
    document["nodes"][0]["pinned"] = {"output": 1, "handles": ["b"]}
    report, _ = run(document, options={"use_pinned": True})
    assert statuses(report) == {"check": "reused", "yes": "skipped", "no": "succeeded"}
    assert report["nodes"]["no"]["output"] == 1


def problems_of(node: dict) -> list[dict]:
    document = load_document({"nodes": [node], "edges": []})
    found = [p.to_dict() for p in all_problems(document) if p.node == node["id"]]
    return [p for p in found if p.get("field", "").startswith("pinned")]


def test_a_pin_over_the_size_limit_is_refused_naming_the_field():
    big = "x" * (MAX_PINNED_BYTES + 10)
    found = problems_of({"id": "a", "type": "transform", "pinned": {"output": big}})
    assert [p["field"] for p in found] == ["pinned.output"]
    assert "over the 1,048,576-byte limit for pinned data" in found[0]["message"]


def test_an_unstorable_pin_is_refused():
    found = problems_of({"id": "a", "type": "transform", "pinned": {"output": {"n": float("nan")}}})
    assert found and found[0]["field"] == "pinned.output"
    assert "NaN is not storable" in found[0]["message"]


def test_a_container_cannot_be_pinned_and_a_pin_names_only_real_handles():
    loop = problems_of(
        {"id": "each", "type": "loop", "config": {"count": 2}, "pinned": {"output": 1}}
    )
    assert any(p["field"] == "pinned" and "body" in p["message"] for p in loop)
    handles = problems_of(
        {
            "id": "check",
            "type": "condition",
            "config": {"expression": "true"},
            "pinned": {"output": 1, "handles": ["maybe"]},
        }
    )
    assert [p["field"] for p in handles] == ["pinned.handles"]
    assert "'maybe' is not an output of this node (false, true)" in handles[0]["message"]


def test_a_pin_with_an_unknown_field_is_refused():
    document = load_document(
        {"nodes": [{"id": "a", "type": "transform", "pinned": {"output": 1, "extra": 2}}]}
    )
    messages = [p.message for p in all_problems(document)]
    known = "(known fields: output, handles, pinned_at, run)"
    assert f"nodes[0].pinned.extra: unknown field {known}" in messages


def test_a_pinned_trigger_starts_a_run_that_uses_pins_and_no_trigger_started():
    document = doc(
        [
            ("hook", "webhook", {"config": {"method": "POST"}, "pinned": {"output": {"n": 3}}}),
            ("after", "transform", {"config": {"output": "{{ input }}"}}),
        ],
        [("hook", "after")],
    )
    report, _ = run(document, options={"use_pinned": True}, reg=builtins)
    assert statuses(report) == {"hook": "reused", "after": "succeeded"}
    assert report["nodes"]["after"]["output"] == {"n": 3}
    report, _ = run(document, reg=builtins)  # no pins: a manual run skips the webhook as before
    assert statuses(report) == {"hook": "skipped", "after": "skipped"}
    fired = {"trigger": {"node": "hook", "data": {"n": 9}}, "use_pinned": True}
    report, _ = run(document, options=fired, reg=builtins)  # the webhook started it: its data
    assert report["nodes"]["after"]["output"] == {"n": 9}
