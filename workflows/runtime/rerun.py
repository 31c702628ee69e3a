"""Partial re-run ("execute from here", as in n8n): a run created with `source_run` and
`from_node` executes `from_node` and everything downstream of it, and reuses what the source run
recorded for every other node.

The engine needs no special mode for this: the run starts from a snapshot (the format of
`snapshots.snapshot_from_rows`) in which the reused nodes already ended as they did in the source
run (status, output, chosen handles), and the rest are pending. The engine's restore replays
the reused outcomes through its planner, so `from_node` and its descendants are decided exactly
as they would have been. The reused nodes are copied into the new run as NodeRun rows and
`node.status` events (reason `reused from run N`), so the report, the admin and the canvas show
the whole graph; a worker that takes the run over later rebuilds the same state from those rows.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from django.db import transaction
from django.utils import timezone

from engine.events import NODE_STATUS, new_event
from engine.execution import SNAPSHOT_VERSION
from engine.states import NodeState, RunState
from workflows.models import NodeRun, RunEvent, WorkflowRun
from workflows.runtime.persistence import event_payload
from workflows.runtime.snapshots import snapshot_from_rows

# What a reused node may have ended as: outcomes the planner can replay.
REUSED = "reused from run {}"
REUSABLE = frozenset(
    {
        NodeState.SUCCEEDED,
        NodeState.FAILED,
        NodeState.SKIPPED,
        NodeState.UPSTREAM_FAILED,
        NodeState.REUSED,
    }
)


def descendants(document: dict, node_id: str) -> set[str]:
    """`node_id` and every node reachable from it by edges."""
    targets: dict[str, list[str]] = {}
    for edge in document.get("edges", []):
        targets.setdefault(edge["source"], []).append(edge["target"])
    found, stack = {node_id}, [node_id]
    while stack:
        for target in targets.get(stack.pop(), ()):
            if target not in found:
                found.add(target)
                stack.append(target)
    return found


def reused_rows(run: WorkflowRun) -> list[NodeRun]:
    """The source run's final attempt of every top-level node the re-run does not execute."""
    document = run.document
    again = descendants(document, run.from_node)
    top_level = {n["id"] for n in document.get("nodes", []) if not n.get("parent")}
    latest: dict[str, NodeRun] = {}
    rows = NodeRun.objects.filter(run_id=run.source_run_id, iteration="").order_by("attempt")
    for row in rows:
        latest[row.node_id] = row
    reused = [
        row
        for node_id, row in latest.items()
        if node_id in top_level and node_id not in again and row.status in REUSABLE
    ]
    return sorted(reused, key=lambda row: (row.finished_at is None, row.finished_at, row.node_id))


def node_state(row: NodeRun, reason: str) -> dict[str, Any]:
    return {
        "status": row.status,
        "attempts": row.attempt,
        "started": row.started_at.timestamp() if row.started_at else None,
        "finished": row.finished_at.timestamp() if row.finished_at else None,
        "output": row.output,
        "error": row.error,
        "handled": row.handled,
        "handles": list(row.handles or ()),
        "reason": reason if row.status == NodeState.SUCCEEDED else (row.reason or reason),
        "cache_key": row.cache_key or None,
        "reused_from": row.reused_from,
    }


@transaction.atomic
def rerun_snapshot(run: WorkflowRun) -> dict[str, Any]:
    """The snapshot a partial re-run starts from; copies the reused nodes into the run first
    (once: a second call, after a worker died before starting, finds them there)."""
    if run.events.exists():
        snapshot = snapshot_from_rows(run)
        snapshot["status"] = RunState.QUEUED.value
        return snapshot
    source = WorkflowRun.objects.only("outputs").get(pk=run.source_run_id)
    reason = REUSED.format(source.pk)
    rows = reused_rows(run)
    nodes = {row.node_id: node_state(row, reason) for row in rows}
    copy_rows(run, rows, nodes)
    events = [reused_event(run.pk, seq, row, nodes[row.node_id]) for seq, row in enumerate(rows, 1)]
    RunEvent.objects.bulk_create(
        RunEvent(run=run, seq=e.seq, type=e.type, payload=event_payload(e.to_dict()), at=at(e))
        for e in events
    )
    return {
        "version": SNAPSHOT_VERSION,
        "run": run.pk,
        "status": RunState.QUEUED.value,
        "seq": len(events),
        "started": None,
        "finished": None,
        "error": None,
        "inputs": run.inputs,
        "outputs": {k: v for k, v in (source.outputs or {}).items() if k in nodes},
        "nodes": nodes,
        "edges": {},
    }


def copy_rows(run: WorkflowRun, rows: list[NodeRun], nodes: dict[str, dict]) -> None:
    NodeRun.objects.bulk_create(
        NodeRun(
            run=run,
            node_id=row.node_id,
            iteration="",
            attempt=row.attempt,
            status=row.status,
            started_at=row.started_at,
            finished_at=row.finished_at,
            input=row.input,
            output=row.output,
            error=row.error,
            duration_ms=row.duration_ms,
            handled=row.handled,
            reason=nodes[row.node_id]["reason"] or "",
            handles=row.handles,
            reused_from=row.reused_from,
        )
        for row in rows
    )


def reused_event(run_id: int, seq: int, row: NodeRun, state: dict[str, Any]):
    when = state["finished"] or timezone.now().timestamp()
    return new_event(
        seq,
        NODE_STATUS,
        run_id,
        when,
        row.node_id,
        row.status,
        row.attempt or None,
        row.error,
        row.duration_ms,
        None,
        {"reason": state["reason"]},
    )


def at(event) -> datetime:
    return datetime.fromtimestamp(event.ts, UTC)
