"""Typed outputs (issue 18): a node's `output_schema` is a bounded JSON Schema; an output that
does not match it fails the node with `invalid_output`; expressions reading a path the
upstream schema rules out are `bad_reference` problems naming node, field and path; a dry run
fabricates a stand-in of the declared shape instead of `{"dry_run": true}`."""

import pytest

from engine import load_document, validate_document
from engine.output_schema import fabricate, path_problem
from tests.engine.test_containers import run

pytestmark = pytest.mark.timeout(30)

ITEMS = {
    "type": "object",
    "properties": {
        "items": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {"name": {"type": "string"}, "size": {"type": "integer"}},
                "required": ["name"],
                "additionalProperties": False,
            },
        },
        "total": {"type": "integer", "minimum": 1},
    },
    "required": ["items", "total"],
}


def typed_doc(output, read="{{ a.items[0].name }}", **node) -> dict:
    return {
        "nodes": [
            {
                "id": "a",
                "type": "transform",
                "config": {"output": output},
                "output_schema": ITEMS,
                **node,
            },
            {"id": "b", "type": "transform", "config": {"output": read}},
        ],
        "edges": [{"source": "a", "target": "b"}],
    }


def problems(document: dict) -> list[dict]:
    return [p.to_dict() for p in validate_document(load_document(document))]


def test_an_output_matching_its_schema_passes_and_one_that_does_not_fails_invalid_output():
    good = {"items": [{"name": "x", "size": 2}], "total": 1}
    report, _ = run(load_document(typed_doc(good)))
    assert report["status"] == "succeeded"
    assert report["nodes"]["b"]["output"] == "x"
    bad = {"items": [{"name": 3}], "total": 1}
    report, _ = run(load_document(typed_doc(bad)))
    a = report["nodes"]["a"]
    assert a["status"] == "failed"
    assert a["error"]["type"] == "invalid_output"
    assert "output.items[0].name: 3 is not of type 'string'" in a["error"]["message"]
    assert report["nodes"]["b"]["status"] == "upstream_failed"


def test_a_path_the_upstream_schema_rules_out_is_a_bad_reference_naming_node_field_and_path():
    assert problems(typed_doc({}, "{{ a.items[0].name }} {{ a.total }}")) == []
    (found,) = problems(typed_doc({}, "{{ a.items[0].nmae }}"))
    assert found["code"] == "bad_reference"
    assert (found["node"], found["field"]) == ("b", "config.output")
    assert "a.items[0].nmae" in found["message"] and "no property 'nmae'" in found["message"]
    assert found.get("severity", "error") == "error"  # the item object is closed
    (found,) = problems(typed_doc({}, "{{ a.count }}"))
    assert found["severity"] == "warning"  # the top object is open: it may be there
    (found,) = problems(typed_doc({}, "{{ a.total.value }}"))
    assert "a.total is integer" in found["message"]
    (found,) = problems(typed_doc({}, "{{ a.total[0] }}"))
    assert "not an array" in found["message"]


def test_nodes_without_a_schema_are_not_checked():
    document = typed_doc({})
    del document["nodes"][0]["output_schema"]
    document["nodes"][1]["config"]["output"] = "{{ a.anything[3].goes }}"
    assert problems(document) == []


@pytest.mark.parametrize(
    "schema, says",
    [
        ({"type": "nope"}, "is not a JSON Schema"),
        ({"properties": {"a": {"type": "string"}}, "x": "y" * 20_000}, "at most 16,384 bytes"),
        ("string", "must be an object"),
    ],
)
def test_a_bad_or_oversized_output_schema_is_refused_naming_the_field(schema, says):
    document = {"nodes": [{"id": "a", "type": "transform", "config": {"output": 1}}]}
    document["nodes"][0]["output_schema"] = schema
    found = [p for p in problems(document) if p.get("field") == "output_schema"]
    assert found and says in found[0]["message"], problems(document)


def test_a_too_deep_output_schema_is_refused():
    schema: dict = {"type": "object"}
    for _ in range(20):
        schema = {"type": "object", "properties": {"x": schema}}
    document = {"nodes": [{"id": "a", "type": "transform", "config": {"output": 1}}]}
    document["nodes"][0]["output_schema"] = schema
    (found,) = [p for p in problems(document) if p.get("field") == "output_schema"]
    assert "nested at most 16 levels" in found["message"]


def test_a_dry_run_fabricates_a_typed_side_effect_output_from_its_schema():
    document = {
        "nodes": [
            {
                "id": "call",
                "type": "http",
                "config": {"url": "https://example.com"},
                "output_schema": ITEMS,
            },
            {"id": "plain", "type": "http", "config": {"url": "https://example.com"}},
            {"id": "use", "type": "transform", "config": {"output": "{{ call.total + 1 }}"}},
        ],
        "edges": [{"source": "call", "target": "use"}],
    }
    report, _ = run(load_document(document), dry_run=True)
    assert report["status"] == "succeeded"
    assert report["nodes"]["call"]["output"] == {"items": [], "total": 1}
    assert report["nodes"]["plain"]["output"] == {"dry_run": True}
    assert report["nodes"]["use"]["output"] == 2
    assert report["nodes"]["call"]["reason"] == "dry run: side effects not performed"


def test_fabricate_follows_const_default_examples_enum_and_bounds():
    assert fabricate({"type": "string", "enum": ["red", "green"]}) == "red"
    assert fabricate({"type": "string", "minLength": 3}) == "xxx"
    assert fabricate({"type": "array", "items": {"type": "integer"}, "minItems": 2}) == [0, 0]
    assert fabricate({"type": "object", "properties": {"ok": {"const": True}}}) == {"ok": True}
    assert fabricate({"type": ["null", "boolean"]}) is False
    assert path_problem({"$ref": "#/x"}, ("a",)) is None
