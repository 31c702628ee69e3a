"""engine/schema/document.json is the one description of the workflow document (issue 14):
a valid JSON Schema whose maxima are engine/limits.py's and whose enums are the engine's, found
as package data wherever the engine is, and read by validation and the API's shape check."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator

from engine import limits, load_document
from engine.backoff import BACKOFFS
from engine.document import DEFAULT_RETRY, DEFAULT_SETTINGS, ON_FAILURE
from engine.planner import JOIN_RULES
from engine.schema import DEFINITIONS, DOCUMENT_SCHEMA, definition, shape
from engine.schema.validator import Validator

ROOT = Path(__file__).resolve().parents[2]
SCHEMA_FILE = "engine/schema/document.json"


def test_the_file_is_a_draft_2020_12_schema():
    Draft202012Validator.check_schema(DOCUMENT_SCHEMA)
    assert DOCUMENT_SCHEMA["$schema"] == "https://json-schema.org/draft/2020-12/schema"


@pytest.mark.parametrize(
    ("part", "field", "limit"),
    [
        ("node", "timeout_s", limits.MAX_NODE_TIMEOUT_S),
        ("retry", "max_attempts", limits.MAX_ATTEMPTS),
        ("retry", "delay_s", limits.MAX_RETRY_DELAY_S),
        ("retry", "max_delay_s", limits.MAX_RETRY_DELAY_S),
        ("retry", "multiplier", limits.MAX_RETRY_MULTIPLIER),
        ("settings", "max_parallel", limits.MAX_PARALLEL),
        ("settings", "timeout_s", limits.MAX_WAIT_S),
        ("cache", "ttl_s", limits.MAX_CACHE_TTL_S),
        ("position", "x", limits.MAX_POSITION),
        ("position", "y", limits.MAX_POSITION),
    ],
)
def test_the_maxima_are_engine_limits(part, field, limit):
    schema = DEFINITIONS[part]["properties"][field]
    assert schema["maximum"] == limit
    if part == "position":
        assert schema["minimum"] == -limit


def test_the_enums_and_defaults_are_the_engine_s():
    node, retry, settings = (
        DEFINITIONS[name]["properties"] for name in ("node", "retry", "settings")
    )
    assert [rule for rule in node["join"]["enum"] if rule is not None] == list(JOIN_RULES)
    assert retry["backoff"]["enum"] == list(BACKOFFS)
    assert settings["on_failure"]["enum"] == list(ON_FAILURE)
    assert retry["max_attempts"]["default"] == DEFAULT_RETRY["max_attempts"]
    assert retry["backoff"]["default"] == DEFAULT_RETRY["backoff"]
    assert settings["max_parallel"]["default"] == DEFAULT_SETTINGS["max_parallel"]
    assert settings["on_failure"]["default"] == DEFAULT_SETTINGS["on_failure"]


def test_a_document_with_its_defaults_applied_has_the_described_shape():
    document = load_document(
        {
            "tags": ["demo"],
            "inputs": {"n": {"type": "number", "default": 1}},
            "nodes": [
                {"id": "a", "type": "transform", "size": {"width": 300, "height": 200}},
                {"id": "b", "type": "transform", "parent": "a", "retry": {"max_attempts": 3}},
            ],
            "edges": [{"source": "a", "target": "b"}],
        }
    )
    assert list(Validator(DOCUMENT_SCHEMA).iter_errors(document)) == []
    assert shape.document_shape_problems(document) == []


def test_the_shape_check_names_each_problem_in_the_order_a_reader_fixes_them():
    document = load_document(
        {
            "nodes": [
                {"id": "a", "type": "noop", "size": {"height": 0, "w": 1}, "colour": "red"},
                {"id": "b", "type": "noop", "disabled": "yes", "position": {"x": "left"}},
            ],
        }
    )
    found = [(p.code, p.field, p.message) for p in shape.document_shape_problems(document)]
    known, node_fields = "width, height", ", ".join(DEFINITIONS["node"]["properties"])
    assert found == [
        (
            "unknown_field",
            "nodes[0].colour",
            f"nodes[0].colour: unknown field (known fields: {node_fields})",
        ),
        (
            "unknown_field",
            "nodes[0].size.w",
            f"nodes[0].size.w: unknown field (known fields: {known})",
        ),
        ("missing_field", "nodes[0].size.width", "nodes[0].size.width: required"),
        (
            "bad_value",
            "nodes[0].size.height",
            "nodes[0].size.height: must be greater than 0, got 0",
        ),
        ("bad_type", "nodes[1].disabled", "nodes[1].disabled: must be true or false, got a string"),
        (
            "bad_type",
            "nodes[1].position.x",
            "nodes[1].position.x: must be an integer or a number, got a string",
        ),
        ("missing_field", "nodes[1].position.y", "nodes[1].position.y: required"),
    ]


def test_an_edge_shaped_like_a_valid_node_is_still_refused():
    node = {"id": "a", "type": "noop"}
    assert shape.document_shape_problems(load_document({"nodes": [node]})) == []
    edge_like_node = load_document({"nodes": [node], "edges": [dict(node)]})
    fields = {p.field for p in shape.document_shape_problems(edge_like_node)}
    assert fields == {"edges[0].type", "edges[0].source", "edges[0].target"}


def test_standalone_parts_need_no_references():
    assert "$ref" not in str(definition("node")) and "$ref" not in str(definition("settings"))


def test_the_file_is_tracked_and_found_from_a_clean_copy_of_the_engine(tmp_path):
    if shutil.which("git") is None or not (ROOT / ".git").exists():
        pytest.skip("not a git checkout")
    git = ["git", "-C", str(ROOT)]
    tracked = subprocess.run([*git, "ls-files", "engine"], capture_output=True, text=True)
    added = subprocess.run(
        [*git, "ls-files", "--others", "--exclude-standard", "engine"],
        capture_output=True,
        text=True,
    )
    files = set(tracked.stdout.split()) | set(added.stdout.split())  # a clone has these
    assert SCHEMA_FILE in files
    ignored = subprocess.run([*git, "check-ignore", "-q", SCHEMA_FILE])
    assert ignored.returncode == 1, f"{SCHEMA_FILE} is git-ignored: a clone would lack it"
    for name in files:
        if (ROOT / name).exists():
            (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(ROOT / name, tmp_path / name)
    code = "import engine.schema as s; print(s.DOCUMENT_SCHEMA['title'], s.__file__)"
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["WorkflowDocument", str(tmp_path / "engine/schema/__init__.py")]


def test_the_front_end_s_generated_document_types_are_up_to_date(tmp_path):
    frontend = ROOT / "frontend"
    if not (frontend / "node_modules" / "json-schema-to-typescript").is_dir():
        pytest.skip("frontend/node_modules is absent (`make test` installs it with npm ci)")
    fresh = tmp_path / "document.generated.ts"
    done = subprocess.run(
        ["node", "scripts/types.mjs", str(fresh)],
        cwd=frontend,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    committed = frontend / "src/lib/document.generated.ts"
    assert committed.read_text() == fresh.read_text(), (
        f"{committed.relative_to(ROOT)} is stale: run `npm run types` in frontend/"
    )
