"""Testing one node (issue 17, "Test one node"): run a single node of the saved workflow with
the inputs it would get, and answer what it did; no run is recorded (nothing is written).

The engine needs no special mode: the node is run in a graph of itself and its upstream nodes,
restored from a snapshot in which each upstream node already ended as it did in the workflow's
last run (or with its pinned data, which wins), so the planner decides the node exactly as a
run would. The node runs for real, with its retry policy, its expressions, the owner's secrets
(as in a real run; the engine redacts them from the output, the error and the log) and its
timeout, capped at SWITCHYARD_TEST_NODE_TIMEOUT_S. Nodes whose result is not theirs to
produce on their own are refused: containers (their body runs per iteration), approvals (a
person decides), triggers (a request or a schedule starts them) and sub-workflows (they would
start a run).
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

from django.http import Http404

from engine import Graph
from engine.events import NODE_LOG, Event
from engine.execution import SNAPSHOT_VERSION, Execution
from engine.handlers import registry
from engine.limits import MAX_PINNED_BYTES
from engine.pinning import PINNED_REASON
from engine.states import NodeState, RunState
from engine.storable import output_problem
from workflows import conf
from workflows import selectors as select
from workflows.errors import NotRunnable, SwitchyardError, problem
from workflows.models import NodeRun, Workflow, WorkflowRun
from workflows.runtime.drive import expression_context
from workflows.runtime.rerun import REUSABLE
from workflows.secrets import secrets_for
from workflows.services import run_inputs

NOT_ALONE = {
    "approval": "an approval waits for a person's decision",
    "webhook": "a webhook node is started by a request: use its test URL (listen)",
    "schedule": "a schedule node is started by its schedule",
    "subworkflow": "a sub-workflow node would start a run of another workflow",
}
PREVIEW_CHARS = 2_000


class NotTestable(SwitchyardError):
    """The node cannot be tested on its own (400 `not_testable`, naming why)."""


def refuse(node_id: str, why: str) -> NotTestable:
    message = f"node {node_id} cannot be tested on its own: {why}"
    return NotTestable([problem("not_testable", message, node=node_id)])


def upstream(document: dict, node_id: str) -> set[str]:
    """Every node with a path of edges to `node_id`."""
    sources: dict[str, list[str]] = {}
    for edge in document["edges"]:
        sources.setdefault(edge["target"], []).append(edge["source"])
    found: set[str] = set()
    stack = [node_id]
    while stack:
        for source in sources.get(stack.pop(), ()):
            if source not in found:
                found.add(source)
                stack.append(source)
    return found


def checked_node(workflow: Workflow, document: dict, node_id: str) -> dict:
    """The node to test, or a 404 / 400 naming why it cannot be tested."""
    node = next((n for n in document["nodes"] if n["id"] == node_id), None)
    if node is None:
        raise Http404(f"workflow {workflow.pk} has no node {node_id}")
    handler = registry.get(node["type"])
    if handler is not None and handler.container:
        why = f"a {node['type']} runs its body once per iteration: run the workflow"
        raise refuse(node_id, why)
    if node["type"] in NOT_ALONE:
        raise refuse(node_id, NOT_ALONE[node["type"]])
    if node.get("parent"):
        raise refuse(node_id, f"it runs inside {node['parent']}, once per iteration")
    errors = [e for e in workflow.errors or () if e.get("severity", "error") == "error"]
    if errors:
        raise NotRunnable(errors)
    return node


def prepare(*, user, workflow_id: int, node_id: str) -> dict[str, Any]:
    """What testing the node needs, read from the database (a request thread): the graph of
    it and its upstream nodes, the snapshot they start from, inputs, secrets and the bound."""
    workflow = select.workflow_get(user=user, workflow_id=workflow_id, change=True)
    document = select.workflow_document(workflow=workflow)
    node = checked_node(workflow, document, node_id)
    before = upstream(document, node_id)
    run = WorkflowRun.objects.filter(workflow=workflow).order_by("-created_at", "-id").first()
    states = upstream_states(document, before, run)
    keep = before | {node_id}
    nodes = [dict(n) for n in document["nodes"] if n["id"] in keep]
    for copy in nodes:
        copy.pop("pinned", None)  # the snapshot carries upstream pins; the node itself runs
    small = {
        **document,
        "nodes": nodes,
        "edges": [e for e in document["edges"] if e["source"] in keep and e["target"] in keep],
    }
    declared = document.get("inputs") or {}
    given = {k: v for k, v in ((run.inputs if run else None) or {}).items() if k in declared}
    limit = conf.value("TEST_NODE_TIMEOUT_S")
    return {
        "graph": Graph.from_document(small, registry),
        "snapshot": snapshot(states, run),
        "inputs": run_inputs(declared=declared, given=given),
        "secrets": {**expression_context()["secrets"], **secrets_for(workflow.owner_id)},
        "timeout_s": min(float(node.get("timeout_s") or limit), limit),
        "run": run.pk if run else None,
    }


def upstream_states(document: dict, before: set[str], run: WorkflowRun | None) -> dict:
    """Each upstream node's state: its pin, else how it ended in the last run."""
    latest: dict[str, NodeRun] = {}
    if run is not None and before:
        rows = NodeRun.objects.filter(run=run, iteration="", node_id__in=before)
        for row in rows.order_by("attempt"):
            latest[row.node_id] = row
    states = {}
    for node in document["nodes"]:
        node_id = node["id"]
        if node_id not in before:
            continue
        if isinstance(node.get("pinned"), dict):
            states[node_id] = pinned_state(node["pinned"])
        elif node_id in latest and latest[node_id].status in REUSABLE:
            states[node_id] = row_state(latest[node_id])
        else:
            why = f"it did not end in run {run.pk}" if run else "the workflow has not run yet"
            raise refuse_missing(node_id, why)
    return states


def refuse_missing(node_id: str, why: str) -> NotTestable:
    message = (
        f"upstream node {node_id} has no output to test with ({why}): run the workflow once, "
        f"or pin {node_id}'s output"
    )
    return NotTestable([problem("no_input", message, node=node_id)])


def pinned_state(pinned: dict) -> dict[str, Any]:
    return {
        "status": NodeState.REUSED.value,
        "attempts": 1,
        "output": pinned.get("output"),
        "handles": list(pinned.get("handles") or ["out"]),
        "reason": PINNED_REASON,
    }


def row_state(row: NodeRun) -> dict[str, Any]:
    return {
        "status": row.status,
        "attempts": row.attempt,
        "output": row.output,
        "error": row.error,
        "handled": row.handled,
        "handles": list(row.handles or ()),
        "reason": row.reason or None,
    }


def snapshot(states: dict, run: WorkflowRun | None) -> dict[str, Any]:
    return {
        "version": SNAPSHOT_VERSION,
        "run": None,
        "status": RunState.QUEUED.value,
        "seq": 0,
        "inputs": (run.inputs if run else None) or {},
        "outputs": {},
        "nodes": states,
        "edges": {},
    }


async def run_alone(prepared: dict[str, Any], node_id: str) -> dict[str, Any]:
    """Run the node (on the caller's event loop: handlers wait, CPU work goes to threads)
    within its bound; what it did, secrets redacted, as the answer's body."""
    logs: list[str] = []

    def sink(event: Event) -> None:
        if event.type == NODE_LOG and event.node == node_id and event.data:
            logs.append(str(event.data.get("message", "")))

    execution = Execution(
        prepared["graph"],
        inputs=prepared["inputs"],
        sink=sink,
        snapshot=prepared["snapshot"],
        options=test_options(prepared["secrets"]),
    )
    try:
        async with asyncio.timeout(prepared["timeout_s"] + 1):
            await execution.run()
    except TimeoutError:
        execution.cancel(f"the test took longer than {prepared['timeout_s']:g} s")
    record = execution.records[execution.graph.index[node_id]]
    return answer(node_id, record, logs, prepared)


def test_options(secrets: dict) -> dict[str, Any]:
    return {
        **expression_context(),
        "secrets": secrets,
        "http_allow_private": conf.value("HTTP_ALLOW_PRIVATE"),
        "max_output_preview": conf.value("EVENT_PREVIEW_BYTES"),
        "max_output_bytes": conf.value("MAX_OUTPUT_BYTES"),
        "durable_delay_threshold_s": None,  # a delay waits here, within the test's bound
        "use_pinned": True,
    }


def answer(node_id: str, record: Any, logs: list[str], prepared: dict) -> dict[str, Any]:
    status = str(record.status)
    if status in ("pending", "queued", "running", "retrying"):
        status = "failed"
        record.error = {
            "message": f"timed out after {prepared['timeout_s']:g} s (the test's bound)",
            "type": "timeout",
        }
    body: dict[str, Any] = {
        "node": node_id,
        "status": status,
        "input": record.input,
        "output": record.output,
        "handles": list(record.handles),
        "error": record.error,
        "reason": record.reason,
        "attempts": record.attempts,
        "duration_ms": duration_ms(record),
        "logs": logs[-200:],
        "run": prepared["run"],
        "truncated": False,
    }
    for key in ("input", "output"):
        if output_problem(body[key], MAX_PINNED_BYTES) is not None:
            text = json.dumps(body[key], ensure_ascii=False, default=str)
            body[key], body["truncated"] = text[:PREVIEW_CHARS] + "…", True
    return body


def duration_ms(record: Any) -> int | None:
    if record.started is None or record.finished is None:
        return None
    return int((record.finished - record.started) * 1000)
