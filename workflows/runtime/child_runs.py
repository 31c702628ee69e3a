"""The database side of sub-workflow runs (see `children`): create, adopt, claim and read a
node's child run, and wake the parent parked on a child that ended. Synchronous; the async
side calls these through `db`."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.http import Http404
from django.utils import timezone

from engine.execution import waiting_leaves
from engine.handlers.base import NodeError
from engine.states import RUN_TERMINAL, RunState
from workflows import conf, dispatch, services
from workflows import selectors as select
from workflows.errors import NotRunnable
from workflows.models import NodeRun, RunMode, RunTrigger, Workflow, WorkflowRun
from workflows.runtime.leases import nobody_holds
from workflows.runtime.snapshots import WORKER_LOST

RECOVERY_MARK = (
    "[on_failure]"  # ends the `parent_iteration` of a recovery run (engine.execution.recovery)
)


def max_depth() -> int:
    """How deep sub-workflows may nest (SWITCHYARD_MAX_SUBWORKFLOW_DEPTH, default 5): a run
    started by a top-level run has depth 1."""
    return conf.value("MAX_SUBWORKFLOW_DEPTH")


def lease_seconds() -> float:
    return conf.value("LEASE_S")


def parked_in_state(state: dict | None, graph=None) -> dict[tuple[str, str], int]:
    found = {}
    for node_id, path, node in waiting_leaves(state or {}):
        if node.get("error") or (node.get("attempts") or 0) < 1:
            continue
        if graph is not None:
            i = graph.index.get(node_id)
            if i is None or graph.nodes[i]["type"] != "subworkflow":
                continue
        elif (node.get("wait") or {}).get("kind") != "subworkflow":
            continue
        found[(node_id, path)] = node["attempts"]
    return found


def run_finished(run_id: int, status: str, state: dict | None) -> None:
    """In the transaction that ends a drive (`finish.finish_run`): a child that ended wakes
    the parent parked on it; a parent that parks on a child that has already ended (it ended
    while the parent was still busy) wakes itself. Both lock the parent's row, so one of the
    two always sees the other's commit: the parent is woken exactly when it must be."""
    if status in RUN_TERMINAL:
        wake_parent(run_id)
    elif status == RunState.PAUSED and state:
        ended = current_children(run_id, parked_in_state(state))
        if any(status in RUN_TERMINAL for _, status in ended.values()):
            wake(run_id)


def wake_parent(child_id: int) -> None:
    link = (
        WorkflowRun.objects.filter(pk=child_id)
        .values_list("parent_run_id", "parent_node", "parent_iteration", "parent_attempt")
        .first()
    )
    if link is None or link[0] is None:
        return  # a top-level run
    parent_id, node_id, iteration, attempt = link
    parent = WorkflowRun.objects.select_for_update().only("status", "state").get(pk=parent_id)
    if parent.status == RunState.PAUSED and waits_on(parent.state, node_id, attempt, iteration):
        wake(parent_id)


def waits_on(state: dict | None, node_id: str, attempt: int, iteration: str = "") -> bool:
    """Whether the saved state has the node parked in the attempt that started the child."""
    return parked_in_state(state).get((node_id, iteration or "")) == attempt


def wake(run_id: int) -> None:
    """Make a paused run due: the sweep claims it (and a wake-up message says so at once)."""
    WorkflowRun.objects.filter(pk=run_id).update(wake_at=timezone.now())
    transaction.on_commit(lambda: dispatch.run_queued(run_id))


def ancestry(run_id: int) -> list[int]:
    """The run ids from the top-level run down to `run_id`."""
    chain: list[int] = []
    current: int | None = run_id
    while current is not None and len(chain) <= 1000:
        chain.append(current)
        current = WorkflowRun.objects.filter(pk=current).values_list("parent_run_id", flat=True)[0]
    return chain[::-1]


@transaction.atomic
def child_for(
    *,
    parent_id: int,
    node_id: str,
    iteration: str,
    attempt: int,
    workflow: Any,
    inputs: dict,
    owner: str,
    recovery: bool = False,
) -> tuple[int, bool]:
    """The child run of this execution of the node, leased to `owner`: the one a lost attempt
    started (adopted: True), else a new one. NodeError when the workflow cannot run (or, for a
    `recovery`, when it is already recovering a run above this one)."""
    parent = WorkflowRun.objects.select_related("workflow__owner").get(pk=parent_id)
    adopted = lost_attempt_child(parent, node_id, iteration, attempt)
    if adopted is not None:
        WorkflowRun.objects.filter(pk=adopted).update(parent_attempt=attempt)
        return adopted, True
    if recovery:
        workflow = recovery_target(parent, workflow)
    child = start_child(parent, workflow, inputs)
    now = timezone.now()
    WorkflowRun.objects.filter(pk=child.pk).update(
        parent_run=parent,
        parent_node=node_id,
        parent_iteration=iteration,
        parent_attempt=attempt,
        lease_owner=owner,
        lease_expires_at=now + timedelta(seconds=lease_seconds()),
    )
    return child.pk, False


def lost_attempt_child(parent: WorkflowRun, node_id: str, iteration: str, attempt: int):
    """The child started by an attempt of this node that a dead worker was running."""
    latest = (
        WorkflowRun.objects.filter(
            parent_run=parent,
            parent_node=node_id,
            parent_iteration=iteration,
            parent_attempt__lte=attempt,
        )
        .order_by("-parent_attempt", "-pk")
        .values_list("pk", "parent_attempt")
        .first()
    )
    if latest is None:
        return None
    child_id, started_by = latest
    if started_by == attempt:  # the same attempt number again: its first run never got recorded
        return child_id
    lost = NodeRun.objects.filter(
        run=parent,
        node_id=node_id,
        iteration=node_iteration(iteration),
        attempt=started_by,
        error__type=WORKER_LOST,
    ).exists()
    return child_id if lost else None


def node_iteration(iteration: str) -> str:
    """The iteration of the node's rows for a child's `parent_iteration`: a recovery child's
    (`x[on_failure]`, `m[2]/x[on_failure]`) is the node's own (`""`, `m[2]`)."""
    if not iteration.endswith(RECOVERY_MARK):
        return iteration
    return iteration.rpartition("/")[0]


def start_child(parent: WorkflowRun, workflow: Any, inputs: dict) -> WorkflowRun:
    """A queued child run (never a dry run: a dry run's sub-workflow node is a placeholder)."""
    workflow_id = workflow_reference(workflow)
    owner = parent.workflow.owner
    try:
        return services.run_create(
            user=owner,
            workflow_id=workflow_id,
            inputs=inputs,
            mode=RunMode.NORMAL,
            trigger=RunTrigger.SUBWORKFLOW,
        )
    except Http404:
        raise NodeError(
            f"sub-workflow {workflow_id}: no such workflow (it does not exist or belongs to "
            f"another user than {owner.get_username()})",
            "subworkflow",
        ) from None
    except NotRunnable as exc:
        name = Workflow.objects.filter(pk=workflow_id).values_list("name", flat=True).first()
        problems = "; ".join(error["message"] for error in exc.errors)
        raise NodeError(
            f"sub-workflow {workflow_id} ({name}) cannot run: {problems}", "subworkflow"
        ) from None


def recovery_target(parent: WorkflowRun, reference: Any) -> int:
    """The id of the workflow a failed node's `on_failure.run` names. A recovery never starts
    a workflow that is already recovering a run above it: a recovery workflow whose own node
    fails with the same recovery ends there instead of recurring (NodeError `recursion`)."""
    owner = parent.workflow.owner
    workflow, reason = select.recovery_workflow(user=owner, reference=reference)
    if workflow is None:
        raise NodeError(f"recovery workflow {reason}", "subworkflow")
    above = WorkflowRun.objects.filter(
        pk__in=ancestry(parent.pk),
        workflow_id=workflow.pk,
        parent_iteration__endswith=RECOVERY_MARK,
    ).values_list("pk", flat=True)
    recovering = next(iter(above), None)
    if recovering is not None:
        raise NodeError(
            f"workflow {workflow.pk} ({workflow.name}) is already recovering (run "
            f"{recovering}): a recovery does not start itself again",
            "recursion",
        )
    return workflow.pk


def workflow_reference(value: Any) -> int:
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise NodeError(f"config.workflow must be a workflow id, got {value!r}", "bad_config")
    return value


def claim_child(child_id: int, owner: str, lease_s: float) -> str | None:
    """Lease the child to `owner` when it can be executed here (None), else its status."""
    now = timezone.now()
    claimed = (
        WorkflowRun.objects.filter(pk=child_id, status__in=(RunState.QUEUED, RunState.RUNNING))
        .filter(free_for(owner, now))
        .update(lease_owner=owner, lease_expires_at=now + timedelta(seconds=lease_s))
    )
    if claimed:
        return None
    return WorkflowRun.objects.values_list("status", flat=True).get(pk=child_id)


def free_for(owner: str, now) -> Q:
    """Runs no live worker holds (or that `owner` holds already)."""
    return nobody_holds(now) | Q(lease_owner=owner)


def current_children(
    run_id: int, parked: dict[tuple[str, str], int]
) -> dict[tuple[str, str], tuple[int, str]]:
    """The child each parked node's attempt started: (node, iteration) -> (child id, status)."""
    if not parked:
        return {}
    rows = WorkflowRun.objects.filter(
        parent_run_id=run_id,
        parent_node__in={node for node, _ in parked},
        parent_iteration__in={path for _, path in parked},
    ).values_list("parent_node", "parent_iteration", "parent_attempt", "pk", "status")
    return {
        (node_id, iteration): (child_id, status)
        for node_id, iteration, attempt, child_id, status in rows.order_by("pk")
        if parked.get((node_id, iteration)) == attempt
    }


def unfinished_children(run_id: int) -> list[int]:
    """A run's children not ended, but recovery runs: one that waits (an approval in it) goes
    on by itself after the failed run ended."""
    return list(
        WorkflowRun.objects.filter(parent_run_id=run_id)
        .exclude(status__in=RUN_TERMINAL)
        .exclude(parent_iteration__endswith=RECOVERY_MARK)
        .values_list("pk", flat=True)
    )


def child_result(child_id: int) -> Any:
    """A finished child's outputs; NodeError naming the run when it failed or was cancelled."""
    child = WorkflowRun.objects.only("status", "outputs", "error").get(pk=child_id)
    if child.status == RunState.SUCCEEDED:
        return child.outputs
    if child.status == RunState.CANCELLED:
        raise NodeError(f"sub-workflow run {child_id} was cancelled", "subworkflow")
    message = (child.error or {}).get("message") or "failed"
    raise NodeError(f"sub-workflow run {child_id} failed: {message}", "subworkflow")


def request_cancel(child_id: int, owner: str, lease_s: float) -> bool:
    """Record the cancel request; True when this process took the (unowned) child to settle."""
    now = timezone.now()
    live = WorkflowRun.objects.filter(pk=child_id).exclude(status__in=RUN_TERMINAL)
    live.update(cancel_requested_at=now)
    return bool(
        live.filter(free_for(owner, now)).update(
            lease_owner=owner, lease_expires_at=now + timedelta(seconds=lease_s)
        )
    )
