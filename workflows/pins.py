"""Pinned data (issue 17, engine/pinning.py): pin a node's output into the saved workflow
document, from a run's recorded output or given as JSON, and unpin it. Each is a save of the
document (a new revision), checked as any save is: a pin over its size limit, not storable, on
a container or naming handles the node does not have is refused (400) and nothing is stored.
Only the owner changes a workflow (403 `read_only` for a user it is shared with)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from django.db import transaction
from django.http import Http404

from engine.limits import MAX_WORKFLOW_ID
from engine.states import NodeState
from workflows import selectors as select
from workflows import services
from workflows.errors import DocumentRejected, problem
from workflows.models import NodeRun, Workflow

PIN_FIELDS = frozenset({"run", "output", "handles"})
PINNABLE = frozenset({NodeState.SUCCEEDED.value, NodeState.REUSED.value})


def pin_request(body: dict[str, Any]) -> dict[str, Any]:
    """The body of a pin request checked: exactly one of `run` (a run id) or `output`."""
    unknown = sorted(set(body) - PIN_FIELDS)
    found = [problem("unknown_field", f"{name}: unknown field", field=name) for name in unknown]
    if ("run" in body) == ("output" in body):
        found.append(problem("bad_field", "give either run (a run id) or output (JSON)"))
    run = body.get("run")
    if "run" in body and (type(run) is not int or not 1 <= run <= MAX_WORKFLOW_ID):
        found.append(problem("bad_type", "run: must be a run id (a positive integer)", field="run"))
    handles = body.get("handles")
    if "handles" in body and (
        not isinstance(handles, list) or not all(isinstance(h, str) for h in handles)
    ):
        found.append(problem("bad_type", "handles: must be a list of strings", field="handles"))
    if found:
        raise DocumentRejected(found)
    return body


@transaction.atomic
def node_pin(*, user, workflow_id: int, node_id: str, body: dict[str, Any]) -> dict[str, Any]:
    """Pin `output` (or the node's output in run `run`) on the node; `{node, pinned, revision}`."""
    body = pin_request(body)
    workflow = select.workflow_get(user=user, workflow_id=workflow_id, for_update=True, change=True)
    document = select.workflow_document(workflow=workflow)
    node = node_of(document, node_id, workflow_id)
    if "run" in body:
        output, handles = run_output(user, workflow, node_id, body["run"])
    else:
        output, handles = body["output"], body.get("handles") or ["out"]
    pinned: dict[str, Any] = {"output": output, "handles": list(handles or ["out"])}
    pinned["pinned_at"] = datetime.now(UTC).isoformat(timespec="seconds")
    if "run" in body:
        pinned["run"] = body["run"]
    node["pinned"] = pinned
    save(workflow, document, user)
    return {"node": node_id, "pinned": pinned, "revision": workflow.revision}


@transaction.atomic
def node_unpin(*, user, workflow_id: int, node_id: str) -> dict[str, Any]:
    """Remove the node's pinned data (a new revision only when it had some)."""
    workflow = select.workflow_get(user=user, workflow_id=workflow_id, for_update=True, change=True)
    document = select.workflow_document(workflow=workflow)
    node = node_of(document, node_id, workflow_id)
    if node.pop("pinned", None) is not None:
        save(workflow, document, user)
    return {"node": node_id, "pinned": None, "revision": workflow.revision}


def node_of(document: dict, node_id: str, workflow_id: int) -> dict:
    for node in document["nodes"]:
        if node["id"] == node_id:
            return node
    raise Http404(f"workflow {workflow_id} has no node {node_id}")


def run_output(user, workflow: Workflow, node_id: str, run_id: int) -> tuple[Any, list[str]]:
    """The node's output and chosen handles in its latest top-level attempt of the run."""
    run = select.run_get(user=user, run_id=run_id)
    if run.workflow_id != workflow.pk:
        message = f"run {run_id} is not a run of workflow {workflow.pk}"
        raise DocumentRejected([problem("bad_field", message, field="run")])
    row = (
        NodeRun.objects.filter(run=run, node_id=node_id, iteration="")
        .order_by("-attempt")
        .values("status", "output", "handles")
        .first()
    )
    if row is None or row["status"] not in PINNABLE:
        status = row["status"] if row else "not run"
        message = (
            f"node {node_id} has no output to pin in run {run_id} ({status}): "
            "only a node that succeeded can be pinned"
        )
        raise DocumentRejected([problem("not_pinnable", message, node=node_id, field="run")])
    return row["output"], list(row["handles"] or ["out"])


def save(workflow: Workflow, document: dict, user) -> None:
    """Save the document with the changed pin (a new revision in the workflow's versions); a
    problem with the pin refuses it all."""
    document, problems = services.document_prepare(document, owner=workflow.owner)
    refused = [found for found in problems if "pinned" in str(found.get("field") or "")]
    if refused:
        raise DocumentRejected(refused)
    services.graph_save(workflow=workflow, document=document)
    services.header_save(workflow=workflow, document=document, problems=problems, user=user)
