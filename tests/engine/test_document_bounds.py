"""Every number a workflow document sets has a documented maximum (issue 13, defect 6):
validation refuses a value past it naming the field, booleans and NaN are not numbers, closed
objects (retry, settings) refuse unknown keys, and a template that yields an out-of-range
value at run time fails its node cleanly instead of reaching the clock or an allocation."""

from __future__ import annotations

import math

import pytest

from engine import load_document, validate_document
from engine.backoff import retry_delay
from engine.document import NODE_FIELDS_SCHEMA, SETTINGS_SCHEMA
from engine.handlers import registry as builtins
from tests.engine.support import doc, registry, run


def problems(document, reg=registry):
    return [p for p in validate_document(document, registry=reg) if p.severity == "error"]


def one_node(node_type: str, config: dict, **fields) -> dict:
    return load_document({"nodes": [{"id": "a", "type": node_type, "config": config, **fields}]})


def only_problem(document, reg=builtins):
    found = problems(document, reg)
    assert len(found) == 1, [p.to_dict() for p in found]
    return found[0]


# --- node fields and settings ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("retry", "field", "says"),
    [
        ({"max_attempts": 1_000_000_000}, "retry.max_attempts", "must be at most 100"),
        ({"max_attempts": 1e9}, "retry.max_attempts", "must be an integer"),
        ({"max_attempts": True}, "retry.max_attempts", "must be an integer"),
        ({"delay_s": 1e308}, "retry.delay_s", "must be at most 86400"),
        ({"max_delay_s": 1e12}, "retry.max_delay_s", "must be at most 86400"),
        ({"delay_s": math.nan}, "retry.delay_s", "must be a number"),
        ({"delay_s": math.inf}, "retry.delay_s", "must be a number"),
        ({"jitter": 2}, "retry.jitter", "must be at most 1"),
        ({"tries": 3}, "retry.tries", "is an unknown field"),
    ],
)
def test_retry_fields_have_maxima_and_no_unknown_keys(retry, field, says):
    problem = only_problem(doc([("a", "noop", {"retry": retry})]), registry)
    assert (problem.code, problem.node, problem.field) == ("bad_config", "a", field)
    assert f"node a: {field} {says}" in problem.message


def test_the_issue_s_retry_message_reads_plainly():
    problem = only_problem(doc([("a", "noop", {"retry": {"max_attempts": 1000}})]), registry)
    assert problem.message == "node a: retry.max_attempts must be at most 100, got 1000"


@pytest.mark.parametrize(
    ("timeout", "says"),
    [
        (1e308, "must be at most 604800"),
        (7 * 86_400 + 1, "must be at most 604800"),
        (0, "must be greater than 0"),
        (True, "must be a number"),
        (math.nan, "must be a number"),
        ("30", "must be a number"),
    ],
)
def test_node_timeout_has_a_maximum_of_seven_days(timeout, says):
    problem = only_problem(doc([("a", "noop", {"timeout_s": timeout})]), registry)
    assert problem.field == "timeout_s" and says in problem.message


def test_limits_themselves_are_accepted():
    node = {"timeout_s": 7 * 86_400, "retry": {"max_attempts": 100, "delay_s": 86_400}}
    settings = {"max_parallel": 10_000, "timeout_s": 30 * 86_400}
    assert problems(doc([("a", "noop", node)], settings=settings)) == []


@pytest.mark.parametrize(
    ("settings", "field", "says"),
    [
        ({"max_parallel": 10**12}, "settings.max_parallel", "must be at most 10000"),
        ({"max_parallel": 4.0}, "settings.max_parallel", "must be an integer"),
        ({"max_parallel": False}, "settings.max_parallel", "must be an integer"),
        ({"timeout_s": 1e308}, "settings.timeout_s", "must be at most 2592000"),
        ({"timeout_s": math.inf}, "settings.timeout_s", "must be a number"),
        ({"max_paralel": 4}, "settings.max_paralel", "is an unknown field"),
    ],
)
def test_settings_have_maxima_and_no_unknown_keys(settings, field, says):
    problem = only_problem(doc(["a"], settings=settings), registry)
    assert problem.field == field and says in problem.message


def test_positions_are_bounded_finite_numbers():
    problem = only_problem(doc([("a", "noop", {"position": {"x": 1e300, "y": 0}})]), registry)
    assert problem.field == "position.x" and "must be at most 10000000" in problem.message


# --- node type configs ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("node_type", "config", "field", "says"),
    [
        ("approval", {"timeout_s": 1e300}, "config.timeout_s", "must be at most 2592000"),
        ("approval", {"timeout_s": math.nan}, "config.timeout_s", "must be"),
        ("approval", {"timeout_s": True}, "config.timeout_s", "must be"),
        ("delay", {"seconds": math.inf}, "config.seconds", "must be a number"),
        ("delay", {"seconds": 1e300}, "config.seconds", "must be at most 86400"),
        ("loop", {"count": 10**12}, "config.count", "must be at most 100000"),
        ("loop", {"count": 5, "max_iterations": 10**12}, "config.max_iterations", "at most"),
        ("loop", {"count": 5.0}, "config.count", "must be"),
        ("map", {"items": [], "max_concurrency": 10**12}, "config.max_concurrency", "1000"),
        ("http", {"url": "https://x.org", "timeout_s": 1e308}, "config.timeout_s", "at most 600"),
        ("http", {"url": "https://x.org", "timeout_s": math.nan}, "config.timeout_s", "number"),
        ("subworkflow", {"workflow": 10**30}, "config.workflow", "must be at most"),
    ],
)
def test_config_numbers_have_maxima(node_type, config, field, says):
    problem = only_problem(one_node(node_type, config))
    assert (problem.code, problem.field) == ("bad_config", field)
    assert problem.message.startswith(f"node a: {field}: ") and says in problem.message


# Data a node sends rather than a limit it sets: any JSON number goes.
DATA_FIELDS = {"config.query[]"}


def _numbers_without_maximum(schema, where="config") -> list[str]:
    """Paths of numeric fields of a JSON Schema that declare no maximum."""
    found = []
    if not isinstance(schema, dict):
        return found
    types = schema.get("type")
    types = types if isinstance(types, list) else [types]
    if {"number", "integer"} & set(types) and "maximum" not in schema and where not in DATA_FIELDS:
        found.append(where)
    for name, sub in (schema.get("properties") or {}).items():
        found += _numbers_without_maximum(sub, f"{where}.{name}")
    for key in ("items", "additionalProperties"):
        found += _numbers_without_maximum(schema.get(key), f"{where}[]")
    return found


@pytest.mark.parametrize("type_name", builtins.names())
def test_every_number_of_every_builtin_schema_has_a_maximum(type_name):
    described = builtins.get(type_name).describe()
    assert _numbers_without_maximum(described["config_schema"]) == []


def test_node_fields_and_settings_schemas_bound_every_number_and_close_retry():
    assert _numbers_without_maximum(NODE_FIELDS_SCHEMA, "node") == []
    assert _numbers_without_maximum(SETTINGS_SCHEMA, "settings") == []
    assert NODE_FIELDS_SCHEMA["properties"]["retry"]["additionalProperties"] is False
    assert SETTINGS_SCHEMA["additionalProperties"] is False


def test_numbers_anywhere_in_a_document_must_be_finite():
    document = doc([("a", "noop", {"config": {"value": {"n": [1, math.nan]}}})])
    document["variables"] = {"big": math.inf}
    found = sorted((p.code, p.node or "", p.field, p.message) for p in problems(document))
    assert found == [
        ("bad_document", "", "variables.big", "variables.big must be a finite number, got inf"),
        (
            "bad_document",
            "a",
            "config.value.n[1]",
            "node a: config.value.n[1] must be a finite number, got nan",
        ),
    ]


# --- templates that yield an out-of-range value at run time ----------------------------------


def run_builtin(node: dict, inputs: dict):
    document = load_document({"inputs": {"v": {}}, "nodes": [{"id": "a", **node}], "edges": []})
    assert problems(document, builtins) == []
    return run(document, inputs=inputs, reg=builtins)[0]


@pytest.mark.parametrize(
    ("node", "value", "field"),
    [
        ({"type": "approval", "config": {"timeout_s": "{{ inputs.v }}"}}, 1e300, "timeout_s"),
        ({"type": "approval", "config": {"timeout_s": "{{ inputs.v }}"}}, math.inf, "timeout_s"),
        ({"type": "loop", "config": {"count": "{{ inputs.v }}"}}, 10**12, "count"),
    ],
)
def test_a_template_past_a_maximum_fails_its_node_cleanly(node, value, field):
    report = run_builtin(node, {"v": value})
    assert report["status"] == "failed"
    error = report["nodes"]["a"]["error"]
    assert error["type"] == "bad_config"
    assert error["message"].startswith(f"config.{field}: must be")


def test_an_exponential_backoff_without_a_cap_waits_at_most_a_day():
    retry = {"backoff": "exponential", "delay_s": 60, "max_delay_s": None}
    assert retry_delay(retry, 2) == 120
    assert retry_delay(retry, 99) == 86_400


def test_a_document_nested_thousands_deep_is_a_problem_not_a_crash():
    value = 1
    for _ in range(10_000):
        value = [value]
    document = load_document(
        {"nodes": [{"id": "a", "type": "transform", "config": {"output": value}}]}
    )
    found = validate_document(document, registry=builtins)
    assert [(p.code, p.message) for p in found] == [
        ("bad_document", "the document is nested too deeply")
    ]
