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
from collections.abc import Awaitable, Callable
from typing import Any

from engine.handlers.base import NodeError, Wait
from engine.states import RUN_TERMINAL, RunState
from workflows.models import WorkflowRun
from workflows.runtime.child_runs import (
    ancestry,
    child_for,
    child_result,
    claim_child,
    current_children,
    lease_seconds,
    max_depth,
    parked_in_state,
    request_cancel,
    unfinished_children,
)
from workflows.runtime.db import db
from workflows.runtime.leases import LeaseLost, release_lease
from workflows.runtime.watches import following_child, stall_seconds

WAIT_POLL_S = 0.25

# How a child run is executed here: `drive.execute_leased`, handed in by the drive loop (which
# calls this module, so this module cannot import it back).
Driver = Callable[..., Awaitable[Any]]


def execution_options(run: WorkflowRun, driver: Driver) -> dict[str, Any]:
    """The engine options that let a run's `subworkflow` nodes start child runs."""
    return {"run_subworkflow": ChildRuns(run, driver), "max_depth": max_depth()}


class ChildRuns:
    """`run_subworkflow` of one parent run: start (or adopt) the child, execute or wait for it,
    give its outputs."""

    def __init__(self, run: WorkflowRun, driver: Driver) -> None:
        self.run_id = run.pk
        self.driver = driver
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
        started: Callable[[int], None] | None = None,
        recovery: bool = False,
    ) -> Any:
        """The child's outputs (or a `Wait`); `started` is told the child run's id, and a
        `recovery` child (a failed node's `on_failure.run`) may be named by its name."""
        chain = await db(ancestry, self.run_id)
        limit = max_depth()
        if len(chain) > limit:
            runs = " -> ".join(str(run_id) for run_id in chain)
            raise NodeError(
                f"sub-workflow nesting deeper than {limit} levels (runs {runs}; a workflow "
                "calling itself?)",
                "recursion",
            )
        top = iteration.split("[", 1)[0] if iteration else node_id
        link = {"node_id": node_id, "iteration": iteration or "", "attempt": attempt}
        with following_child(self.run_id, top):
            return await self._follow(workflow, inputs, link, log, started, recovery)

    async def _follow(
        self,
        workflow: Any,
        inputs: dict,
        link: dict,
        log: Callable[[str], None] | None,
        started: Callable[[int], None] | None,
        recovery: bool,
    ) -> Any:
        owner = f"subworkflow:{self.run_id}:{uuid.uuid4().hex[:8]}"
        child_id, adopted = await db(
            child_for,
            parent_id=self.run_id,
            workflow=workflow,
            inputs=inputs,
            owner=owner,
            recovery=recovery,
            **link,
        )
        if started is not None:
            started(child_id)
        if log is not None:
            verb = "continuing" if adopted else "started"
            log(f"{verb} sub-workflow run {child_id}")
        follow = Follow(child_id, owner, self.tearing_down, self.driver)
        outcome = await follow.result(park=True)
        if isinstance(outcome, Wait) and log is not None:
            log(f"sub-workflow run {child_id} paused: this run waits for it without a worker")
        return outcome

    def tearing_down(self) -> bool:
        return self.run_task is not None and self.run_task.cancelling() > 0


class Follow:
    """Execute a child run here while it can be claimed, else wait for whoever holds it."""

    def __init__(
        self, child_id: int, owner: str, tearing_down: Callable[[], bool], driver: Driver
    ) -> None:
        self.child_id = child_id
        self.driver = driver
        self.owner = owner
        self.tearing_down = tearing_down
        self.execution = None
        self.driving: asyncio.Task | None = None

    async def result(self, park: bool = False) -> Any:
        """The child's outputs (NodeError when it failed or was cancelled); with `park`, a
        `Wait` as soon as the child is parked (paused), so the parent's node parks too."""
        try:
            while True:
                status = await db(claim_child, self.child_id, self.owner, lease_seconds())
                if status is None:  # ours now: execute it here
                    status = await self.drive()
                if status in RUN_TERMINAL:
                    return await db(child_result, self.child_id)
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
        self.driving = asyncio.create_task(
            drive_child(self.driver, self.child_id, self.owner, self._started)
        )
        try:
            report = await asyncio.shield(self.driving)
        except LeaseLost:
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
        await cancel_elsewhere(self.driver, self.child_id, self.owner)

    async def leave(self) -> None:
        """The worker is shutting down: tear the child down with the parent (its nodes stay
        in flight) and let another worker take it over at once."""
        if self.driving is not None:
            self.driving.cancel()
            await asyncio.gather(self.driving, return_exceptions=True)
        try:
            await asyncio.shield(db(release_lease, self.child_id, self.owner))
        except Exception:
            pass  # the lease expires anyway


async def drive_child(driver: Driver, child_id: int, owner: str, on_start: Callable) -> Any:
    """Execute a child run whose lease `owner` holds, renewing the lease meanwhile."""
    return await driver(child_id, owner, lease_seconds(), act=on_start, stall_s=stall_seconds())


async def cancel_elsewhere(driver: Driver, child_id: int, owner: str) -> None:
    """Cancel a child this process does not execute: settle it here when nobody holds it (a
    paused child), else leave it to its worker, which polls cancel requests."""
    taken = await db(request_cancel, child_id, owner, lease_seconds())
    if taken:  # else its worker's cancel watch reads the request ("the parent run stopped")
        await drive_child(driver, child_id, owner, lambda execution: execution.cancel("by user"))


def parked_nodes(execution) -> dict[tuple[str, str], int]:
    """Subworkflow nodes parked on their child (not on a failure), at top level or inside
    parked iterations: (node id, iteration path) -> attempt."""
    graph = execution.graph
    if not any(node["type"] == "subworkflow" for node in graph.nodes):
        return {}
    return parked_in_state(execution.snapshot(), graph)


async def before_drive(run: WorkflowRun, execution, driver: Driver) -> None:
    """A run about to be driven: continue the nodes parked on a child that has ended; when
    the run is to be cancelled, cancel those children first (so they end before it does)."""
    parked = parked_nodes(execution)
    if not parked:
        return
    current = await db(current_children, run.pk, parked)
    if run.cancel_requested_at is not None:
        owner = f"subworkflow:{run.pk}:{uuid.uuid4().hex[:8]}"
        for child_id, status in current.values():
            if status not in RUN_TERMINAL:
                await cancel_elsewhere(driver, child_id, owner)
        return
    for (node_id, iteration), (_, status) in current.items():
        if status in RUN_TERMINAL:
            execution.continue_node(node_id, iteration=iteration)


async def after_drive(run_id: int, execution, status: str, driver: Driver) -> None:
    """A run that ended leaves no child behind: cancel any child not ended (a node parked on
    it was cancelled by a timeout, say). In-process children have ended already."""
    if status not in RUN_TERMINAL:
        return
    if not any(node["type"] == "subworkflow" for node in execution.graph.nodes):
        return
    owner = f"subworkflow:{run_id}:{uuid.uuid4().hex[:8]}"
    for child_id in await db(unfinished_children, run_id):
        await cancel_elsewhere(driver, child_id, owner)
