"""`visualise` (SPEC §7): containers drawn as clusters around their body in dot and mermaid,
and `FILE --run N` refused, with a non-zero exit, when run N did not run FILE's workflow."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import CommandError

from tests.browser.conftest import test_database_url as database_url_of_tests
from tests.factories import workflow_for
from tests.observability.conftest import DIAMOND
from tests.observability.test_commands import run_command

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]

NESTED = {
    "version": 1,
    "name": "nested",
    "nodes": [
        {"id": "before", "type": "transform", "config": {"output": [[1], [2]]}},
        {"id": "outer", "type": "map", "name": "Each row", "config": {"items": "{{ before }}"}},
        {"id": "inner", "type": "map", "parent": "outer", "config": {"items": "{{ input }}"}},
        {"id": "cell", "type": "transform", "parent": "inner", "config": {"output": 1}},
        {"id": "tidy", "type": "transform", "parent": "outer", "config": {"output": 2}},
        {"id": "after", "type": "transform", "config": {"output": "{{ outer }}"}},
    ],
    "edges": [
        {"id": "e1", "source": "before", "target": "outer"},
        {"id": "e2", "source": "inner", "target": "tidy"},
        {"id": "e3", "source": "outer", "target": "after"},
    ],
}


def block(text: str, start: str, end: str) -> str:
    """The lines from the one starting with `start` to the matching `end` (nesting counted)."""
    lines = text.splitlines()
    first = next(i for i, line in enumerate(lines) if line.strip().startswith(start))
    depth = 0
    for i in range(first, len(lines)):
        stripped = lines[i].strip()
        if stripped.startswith(("subgraph",)):
            depth += 1
        elif stripped == end:
            depth -= 1
            if depth == 0:
                return "\n".join(lines[first : i + 1])
    raise AssertionError(f"{start} is not closed in:\n{text}")


def test_dot_draws_each_container_as_a_cluster_around_its_body(tmp_path):
    path = tmp_path / "nested.json"
    path.write_text(json.dumps(NESTED))
    out = run_command("visualise", str(path), "--format", "dot")
    outer = block(out, 'subgraph "cluster_outer"', "}")
    inner = block(out, 'subgraph "cluster_inner"', "}")
    assert 'label="Each row [outer]";' in outer
    assert inner in outer  # nested containers nest
    assert '"cell" [' in inner and '"tidy" [' in outer and '"tidy" [' not in inner
    assert '"before" [' not in outer and '"after" [' not in outer
    assert '"before" -> "outer";' in out and '"inner" -> "tidy";' in out


def test_mermaid_draws_each_container_as_a_subgraph(tmp_path):
    path = tmp_path / "nested.yaml"
    path.write_text(json.dumps(NESTED))
    out = run_command("visualise", str(path), "--format", "mermaid")
    outer = block(out, 'subgraph outer["Each row [outer]"]', "end")
    inner = block(out, "subgraph inner", "end")
    assert inner in outer
    assert 'cell["cell (transform)"]' in inner and "tidy[" in outer and "tidy[" not in inner
    assert "before --> outer" in out and "inner --> tidy" in out
    assert 'outer["' not in out.replace('subgraph outer["', "")  # not also a plain node


def test_a_file_with_a_run_of_another_workflow_is_refused(tmp_path, diamond_run):
    path = tmp_path / "nested.json"
    path.write_text(json.dumps(NESTED))
    with pytest.raises(CommandError) as refused:
        run_command("visualise", str(path), "--run", str(diamond_run.pk))
    message = str(refused.value)
    assert f"run {diamond_run.pk} is not a run of {path}" in message
    assert f"workflow {diamond_run.workflow_id} ('diamond')" in message


def test_a_file_with_a_run_of_its_workflow_is_drawn_in_the_run_colours(tmp_path, diamond_run):
    path = tmp_path / "diamond.json"
    path.write_text(json.dumps(DIAMOND))
    out = run_command("visualise", str(path), "--format", "dot", "--run", str(diamond_run.pk))
    assert '"never" [label="never (transform)", fillcolor="#cbd5e1"' in out


def test_an_id_with_a_run_of_another_workflow_is_refused(user, diamond_run):
    other = workflow_for(user, NESTED)
    with pytest.raises(CommandError, match=f"run {diamond_run.pk} is not a run of workflow"):
        run_command("visualise", str(other.pk), "--run", str(diamond_run.pk))


def test_the_refusal_exits_non_zero_from_the_shell(tmp_path):
    path = tmp_path / "nested.json"
    path.write_text(json.dumps(NESTED))
    env = {**os.environ, "DATABASE_URL": database_url_of_tests()}  # the test database's schema
    done = subprocess.run(
        [sys.executable, "manage.py", "visualise", str(path), "--run", "999999999"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )
    assert done.returncode != 0
    assert "999999999" in done.stderr
