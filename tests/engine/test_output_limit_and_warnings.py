"""The runtime's hard limit on one node's output, and run-level warnings."""

from engine import Execution, Graph, load_document


def document(value_size: int) -> dict:
    return load_document(
        {
            "version": 1,
            "nodes": [
                {"id": "big", "type": "transform", "config": {"output": "x" * value_size}},
                {"id": "after", "type": "transform", "config": {"output": 1}},
                {"id": "rescue", "type": "transform", "config": {"output": "{{ input.error }}"}},
            ],
            "edges": [
                {"id": "e1", "source": "big", "target": "after"},
                {"id": "e2", "source": "big", "source_handle": "error", "target": "rescue"},
            ],
        }
    )


async def test_an_output_over_the_limit_fails_the_node_with_a_clear_error():
    events = []
    execution = Execution(
        Graph.from_document(document(5000)), sink=events.append, options={"max_output_bytes": 1000}
    )
    report = (await execution.run()).to_dict()
    big = report["nodes"]["big"]
    assert big["status"] == "failed"
    assert big["error"]["type"] == "output_too_large"
    assert "5,002 bytes, over the 1,000-byte limit" in big["error"]["message"]
    assert report["nodes"]["after"]["status"] == "skipped"
    assert report["nodes"]["rescue"]["output"]["type"] == "output_too_large"


async def test_an_output_under_the_limit_is_kept_whole():
    execution = Execution(Graph.from_document(document(900)), options={"max_output_bytes": 1000})
    report = (await execution.run()).to_dict()
    assert report["nodes"]["big"]["output"] == "x" * 900


async def test_warn_emits_a_run_level_warning_event_in_sequence():
    events = []
    execution = Execution(Graph.from_document(document(10)), sink=events.append)
    execution.warn("stalled: no event for 60 s while big running")
    await execution.run()
    warning = events[0].to_dict()
    assert warning["type"] == "node.log"
    assert warning["node"] is None
    assert warning["level"] == "warning"
    assert warning["message"].startswith("stalled")
    assert [e.seq for e in events] == list(range(1, len(events) + 1))
