"""Why a run went the way it did: what a node received, why a node did not run, and a dry
run's plan."""

from __future__ import annotations

from typing import Any

from engine.report import dry_run_plan
from workflows.models import NodeRun, WorkflowRun
from workflows.observability.timeline import latest_rows, taken_edges


def node_input(run: WorkflowRun, node_id: str, latest: dict[str, NodeRun]) -> Any:
    """What a top-level node received (SPEC §2 `input`): a root gets the run's inputs; one
    taken source gives its output (an error edge carries `{"error"}`); several, a dict."""
    incoming = [e for e in run.ran_document.get("edges", []) if e["target"] == node_id]
    if not incoming:
        return run.inputs
    carried = {}
    for source, target in taken_edges(run.ran_document, latest):
        if target == node_id and source not in carried:
            row = latest[source]
            carried[source] = (
                row.output if row.status in ("succeeded", "reused") else {"error": row.error}
            )
    if len(carried) == 1:
        return next(iter(carried.values()))
    return carried or None


def why_not_run(row: NodeRun | None, run: WorkflowRun) -> str:
    """A node's reason for not running, also for nodes the run never got to."""
    if row is None:
        ended = run.status in ("succeeded", "failed", "cancelled")
        return f"never decided: the run {'ended' if ended else 'is'} {run.status}"
    return row.reason or ""


def run_plan(run: WorkflowRun) -> dict[str, list[str]]:
    """For a dry run: the top-level nodes a real run would execute and those whose side
    effects were not performed (`engine.report.dry_run_plan`), from the run's rows."""
    latest = latest_rows(list(NodeRun.objects.filter(run=run, iteration="")))
    nodes = {
        node["id"]: plan_entry(latest[node["id"]])
        for node in run.ran_document.get("nodes", [])
        if node["id"] in latest and not node.get("parent")
    }
    return dry_run_plan(nodes)


def plan_entry(row: NodeRun) -> dict[str, Any]:
    return {"status": row.status, "reason": row.reason, "output": row.output, "input": row.input}
