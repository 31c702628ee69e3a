"""Executor behaviour not covered elsewhere: inputs, options, rendering, errors, concurrency."""

import asyncio
import time

import pytest

from engine import Execution, Graph, load_document
from engine.handlers.base import Handler, HandlerContext, HandlerResult, Registry
from tests.engine.support import doc, run

pytestmark = pytest.mark.timeout(30)


def run_builtin(document: dict, **kwargs):
    events: list = []
    execution = Execution(
        Graph.from_document(load_document(document)), sink=events.append, **kwargs
    )
    return asyncio.run(execution.run()).to_dict(), events


def test_output_nodes_are_collected_in_the_run_outputs():
    report, _ = run_builtin(
        {
            "nodes": [
                {"id": "a", "type": "transform", "config": {"output": {"n": 2}}},
                {"id": "total", "type": "output", "config": {"value": "{{ a.n * 21 }}"}},
            ],
            "edges": [{"source": "a", "target": "total"}],
        }
    )
    assert report["outputs"] == {"total": 42}


def test_declared_input_defaults_apply_and_given_inputs_win():
    document = {
        "inputs": {"who": {"type": "string", "default": "world"}, "n": {"default": 1}},
        "nodes": [
            {
                "id": "a",
                "type": "transform",
                "config": {"output": "{{ inputs.who }}-{{ inputs.n }}"},
            }
        ],
    }
    report, _ = run_builtin(document, inputs={"n": 5})
    assert report["nodes"]["a"]["output"] == "world-5"


def test_render_error_fails_the_node_with_type_expression():
    report, _ = run_builtin(
        {
            "inputs": {"x": {}},
            "nodes": [{"id": "a", "type": "transform", "config": {"output": "{{ inputs.x.y }}"}}],
        },
        inputs={"x": {}},
    )
    error = report["nodes"]["a"]["error"]
    assert error["type"] == "expression"
    assert "no such key" in error["message"]


def test_env_exposes_only_allow_listed_names():
    document = {
        "settings": {"env": ["REGION"]},
        "nodes": [{"id": "a", "type": "transform", "config": {"output": "{{ env }}"}}],
    }
    report, _ = run_builtin(document, options={"env": {"REGION": "eu", "AWS_SECRET": "x"}})
    assert report["nodes"]["a"]["output"] == {"REGION": "eu"}


def test_node_scope_carries_id_attempt_and_run():
    document = {
        "nodes": [{"id": "a", "type": "transform", "config": {"output": "{{ [node, run] }}"}}]
    }
    report, _ = run_builtin(document, run_id=7)
    assert report["nodes"]["a"]["output"] == [{"id": "a", "attempt": 1}, {"id": 7}]
    assert report["run"] == 7


class Boom(Handler):
    type = "boom"
    label = "Boom"
    side_effects = True
    calls = 0

    async def run(self, ctx: HandlerContext) -> HandlerResult:
        Boom.calls += 1
        raise KeyError("surprise")


def test_unexpected_handler_exception_fails_the_node_not_the_engine():
    registry = Registry()
    registry.register(Boom)
    graph = Graph.from_document(load_document({"nodes": [{"id": "b", "type": "boom"}]}), registry)
    report = asyncio.run(Execution(graph).run()).to_dict()
    assert report["nodes"]["b"]["error"] == {"message": "KeyError: 'surprise'", "type": "exception"}
    assert report["status"] == "failed"


def test_dry_run_replaces_side_effects_with_a_placeholder():
    registry = Registry()
    registry.register(Boom)
    Boom.calls = 0
    graph = Graph.from_document(load_document({"nodes": [{"id": "b", "type": "boom"}]}), registry)
    report = asyncio.run(Execution(graph, options={"dry_run": True}).run()).to_dict()
    assert report["nodes"]["b"]["output"] == {"dry_run": True}
    assert Boom.calls == 0


def test_max_parallel_queues_ready_nodes_and_bounds_concurrency():
    document = doc(
        [(f"d{i}", "noop", {"config": {"sleep": 0.1}}) for i in range(4)],
        settings={"max_parallel": 2},
    )
    started = time.monotonic()
    _, events = run(document)
    took = time.monotonic() - started
    assert 0.19 < took < 0.6
    queued = sorted(e["node"] for e in events if e["status"] == "queued")
    assert queued == ["d2", "d3"]
    running, peak = 0, 0
    for event in events:
        if event["type"] == "node.status":
            running += {"running": 1, "succeeded": -1}.get(event["status"], 0)
            peak = max(peak, running)
    assert peak == 2


def test_report_timestamps_have_microseconds_and_nodes_that_never_ran_have_none():
    report, _ = run(doc([("c", "choose", {"config": {"handles": []}}), "x"], [("c", "x", "a")]))
    assert report["started_at"].endswith("Z") and len(report["started_at"]) == 27
    assert report["nodes"]["x"]["started_at"] is None
    assert report["nodes"]["x"]["finished_at"] is None
    assert report["iterations"] == {}
    assert report["error"] is None
