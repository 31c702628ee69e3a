"""A failed run names its root causes: the first failures and what each took down."""

from engine.causes import root_causes
from engine.document import load_document
from tests.engine import test_containers as containers
from tests.engine.support import doc, run


def entry(status: str, message: str | None = None, at: str | None = None, **extra) -> dict:
    error = {"message": message, "type": "error"} if message else None
    return {"status": status, "error": error, "finished_at": at, "handled": False, **extra}


def test_an_upstream_failed_chain_is_one_cause_with_every_node_it_took_down():
    edges = [("fetch", "parse"), ("parse", "store"), ("store", "notify"), ("other", "done")]
    nodes = {
        "fetch": entry("failed", "HTTP 500", "2026-01-01T00:00:01Z"),
        "parse": entry("upstream_failed"),
        "store": entry("upstream_failed"),
        "notify": entry("upstream_failed"),
        "other": entry("succeeded"),
        "done": entry("succeeded"),
    }

    assert root_causes(edges, nodes) == [
        {
            "node": "fetch",
            "error": {"message": "HTTP 500", "type": "error"},
            "affected": ["parse", "store", "notify"],
            "failures": 1,
        }
    ]


def test_a_shared_dependency_takes_down_both_branches_and_causes_come_earliest_first():
    edges = [("db", "a"), ("db", "b"), ("a", "join"), ("b", "join"), ("late", "x")]
    nodes = {
        "late": entry("failed", "disk full", "2026-01-01T00:00:09Z"),
        "x": entry("upstream_failed"),
        "db": entry("failed", "connection refused", "2026-01-01T00:00:02Z"),
        "a": entry("upstream_failed"),
        "b": entry("upstream_failed"),
        "join": entry("upstream_failed"),
    }

    causes = root_causes(edges, nodes)

    assert [(c["node"], c["affected"]) for c in causes] == [
        ("db", ["a", "b", "join"]),
        ("late", ["x"]),
    ]


def test_a_handled_failure_is_no_cause_and_a_succeeded_run_has_none():
    nodes = {"a": {**entry("failed", "boom"), "handled": True}, "b": entry("succeeded")}

    assert root_causes([("a", "b")], nodes) == []


def test_the_same_error_across_map_items_is_one_cause_with_the_count():
    edges = [("each", "after"), ("check", "save")]
    nodes = {
        "each": entry("failed", "iteration 1 failed: bad item", "2026-01-01T00:00:05Z"),
        "after": entry("upstream_failed"),
    }
    ok = {"check": entry("succeeded"), "save": entry("succeeded")}
    bad = {
        "check": entry("failed", "bad item", "2026-01-01T00:00:03Z"),
        "save": entry("upstream_failed"),
    }
    other = {"check": entry("failed", "other problem", "2026-01-01T00:00:04Z")}
    iterations = {"each": [ok, bad, dict(bad), other]}

    causes = root_causes(edges, nodes, iterations)

    assert causes == [
        {
            "node": "check",
            "iteration": "each[1]",
            "iterations": ["each[1]", "each[2]"],
            "error": {"message": "bad item", "type": "error"},
            "affected": ["save", "each", "after"],
            "failures": 2,
        },
        {
            "node": "check",
            "iteration": "each[3]",
            "iterations": ["each[3]"],
            "error": {"message": "other problem", "type": "error"},
            "affected": ["each", "after"],
            "failures": 1,
        },
    ]


def test_a_failure_in_a_nested_body_names_its_full_iteration_path():
    nodes = {"outer": entry("failed", "iteration 0 failed: x", "t3")}
    iterations = {
        "outer": [{"inner": entry("failed", "iteration 1 failed: x", "t2")}],
        "outer[0]/inner": [{"leaf": entry("succeeded")}, {"leaf": entry("failed", "x", "t1")}],
    }

    (cause,) = root_causes([], nodes, iterations)

    assert cause["node"] == "leaf"
    assert cause["iteration"] == "outer[0]/inner[1]"
    assert cause["affected"] == ["inner", "outer"]


def test_a_loop_failing_on_its_own_is_the_cause():
    nodes = {"loop": entry("failed", "loop loop exceeded max_iterations (3)", "t")}
    iterations = {"loop": [{"body": entry("succeeded")}] * 3}

    assert [c["node"] for c in root_causes([], nodes, iterations)] == ["loop"]


def test_a_run_that_failed_without_a_node_failure_blames_the_run_error():
    error = {"message": "run timed out after 5 s", "type": "timeout"}
    nodes = {"a": entry("cancelled")}

    assert root_causes([], nodes, {}, error) == [
        {"node": None, "error": error, "affected": [], "failures": 0}
    ]


def test_an_engine_run_report_names_its_root_causes():
    document = doc(
        [("a", "fail", {"config": {"message": "no data"}}), "b", "c", "d"],
        [("a", "b"), ("b", "c"), ("a", "d")],
    )

    report, _ = run(document)

    assert report["status"] == "failed"
    assert report["root_causes"] == [
        {
            "node": "a",
            "error": {"message": "no data", "type": "error"},
            "affected": ["b", "d", "c"],
            "failures": 1,
        }
    ]


def test_an_engine_map_failure_is_blamed_on_its_body_node():
    document = load_document(
        {
            "nodes": [
                {"id": "each", "type": "map", "config": {"items": [1, 2, 3], "max_concurrency": 1}},
                {"id": "check", "type": "error", "parent": "each", "config": {"message": "bad"}},
                {"id": "after", "type": "transform", "config": {"output": 1}},
            ],
            "edges": [{"id": "e", "source": "each", "target": "after"}],
        }
    )
    report, _ = run(document, reg=containers.reg, registry=containers.reg)

    assert report["status"] == "failed"
    (cause,) = report["root_causes"]
    assert (cause["node"], cause["iteration"]) == ("check", "each[0]")
    assert cause["affected"] == ["each", "after"]


def test_a_succeeded_engine_run_has_no_root_causes():
    report, _ = run(doc(["a", "b"], [("a", "b")]))

    assert report["root_causes"] == []


def test_a_failure_that_halted_the_run_took_down_what_the_halt_cancelled():
    document = doc(
        [("bad", "fail", {"config": {"message": "no"}}), ("slow", "hang"), "after"],
        [("bad", "after")],
        settings={"on_failure": "halt"},
    )

    report, _ = run(document)

    assert report["nodes"]["slow"]["status"] == "cancelled"
    (cause,) = report["root_causes"]
    assert cause["node"] == "bad"
    assert set(cause["affected"]) == {"after", "slow"}
