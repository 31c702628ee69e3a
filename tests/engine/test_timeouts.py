"""Per-attempt timeouts and the run-level timeout."""

import asyncio
import time

from engine import Execution
from tests.engine.support import build, doc, run


def test_attempt_timeout_fails_with_type_timeout_and_names_the_limit():
    document = doc([("slow", "noop", {"config": {"sleep": 5}, "timeout_s": 0.1})])
    started = time.monotonic()
    report, _ = run(document)
    assert time.monotonic() - started < 1
    node = report["nodes"]["slow"]
    assert node["status"] == "failed"
    assert node["error"] == {"message": "timed out after 0.1 s", "type": "timeout"}


def test_timed_out_attempt_is_retried():
    retry = {"max_attempts": 2, "backoff": "fixed", "delay_s": 0}
    document = doc([("slow", "noop", {"config": {"sleep": 5}, "timeout_s": 0.05, "retry": retry})])
    report, events = run(document)
    assert report["nodes"]["slow"]["attempts"] == 2
    assert [e["status"] for e in events if e["type"] == "node.status"] == [
        "running",
        "retrying",
        "running",
        "failed",
    ]


def test_fast_node_is_not_affected_by_its_timeout():
    report, _ = run(doc([("quick", "noop", {"config": {"value": 1}, "timeout_s": 5})]))
    assert report["nodes"]["quick"]["output"] == 1


def test_run_timeout_cancels_everything_and_fails_the_run():
    document = doc(
        [("slow", "hang"), "after", "fast"], [("slow", "after")], settings={"timeout_s": 0.2}
    )
    started = time.monotonic()
    report, _ = run(document)
    assert time.monotonic() - started < 1.5
    assert report["status"] == "failed"
    assert report["error"] == {"message": "run timed out after 0.2 s", "type": "timeout"}
    assert report["nodes"]["slow"]["status"] == "cancelled"
    assert report["nodes"]["after"]["status"] == "cancelled"
    assert report["nodes"]["after"]["reason"] == "run timed out after 0.2 s"
    assert report["nodes"]["fast"]["status"] == "succeeded"


def test_failed_attempt_reports_its_duration():
    _, events = run(doc([("slow", "noop", {"config": {"sleep": 5}, "timeout_s": 0.1})]))
    failed = next(e for e in events if e["status"] == "failed")
    assert 80 <= failed["duration_ms"] < 1000


def test_a_run_resumed_past_its_timeout_fails_at_once_and_starts_nothing():
    document = doc(
        [("bad", "fail", {"config": {"times": 1}}), "after", "also"],
        [("bad", "after"), ("after", "also")],
        settings={"on_failure": "pause", "timeout_s": 60},
    )
    graph = build(document)
    first = Execution(graph)
    asyncio.run(first.run())
    snapshot = first.snapshot()
    snapshot["started"] -= 62  # parked for longer than the run may take
    events: list = []
    resumed = Execution(graph, snapshot=snapshot, sink=events.append)
    resumed.retry_node("bad")
    report = asyncio.run(resumed.run()).to_dict()
    assert report["status"] == "failed"
    assert report["error"] == {"message": "run timed out after 60 s", "type": "timeout"}
    started = [e.node for e in events if e.type == "node.status" and e.status == "running"]
    assert started == []
    assert report["nodes"]["bad"]["attempts"] == 1
    assert report["nodes"]["after"]["status"] != "succeeded"
