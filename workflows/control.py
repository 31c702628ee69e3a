"""Control of runs: cancel, resume, retry a node, re-run. Every action goes through the database
and notifies the worker that owns the run.

A run that no worker holds (queued, or paused) is settled right here: the service takes the
run's lease itself, so no worker can claim it meanwhile, and drives the engine through the same
recorder a worker uses — events, node rows and the run row stay consistent whoever acted.
"""

from __future__ import annotations

import copy
import uuid
from datetime import timedelta

from asgiref.sync import async_to_sync
from django.db import transaction
from django.utils import timezone

from engine import all_problems, errors_only, load_document
from engine.execution import waiting_leaves
from engine.states import RUN_TERMINAL, RunState
from workflows import dispatch
from workflows.documents import READ_ONLY_FIELDS
from workflows.errors import SwitchyardError, problem
from workflows.models import NodeRun, WorkflowRun
from workflows.runtime.drive import drive
from workflows.runtime.leases import nobody_holds
from workflows.runtime.publish import Publisher

SETTLE_LEASE_S = 30


class RunConflict(SwitchyardError):
    """The action does not fit the run's current state (HTTP 409)."""

    status_code = 409

    def __init__(self, message: str, code: str = "run_state") -> None:
        super().__init__([problem(code, message)])


def take_unowned(run_id: int, owner: str, statuses: tuple[str, ...]) -> bool:
    now = timezone.now()
    return bool(
        WorkflowRun.objects.filter(nobody_holds(now), pk=run_id, status__in=statuses).update(
            lease_owner=owner, lease_expires_at=now + timedelta(seconds=SETTLE_LEASE_S)
        )
    )


def settle_here(run_id: int, owner: str, act) -> None:
    """Drive a run this process holds the lease of: `act(execution)`, then on to its end or
    its next park, persisting through the worker's recorder."""

    async def settle() -> None:
        publisher = Publisher()
        try:
            await drive(run_id, owner, publisher, act=act)
            await publisher.drain()
        finally:
            publisher.close()

    async_to_sync(settle)()


def run_cancel(*, run: WorkflowRun) -> WorkflowRun:
    """Cancel a run: at once when no worker executes it, else through its worker (≤ 1 s)."""
    if run.status in RUN_TERMINAL:
        raise RunConflict(f"run {run.pk} already ended {run.status}")
    WorkflowRun.objects.filter(pk=run.pk).update(cancel_requested_at=timezone.now())
    owner = f"control:{uuid.uuid4().hex[:8]}"
    # A worker holding the run reads the request within SWITCHYARD_CANCEL_POLL_S.
    if take_unowned(run.pk, owner, (RunState.QUEUED, RunState.PAUSED)):
        settle_here(run.pk, owner, lambda execution: execution.cancel("by user"))
    run.refresh_from_db()
    return run


@transaction.atomic
def run_pause(*, run: WorkflowRun, by: str = "") -> WorkflowRun:
    """Pause a running run on demand (SPEC §8): the request is saved on the row; the worker
    holding the run reads it with its cancel requests (within SWITCHYARD_CANCEL_POLL_S), lets
    its running nodes finish, starts nothing new and parks the run `paused`. A worker taking
    the run over applies it too. `resume` continues it."""
    run = WorkflowRun.objects.select_for_update().get(pk=run.pk)
    if run.status != RunState.RUNNING:
        raise RunConflict(f"run {run.pk} is {run.status}, not running")
    if run.pause_request:
        raise RunConflict(f"run {run.pk} is already pausing")
    if run.cancel_requested_at is not None:
        raise RunConflict(f"run {run.pk} is being cancelled")
    request = {"by": by, "at": timezone.now().isoformat()}
    WorkflowRun.objects.filter(pk=run.pk).update(pause_request=request)
    run.refresh_from_db()
    return run


def paused_on_demand(state: dict | None) -> bool:
    """The paused run's snapshot says it was paused on demand (not only parked on a node)."""
    return bool((state or {}).get("pausing"))


def _resume_soon(run_id: int, state: dict, unpause: bool = False) -> None:
    """Save the user's decision in the paused run's state and make the run due: it stays
    `paused` (SPEC §4: paused → running) until a worker claims it — the sweep's wake-up path,
    with a wake-up message after commit so it does not wait for the sweep. A resume also
    drops a pause request its worker had not applied yet."""
    more = {"pause_request": None} if unpause else {}
    WorkflowRun.objects.filter(pk=run_id).update(
        state=state, wake_at=timezone.now(), lease_owner="", lease_expires_at=None, **more
    )
    transaction.on_commit(lambda: dispatch.run_queued(run_id))


def decided(state: dict | None) -> bool:
    """A decision (resume, retry, skip, approval) is saved and waits for a worker."""
    return bool((state or {}).get("resume") or (state or {}).get("approve"))


def resumable(run_id: int) -> WorkflowRun:
    """The paused run, locked, that no decision or worker has taken up yet (else 409)."""
    run = WorkflowRun.objects.select_for_update().get(pk=run_id)
    if run.status != RunState.PAUSED or not run.state:
        raise RunConflict(f"run {run.pk} is {run.status}, not paused")
    if decided(run.state):
        raise RunConflict(f"run {run.pk} was already resumed", code="already_decided")
    if run.lease_owner and run.lease_expires_at and run.lease_expires_at > timezone.now():
        raise RunConflict(f"run {run.pk} is being resumed right now", code="run_state")
    return run


@transaction.atomic
def run_resume(
    *,
    run: WorkflowRun,
    node_id: str | None = None,
    action: str = "retry",
    config: dict | None = None,
    by: str = "",
    save: bool = False,
    user=None,
    iteration: str | None = None,
) -> WorkflowRun:
    """Continue a paused run: retry its waiting node (optionally with an edited config) or
    skip it. The run is queued again and a worker continues from its saved state. A node
    waiting inside a loop or map body is named with its `iteration` (`M[2]`); it may be left
    out when the node waits in one iteration only.

    An edited config changes the run's own copy of the document (`WorkflowRun.document`, with
    the change listed under its `edits`), so a worker taking the run over later still runs the
    edited node; the saved workflow changes only when `save` is true (a new revision).

    A node that waits while other branches still run (the run is `running`) is retried or
    skipped by the worker holding the run, at once (`resume_while_running`)."""
    locked = WorkflowRun.objects.select_for_update().get(pk=run.pk)
    if locked.status == RunState.RUNNING and node_id is not None:
        decision = {"action": action, "config": config, "by": by}
        return resume_while_running(locked, node_id, iteration, decision, save, user)
    run = resumable(run.pk)
    leaves = waiting_leaves(run.state)
    if node_id is None and paused_on_demand(run.state):  # a pause on demand: go on
        _resume_soon(run.pk, {**run.state, "resume": {"node": None, "action": "continue"}}, True)
        run.refresh_from_db()
        return run
    node_id, iteration = node_to_resume(run, leaves, node_id, iteration)
    if config is not None and action == "retry":
        run_config_edit(run=run, node_id=node_id, config=config, by=by)
        if save:
            workflow_config_save(user=user, run=run, node_id=node_id, config=config)
    state = dict(run.state)
    state["resume"] = {"node": node_id, "iteration": iteration, "action": action, "config": config}
    _resume_soon(run.pk, state, unpause=True)
    run.refresh_from_db()
    return run


def node_to_resume(
    run: WorkflowRun, leaves: list, node_id: str | None, iteration: str | None
) -> tuple[str, str | None]:
    """The waiting node a resume continues and its iteration: the one named, else the only
    one that waits. A node waiting for a sub-workflow run is resumed through that run."""
    if node_id is None:
        if len(leaves) != 1:
            where = ", ".join(at(node, path) for node, path, _ in leaves) or "no node"
            raise RunConflict(f"run {run.pk} waits at {where}: name the node", "node_required")
        node_id = leaves[0][0]
    node_id, iteration, state = waiting_leaf(run, leaves, node_id, iteration, "waiting")
    wait = state.get("wait") or {}
    if wait.get("kind") == "subworkflow":
        child = (wait.get("data") or {}).get("run")
        raise RunConflict(
            f"node {node_id} waits for sub-workflow run {child}: resume or cancel that run",
            code="node_state",
        )
    return node_id, iteration


def resume_while_running(
    run: WorkflowRun, node_id: str, iteration: str | None, decision: dict, save: bool, user
) -> WorkflowRun:
    """Retry or skip a node that waits (a breakpoint, a failure pause) beside branches that
    still run: saved on the locked row like a live approval, exactly once, and applied by the
    worker holding the run (handed over with the parked run if it parks first)."""
    latest = latest_rows(run, node_id, iteration)
    pending = {(d["node"], d.get("iteration") or "") for d in run.live_decisions or ()}
    if any((node_id, path) in pending for path in latest):
        where = at(node_id, iteration or "")
        raise RunConflict(f"node {where} was already decided", code="already_decided")
    waiting = [
        path
        for path, row in latest.items()
        if row.status == "waiting"
        and (row.wait or {}).get("kind") not in ("approval", "subworkflow", "body")
    ]
    if len(waiting) > 1:
        paths = ", ".join(waiting)
        raise RunConflict(
            f"node {node_id} waits in iterations {paths}: name the iteration",
            code="iteration_required",
        )
    if not waiting:
        if not latest and iteration is None and not known_node(run, node_id):
            raise RunConflict(f"run {run.pk} has no node {node_id}", code="node_state")
        where = at(node_id, iteration or "")
        raise RunConflict(f"node {where} is not waiting to be retried", code="node_state")
    config = decision["config"] if decision["action"] == "retry" else None
    if config is not None:
        run_config_edit(run=run, node_id=node_id, config=config, by=decision["by"])
        if save:
            workflow_config_save(user=user, run=run, node_id=node_id, config=config)
    saved = {**decision, "config": config, "node": node_id, "iteration": waiting[0]}
    WorkflowRun.objects.filter(pk=run.pk).update(
        live_decisions=[*(run.live_decisions or ()), saved]
    )
    run.refresh_from_db()
    return run


NOT_STARTED = ("pending", "queued")


@transaction.atomic
def run_pending_config(*, run: WorkflowRun, node_id: str, config: dict, by: str) -> WorkflowRun:
    """Change the config of a node that has not started, while the run is paused (its own
    copy of the document; recorded under `edits` like a retry with a config). A worker
    driving the run next builds its graph from that copy."""
    run = WorkflowRun.objects.select_for_update().get(pk=run.pk)
    if run.status != RunState.PAUSED or not run.state:
        raise RunConflict(f"run {run.pk} is {run.status}, not paused")
    if run.lease_owner and run.lease_expires_at and run.lease_expires_at > timezone.now():
        raise RunConflict(f"run {run.pk} is being resumed right now")
    state = (run.state.get("nodes") or {}).get(node_id)
    if state is None:
        raise RunConflict(f"run {run.pk} has no node {node_id}", code="node_state")
    if state.get("status") not in NOT_STARTED:
        raise RunConflict(
            f"node {node_id} is {state.get('status')}: only a node that has not started "
            "can be changed (retry a waiting one with a config)",
            code="node_state",
        )
    run_config_edit(run=run, node_id=node_id, config=config, by=by)
    return run


def run_config_edit(*, run: WorkflowRun, node_id: str, config: dict, by: str) -> None:
    """Replace a node's config in the run's copy of the document, recording the edit; refused
    (400, every problem) when the edited document would not validate."""
    document = copy.deepcopy(run.document)
    node = next((node for node in document["nodes"] if node["id"] == node_id), None)
    if node is None:  # added by dynamic growth: its config comes from the node that grew it
        raise RunConflict(
            f"node {node_id} was added while the run ran: retry it without a config",
            code="node_state",
        )
    before = node.get("config")
    node["config"] = config
    checked = {k: v for k, v in document.items() if k not in READ_ONLY_FIELDS}
    errors = errors_only(all_problems(load_document(checked)))
    if errors:
        raise SwitchyardError([found.to_dict() for found in errors])
    edit = {"node": node_id, "before": before, "config": config, "by": by}
    document["edits"] = [*document.get("edits", []), {**edit, "at": timezone.now().isoformat()}]
    WorkflowRun.objects.filter(pk=run.pk).update(document=document)
    run.document = document


def workflow_config_save(*, user, run: WorkflowRun, node_id: str, config: dict) -> None:
    """Also put the edited config into the saved workflow (a new revision), when asked."""
    from workflows import selectors, services

    workflow = selectors.workflow_get(
        user=user, workflow_id=run.workflow_id, for_update=True, change=True
    )
    document = selectors.workflow_document(workflow=workflow)
    node = next((node for node in document["nodes"] if node["id"] == node_id), None)
    if node is None:
        raise RunConflict(
            f"node {node_id} is no longer in workflow {workflow.pk}: nothing was changed",
            code="node_state",
        )
    node["config"] = config
    source = {**document, "revision": workflow.revision}
    services.workflow_save(user=user, workflow_id=workflow.pk, source=source)


def at(node_id: str, iteration: str) -> str:
    return f"{node_id} in {iteration}" if iteration else node_id


def pending_approvals(state: dict | None) -> list[dict]:
    """The approvals decided since the run last parked, not yet applied by a worker."""
    pending = (state or {}).get("approve") or []
    return [pending] if isinstance(pending, dict) else list(pending)


def known_node(run: WorkflowRun, node_id: str) -> bool:
    """In the run's document, or added to it while it ran (dynamic growth)."""
    if node_id in ((run.state or {}).get("nodes") or {}):
        return True
    return any(node.get("id") == node_id for node in (run.document or {}).get("nodes") or ())


def waiting_leaf(
    run: WorkflowRun, leaves: list, node_id: str, iteration: str | None, what: str
) -> tuple[str, str, dict]:
    """The one waiting node the user means: `node_id` at top level or in `iteration`; with
    no iteration named, the only iteration it waits in (409 naming them when several)."""
    mine = [(path, state) for node, path, state in leaves if node == node_id]
    if iteration is not None:
        mine = [(path, state) for path, state in mine if path == iteration]
    if not mine:
        where = f" in {iteration}" if iteration else ""
        if iteration is None and not known_node(run, node_id):
            raise RunConflict(f"run {run.pk} has no node {node_id}", code="node_state")
        raise RunConflict(f"node {node_id}{where} is not {what}", code="node_state")
    if len(mine) > 1:
        paths = ", ".join(path for path, _ in mine)
        raise RunConflict(
            f"node {node_id} waits in iterations {paths}: name the iteration",
            code="iteration_required",
        )
    (path, state) = mine[0]
    return node_id, path, state


def latest_rows(run: WorkflowRun, node_id: str, iteration: str | None) -> dict[str, NodeRun]:
    """The node's latest attempt row in each iteration ("" at top level), or in `iteration`."""
    found = NodeRun.objects.filter(run_id=run.pk, node_id=node_id)
    if iteration is not None:
        found = found.filter(iteration=iteration)
    return {row.iteration: row for row in found.order_by("iteration", "attempt")}


def live_approval_at(run: WorkflowRun, node_id: str, iteration: str | None) -> str:
    """Where (iteration path, "" at top level) the running run's approval `node_id` waits
    undecided: the one named, or the only one (409 naming them when several, or none)."""
    latest = latest_rows(run, node_id, iteration)
    pending = {(d["node"], d.get("iteration") or "") for d in run.live_decisions or ()}
    decided = [
        path
        for path, row in latest.items()
        if (node_id, path) in pending or (isinstance(row.output, dict) and "approved" in row.output)
    ]
    waiting = [
        path
        for path, row in latest.items()
        if path not in decided
        and row.status == "waiting"
        and (row.wait or {}).get("kind") == "approval"
    ]
    if len(waiting) == 1:
        return waiting[0]
    if len(waiting) > 1:
        paths = ", ".join(waiting)
        raise RunConflict(
            f"node {node_id} waits in iterations {paths}: name the iteration",
            code="iteration_required",
        )
    if decided:
        where = at(node_id, iteration or decided[0])
        raise RunConflict(f"node {where} was already decided", code="already_decided")
    if not latest and iteration is None and not known_node(run, node_id):
        raise RunConflict(f"run {run.pk} has no node {node_id}", code="node_state")
    where = at(node_id, iteration or "")
    raise RunConflict(f"node {where} is not waiting for an approval", code="node_state")


def approve_while_running(
    run: WorkflowRun, node_id: str, approved: bool, data, by: str, iteration: str | None
) -> WorkflowRun:
    """An approval decided while other branches still run (SPEC §8: a waiting node waits
    alone): saved on the locked row, exactly once; the worker holding the run applies it
    within SWITCHYARD_CANCEL_POLL_S — inside a loop or map body once the container has
    parked on its iterations — or, when the run parks first, with the parked run's
    decisions."""
    path = live_approval_at(run, node_id, iteration)
    decision = {"node": node_id, "iteration": path, "approved": approved, "data": data, "by": by}
    pending = list(run.live_decisions or ())
    WorkflowRun.objects.filter(pk=run.pk).update(live_decisions=[*pending, decision])
    run.refresh_from_db()
    return run


@transaction.atomic
def run_approve(
    *,
    run: WorkflowRun,
    node_id: str,
    approved: bool,
    data=None,
    by: str = "",
    iteration: str | None = None,
) -> WorkflowRun:
    """Decide an approval a paused run waits at, exactly once: the run row is locked, the
    decision saved in its state and the run queued; a worker follows the `approved` or
    `rejected` handle from there. A second decision (or one for a node not waiting) is 409.
    An approval inside a loop or map body is named by its `iteration` (`M[2]`); each
    iteration is decided on its own. Decisions on other waiting approvals may follow until a
    worker takes the run up (it stays `paused` till then): the worker applies them together."""
    run = WorkflowRun.objects.select_for_update().get(pk=run.pk)
    if run.status == RunState.RUNNING:
        return approve_while_running(run, node_id, approved, data, by, iteration)
    pending = pending_approvals(run.state)
    if run.status != RunState.PAUSED or not run.state:
        raise RunConflict(f"run {run.pk} is {run.status}, not waiting for an approval")
    taken = {(p["node"], p.get("iteration") or "") for p in pending}
    approvals = [
        leaf
        for leaf in waiting_leaves(run.state)
        if (leaf[2].get("wait") or {}).get("kind") == "approval"
    ]
    meant = [leaf[:2] for leaf in approvals if leaf[0] == node_id]
    if iteration is not None:
        meant = [where for where in meant if where[1] == iteration]
    if meant and all(where in taken for where in meant):
        where = at(node_id, iteration or meant[0][1])
        raise RunConflict(f"node {where} was already decided", code="already_decided")
    leaves = [leaf for leaf in approvals if leaf[:2] not in taken]
    node_id, iteration, _ = waiting_leaf(run, leaves, node_id, iteration, "waiting for an approval")
    if run.state.get("resume"):
        raise RunConflict(f"run {run.pk} was already resumed", code="already_decided")
    if run.lease_owner and run.lease_expires_at and run.lease_expires_at > timezone.now():
        raise RunConflict(f"run {run.pk} is being resumed right now", code="run_state")
    state = dict(run.state)
    decision = {"node": node_id, "iteration": iteration, "approved": approved, "data": data}
    state["approve"] = [*pending, {**decision, "by": by}]
    _resume_soon(run.pk, state)
    run.refresh_from_db()
    return run
