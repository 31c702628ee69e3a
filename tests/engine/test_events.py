"""Events: seq 1..n without gaps, one per transition, SPEC §5 fields."""

import re
from datetime import UTC, datetime

from hypothesis import given, settings
from hypothesis import strategies as st

from engine.events import Event, iso_ms, new_event, preview
from tests.engine.support import doc, run
from tests.engine.test_containers import run as run_builtin

AT = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
BASE_KEYS = {
    "seq",
    "type",
    "run",
    "node",
    "iteration",
    "status",
    "attempt",
    "at",
    "error",
    "duration_ms",
}


def mixed_workflow():
    retry = {"max_attempts": 2, "backoff": "fixed", "delay_s": 0}
    return doc(
        [
            ("c", "choose", {"config": {"handles": ["a"]}}),
            "x",
            "y",
            ("f", "fail", {"config": {"times": 1}, "retry": retry}),
            ("bad", "fail"),
            "after_bad",
            ("l", "log"),
        ],
        [("c", "x", "a"), ("c", "y", "b"), ("x", "f"), ("bad", "after_bad"), ("f", "l")],
    )


def test_seq_counts_from_one_without_gaps():
    _, events = run(mixed_workflow(), run_id=42)
    assert [e["seq"] for e in events] == list(range(1, len(events) + 1))
    assert all(e["run"] == 42 for e in events)


def test_every_node_transition_has_an_event_in_order():
    report, events = run(mixed_workflow())
    by_node: dict[str, list] = {}
    for event in events:
        if event["type"] == "node.status":
            by_node.setdefault(event["node"], []).append(event["status"])
    assert by_node == {
        "c": ["running", "succeeded"],
        "x": ["running", "succeeded"],
        "y": ["skipped"],
        "f": ["running", "retrying", "running", "succeeded"],
        "bad": ["running", "failed"],
        "after_bad": ["upstream_failed"],
        "l": ["running", "succeeded"],
    }
    assert {node: states[-1] for node, states in by_node.items()} == {
        node: data["status"] for node, data in report["nodes"].items()
    }


def test_run_status_events_open_and_close_the_stream():
    _, events = run(mixed_workflow())
    run_events = [(e["seq"], e["status"]) for e in events if e["type"] == "run.status"]
    assert run_events == [(1, "running"), (len(events), "failed")]


def test_event_fields_follow_the_spec():
    _, events = run(mixed_workflow())
    for event in events:
        assert set(event) >= BASE_KEYS
        assert AT.match(event["at"]), event["at"]
        assert event["iteration"] is None
    failed = next(e for e in events if e["status"] == "failed")
    assert failed["node"] == "bad" and failed["attempt"] == 1
    assert failed["error"] == {"message": "boom", "type": "error"}
    assert isinstance(failed["duration_ms"], int)
    output = next(e for e in events if e["type"] == "node.output" and e["node"] == "c")
    assert "output" in output


def test_handler_log_lines_become_node_log_events():
    _, events = run(mixed_workflow())
    logs = [e for e in events if e["type"] == "node.log"]
    assert [(e["node"], e["message"], e["attempt"]) for e in logs] == [("l", "hello from l", 1)]


def test_secrets_are_redacted_from_log_lines():
    document = doc([("l", "log")])
    _, events = run(document, options={"secrets": {"token": "hello"}})
    assert [e["message"] for e in events if e["type"] == "node.log"] == ["*** from l"]


def test_env_names_the_runtime_does_not_provide_are_warned_about_at_the_start():
    document = doc(
        [("a", "transform", {"config": {"output": "{{ env.REGION }}"}})],
        settings={"env": ["REGION", "ZONE"]},
    )
    report, events = run_builtin(document, env={"REGION": "eu", "HOME": "/root"})
    assert report["nodes"]["a"]["output"] == "eu"
    (warning,) = [e for e in events if e["type"] == "node.log"]
    assert warning["level"] == "warning" and warning["node"] is None
    assert warning["message"].startswith("settings.env names ZONE, which this runtime does not")
    assert [e["type"] for e in events][:2] == ["run.status", "node.log"]


def test_output_event_carries_a_truncated_preview_of_big_outputs():
    big = "x" * 10_000
    _, events = run(
        doc([("a", "noop", {"config": {"value": big}})]), options={"max_output_preview": 100}
    )
    output = next(e for e in events if e["type"] == "node.output")["output"]
    assert output["truncated"] is True
    assert len(output["preview"]) == 100
    assert output["size"] == 10_002


def test_small_outputs_are_sent_whole():
    assert preview({"a": [1, 2]}) == {"a": [1, 2]}
    assert preview(None) is None


def test_new_event_equals_the_dataclass_constructor():
    fast = new_event(3, "node.status", 1, 0.0, "a", "running", 1)
    assert fast == Event(3, "node.status", 1, 0.0, "a", "running", 1)
    assert fast.to_dict()["at"] == "1970-01-01T00:00:00.000Z"


def test_events_are_frozen():
    event = new_event(1, "run.status", 1, 0.0)
    try:
        event.seq = 2
    except AttributeError:
        pass
    else:
        raise AssertionError("an event could be changed")
    assert event.seq == 1


@settings(max_examples=3000, deadline=None)
@given(
    st.one_of(
        st.floats(min_value=0, max_value=4e9, allow_nan=False),
        # the edges: just below and above a whole second and a millisecond
        st.integers(0, 4_000_000_000).flatmap(
            lambda s: st.sampled_from([s, s - 1e-7, s + 1e-7, s + 0.9995, s + 0.9999996, s + 5e-4])
        ),
    ),
    st.floats(min_value=0, max_value=4e9, allow_nan=False),
)
def test_an_event_s_time_reads_as_datetime_formats_it_whatever_came_before(ts, before):
    """`iso_ms` formats the second once and reuses it: its text is datetime's own, whichever
    time was stamped just before (the same second, another, an earlier one)."""
    iso_ms(before)
    expected = datetime.fromtimestamp(ts, UTC).isoformat(timespec="milliseconds")[:-6] + "Z"
    assert iso_ms(ts) == expected
    assert AT.match(iso_ms(ts))


def test_an_event_time_before_1970_still_reads_right():
    assert iso_ms(-1.5) == "1969-12-31T23:59:58.500Z"
    assert iso_ms(None) is None
