"""Approval `timeout_action` (reject, approve, fail) and node `critical: true` (SPEC §8
Control)."""

import asyncio

import pytest

from engine import Execution, load_document, validate_document
from tests.engine import support
from tests.engine.support import build, doc, run
from tests.engine.test_approval import FakeClock, approval_doc, reg, resume, start


def timed_out(document):
    clock = FakeClock()
    _, snapshot = start(document, clock=clock)
    clock.now += 61
    report, events, _ = resume(document, snapshot, clock=clock)
    return report, events


def test_timeout_action_approve_follows_the_approved_handle():
    report, _ = timed_out(approval_doc(timeout_s=60, timeout_action="approve"))
    assert report["status"] == "succeeded"
    ask = report["nodes"]["ask"]["output"]
    assert (ask["approved"], ask["by"]) == (True, "timeout")
    assert report["nodes"]["yes"]["status"] == "succeeded"
    assert report["nodes"]["no"]["status"] == "skipped"


def test_timeout_action_reject_is_the_default():
    for config in ({"timeout_s": 60}, {"timeout_s": 60, "timeout_action": "reject"}):
        report, _ = timed_out(approval_doc(**config))
        assert report["nodes"]["ask"]["output"]["approved"] is False
        assert report["nodes"]["no"]["status"] == "succeeded"


def test_timeout_action_fail_fails_the_node_and_the_run():
    report, events = timed_out(approval_doc(timeout_s=60, timeout_action="fail"))
    ask = report["nodes"]["ask"]
    assert ask["status"] == "failed"
    assert ask["error"] == {"message": "approval timed out", "type": "timeout"}
    assert report["nodes"]["yes"]["status"] == "upstream_failed"
    assert report["status"] == "failed"
    runs = [e["status"] for e in events if e["type"] == "run.status"]
    assert runs == ["running", "failed"]


def test_timeout_action_fail_takes_an_error_edge():
    document = doc(
        [
            ("ask", "approval", {"config": {"timeout_s": 60, "timeout_action": "fail"}}),
            "late",
        ],
        [("ask", "late", "error")],
        settings={"on_failure": "pause"},  # a timed-out approval does not park again
    )
    report, _ = timed_out(document)
    assert report["nodes"]["ask"]["handled"] is True
    assert report["nodes"]["late"]["status"] == "succeeded"
    assert report["status"] == "succeeded"


def test_a_bad_timeout_action_is_refused_naming_the_field():
    document = load_document(
        {"nodes": [{"id": "ask", "type": "approval", "config": {"timeout_action": "ignore"}}]}
    )
    (problem,) = [p for p in validate_document(document) if p.code == "bad_config"]
    assert problem.field == "config.timeout_action"


def critical_doc(on_failure: str, critical: bool = True):
    return doc(
        [
            ("bad", "fail", {"critical": critical}),
            ("slow", "hang", {}),
            ("later", "noop", {}),
        ],
        [("slow", "later")],
        settings={"on_failure": on_failure},
    )


@pytest.mark.parametrize("on_failure", ["continue", "pause"])
def test_a_critical_node_failing_halts_the_run(on_failure):
    report, _ = run(critical_doc(on_failure))
    assert report["status"] == "failed"
    assert report["nodes"]["bad"]["status"] == "failed"
    assert report["nodes"]["slow"]["status"] == "cancelled"
    assert report["nodes"]["later"]["status"] == "cancelled"
    assert "critical node bad failed" in report["nodes"]["slow"]["reason"]
    assert report["error"]["message"] == "node bad failed: boom"


def test_a_node_not_critical_lets_independent_branches_go_on():
    document = doc(
        [("bad", "fail", {}), ("quick", "noop", {"config": {"sleep": 0.01}}), "later"],
        [("quick", "later")],
    )
    report, _ = run(document)
    assert report["status"] == "failed"
    assert report["nodes"]["later"]["status"] == "succeeded"


def test_a_critical_failure_handled_by_an_error_edge_does_not_halt():
    document = doc(
        [("bad", "fail", {"critical": True}), "recover", ("quick", "noop", {}), "later"],
        [("bad", "recover", "error"), ("quick", "later")],
    )
    report, _ = run(document)
    assert report["status"] == "succeeded"
    assert report["nodes"]["later"]["status"] == "succeeded"


def test_critical_survives_the_document_round_trip_and_a_restore():
    document = critical_doc("continue")
    assert document["nodes"][0]["critical"] is True
    execution = Execution(build(document), registry=support.registry)
    report = asyncio.run(execution.run()).to_dict()
    snapshot = execution.snapshot()
    again = Execution(build(document), registry=support.registry, snapshot=snapshot)
    assert asyncio.run(again.run()).to_dict()["status"] == report["status"] == "failed"
    assert reg is not None


def test_an_approval_deadline_passing_while_other_branches_run_is_applied_at_once():
    document = doc(
        [
            "a",
            ("ask", "approval", {"config": {"timeout_s": 0.05}}),
            ("no", "noop", {}),
            ("slow", "noop", {"config": {"sleep": 0.4}}),
        ],
        [("a", "ask"), ("ask", "no", "rejected"), ("a", "slow")],
    )
    report, events = run(document, reg=reg)
    assert report["status"] == "succeeded"
    assert report["nodes"]["ask"]["output"]["by"] == "timeout"
    order = [(e["node"], e["status"]) for e in events if e["type"] == "node.status"]
    assert order.index(("no", "succeeded")) < order.index(("slow", "succeeded"))
    assert [e["status"] for e in events if e["type"] == "run.status"] == ["running", "succeeded"]
