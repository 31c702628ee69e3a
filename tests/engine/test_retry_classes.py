"""Retry classes (SPEC §8 `llm` node, retries): a handler's error says whether it is worth
another attempt; `retry.on` restricts retries to error types; `retry.backoff` exponential
takes a `multiplier`; a failure's `retry_after_s` is a minimum delay, within the cap."""

import asyncio

import pytest

from engine import Execution, load_document, validate_document
from engine.backoff import retry_delay, should_retry
from engine.handlers import NodeError
from engine.handlers import registry as builtins
from engine.handlers.http_request import retry_after
from tests.engine import support
from tests.engine.support import build, doc
from tests.engine.test_handlers import ALLOW, failure, server  # noqa: F401 (fixture)
from tests.engine.test_retries import FakeClock

RETRY = {"max_attempts": 4, "backoff": "fixed", "delay_s": 1}


def run_clocked(document, registry=None):
    clock = FakeClock()
    graph = build(document) if registry is None else build(document, registry)
    execution = Execution(graph, options={"clock": clock, "http_allow_private": True})
    return asyncio.run(execution.run()).to_dict(), clock


def test_node_error_carries_whether_it_is_retryable_and_how_long_to_wait():
    error = NodeError("slow down", "rate_limited", retryable=True, retry_after_s=12.5)
    assert (error.message, error.type, error.retryable, error.retry_after_s) == (
        "slow down",
        "rate_limited",
        True,
        12.5,
    )
    plain = NodeError("boom")
    assert (plain.type, plain.retryable, plain.retry_after_s) == ("error", True, None)


def test_a_division_by_zero_is_not_retried():
    document = load_document(
        {
            "nodes": [
                {"id": "calc", "type": "transform", "config": {"output": "{{ 1 / 0 }}"}},
            ],
        }
    )
    document["nodes"][0]["retry"] = {**RETRY}
    report, clock = run_clocked(document, builtins)
    node = report["nodes"]["calc"]
    assert (node["status"], node["attempts"]) == ("failed", 1)
    assert node["error"]["type"] == "expression"
    assert clock.sleeps == []  # no backoff waited out for a failure that cannot change


def test_a_blocked_address_is_not_retried():
    document = load_document(
        {"nodes": [{"id": "call", "type": "http", "config": {"url": "http://10.1.2.3/"}}]}
    )
    document["nodes"][0]["retry"] = {**RETRY}
    clock = FakeClock()
    execution = Execution(build(document, builtins), options={"clock": clock})
    report = asyncio.run(execution.run()).to_dict()
    node = report["nodes"]["call"]
    assert (node["status"], node["attempts"]) == ("failed", 1)
    assert node["error"]["type"] == "forbidden_destination"
    assert clock.sleeps == []


async def test_http_5xx_and_429_are_retryable_other_4xx_are_not(server):  # noqa: F811
    for status, retryable in ((503, True), (500, True), (429, True), (404, False), (400, False)):
        error = await failure("http", {"url": server.url(f"/status/{status}")}, settings=ALLOW)
        assert (status, error.type, error.retryable) == (status, "http_status", retryable)


async def test_http_connection_errors_are_retryable():
    # Nothing listens on port 9 of this host: the connection is refused.
    error = await failure("http", {"url": "http://127.0.0.1:9/"}, settings=ALLOW)
    assert (error.type, error.retryable) == ("connection", True)


def test_retry_after_header_reads_seconds_and_http_dates():
    assert retry_after("120") == 120.0
    assert retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now=1445412480.0 - 30) == 30.0
    assert retry_after("soon") is None
    assert retry_after(None) is None


def test_retryable_errors_are_retried_with_their_backoff():
    config = {"times": 2, "error_type": "timeout"}
    report, clock = run_clocked(doc([("f", "fail", {"config": config, "retry": RETRY})]))
    assert report["nodes"]["f"]["status"] == "succeeded"
    assert report["nodes"]["f"]["attempts"] == 3
    assert clock.sleeps == [1.0, 1.0]


def test_a_permanent_error_ends_the_node_at_its_first_attempt():
    support.executions.clear()
    config = {"times": 2, "error_type": "bad_input", "retryable": False}
    report, clock = run_clocked(doc([("f", "fail", {"config": config, "retry": RETRY})]))
    node = report["nodes"]["f"]
    assert (node["status"], node["attempts"]) == ("failed", 1)
    assert node["error"] == {"message": "boom", "type": "bad_input"}
    assert support.executions == [("f", 1)]
    assert clock.sleeps == []


def test_retry_on_restricts_retries_to_the_listed_types():
    retry = {**RETRY, "on": ["timeout", "connection"]}
    refused = {"times": 2, "error_type": "http_status"}
    report, clock = run_clocked(doc([("f", "fail", {"config": refused, "retry": retry})]))
    assert (report["nodes"]["f"]["status"], report["nodes"]["f"]["attempts"]) == ("failed", 1)
    assert clock.sleeps == []
    listed = {"times": 2, "error_type": "connection"}
    report, _ = run_clocked(doc([("f", "fail", {"config": listed, "retry": retry})]))
    assert (report["nodes"]["f"]["status"], report["nodes"]["f"]["attempts"]) == ("succeeded", 3)


def test_naming_a_type_in_retry_on_retries_it_even_when_its_handler_says_permanent():
    assert should_retry({"on": ["bad_input"]}, {"type": "bad_input", "retryable": False})
    assert not should_retry({}, {"type": "bad_input", "retryable": False})
    assert should_retry({}, {"type": "anything"})


def test_the_retrying_event_keeps_the_error_shape():
    config = {"times": 1, "error_type": "timeout", "retry_after_s": 3}
    events = []
    execution = Execution(
        build(doc([("f", "fail", {"config": config, "retry": RETRY})])),
        sink=events.append,
        options={"clock": FakeClock()},
    )
    asyncio.run(execution.run())
    retrying = [e.to_dict() for e in events if e.to_dict().get("status") == "retrying"]
    assert retrying[0]["error"] == {"message": "boom", "type": "timeout"}


@pytest.mark.parametrize(
    ("multiplier", "expected"),
    [(3, [1.0, 3.0, 9.0, 27.0]), (1.5, [1.0, 1.5, 2.25, 3.375]), (None, [1.0, 2.0, 4.0, 8.0])],
)
def test_exponential_backoff_takes_a_multiplier(multiplier, expected):
    retry = {"backoff": "exponential", "delay_s": 1, "multiplier": multiplier}
    assert [retry_delay(retry, attempt) for attempt in (1, 2, 3, 4)] == expected


def test_a_huge_multiplier_is_capped_not_an_overflow():
    retry = {"backoff": "exponential", "delay_s": 1, "multiplier": 100, "max_delay_s": 60}
    assert retry_delay(retry, 99) == 60.0
    assert retry_delay({**retry, "max_delay_s": None}, 99) == 86400.0


def test_retry_after_is_a_minimum_delay_within_the_cap():
    retry = {"backoff": "fixed", "delay_s": 1, "max_delay_s": 30}
    assert retry_delay(retry, 1, retry_after_s=10) == 10.0
    assert retry_delay(retry, 1, retry_after_s=0.5) == 1.0  # the backoff is longer already
    assert retry_delay(retry, 1, retry_after_s=3600) == 30.0  # capped by max_delay_s
    assert retry_delay({"delay_s": 0}, 1, retry_after_s=10**9) == 86400.0  # and by a day


def test_the_engine_waits_at_least_what_the_failure_asked_for():
    config = {"times": 2, "error_type": "rate_limited", "retry_after_s": 7}
    report, clock = run_clocked(doc([("f", "fail", {"config": config, "retry": RETRY})]))
    assert report["nodes"]["f"]["status"] == "succeeded"
    assert clock.sleeps == [7.0, 7.0]


@pytest.mark.parametrize(
    ("retry", "field", "words"),
    [
        ({"on": "timeout"}, "retry.on", "must be a list"),
        ({"on": ["Not A Type"]}, "retry.on[0]", "does not match"),
        ({"on": [f"t{n}" for n in range(33)]}, "retry.on", "too long"),
        ({"multiplier": 0.5}, "retry.multiplier", "at least 1"),
        ({"multiplier": 1000}, "retry.multiplier", "at most 100"),
        ({"backoff": "random"}, "retry.backoff", "random"),
    ],
)
def test_a_bad_retry_policy_is_refused_naming_the_field(retry, field, words):
    document = load_document(
        {"nodes": [{"id": "a", "type": "transform", "config": {"output": 1}, "retry": retry}]}
    )
    problems = [p for p in validate_document(document) if p.code == "bad_config"]
    assert [p.field for p in problems] == [field]
    assert words in problems[0].message
