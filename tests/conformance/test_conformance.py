"""Every scenario of the shared conformance suite runs through the engine, and a few through
`manage.py run_workflow FILE --json`, and must meet its `expect`.

The suite is kept in the repository (`shared/` beside this file) so a clone without
../shared runs it; where ../shared/conformance exists, the copy must be identical to it.
This project's own scenarios (`scenarios/`) may also carry `workflows` (saved workflows by
name, which `subworkflow` nodes and `on_failure.run` start: `saved_workflows`) and expect a
node's `recovery_status` (what its recovery did)."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from pathlib import Path

import pytest

from engine import Execution, Graph, errors_only, load_document, validate_document
from engine.handlers.base import NodeError
from tests.conformance.expectations import max_concurrency, mismatches
from tests.runtime.workers import worker_env

PROJECT = Path(__file__).resolve().parents[2]
FOLDER = Path(__file__).resolve().parent / "shared"  # the copy of ../shared/conformance
UPSTREAM = PROJECT.parent / "shared" / "conformance"
OWN = Path(__file__).resolve().parent / "scenarios"  # this project's extra scenarios
CLI_SCENARIOS = ["01_sequence", "06_unhandled_continue", "08_retry_then_succeed", "20_invalid_many"]


def scenario_files() -> list[Path]:
    return sorted(FOLDER.glob("*.json")) if FOLDER.is_dir() else []


def own_scenario_files() -> list[Path]:
    return sorted(OWN.glob("*.json"))


def scenario_params() -> list:
    params = [pytest.param(path, id=path.stem) for path in scenario_files()]
    params.extend(pytest.param(path, id=f"own/{path.stem}") for path in own_scenario_files())
    return params


def run_scenario(scenario: dict) -> dict:
    """The run report of a scenario, or `{"status": "invalid", "errors": [...]}`."""
    document = load_document(scenario["workflow"])
    errors = errors_only(validate_document(document))
    if errors:
        return {"status": "invalid", "errors": [problem.to_dict() for problem in errors]}
    options = {"run_subworkflow": saved_workflows(scenario.get("workflows") or {})}
    graph = Graph.from_document(document)
    execution = Execution(graph, inputs=scenario.get("inputs") or {}, options=options)
    return asyncio.run(execution.run()).to_dict()


def saved_workflows(workflows: dict[str, dict], recovering: tuple[str, ...] = ()):
    """A scenario's `workflows` (by name) as the runtime's `run_subworkflow` would run them:
    a child execution whose outputs are the answer, a NodeError when it does not succeed, and
    the runtime's recursion rules (its nesting limit; a recovery never starts a workflow that
    is already recovering above it)."""

    async def run_subworkflow(workflow, inputs, depth, node_id, **kwargs):
        name = str(workflow)
        if name not in workflows:
            raise NodeError(f"no workflow {name!r}", "subworkflow")
        recovery = bool(kwargs.get("recovery"))
        if depth > 5 or (recovery and name in recovering):
            raise NodeError(f"workflow {name} is already recovering", "recursion")
        if kwargs.get("started"):
            kwargs["started"](f"{name}#{depth}")
        above = (*recovering, name) if recovery else recovering
        options = {"run_subworkflow": saved_workflows(workflows, above), "depth": depth}
        graph = Graph.from_document(load_document(workflows[name]))
        report = await Execution(graph, inputs=inputs, options=options).run()
        if report.status != "succeeded":
            message = (report.error or {}).get("message")
            raise NodeError(f"workflow {name} {report.status}: {message}", "subworkflow")
        return report.outputs

    return run_subworkflow


def test_conformance_folder_has_scenarios():
    assert FOLDER.is_dir(), f"conformance scenarios not found: {FOLDER} is missing"
    assert scenario_files(), f"no *.json scenario in {FOLDER}"


@pytest.mark.skipif(not UPSTREAM.is_dir(), reason="no ../shared/conformance beside this clone")
def test_the_copy_of_the_conformance_suite_is_up_to_date():
    ours = {path.name: path.read_bytes() for path in FOLDER.iterdir() if path.is_file()}
    theirs = {path.name: path.read_bytes() for path in UPSTREAM.iterdir() if path.is_file()}
    assert sorted(ours) == sorted(theirs), (
        "copy ../shared/conformance/* into tests/conformance/shared/"
    )
    stale = sorted(name for name in theirs if ours[name] != theirs[name])
    assert not stale, f"tests/conformance/shared/ differs from ../shared/conformance in {stale}"


@pytest.mark.parametrize("path", scenario_params())
def test_scenario_through_the_engine(path: Path):
    scenario = json.loads(path.read_text())
    report = run_scenario(scenario)
    assert mismatches(scenario["expect"], report) == []


def cli_params() -> list:
    by_name = {path.stem: path for path in scenario_files()}
    return [pytest.param(by_name[name], id=name) for name in CLI_SCENARIOS if name in by_name]


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("path", cli_params())
def test_scenario_through_run_workflow_command(path: Path, tmp_path: Path):
    scenario = json.loads(path.read_text())
    workflow = tmp_path / "workflow.json"
    workflow.write_text(json.dumps(scenario["workflow"]))
    command = [sys.executable, "manage.py", "run_workflow", str(workflow), "--json"]
    for key, value in (scenario.get("inputs") or {}).items():
        command += ["--input", f"{key}={json.dumps(value)}"]
    env = worker_env()  # the test database: the command records the run there
    done = subprocess.run(command, cwd=PROJECT, capture_output=True, text=True, timeout=60, env=env)
    report = json.loads(done.stdout)
    assert mismatches(scenario["expect"], report) == []
    expected_exit = {"succeeded": 0, "invalid": 2}.get(scenario["expect"]["status"], 1)
    assert done.returncode == expected_exit, done.stderr


def test_max_concurrency_counts_overlapping_executions():
    def node(start: float, end: float) -> dict:
        return {
            "started_at": f"2026-01-01T00:00:{start:09.6f}Z",
            "finished_at": f"2026-01-01T00:00:{end:09.6f}Z",
        }

    report = {"nodes": {"a": node(0, 1), "b": node(0.5, 1.5), "c": node(0.995, 2)}}
    assert max_concurrency(report) == 2  # c touches a's end only within the tolerance
    report["nodes"]["d"] = node(0.6, 0.9)
    assert max_concurrency(report) == 3
