"""Validation reports every problem at once, with the SPEC §1 codes."""

import pytest

from engine import DocumentError, Problem, load_document, validate_document
from tests.engine.support import doc, registry


def problems(document):
    return validate_document(document, registry=registry)


def codes(document):
    return sorted(p.code for p in problems(document) if p.severity == "error")


def test_valid_document_has_no_problems():
    assert problems(doc(["a", "b"], [("a", "b")])) == []


def test_cycle_message_names_the_cycle_in_order():
    found = problems(doc(["a", "b", "c"], [("a", "b"), ("b", "c"), ("c", "a")]))
    cycles = [p for p in found if p.code == "cycle"]
    assert len(cycles) == 1
    assert "a -> b -> c -> a" in cycles[0].message


def test_self_loop_is_a_cycle():
    found = problems(doc(["a"], [("a", "a")]))
    assert [p.message for p in found if p.code == "cycle"] == ["the graph has a cycle: a -> a"]


def test_duplicate_id():
    found = problems(doc(["a", "a"]))
    assert [(p.code, p.node) for p in found] == [("duplicate_id", "a")]


@pytest.mark.parametrize("bad", ["1x", "_x", "has-dash", "x" * 65, "", "inputs", "vars", "input"])
def test_bad_id(bad):
    found = problems(doc([bad]))
    assert [(p.code, p.severity) for p in found] == [("bad_id", "error")]


@pytest.mark.parametrize("capitals", ["A", "Loop", "fetchUser"])
def test_an_id_with_capitals_runs_with_a_bad_id_warning(capitals):
    found = problems(doc([capitals]))
    assert [(p.code, p.severity, p.node) for p in found] == [("bad_id", "warning", capitals)]
    assert repr(capitals.lower()) in found[0].message


def test_unknown_type_names_the_type():
    found = problems(doc([("a", "teleport")]))
    assert [(p.code, p.node) for p in found] == [("unknown_type", "a")]
    assert "'teleport'" in found[0].message


def test_missing_node_names_the_edge_and_end():
    found = problems(doc(["a"], [("a", "ghost")]))
    assert [(p.code, p.field) for p in found] == [("missing_node", "target")]
    assert "'ghost'" in found[0].message and found[0].edge


def test_unknown_source_handle_lists_the_handles_the_node_has():
    found = problems(doc(["a", "b"], [("a", "b", "sideways")]))
    assert [p.code for p in found] == ["unknown_handle"]
    assert "'sideways'" in found[0].message and "out, error" in found[0].message


def test_error_handle_exists_on_every_node():
    assert problems(doc([("a", "fail"), "b"], [("a", "b", "error")])) == []


def test_unknown_target_handle():
    document = doc(["a", "b"], [("a", "b")])
    document["edges"][0]["target_handle"] = "side"
    assert [p.field for p in problems(document)] == ["target_handle"]


def test_bad_config_names_the_field():
    found = problems(doc([("a", "fail", {"config": {"times": "twice"}})]))
    assert [(p.code, p.field) for p in found] == [("bad_config", "config.times")]
    assert "config.times" in found[0].message


def test_bad_config_for_a_missing_required_field():
    found = problems(doc([("r", "cases", {"config": {}})]))
    assert [(p.code, p.field) for p in found] == [("bad_config", "config.cases")]
    assert found[0].message == "node r: config.cases: required"


def test_template_satisfies_any_type_in_config():
    document = doc([("a", "fail", {"config": {"times": "{{ inputs.n }}"}})], inputs={"n": {}})
    assert problems(document) == []


def test_bad_expression_in_a_template():
    found = problems(doc([("a", "noop", {"config": {"value": "{{ 1 + }}"}})]))
    assert [(p.code, p.field) for p in found] == [("bad_expression", "config.value")]


def test_bad_expression_in_an_expression_field():
    document = doc(
        [("r", "cases", {"config": {"cases": [{"handle": "x", "expression": "a ==="}]}})]
    )
    found = problems(document)
    assert [(p.code, p.field) for p in found] == [("bad_expression", "config.cases[0].expression")]


def test_reference_to_a_node_that_is_not_upstream():
    document = doc(["a", "b", ("c", "noop", {"config": {"value": "{{ b.x }}"}})], [("a", "c")])
    found = problems(document)
    assert [(p.code, p.node) for p in found] == [("bad_reference", "c")]
    assert "b is not upstream of c" in found[0].message


def test_reference_to_an_ancestor_two_hops_up_is_fine():
    document = doc(
        ["a", "b", ("c", "noop", {"config": {"value": "{{ a.x }}"}})], [("a", "b"), ("b", "c")]
    )
    assert problems(document) == []


def test_reference_to_itself_is_bad():
    found = problems(doc([("a", "noop", {"config": {"value": "{{ a }}"}})]))
    assert [p.code for p in found] == ["bad_reference"]


def test_references_in_expression_fields_are_checked():
    cases = [{"handle": "x", "expression": "ghost.x > 1"}]
    found = problems(doc([("r", "cases", {"config": {"cases": cases}})]))
    assert [p.code for p in found] == ["bad_reference"]
    assert "unknown name 'ghost'" in found[0].message


def test_undeclared_input_and_variable():
    document = doc(
        [("a", "noop", {"config": {"value": "{{ inputs.nope + vars.missing + vars.ok }}"}})],
        variables={"ok": 1},
    )
    messages = sorted(p.message for p in problems(document))
    assert len(messages) == 2
    assert "inputs.nope is not a declared input" in messages[0]
    assert "vars.missing is not a defined variable" in messages[1]


def test_env_must_be_allow_listed():
    document = doc([("a", "noop", {"config": {"value": "{{ env.HOME }}"}})])
    assert codes(document) == ["bad_reference"]
    document["settings"]["env"] = ["HOME"]
    assert codes(document) == []


def test_loop_outside_a_container_is_a_bad_reference():
    assert codes(doc([("a", "noop", {"config": {"value": "{{ loop.index }}"}})])) == [
        "bad_reference"
    ]


def test_parent_must_exist_and_be_a_container():
    document = doc([("a", "noop", {"parent": "ghost"}), ("b", "noop", {"parent": "c"}), "c"])
    found = problems(document)
    assert sorted((p.code, p.node, p.field) for p in found) == [
        ("bad_config", "b", "parent"),
        ("missing_node", "a", "parent"),
    ]


def test_edge_crossing_a_container_boundary():
    document = doc(["box_", ("inner", "noop", {"parent": "box_"}), "outer"], [("outer", "inner")])
    document["nodes"][0]["type"] = "box"
    assert codes(document) == ["container_edge"]


def test_body_node_may_read_loop_and_nodes_upstream_of_its_container():
    document = doc(
        [
            "src",
            ("c", "box"),
            ("body", "noop", {"parent": "c", "config": {"value": "{{ src }}{{ loop.index }}"}}),
        ],
        [("src", "c")],
    )
    assert codes(document) == []


def test_settings_are_checked():
    document = doc(["a"], settings={"max_parallel": 0, "on_failure": "shrug", "timeout_s": -1})
    assert sorted(p.field for p in problems(document)) == [
        "settings.max_parallel",
        "settings.on_failure",
        "settings.timeout_s",
    ]


def test_join_and_retry_fields_are_checked():
    node = {
        "join": "sometimes",
        "retry": {"max_attempts": 0, "backoff": "random", "delay_s": -1, "jitter": 2},
        "timeout_s": 0,
    }
    found = problems(doc([("a", "noop", node)]))
    assert sorted(p.field for p in found) == [
        "join",
        "retry.backoff",
        "retry.delay_s",
        "retry.jitter",
        "retry.max_attempts",
        "timeout_s",
    ]


def test_every_problem_is_reported_at_once():
    document = doc(
        [
            "a",
            "a",
            ("z", "teleport"),
            ("q", "noop", {"config": {"value": "{{ ghost.x }}"}}),
            "b",
            "c",
        ],
        [("a", "missing"), ("b", "c"), ("c", "b")],
    )
    assert set(codes(document)) == {
        "duplicate_id",
        "unknown_type",
        "missing_node",
        "bad_reference",
        "cycle",
    }


def test_unreachable_is_a_warning_for_nodes_only_reached_through_a_cycle():
    document = doc(["a", "b", "c"], [("a", "b"), ("b", "a"), ("b", "c")])
    warnings = [p for p in problems(document) if p.severity == "warning"]
    assert {p.node for p in warnings} == {"a", "b", "c"}
    assert all(p.code == "unreachable" for p in warnings)
    assert warnings[0].to_dict()["severity"] == "warning"


def test_problem_to_dict_omits_empty_keys():
    assert Problem("cycle", "a -> a", node="a").to_dict() == {
        "code": "cycle",
        "message": "a -> a",
        "node": "a",
    }


def test_structural_problems_are_reported_not_raised():
    found = validate_document(load_document({"nodes": "many", "edges": [1]}), registry=registry)
    assert {(p.code, p.field) for p in found} == {
        ("bad_document", "nodes"),
        ("bad_document", "edges[0]"),
    }


# ---- loading ---------------------------------------------------------------------------


def test_load_applies_the_spec_defaults():
    document = load_document(
        '{"nodes": [{"id": "a", "type": "noop"}], "edges": [{"source": "a", "target": "a"}]}'
    )
    assert document["version"] == 1
    assert document["settings"] == {
        "max_parallel": 16,
        "on_failure": "continue",
        "timeout_s": None,
        "env": [],
    }
    node = document["nodes"][0]
    assert node["join"] == "none_failed_min_one_success"
    assert node["retry"]["max_attempts"] == 1
    assert node["disabled"] is False and node["parent"] is None and node["config"] == {}
    edge = document["edges"][0]
    assert edge["source_handle"] == "out" and edge["target_handle"] == "in" and edge["id"]


def test_load_yaml():
    document = load_document("nodes:\n  - id: a\n    type: noop\nedges: []\n")
    assert document["nodes"][0]["id"] == "a"


def test_load_does_not_modify_the_callers_dict():
    original = {"nodes": [{"id": "a", "type": "noop"}]}
    load_document(original)
    assert original == {"nodes": [{"id": "a", "type": "noop"}]}


def test_generated_edge_ids_are_unique():
    document = load_document(
        {"edges": [{"source": "a", "target": "b"}, {"source": "a", "target": "b"}]}
    )
    ids = [edge["id"] for edge in document["edges"]]
    assert len(set(ids)) == 2


@pytest.mark.parametrize("text", ["{not json", ": : :\n- ["])
def test_text_that_is_not_json_or_yaml_is_a_document_error(text):
    with pytest.raises(DocumentError) as caught:
        load_document(text)
    assert caught.value.errors[0].code == "bad_document"


def test_a_list_is_not_a_document():
    with pytest.raises(DocumentError, match="must be an object, got list"):
        load_document("[1, 2]")


@pytest.mark.parametrize(
    ("config", "missing", "case"),
    [
        ({}, "count", "mode is count"),  # count is the default mode
        ({"mode": "count"}, "count", "mode is count"),
        ({"mode": "for_each"}, "items", "mode is for_each"),
        ({"mode": "while"}, "condition", "mode is one of while, do_while"),
        ({"mode": "do_while", "count": 3}, "condition", "mode is one of while, do_while"),
    ],
)
def test_loop_config_requires_the_field_its_mode_reads(config, missing, case):
    document = load_document({"nodes": [{"id": "l", "type": "loop", "config": config}]})
    found = [p for p in validate_document(document) if p.severity == "error"]
    assert [(p.code, p.node, p.field) for p in found] == [("bad_config", "l", f"config.{missing}")]
    assert found[0].message == f"node l: config.{missing}: required when {case}"


@pytest.mark.parametrize(
    "config",
    [
        {"count": 2},
        {"mode": "count", "count": "{{ inputs.n }}"},
        {"mode": "for_each", "items": [1, 2]},
        {"mode": "for_each", "items": "{{ inputs.xs }}"},
        {"mode": "while", "condition": "loop.index < 3"},
        {"mode": "do_while", "condition": "false", "max_iterations": 5},
    ],
)
def test_loop_config_with_its_modes_field_is_valid(config):
    document = load_document(
        {"inputs": {"n": {}, "xs": {}}, "nodes": [{"id": "l", "type": "loop", "config": config}]}
    )
    assert [p for p in validate_document(document) if p.severity == "error"] == []


@pytest.mark.parametrize(
    ("declared", "field", "message"),
    [
        (
            {"n": {"type": "nunber"}},
            "inputs.n.type",
            "inputs.n.type must be one of any, string, number, integer, boolean, object, array, "
            "list; got 'nunber'",
        ),
        ({"n": 5}, "inputs.n", 'inputs.n must be an object such as {"type": "string"}'),
        (
            {"n": {"type": "number", "default": "x"}},
            "inputs.n.default",
            "inputs.n.default must be of type number, got 'x'",
        ),
    ],
)
def test_a_run_input_declared_in_the_wrong_shape_is_refused_not_taken_as_any(
    declared, field, message
):
    from engine import all_problems, load_document

    found = [p.to_dict() for p in all_problems(load_document({"inputs": declared}))]
    assert found == [{"code": "bad_config", "message": message, "field": field}]
