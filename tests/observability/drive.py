"""Executing queued (or resumed, due) runs in the test process, as a worker would (lease,
recorder, rows)."""

import uuid

from workflows import control
from workflows.models import WorkflowRun


def execute(run_id: int) -> WorkflowRun:
    owner = f"test:{uuid.uuid4().hex[:8]}"
    taken = control.take_unowned(run_id, owner, ("queued", "paused"))
    assert taken, f"run {run_id} is neither queued nor paused"
    control.settle_here(run_id, owner, lambda execution: None)
    return WorkflowRun.objects.get(pk=run_id)
