"""Executing queued runs in the test process, as a worker would (lease, recorder, rows)."""

import uuid

from workflows import control
from workflows.models import WorkflowRun


def execute(run_id: int) -> WorkflowRun:
    owner = f"test:{uuid.uuid4().hex[:8]}"
    assert control.take_unowned(run_id, owner, ("queued",)), f"run {run_id} is not queued"
    control.settle_here(run_id, owner, lambda execution: None)
    return WorkflowRun.objects.get(pk=run_id)
