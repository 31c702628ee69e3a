"""The project's approval scenarios (tests/conformance/scenarios/decisions/): each runs
through the engine until it parks, then every entry of its `decisions` is applied to an
execution restored from the JSON snapshot — as a worker would after a restart — and the final
report must meet `expect` (the keys of tests/conformance/shared/README.md).

A decision is `{"node", "approved", "data"?, "by"?, "expect_paused"?}`, or `{"resume": true,
"expect_paused"?}` to resume a run paused on demand; `expect_paused` maps node ids to the status
each must have while the run waits for that decision. A scenario's `pause_when_running` names a
node: the run is paused on demand (SPEC §8 Control) the moment that node starts."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from engine import Execution, Graph, errors_only, load_document, validate_document
from tests.conformance.expectations import mismatches

FOLDER = Path(__file__).resolve().parent / "scenarios" / "decisions"


def decision_files() -> list[Path]:
    return sorted(FOLDER.glob("*.json"))


def run_with_decisions(scenario: dict) -> dict:
    """The final report after every decision, each applied to a restored execution."""
    document = load_document(scenario["workflow"])
    assert errors_only(validate_document(document)) == []
    graph = Graph.from_document(document)
    first: list[Execution] = []
    sink = pause_when_running(scenario, graph, first)
    execution = Execution(graph, inputs=scenario.get("inputs") or {}, sink=sink)
    first.append(execution)
    report = asyncio.run(execution.run()).to_dict()
    for decision in scenario["decisions"]:
        before = decision.get("node", "the resume")
        assert report["status"] == "paused", f"expected a pause before {before}"
        for node_id, status in decision.get("expect_paused", {}).items():
            assert report["nodes"][node_id]["status"] == status, node_id
        snapshot = json.loads(json.dumps(execution.snapshot()))
        execution = Execution(graph, snapshot=snapshot)
        if decision.get("resume"):
            execution.unpause()
        else:
            execution.approve_node(
                decision["node"], decision["approved"], decision.get("data"), decision.get("by")
            )
        report = asyncio.run(execution.run()).to_dict()
    return report


def pause_when_running(scenario: dict, graph: Graph, execution: list[Execution]):
    """The first execution's sink (`execution` holds it once built): it pauses the run on
    demand when the node the scenario's `pause_when_running` names starts (no timing
    involved); None when there is none."""
    node = scenario.get("pause_when_running")
    if node is None:
        return None
    assert node in graph.index, f"pause_when_running: no node {node!r}"

    def sink(event) -> None:
        if event.type == "node.status" and event.status == "running" and event.node == node:
            execution[0].pause("conformance")

    return sink


def test_decision_folder_has_scenarios():
    assert decision_files(), f"no *.json scenario in {FOLDER}"


@pytest.mark.parametrize("path", decision_files(), ids=lambda path: path.stem)
def test_approval_scenario_through_the_engine(path: Path):
    scenario = json.loads(path.read_text())
    report = run_with_decisions(scenario)
    assert mismatches(scenario["expect"], report) == []
