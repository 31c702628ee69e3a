"""Disabled nodes pass their input through without running their handler."""

from tests.engine import support
from tests.engine.support import doc, run


def test_disabled_node_passes_input_through_untouched():
    support.executions.clear()
    document = doc(
        [
            ("a", "noop", {"config": {"value": {"v": 1}}}),
            ("b", "noop", {"config": {"value": {"v": 999}}, "disabled": True}),
            "c",
        ],
        [("a", "b"), ("b", "c")],
    )
    report, _ = run(document)
    assert report["nodes"]["b"]["status"] == "succeeded"
    assert report["nodes"]["b"]["output"] == {"v": 1}
    assert report["nodes"]["c"]["output"] == {"v": 1}
    assert ("b", 1) not in support.executions


def test_disabled_failing_node_does_not_fail():
    document = doc(["a", ("bad", "fail", {"disabled": True}), "c"], [("a", "bad"), ("bad", "c")])
    report, _ = run(document)
    assert report["status"] == "succeeded"
    assert report["nodes"]["c"]["status"] == "succeeded"


def test_disabled_branching_node_takes_its_first_output_handle():
    document = doc(
        [("c", "choose", {"config": {"handles": ["b"]}, "disabled": True}), "x", "y"],
        [("c", "x", "a"), ("c", "y", "b")],
    )
    report, _ = run(document)
    assert report["nodes"]["x"]["status"] == "succeeded"
    assert report["nodes"]["y"]["status"] == "skipped"


def test_disabled_root_passes_the_run_inputs():
    report, _ = run(doc([("a", "noop", {"disabled": True})]), inputs={"k": 1})
    assert report["nodes"]["a"]["output"] == {"k": 1}
