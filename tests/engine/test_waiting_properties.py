"""A waiting node waits alone (SPEC §8 Control): with approvals, breakpoints and failure pauses
placed in random DAGs, the branches that do not depend on a waiting node go on, and the run
parks only when nothing else can run.

Properties, against a reference interpreter that knows which nodes wait: (a) no node starts
before the sources its rule waits for are resolved, so nothing downstream of a waiting node
starts before it is decided; (b) when the run parks, every node that does not depend on a
waiting node has reached its final state and the nodes that do are still `pending`; (c)
deciding the waiting nodes (each on an execution restored from the JSON snapshot) ends the
run with every node terminal and no completed node run twice.
"""

from __future__ import annotations

import asyncio
import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine import JOIN_RULES, Execution
from engine.handlers.base import Handler, HandlerContext, Registry, Wait
from tests.engine import support
from tests.engine.support import build, doc, run
from tests.engine.test_properties import TERMINAL, check_start_order, decide, pair_state

pytestmark = pytest.mark.timeout(180)
RULES = sorted(JOIN_RULES)
HANDLES = {"noop": ("out",), "fail": ("out",), "park": ("approved", "rejected")}


class Park(Handler):
    """Waits for an approval (the engine's `approval` node, without its config)."""

    type = "park"
    label = "Park"
    outputs = ("approved", "rejected")

    async def run(self, ctx: HandlerContext) -> Wait:
        support.executions.append((ctx.node_id, ctx.attempt))
        return Wait("approval")


registry = Registry()
for handler in (support.Noop, support.Fail, Park):
    registry.register(handler)


@st.composite
def workflows(draw):
    n = draw(st.integers(1, 40))
    nodes, edges = [], []
    for i in range(n):
        kind = draw(st.sampled_from(["noop", "noop", "noop", "fail", "park"]))
        config = {}
        if kind != "park" and draw(st.integers(0, 4)) == 0:
            config["sleep"] = draw(st.sampled_from([0.0005, 0.001, 0.003]))
        fields = {
            "join": draw(st.sampled_from(RULES)),
            "disabled": draw(st.integers(0, 11)) == 0,
            "breakpoint": draw(st.integers(0, 7)) == 0,
            "config": config,
        }
        nodes.append((f"n{i}", kind, fields))
        if i:
            for source in draw(st.lists(st.integers(0, i - 1), max_size=3)):
                handle = draw(st.sampled_from([*HANDLES[nodes[source][1]], "error"]))
                edges.append((f"n{source}", f"n{i}", handle))
    on_failure = draw(st.sampled_from(["continue", "pause"]))
    debug = draw(st.booleans())
    settings_ = {"max_parallel": draw(st.integers(1, 6)), "on_failure": on_failure}
    return doc(nodes, edges, settings=settings_), debug


def reference_until_park(document: dict, debug: bool) -> dict[str, str]:
    """Each node's state when the run parks: `waiting` for the nodes that wait, `pending` for
    those that cannot be decided without a waiting node's outcome, else the final state."""
    nodes = {node["id"]: node for node in document["nodes"]}
    into: dict[str, dict[str, list[str]]] = {node_id: {} for node_id in nodes}
    error_edges = dict.fromkeys(nodes, False)
    for edge in document["edges"]:
        into[edge["target"]].setdefault(edge["source"], []).append(edge["source_handle"])
        if edge["source_handle"] == "error":
            error_edges[edge["source"]] = True
    pause = document["settings"]["on_failure"] == "pause"
    state: dict[str, str] = {}
    chosen: dict[str, tuple] = {}
    for node_id, node in nodes.items():
        known = {s: hs for s, hs in into[node_id].items() if state[s] not in ("waiting", "pending")}
        pairs = [
            pair_state(state[s], chosen.get(s, ()), error_edges[s], hs) for s, hs in known.items()
        ]
        if len(known) < len(into[node_id]):  # some source is undecided
            fires = (
                "taken"
                if node["join"] == "one_success"
                else "failed"
                if node["join"] == "one_failed"
                else None
            )
            decision = "run" if fires in pairs else "pending"
        else:
            decision = decide(node["join"], pairs) if pairs else "run"
        if decision != "run":
            state[node_id] = decision
        elif debug and node["breakpoint"]:
            state[node_id] = "waiting"
        elif node["disabled"]:
            state[node_id], chosen[node_id] = "succeeded", HANDLES[node["type"]][:1]
        elif node["type"] == "park":
            state[node_id] = "waiting"
        elif node["type"] == "fail":
            state[node_id] = "waiting" if pause and not error_edges[node_id] else "failed"
        else:
            state[node_id], chosen[node_id] = "succeeded", ("out",)
    return state


def run_once(graph, debug: bool, snapshot=None, decide_waiting=False):
    events: list = []
    support.executions.clear()
    execution = Execution(
        graph, sink=events.append, snapshot=snapshot, registry=registry, options={"debug": debug}
    )
    if decide_waiting:
        for node_id, state in snapshot["nodes"].items():
            if state["status"] != "waiting":
                continue
            if (state.get("wait") or {}).get("kind") == "approval":
                execution.approve_node(node_id, True)
            elif state.get("error"):
                execution.skip_node(node_id)
            else:
                execution.retry_node(node_id)  # past its breakpoint
    report = asyncio.run(execution.run()).to_dict()
    snapshot = json.loads(json.dumps(execution.snapshot()))
    return report, events, list(support.executions), snapshot


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=workflows())
def test_waiting_nodes_wait_alone_in_random_dags(case):
    document, debug = case
    graph = build(document, registry)
    expected = reference_until_park(document, debug)

    report, events, executed, snapshot = run_once(graph, debug)
    check_start_order(document, events)  # (a)
    states = {node_id: node["status"] for node_id, node in report["nodes"].items()}
    assert states == expected  # (b)
    blocked = {node_id for node_id, state in expected.items() if state == "pending"}
    started = {e.node for e in events if e.type == "node.status" and e.status == "running"}
    assert not blocked & started
    waiting = any(state == "waiting" for state in expected.values())
    assert (report["status"] == "paused") == waiting

    done = {node_id for node_id, state in states.items() if state in ("succeeded", "failed")}
    for _ in range(len(expected)):  # (c) each round decides every node that waits
        if report["status"] != "paused":
            break
        report, events, executed, snapshot = run_once(graph, debug, snapshot, decide_waiting=True)
        ran_again = {node_id for node_id, _ in executed} & done
        assert not ran_again, f"{ran_again} ran again after a decision"
        states = {node_id: node["status"] for node_id, node in report["nodes"].items()}
        done |= {node_id for node_id, state in states.items() if state in ("succeeded", "failed")}
    assert report["status"] in ("succeeded", "failed")
    assert set(states.values()) <= TERMINAL


def test_an_approval_waits_alone_while_the_other_branch_runs_to_its_end():
    """The issue's example: `a -> ask (approval)` and `a -> b -> c -> d`."""
    document = doc(
        ["a", ("ask", "park", {}), "b", "c", "d", ("after", "noop", {})],
        [("a", "ask"), ("a", "b"), ("b", "c"), ("c", "d"), ("ask", "after", "approved")],
    )
    report, events = run(document, reg=registry)
    states = {node_id: node["status"] for node_id, node in report["nodes"].items()}
    assert states == {
        "a": "succeeded",
        "ask": "waiting",
        "b": "succeeded",
        "c": "succeeded",
        "d": "succeeded",
        "after": "pending",
    }
    assert report["status"] == "paused"
    order = [(e["node"], e["status"]) for e in events if e["type"] in ("node.status", "run.status")]
    assert order.index(("d", "succeeded")) < order.index((None, "paused"))


def test_a_failure_pause_waits_alone():
    document = doc(
        ["a", ("broken", "fail", {}), "b", ("c", "noop", {"config": {"sleep": 0.01}}), "x"],
        [("a", "broken"), ("a", "b"), ("b", "c"), ("broken", "x")],
        settings={"on_failure": "pause"},
    )
    report, _ = run(document, reg=registry)
    states = {node_id: node["status"] for node_id, node in report["nodes"].items()}
    assert states == {
        "a": "succeeded",
        "broken": "waiting",
        "b": "succeeded",
        "c": "succeeded",
        "x": "pending",
    }
    assert report["status"] == "paused"


def test_a_breakpoint_waits_alone_in_a_debug_run():
    document = doc(
        ["a", ("stop", "noop", {"breakpoint": True}), "b", "c"],
        [("a", "stop"), ("a", "b"), ("b", "c")],
    )
    report, _ = run(document, reg=registry, options={"debug": True})
    states = {node_id: node["status"] for node_id, node in report["nodes"].items()}
    assert states == {"a": "succeeded", "stop": "waiting", "b": "succeeded", "c": "succeeded"}
