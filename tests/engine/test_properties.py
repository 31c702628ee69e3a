"""Hypothesis properties over random DAGs, against a small sequential reference interpreter.

Random graphs (<= 60 nodes) of test-only types: `noop` (succeeds), `fail` (always fails),
`choose` (takes the handles in its config), random join rules, error edges, disabled nodes,
tiny delays and a random max_parallel. Properties: (a) no node starts before the sources its
rule waits for are resolved; (b) each node executes at most once; (c) final states equal the
reference interpreter's; (d) the run never ends with a node running; (e) a snapshot taken at a
random moment, restored and finished, gives the same final states and repeats no completed node.
"""

from __future__ import annotations

import asyncio
import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine import JOIN_RULES, Execution, NodeState
from engine.states import RUN_TERMINAL
from tests.engine import support
from tests.engine.support import build, doc

pytestmark = pytest.mark.timeout(120)
RULES = sorted(JOIN_RULES)
HANDLES = {"noop": ("out",), "fail": ("out",), "choose": ("a", "b", "c")}
TERMINAL = {str(state) for state in NodeState if state in {
    NodeState.SUCCEEDED, NodeState.FAILED, NodeState.SKIPPED,
    NodeState.UPSTREAM_FAILED, NodeState.CANCELLED,
}}  # fmt: skip
RUN_ENDED = {str(state) for state in RUN_TERMINAL}


@st.composite
def workflows(draw):
    n = draw(st.integers(1, 60))
    nodes, edges = [], []
    for i in range(n):
        kind = draw(st.sampled_from(["noop", "noop", "fail", "choose"]))
        fields = {
            "join": draw(st.sampled_from(RULES)),
            "disabled": draw(st.integers(0, 9)) == 0,
        }
        config = {}
        if kind == "choose":
            config["handles"] = draw(
                st.lists(st.sampled_from(["a", "b", "c"]), unique=True, max_size=2)
            )
        if kind != "choose" and draw(st.integers(0, 4)) == 0:
            config["sleep"] = draw(st.sampled_from([0.0005, 0.001, 0.002]))
        fields["config"] = config
        nodes.append((f"n{i}", kind, fields))
        if i:
            for source in draw(st.lists(st.integers(0, i - 1), max_size=3)):
                source_kind = nodes[source][1]
                handle = draw(st.sampled_from([*HANDLES[source_kind], "error"]))
                edges.append((f"n{source}", f"n{i}", handle))
    max_parallel = draw(st.integers(1, 8))
    return doc(nodes, edges, settings={"max_parallel": max_parallel})


# ---- the reference: decide every node in index order, knowing every source's final state ----


def reference(document: dict) -> dict[str, str]:
    nodes = {node["id"]: node for node in document["nodes"]}
    into: dict[str, dict[str, list[str]]] = {node_id: {} for node_id in nodes}
    error_edges = {node_id: False for node_id in nodes}
    for edge in document["edges"]:
        into[edge["target"]].setdefault(edge["source"], []).append(edge["source_handle"])
        if edge["source_handle"] == "error":
            error_edges[edge["source"]] = True
    state: dict[str, str] = {}
    chosen: dict[str, tuple] = {}
    for node_id, node in nodes.items():
        pairs = [
            pair_state(state[s], chosen.get(s, ()), error_edges[s], hs)
            for s, hs in into[node_id].items()
        ]
        decision = decide(node["join"], pairs) if pairs else "run"
        if decision != "run":
            state[node_id] = decision
        elif node["disabled"]:
            state[node_id], chosen[node_id] = "succeeded", HANDLES[node["type"]][:1]
        elif node["type"] == "fail":
            state[node_id] = "failed"
        else:
            state[node_id] = "succeeded"
            chosen[node_id] = (
                tuple(node["config"]["handles"]) if node["type"] == "choose" else ("out",)
            )
    return state


def pair_state(source: str, handles: tuple, has_error_edges: bool, edge_handles: list) -> str:
    if source == "succeeded":
        return "taken" if any(h in handles for h in edge_handles) else "skipped"
    if source == "failed" and has_error_edges:
        return "taken" if "error" in edge_handles else "skipped"
    return "skipped" if source == "skipped" else "failed"


def decide(rule: str, pairs: list[str]) -> str:
    t, f, n = pairs.count("taken"), pairs.count("failed"), len(pairs)
    if rule == "none_failed_min_one_success":
        return "upstream_failed" if f else "run" if t else "skipped"
    if rule == "all_success":
        return "run" if t == n else "upstream_failed" if f else "skipped"
    if rule == "one_success":
        return "run" if t else "upstream_failed" if f else "skipped"
    if rule == "all_done":
        return "run"
    if rule == "none_failed":
        return "upstream_failed" if f else "run"
    if rule == "one_failed":
        return "run" if f else "skipped"
    if rule == "all_failed":
        return "run" if f == n else "skipped"
    raise AssertionError(rule)


# ---- running -------------------------------------------------------------------------------


def run_collecting(graph, snapshot_at: int | None = None, snapshot=None):
    events: list = []
    taken: list = []

    def sink(event):
        events.append(event)
        # Timing may give this run fewer events than the one `snapshot_at` was chosen from:
        # then the snapshot is the finished run's (a restore of it runs nothing).
        ended = event.type == "run.status" and event.status in RUN_ENDED
        if snapshot_at is not None and not taken and (event.seq >= snapshot_at or ended):
            taken.append(json.loads(json.dumps(execution.snapshot())))

    support.executions.clear()
    execution = Execution(graph, sink=sink, snapshot=snapshot, registry=support.registry)
    report = asyncio.run(execution.run()).to_dict()
    return report, events, list(support.executions), (taken[0] if taken else None)


def final_states(report: dict) -> dict[str, str]:
    return {node_id: node["status"] for node_id, node in report["nodes"].items()}


def check_start_order(document: dict, events: list) -> None:
    """(a): when a node starts, the sources its rule waits for have resolved."""
    resolved_at: dict[str, int] = {}
    failed_at: dict[str, int] = {}
    for event in events:
        if event.type == "node.status" and event.status in TERMINAL:
            resolved_at.setdefault(event.node, event.seq)
            if event.status in ("failed", "upstream_failed"):
                failed_at.setdefault(event.node, event.seq)
    sources: dict[str, set] = {}
    for edge in document["edges"]:
        sources.setdefault(edge["target"], set()).add(edge["source"])
    joins = {node["id"]: node["join"] for node in document["nodes"]}
    for event in events:
        if event.type != "node.status" or event.status != "running" or event.attempt != 1:
            continue
        before = {s for s in sources.get(event.node, ()) if resolved_at.get(s, 1 << 30) < event.seq}
        rule = joins[event.node]
        if not sources.get(event.node):
            continue  # a root starts at once
        if rule == "one_success" or rule == "one_failed":
            assert before, f"{event.node} ({rule}) started before any source resolved"
        else:
            assert before == sources.get(event.node, set()), f"{event.node} ({rule}) started early"


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(document=workflows(), moment=st.floats(0, 1))
def test_random_dags_match_the_reference_and_survive_a_restore(document, moment):
    graph = build(document)
    expected = reference(document)

    report, events, executed, _ = run_collecting(graph)
    check_start_order(document, events)  # (a)
    assert len(executed) == len(set(executed)), "a node executed twice"  # (b)
    assert final_states(report) == expected  # (c)
    assert set(final_states(report).values()) <= TERMINAL  # (d)
    unhandled = any(
        node["status"] == "failed" and not node["handled"] for node in report["nodes"].values()
    )
    assert report["status"] == ("failed" if unhandled else "succeeded")

    at = max(1, int(moment * len(events)))
    _, _, _, snapshot = run_collecting(graph, snapshot_at=at)  # (e)
    done_before = {
        n for n, s in snapshot["nodes"].items() if s["status"] in ("succeeded", "failed")
    }
    restored, _, executed_after, _ = run_collecting(graph, snapshot=snapshot)
    assert final_states(restored) == expected
    assert not done_before & {node_id for node_id, _ in executed_after}
