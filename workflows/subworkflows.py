"""Sub-workflow runs: the runtime side of the `subworkflow` node (SPEC §3).

A `subworkflow` node starts a child `WorkflowRun` of a saved workflow owned by the parent's
owner (`trigger: subworkflow`, `parent_run`, `parent_node`, and which iteration and attempt of
the node started it). The worker executing the parent executes the child in-process, on the
same event loop, under a lease of its own that it renews — no second worker slot is taken, so
a chain of nested sub-workflows cannot starve the workers. The child's outputs become the
node's output; a failed or cancelled child fails the node with an error naming the child run.

Crashes: the child is an ordinary run with its own rows and lease. When the worker dies, both
leases expire. The node was in flight, so the worker that takes the parent over runs it again
as a new attempt, and that attempt *adopts* the child its lost attempt started (the parent's
row of that attempt says `worker_lost`) instead of starting another: it continues the child
from the child's rows if nobody holds it, waits for it if another worker took it over first,
or reads its result if it already ended. A child is never executed twice.

A child that parks (an approval inside it, on_failure=pause, a durable delay) parks the
parent's node too (`Wait("subworkflow", data={"run": child_id})`): the parent pauses and holds
no worker. The child's end wakes it durably — the transaction that ends the child sets the
parked parent's `wake_at` (the sweep's wake-up path), and a parent that parks after its child
already ended wakes itself in its own ending transaction — and the node is continued within
the same attempt (`Execution.continue_node`): it adopts the ended child and takes its result.
Inside a loop or map body the same holds by iteration: the iteration parks, so its container
and the run park, and the node is continued by its path (`continue_node(node, iteration=
"M[2]")`); a parked node is always named by (node id, iteration path).

Cancelling the parent — or halting it, or the node timing out — cancels the child; a parked
parent cancels its parked children before it ends, and any run that ends cancels the children
it leaves unfinished. A worker shutting down leaves both in flight for a takeover.
"""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.http import Http404
from django.utils import timezone

from engine.execution import waiting_leaves
from engine.handlers.base import NodeError, Wait
from engine.states import RUN_TERMINAL, RunState
from workflows import conf, dispatch, runtime
from workflows.errors import NotRunnable
from workflows.models import NodeRun, RunMode, RunTrigger, Workflow, WorkflowRun

WAIT_POLL_S = 0.25

# Top-level nodes of each run (by run id) that are following a child in this process now:
# the worker's stall check leaves them out (the activity is in the child run).
_following: dict[int, Counter] = {}


def following_children(run_id: int) -> set[str]:
    """The run's top-level nodes that wait here for a child run (containers included)."""
    return set(_following.get(run_id) or ())


def max_depth() -> int:
    """How deep sub-workflows may nest (SWITCHYARD_MAX_SUBWORKFLOW_DEPTH, default 5): a run
    started by a top-level run has depth 1."""
    return conf.value("MAX_SUBWORKFLOW_DEPTH")


def lease_seconds() -> float:
    return conf.value("LEASE_S")


def execution_options(run: WorkflowRun) -> dict[str, Any]:
    """The engine options that let a run's `subworkflow` nodes start child runs."""
    return {"run_subworkflow": ChildRuns(run), "max_depth": max_depth()}


class ChildRuns:
    """`run_subworkflow` of one parent run: start (or adopt) the child, execute or wait for it,
    give its outputs."""

    def __init__(self, run: WorkflowRun) -> None:
        self.run_id = run.pk
        try:
            # The task executing the parent: when it is cancelled the worker is shutting down
            # (leave the child in flight); any other cancellation of the node stops the child.
            self.run_task: asyncio.Task | None = asyncio.current_task()
        except RuntimeError:
            self.run_task = None

    async def __call__(
        self,
        workflow: Any,
        inputs: dict,
        depth: int,
        node_id: str,
        *,
        attempt: int = 1,
        iteration: str | None = None,
        log: Callable[[str], None] | None = None,
    ) -> Any:
        chain = await runtime.db(ancestry, self.run_id)
        limit = max_depth()
        if len(chain) > limit:
            runs = " -> ".join(str(run_id) for run_id in chain)
            raise NodeError(
                f"sub-workflow nesting deeper than {limit} levels (runs {runs}; a workflow "
                "calling itself?)",
                "recursion",
            )
        top = iteration.split("[", 1)[0] if iteration else node_id
        following = _following.setdefault(self.run_id, Counter())
        following[top] += 1
        try:
            return await self._follow(workflow, inputs, node_id, attempt, iteration, log)
        finally:
            following[top] -= 1
            if following[top] <= 0:
                del following[top]
            if not following:
                _following.pop(self.run_id, None)

    async def _follow(
        self,
        workflow: Any,
        inputs: dict,
        node_id: str,
        attempt: int,
        iteration: str | None,
        log: Callable[[str], None] | None,
    ) -> Any:
        owner = f"subworkflow:{self.run_id}:{uuid.uuid4().hex[:8]}"
        child_id, adopted = await runtime.db(
            child_for,
            parent_id=self.run_id,
            node_id=node_id,
            iteration=iteration or "",
            attempt=attempt,
            workflow=workflow,
            inputs=inputs,
            owner=owner,
        )
        if log is not None:
            verb = "continuing" if adopted else "started"
            log(f"{verb} sub-workflow run {child_id}")
        outcome = await Follow(child_id, owner, self.tearing_down).result(park=True)
        if isinstance(outcome, Wait) and log is not None:
            log(f"sub-workflow run {child_id} paused: this run waits for it without a worker")
        return outcome

    def tearing_down(self) -> bool:
        return self.run_task is not None and self.run_task.cancelling() > 0


class Follow:
    """Execute a child run here while it can be claimed, else wait for whoever holds it."""

    def __init__(self, child_id: int, owner: str, tearing_down: Callable[[], bool]) -> None:
        self.child_id = child_id
        self.owner = owner
        self.tearing_down = tearing_down
        self.execution = None
        self.driving: asyncio.Task | None = None

    async def result(self, park: bool = False) -> Any:
        """The child's outputs (NodeError when it failed or was cancelled); with `park`, a
        `Wait` as soon as the child is parked (paused), so the parent's node parks too."""
        try:
            while True:
                status = await runtime.db(claim_child, self.child_id, self.owner, lease_seconds())
                if status is None:  # ours now: execute it here
                    status = await self.drive()
                if status in RUN_TERMINAL:
                    return await runtime.db(child_result, self.child_id)
                if park and status == RunState.PAUSED:
                    return Wait("subworkflow", data={"run": self.child_id})
                await asyncio.sleep(WAIT_POLL_S)  # paused, or another worker executes it
        except asyncio.CancelledError:
            if self.tearing_down():
                await self.leave()
            else:
                await asyncio.shield(self.stop())
            raise

    async def drive(self) -> str:
        """Execute the claimed child to its end or its next park; its final status."""
        self.driving = asyncio.create_task(drive_child(self.child_id, self.owner, self._started))
        try:
            report = await asyncio.shield(self.driving)
        except runtime.LeaseLost:
            return RunState.RUNNING  # another worker took it over: wait for it
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            raise NodeError(f"sub-workflow run {self.child_id} broke: {exc!r}", "subworkflow")
        finally:
            if self.driving.done():
                self.driving = None
        return str(report.status)

    def _started(self, execution) -> None:
        self.execution = execution

    async def stop(self) -> None:
        """The parent's node was stopped (cancel, halt, timeout): cancel the child."""
        if self.driving is not None and self.execution is not None:
            self.execution.cancel("the parent run stopped")
            await asyncio.gather(self.driving, return_exceptions=True)
            return
        if self.driving is not None:
            self.driving.cancel()
            await asyncio.gather(self.driving, return_exceptions=True)
        await cancel_elsewhere(self.child_id, self.owner)

    async def leave(self) -> None:
        """The worker is shutting down: tear the child down with the parent (its nodes stay
        in flight) and let another worker take it over at once."""
        if self.driving is not None:
            self.driving.cancel()
            await asyncio.gather(self.driving, return_exceptions=True)
        from workflows.worker import release_lease

        try:
            await asyncio.shield(runtime.db(release_lease, self.child_id, self.owner))
        except Exception:
            pass  # the lease expires anyway


async def drive_child(child_id: int, owner: str, on_start: Callable) -> Any:
    """Execute a child run whose lease `owner` holds, renewing the lease meanwhile."""
    return await runtime.execute_leased(
        child_id, owner, lease_seconds(), act=on_start, stall_s=runtime.stall_seconds()
    )


async def cancel_elsewhere(child_id: int, owner: str) -> None:
    """Cancel a child this process does not execute: settle it here when nobody holds it (a
    paused child), else leave it to its worker, which polls cancel requests."""
    taken = await runtime.db(request_cancel, child_id, owner, lease_seconds())
    if taken:  # else its worker's cancel watch reads the request ("the parent run stopped")
        await drive_child(child_id, owner, lambda execution: execution.cancel("by user"))


# ---- parked parents: continue, cancel, wake ------------------------------------------------


def parked_nodes(execution) -> dict[tuple[str, str], int]:
    """Subworkflow nodes parked on their child (not on a failure), at top level or inside
    parked iterations: (node id, iteration path) -> attempt."""
    graph = execution.graph
    if not any(node["type"] == "subworkflow" for node in graph.nodes):
        return {}
    return parked_in_state(execution.snapshot(), graph)


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


async def before_drive(run: WorkflowRun, execution) -> None:
    """A run about to be driven: continue the nodes parked on a child that has ended; when
    the run is to be cancelled, cancel those children first (so they end before it does)."""
    parked = parked_nodes(execution)
    if not parked:
        return
    current = await runtime.db(current_children, run.pk, parked)
    if run.cancel_requested_at is not None:
        owner = f"subworkflow:{run.pk}:{uuid.uuid4().hex[:8]}"
        for child_id, status in current.values():
            if status not in RUN_TERMINAL:
                await cancel_elsewhere(child_id, owner)
        return
    for (node_id, iteration), (_, status) in current.items():
        if status in RUN_TERMINAL:
            execution.continue_node(node_id, iteration=iteration)


async def after_drive(run_id: int, execution, status: str) -> None:
    """A run that ended leaves no child behind: cancel any child not ended (a node parked on
    it was cancelled by a timeout, say). In-process children have ended already."""
    if status not in RUN_TERMINAL:
        return
    if not any(node["type"] == "subworkflow" for node in execution.graph.nodes):
        return
    owner = f"subworkflow:{run_id}:{uuid.uuid4().hex[:8]}"
    for child_id in await runtime.db(unfinished_children, run_id):
        await cancel_elsewhere(child_id, owner)


def run_finished(run_id: int, status: str, state: dict | None) -> None:
    """In the transaction that ends a drive (`runtime.finish_run`): a child that ended wakes
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


# ---- database work (sync; called through runtime.db) ---------------------------------------


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
) -> tuple[int, bool]:
    """The child run of this execution of the node, leased to `owner`: the one a lost attempt
    started (adopted: True), else a new one. NodeError when the workflow cannot run."""
    parent = WorkflowRun.objects.select_related("workflow__owner").get(pk=parent_id)
    adopted = lost_attempt_child(parent, node_id, iteration, attempt)
    if adopted is not None:
        WorkflowRun.objects.filter(pk=adopted).update(parent_attempt=attempt)
        return adopted, True
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
        iteration=iteration,
        attempt=started_by,
        error__type="worker_lost",
    ).exists()
    return child_id if lost else None


def start_child(parent: WorkflowRun, workflow: Any, inputs: dict) -> WorkflowRun:
    """A queued child run (never a dry run: a dry run's sub-workflow node is a placeholder)."""
    from workflows import services

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
    return Q(lease_owner="") | Q(lease_owner=owner) | Q(lease_expires_at__lt=now)


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
    return list(
        WorkflowRun.objects.filter(parent_run_id=run_id)
        .exclude(status__in=RUN_TERMINAL)
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
