"""A workflow's saved revisions: each save keeps the whole document it stored (in the same
transaction), so earlier revisions can be listed, read, compared node by node with the current
one and restored (a restore is a save: a new revision, history is never rewritten).

The newest `VERSIONS_KEPT` revisions of a workflow are kept; older ones are deleted by the save
that pushes them out.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.http import Http404
from django.utils import timezone

from workflows import selectors as select
from workflows.models import Workflow, WorkflowVersion

VERSIONS_KEPT = 1000  # revisions kept per workflow (the oldest beyond it are deleted)
DOCUMENT_PARTS = ("nodes", "edges")


def version_record(*, workflow: Workflow, document: dict, user) -> WorkflowVersion:
    """Keep the document just saved as the workflow's current revision (and as
    `workflow.document`, which the API answers the save with)."""
    workflow.document = document
    version = WorkflowVersion.objects.create(
        workflow=workflow,
        revision=workflow.revision,
        document={key: value for key, value in document.items() if key not in ("id", "revision")},
        saved_by=user if getattr(user, "pk", None) else None,
        saved_at=workflow.updated_at or timezone.now(),
    )
    if workflow.revision > VERSIONS_KEPT:
        WorkflowVersion.objects.filter(
            workflow=workflow, revision__lte=workflow.revision - VERSIONS_KEPT
        ).delete()
    return version


def version_list(*, user, workflow_id: int) -> QuerySet[WorkflowVersion]:
    """The revisions of a workflow the user may see, newest first (documents not read)."""
    workflow = select.workflow_get(user=user, workflow_id=workflow_id)
    return (
        WorkflowVersion.objects.filter(workflow=workflow)
        .select_related("saved_by")
        .defer("document")
        .order_by("-revision")
    )


def version_get(*, user, workflow_id: int, revision: int) -> WorkflowVersion:
    """One kept revision of a workflow the user may see (404 when not kept)."""
    workflow = select.workflow_get(user=user, workflow_id=workflow_id)
    version = (
        WorkflowVersion.objects.filter(workflow=workflow, revision=revision)
        .select_related("saved_by", "workflow")
        .first()
    )
    if version is None:
        raise Http404(f"workflow {workflow_id} has no kept revision {revision}")
    return version


def version_summary(version: WorkflowVersion) -> dict[str, Any]:
    return {
        "revision": version.revision,
        "saved_by": version.saved_by.get_username() if version.saved_by else None,
        "saved_at": version.saved_at.isoformat().replace("+00:00", "Z"),
    }


def version_diff(*, user, workflow_id: int, revision: int) -> dict[str, Any]:
    """What changed from a kept revision to the current document, node by node and edge by
    edge: `added` (in the current document only), `removed` (in the revision only) and
    `changed` (with the fields that differ), plus the top-level fields that differ."""
    version = version_get(user=user, workflow_id=workflow_id, revision=revision)
    current = select.workflow_document(workflow=version.workflow)
    old = version.document
    header = sorted(
        key
        for key in set(old) | set(current)
        if key not in DOCUMENT_PARTS and old.get(key) != current.get(key)
    )
    return {
        "revision": version.revision,
        "current_revision": version.workflow.revision,
        "fields": header,
        "nodes": items_diff(old.get("nodes", []), current.get("nodes", [])),
        "edges": items_diff(old.get("edges", []), current.get("edges", [])),
    }


def items_diff(old: list[dict], new: list[dict]) -> list[dict[str, Any]]:
    """Nodes (or edges) by id: those added, removed or changed from `old` to `new`."""
    before = {item["id"]: item for item in old}
    after = {item["id"]: item for item in new}
    changes: list[dict[str, Any]] = []
    for key, item in after.items():
        if key not in before:
            changes.append({"id": key, "change": "added", "fields": []})
        elif item != before[key]:
            fields = sorted(
                name
                for name in set(item) | set(before[key])
                if item.get(name) != before[key].get(name)
            )
            changes.append({"id": key, "change": "changed", "fields": fields})
    changes.extend(
        {"id": key, "change": "removed", "fields": []} for key in before if key not in after
    )
    return changes
