"""Join rules, counted per source: a table per rule, then the same rules through the executor."""

import pytest

from engine import JOIN_RULES, Graph, Planner, join_decision
from tests.engine.support import build, doc, run, statuses

R, S, U = "run", "skipped", "upstream_failed"

# (rule, taken, failed, skipped, total) -> decision (None: wait for more sources)
TABLE = [
    ("none_failed_min_one_success", 1, 0, 1, 2, R),
    ("none_failed_min_one_success", 0, 0, 2, 2, S),
    ("none_failed_min_one_success", 1, 1, 0, 2, U),
    ("none_failed_min_one_success", 1, 0, 0, 2, None),
    ("all_success", 2, 0, 0, 2, R),
    ("all_success", 1, 0, 1, 2, S),
    ("all_success", 1, 1, 0, 2, U),
    ("all_success", 1, 0, 0, 2, None),
    ("one_success", 1, 0, 0, 3, R),
    ("one_success", 0, 1, 0, 3, None),
    ("one_success", 0, 1, 2, 3, U),
    ("one_success", 0, 0, 3, 3, S),
    ("all_done", 0, 1, 1, 2, R),
    ("all_done", 2, 0, 0, 3, None),
    ("none_failed", 0, 0, 2, 2, R),
    ("none_failed", 1, 0, 1, 2, R),
    ("none_failed", 1, 1, 0, 2, U),
    ("none_failed", 0, 1, 0, 2, None),
    ("one_failed", 0, 1, 0, 3, R),
    ("one_failed", 2, 0, 1, 3, S),
    ("one_failed", 1, 0, 0, 3, None),
    ("all_failed", 0, 2, 0, 2, R),
    ("all_failed", 1, 1, 0, 2, S),
    ("all_failed", 0, 1, 0, 2, None),
]


@pytest.mark.parametrize(("rule", "taken", "failed", "skipped", "total", "expected"), TABLE)
def test_join_decision_table(rule, taken, failed, skipped, total, expected):
    assert join_decision(rule, taken, failed, skipped, total) == expected


def test_every_rule_of_the_spec_is_in_the_table():
    assert (
        {row[0] for row in TABLE}
        == set(JOIN_RULES)
        == {
            "none_failed_min_one_success",
            "all_success",
            "one_success",
            "all_done",
            "none_failed",
            "one_failed",
            "all_failed",
        }
    )


def test_unknown_rule_is_a_clear_error():
    with pytest.raises(ValueError, match="unknown join rule 'sometimes'"):
        join_decision("sometimes", 0, 0, 0, 1)


def _planner(document):
    graph: Graph = build(document)
    return Planner(graph)


def test_several_edges_from_one_source_count_once():
    # c has two edges into j (handles a and b); only a is taken: j's one source counts as taken.
    document = doc(
        [("c", "choose", {"config": {"handles": ["a"]}}), ("j", "noop", {"join": "all_success"})],
        [("c", "j", "a"), ("c", "j", "b")],
    )
    planner = _planner(document)
    assert planner.start() == [(0, "run")]
    assert planner.settle(0, "succeeded", ("a",)) == [(1, "run")]
    assert planner.edge_states == ["taken", "skipped"]


def test_failed_source_with_several_edges_counts_once_as_failed():
    document = doc(
        ["a", "b", ("j", "noop", {"join": "all_failed"})], [("a", "j"), ("a", "j"), ("b", "j")]
    )
    planner = _planner(document)
    planner.start()
    assert planner.settle(0, "failed") == []  # b not yet resolved
    assert planner.failed[2] == 1
    assert planner.settle(1, "failed") == [(2, "run")]


def test_one_success_fires_at_the_first_taken_source_and_ignores_later_ones():
    document = doc(["a", "b", ("j", "noop", {"join": "one_success"})], [("a", "j"), ("b", "j")])
    planner = _planner(document)
    planner.start()
    assert planner.settle(0, "succeeded") == [(2, "run")]
    assert planner.settle(1, "succeeded") == []


def test_skip_propagates_down_a_chain_in_order():
    document = doc(
        [("c", "choose", {"config": {"handles": ["b"]}}), "x", "y", "z"],
        [("c", "x", "a"), ("x", "y"), ("y", "z")],
    )
    planner = _planner(document)
    planner.start()
    assert planner.settle(0, "succeeded", ("b",)) == [(1, S), (2, S), (3, S)]


def test_upstream_failed_propagates_as_failed_edges():
    document = doc([("a", "fail"), "b", "c"], [("a", "b"), ("b", "c")])
    planner = _planner(document)
    planner.start()
    assert planner.settle(0, "failed") == [(1, U), (2, U)]
    assert planner.edge_states == ["failed", "failed"]


def test_failure_with_error_edge_takes_only_the_error_edges():
    document = doc([("a", "fail"), "ok", "handler"], [("a", "ok"), ("a", "handler", "error")])
    planner = _planner(document)
    planner.start()
    assert planner.settle(0, "failed") == [(1, S), (2, R)]


# ---- through the executor ----------------------------------------------------------------


def test_join_after_condition_runs_once_after_taken_branch():
    document = doc(
        [("c", "choose", {"config": {"handles": ["a"]}}), "hi", "lo", "m"],
        [("c", "hi", "a"), ("c", "lo", "b"), ("hi", "m"), ("lo", "m")],
    )
    report, events = run(document)
    assert statuses(report) == {
        "c": "succeeded",
        "hi": "succeeded",
        "lo": "skipped",
        "m": "succeeded",
    }
    assert [e["node"] for e in events if e["status"] == "running"].count("m") == 1
    assert report["nodes"]["lo"]["reason"] == "branch c.b not taken"


@pytest.mark.parametrize(
    ("rule", "expected"),
    [
        ("none_failed_min_one_success", "upstream_failed"),
        ("all_success", "upstream_failed"),
        ("one_success", "succeeded"),
        ("all_done", "succeeded"),
        ("none_failed", "upstream_failed"),
        ("one_failed", "succeeded"),
        ("all_failed", "skipped"),
    ],
)
def test_rule_after_one_success_and_one_failure(rule, expected):
    document = doc(
        ["ok", ("bad", "fail"), ("j", "noop", {"join": rule})], [("ok", "j"), ("bad", "j")]
    )
    report, _ = run(document)
    assert report["nodes"]["j"]["status"] == expected
    assert report["status"] == "failed"  # the failure is unhandled whatever the join does


@pytest.mark.parametrize(
    ("rule", "expected"),
    [
        ("none_failed_min_one_success", "skipped"),
        ("all_success", "skipped"),
        ("one_success", "skipped"),
        ("all_done", "succeeded"),
        ("none_failed", "succeeded"),
        ("one_failed", "skipped"),
        ("all_failed", "skipped"),
    ],
)
def test_rule_when_every_source_is_skipped(rule, expected):
    document = doc(
        [("c", "choose", {"config": {"handles": []}}), "x", "y", ("j", "noop", {"join": rule})],
        [("c", "x", "a"), ("c", "y", "a"), ("x", "j"), ("y", "j")],
    )
    report, _ = run(document)
    assert report["nodes"]["j"]["status"] == expected
    assert report["status"] == "succeeded"


def test_upstream_failed_node_names_the_failed_source():
    document = doc([("fetch", "fail"), "store"], [("fetch", "store")])
    report, _ = run(document)
    assert report["nodes"]["store"]["reason"] == "upstream fetch failed"
    assert report["nodes"]["store"]["started_at"] is None


def test_error_edge_carries_the_error_as_input():
    document = doc(
        [("boom", "fail", {"config": {"message": "disk full"}}), "fix"], [("boom", "fix", "error")]
    )
    report, _ = run(document)
    assert report["status"] == "succeeded"
    assert report["nodes"]["boom"]["handled"] is True
    assert report["nodes"]["fix"]["output"] == {
        "error": {"message": "disk full", "type": "error", "node": "boom", "attempt": 1}
    }


def test_node_with_several_taken_sources_gets_their_outputs_by_source_id():
    document = doc(
        [("a", "noop", {"config": {"value": 1}}), ("b", "noop", {"config": {"value": 2}}), "j"],
        [("b", "j"), ("a", "j")],
    )
    report, _ = run(document)
    assert report["nodes"]["j"]["output"] == {"b": 2, "a": 1}
    assert list(report["nodes"]["j"]["output"]) == ["b", "a"]  # edge order
