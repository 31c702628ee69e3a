"""The engine state of a run rebuilt from its rows, for a worker that takes over a run another
worker left mid-way (it died, or lost the lease)."""

from __future__ import annotations

from typing import Any

from django.db.models import Max
from django.utils import timezone

from engine.execution import SNAPSHOT_VERSION
from engine.memory import replayed
from engine.states import NodeState, RunState
from workflows.models import NodeRun, WorkflowRun
from workflows.runtime.db import ts


def snapshot_from_rows(run: WorkflowRun) -> dict[str, Any] | None:
    """The engine state of a run that a worker left mid-way, rebuilt from its rows.

    Each node's latest attempt says where it got to; attempts still `running` were in flight
    and run again as a new attempt. None when the run never started."""
    last_seq = run.events.aggregate(last=Max("seq"))["last"]
    if last_seq is None:
        return None
    by_path: dict[str, dict[str, dict]] = {}  # iteration path -> node id -> node state
    first_started: dict[tuple[str, str], float] = {}
    remembered: list[tuple[str, Any, list]] = []  # llm nodes' exchanges (engine.memory)
    for row in run.node_runs.order_by("iteration", "node_id", "attempt"):
        if row.memory is not None and row.status == NodeState.SUCCEEDED:
            remembered.append((row.node_id, ts(row.finished_at), row.memory))
        key = (row.iteration, row.node_id)
        if row.started_at is not None:
            first_started.setdefault(key, ts(row.started_at))
        state = by_path.setdefault(row.iteration, {})[row.node_id] = {
            "status": row.status,
            "attempts": row.attempt,
            "started": first_started.get(key),
            "finished": ts(row.finished_at),
            "output": row.output,
            "error": row.error,
            "handled": row.handled,
            "handles": list(row.handles or ()),
            "reason": row.reason or None,
            "wait": row.wait if row.status == NodeState.WAITING else None,
            "cache_key": row.cache_key or None,
            "reused_from": row.reused_from,
        }
        if attempt_goes_on(row):  # nothing of the failed attempt carries over to the next
            state.update(IN_FLIGHT_STATE)
    nodes = by_path.pop("", {})
    iterations = iterations_from_rows(by_path)
    return {
        "version": SNAPSHOT_VERSION,
        "run": run.pk,
        "status": RunState.RUNNING.value,
        "seq": last_seq,
        "started": ts(run.started_at),
        "finished": None,
        "error": None,
        "inputs": run.inputs,
        "outputs": {**(run.outputs or {}), **outputs_from_rows(run.document, nodes)},
        "nodes": nodes,
        "edges": {},
        "iterations": iterations,
        "memory": replayed(remembered, memory_limits(run.document)),
    }


def memory_limits(document: dict) -> dict[str, dict]:
    """The `config.memory` of each node that keeps one (llm nodes), by node id."""
    return {
        node["id"]: node["config"]["memory"]
        for node in document.get("nodes") or ()
        if isinstance(node.get("config"), dict) and isinstance(node["config"].get("memory"), dict)
    }


def outputs_from_rows(document: dict, nodes: dict[str, dict]) -> dict[str, Any]:
    """The run outputs of the output nodes that succeeded before the takeover: the run row
    gets its outputs only when a drive ends, and those nodes do not run again."""
    return {
        node["id"]: nodes[node["id"]]["output"]
        for node in document.get("nodes") or ()
        if node.get("type") == "output"
        and not node.get("parent")
        and nodes.get(node["id"], {}).get("status") in (NodeState.SUCCEEDED, NodeState.REUSED)
    }


WORKER_LOST = "worker_lost"


RETRIED = ("retried", "retried by the user")  # the reasons of a failed attempt another follows


IN_FLIGHT_STATE = {
    "status": NodeState.RUNNING.value,
    "finished": None,
    "output": None,
    "error": None,
    "handled": False,
    "handles": [],
    "reason": None,
}


def attempt_goes_on(row: NodeRun) -> bool:
    """A failed attempt that is not the node's last word: lost with its worker (marked by a
    takeover that may itself have died before the next attempt was recorded) or failed with
    a retry to follow. Read as in flight, so the next attempt runs — however often the
    takeover was interrupted."""
    if row.status != NodeState.FAILED:
        return False
    return (row.error or {}).get("type") == WORKER_LOST or row.reason in RETRIED


def iterations_from_rows(by_path: dict[str, dict[str, dict]]) -> dict[str, dict]:
    """Nest body rows by iteration path (`M[2]/L[1]`) into the engine's per-container child
    snapshots, so a takeover finishes each iteration where it was and re-runs none that ended."""
    root: dict[str, dict] = {}
    for path, nodes in by_path.items():
        level = root
        child: dict | None = None
        for step in path.split("/"):
            container, _, index = step.rpartition("[")
            child = level.setdefault(container, {}).setdefault(
                index.rstrip("]"),
                {"version": SNAPSHOT_VERSION, "status": RunState.RUNNING.value, "nodes": {}},
            )
            level = child.setdefault("iterations", {})
        if child is not None:
            child["nodes"].update(nodes)
    return root


def mark_interrupted(run: WorkflowRun) -> None:
    """The attempts a dead worker was running failed; the takeover runs them again."""
    run.node_runs.filter(status__in=(NodeState.RUNNING, NodeState.QUEUED)).update(
        status=NodeState.FAILED,
        finished_at=timezone.now(),
        error={"message": "the worker running this attempt was lost", "type": WORKER_LOST},
        reason="worker lost; attempted again",
    )
