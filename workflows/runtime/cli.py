"""Runs started from the command line: recorded like any other, executed in this process.

The command claims the run's lease in the transaction that creates the run, so the wake-up
message that creation sends finds it taken, and keeps the lease alive while it executes.
"""

from __future__ import annotations

import uuid
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from workflows import conf, services
from workflows import selectors as select
from workflows.models import RunMode, RunTrigger, Workflow, WorkflowRun
from workflows.runtime.drive import execute_leased

CLI_USERNAME = "cli"


def cli_user(username: str | None = None):
    """The owner of command-line runs: the named user (must exist), else the `cli` user."""
    users = get_user_model().objects
    if username:
        return users.get(username=username)
    return users.get_or_create(username=CLI_USERNAME)[0]


def saved_workflow(*, owner, workflow_id: int) -> Workflow:
    if owner.username == CLI_USERNAME:  # the default CLI owner may run any saved workflow
        return Workflow.objects.get(pk=workflow_id)
    return select.workflow_get(user=owner, workflow_id=workflow_id)


@transaction.atomic
def workflow_for_document(*, owner, document: dict) -> Workflow:
    """The owner's workflow with this document's name, updated to it (or a new one)."""
    name = document.get("name", "")
    existing = Workflow.objects.filter(owner=owner, name=name).order_by("pk").first()
    if existing is None:
        return services.workflow_create(owner=owner, source=document)
    source = {**document, "revision": existing.revision}
    return services.workflow_save(user=owner, workflow_id=existing.pk, source=source)


@transaction.atomic
def claim_cli_run(*, workflow: Workflow, inputs: dict, dry_run: bool) -> WorkflowRun:
    run = services.run_create(
        user=workflow.owner,
        workflow_id=workflow.pk,
        inputs=inputs,
        mode=RunMode.DRY_RUN if dry_run else RunMode.NORMAL,
        trigger=RunTrigger.CLI,
    )
    run.lease_owner = f"cli:{uuid.uuid4().hex[:8]}"
    run.lease_expires_at = timezone.now() + timedelta(seconds=conf.value("LEASE_S"))
    run.save(update_fields=["lease_owner", "lease_expires_at"])
    return run


async def execute_claimed(run_id: int, *, observer=None):
    """Execute a run whose lease this process holds, renewing the lease meanwhile."""
    owner = await WorkflowRun.objects.filter(pk=run_id).values_list("lease_owner", flat=True).aget()
    return await execute_leased(run_id, owner, conf.value("LEASE_S"), observer=observer)
