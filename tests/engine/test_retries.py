"""Retries: backoff schedules (fixed, linear, exponential, caps, jitter) and attempts."""

import asyncio

import pytest

from engine import Execution
from engine.backoff import retry_delay
from tests.engine import support
from tests.engine.support import build, doc, run


class FakeClock:
    """Time that only moves when the engine sleeps; records every sleep."""

    def __init__(self) -> None:
        self.now = 1_700_000_000.0
        self.sleeps: list[float] = []

    def time(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds
        await asyncio.sleep(0)


def run_with_clock(document):
    clock = FakeClock()
    execution = Execution(build(document), options={"clock": clock})
    report = asyncio.run(execution.run()).to_dict()
    return report, clock


@pytest.mark.parametrize(
    ("backoff", "expected"),
    [
        ("fixed", [2.0, 2.0, 2.0, 2.0]),
        ("linear", [2.0, 4.0, 6.0, 8.0]),
        ("exponential", [2.0, 4.0, 8.0, 16.0]),
    ],
)
def test_backoff_schedule(backoff, expected):
    retry = {"backoff": backoff, "delay_s": 2}
    assert [retry_delay(retry, attempt) for attempt in (1, 2, 3, 4)] == expected


def test_max_delay_caps_the_schedule():
    retry = {"backoff": "exponential", "delay_s": 1, "max_delay_s": 5}
    assert [retry_delay(retry, a) for a in range(1, 7)] == [1, 2, 4, 5, 5, 5]


def test_full_jitter_spreads_over_zero_to_the_delay():
    retry = {"backoff": "fixed", "delay_s": 10, "jitter": True}
    assert retry_delay(retry, 1, rand=lambda: 0.25) == 2.5


def test_fractional_jitter_keeps_most_of_the_delay():
    retry = {"backoff": "fixed", "delay_s": 10, "jitter": 0.2}
    assert retry_delay(retry, 1, rand=lambda: 1.0) == pytest.approx(8.0)
    assert retry_delay(retry, 1, rand=lambda: 0.0) == 10.0


def test_unknown_backoff_is_a_clear_error():
    with pytest.raises(ValueError, match="unknown backoff 'random'"):
        retry_delay({"backoff": "random", "delay_s": 1}, 1)


def test_engine_sleeps_the_exponential_schedule_between_attempts():
    retry = {"max_attempts": 4, "backoff": "exponential", "delay_s": 0.5, "max_delay_s": 1.5}
    document = doc([("f", "fail", {"config": {"times": 3}, "retry": retry})])
    report, clock = run_with_clock(document)
    assert clock.sleeps == [0.5, 1.0, 1.5]
    assert report["nodes"]["f"]["status"] == "succeeded"
    assert report["nodes"]["f"]["attempts"] == 4


def test_exhausted_retries_fail_with_the_last_error():
    retry = {"max_attempts": 3, "backoff": "fixed", "delay_s": 1}
    document = doc([("f", "fail", {"config": {"message": "still down"}, "retry": retry})])
    report, clock = run_with_clock(document)
    node = report["nodes"]["f"]
    assert (node["status"], node["attempts"]) == ("failed", 3)
    assert node["error"] == {"message": "still down", "type": "error"}
    assert clock.sleeps == [1.0, 1.0]
    assert report["status"] == "failed"


def test_each_attempt_is_a_separate_execution_with_its_number():
    support.executions.clear()
    retry = {"max_attempts": 3, "backoff": "fixed", "delay_s": 0}
    run(doc([("f", "fail", {"config": {"times": 2}, "retry": retry})]))
    assert support.executions == [("f", 1), ("f", 2), ("f", 3)]


def test_retrying_state_is_reported_between_attempts():
    retry = {"max_attempts": 2, "backoff": "fixed", "delay_s": 0}
    _, events = run(doc([("f", "fail", {"config": {"times": 1}, "retry": retry})]))
    statuses = [(e["status"], e["attempt"]) for e in events if e["type"] == "node.status"]
    assert statuses == [("running", 1), ("retrying", 1), ("running", 2), ("succeeded", 2)]
    retrying = next(e for e in events if e["status"] == "retrying")
    assert retrying["error"] == {"message": "boom", "type": "error"}


def test_no_retry_by_default():
    report, _ = run(doc([("f", "fail", {"config": {"times": 1}})]))
    assert report["nodes"]["f"]["attempts"] == 1
    assert report["nodes"]["f"]["status"] == "failed"
