"""The parts of engine/execution/: ExecutionOptions (the `options` mapping an Execution is
given, read once) and the Host interface container bodies reach their execution through."""

import asyncio

from engine import Execution, Graph, load_document
from engine.execution import ExecutionOptions
from engine.execution.bodies import Host
from engine.execution.options import DEFAULT_DURABLE_DELAY_S, DEFAULT_MAX_OUTPUT_BYTES


def test_missing_or_empty_values_are_the_defaults():
    options = ExecutionOptions.from_mapping({"max_output_bytes": 0, "depth": None})
    assert options == ExecutionOptions(clock=options.clock)
    assert options.max_output_bytes == DEFAULT_MAX_OUTPUT_BYTES
    assert options.durable_delay_threshold_s == DEFAULT_DURABLE_DELAY_S


def test_a_null_durable_delay_threshold_means_never():
    options = ExecutionOptions.from_mapping({"durable_delay_threshold_s": None})
    assert options.durable_delay_threshold_s is None
    assert options.handler_settings()["durable_delay_threshold_s"] is None


def test_an_execution_takes_the_dataclass_as_well_as_a_mapping():
    doc = load_document({"nodes": [{"id": "a", "type": "transform", "config": {"output": 1}}]})
    for options in (ExecutionOptions(dry_run=True), {"dry_run": True}):
        report = asyncio.run(Execution(Graph.from_document(doc), options=options).run())
        assert report.status == "succeeded"
        assert report.dry_run is True


def test_an_execution_is_what_container_bodies_expect_of_their_host():
    doc = load_document({"nodes": [{"id": "a", "type": "transform", "config": {"output": 1}}]})
    assert isinstance(Execution(Graph.from_document(doc)), Host)
