"""What a run's lease renewal watches besides the lease: cancel and pause requests (read from
PostgreSQL for every run an event loop drives) and stalls (running nodes and no event for a
while)."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from django.db import transaction
from django.db.models import BooleanField, ExpressionWrapper, Q
from django.utils import timezone

from engine.states import RUN_TERMINAL, NodeState
from workflows import conf
from workflows.models import NodeRun, WorkflowRun
from workflows.runtime.db import db
from workflows.runtime.logs import runtime_logger

if TYPE_CHECKING:
    from engine.execution import Execution
    from workflows.runtime.recorder import RunRecorder

logger = runtime_logger(__name__)


def cancel_requested(run_ids: list[int]) -> dict[int, str]:
    """The runs among these whose cancel was requested, with the reason their events give: a
    child whose parent ended or is being cancelled stops because of it, any other by a user."""
    rows = WorkflowRun.objects.filter(pk__in=run_ids, cancel_requested_at__isnull=False)
    return {
        pk: "the parent run stopped" if parent_stopped else "by user"
        for pk, parent_stopped in rows.annotate(
            parent_stopped=ExpressionWrapper(
                Q(parent_run__cancel_requested_at__isnull=False)
                | Q(parent_run__status__in=sorted(RUN_TERMINAL)),
                output_field=BooleanField(),
            )
        ).values_list("pk", "parent_stopped")
    }


def pause_requested(run_ids: list[int]) -> dict[int, dict]:
    """The runs among these a user asked to pause (`{by, at}`). The request stays on the row
    until a resume (pausing twice changes nothing): a second pause while the run finishes its
    running nodes is refused, and a worker taking the run over pauses it as well."""
    rows = WorkflowRun.objects.filter(pk__in=run_ids, pause_request__isnull=False)
    return dict(rows.values_list("pk", "pause_request"))


def live_decisions(run_ids: list[int]) -> dict[int, list[dict]]:
    """Approvals decided on these runs while they run (`WorkflowRun.live_decisions`), at top
    level or inside an iteration."""
    rows = WorkflowRun.objects.filter(pk__in=run_ids, live_decisions__isnull=False)
    return {pk: list(found or ()) for pk, found in rows.values_list("pk", "live_decisions")}


def forget_decisions(run_id: int, applied: list[dict]) -> None:
    """Drop the decisions a worker applied (or found void); ones saved meanwhile stay."""
    with transaction.atomic():
        run = WorkflowRun.objects.select_for_update().only("live_decisions").get(pk=run_id)
        left = [d for d in run.live_decisions or () if d not in applied]
        WorkflowRun.objects.filter(pk=run_id).update(live_decisions=left or None)


def hand_over_decisions(run_id: int) -> bool:
    """The run parked before its worker read the decisions made while it ran: they join the
    parked run's decisions and the run is due now (as `control._resume_soon` would)."""
    with transaction.atomic():
        run = WorkflowRun.objects.select_for_update().get(pk=run_id)
        if not run.live_decisions or run.status != "paused" or not run.state:
            return False
        state = dict(run.state)
        pending = state.get("approve") or []
        state["approve"] = [*([pending] if isinstance(pending, dict) else pending)]
        left = []
        for decision in run.live_decisions:
            if (decision.get("action") or "approve") == "approve":
                state["approve"].append(decision)
            elif not state.get("resume"):  # one resume per wake-up: the rest apply once it runs
                state["resume"] = {**decision, "iteration": decision.get("iteration") or ""}
            else:
                left.append(decision)
        WorkflowRun.objects.filter(pk=run_id).update(
            state=state, live_decisions=left or None, wake_at=timezone.now()
        )
    return True


def settle_retried_rows(run_id: int, node_id: str, iteration: str) -> None:
    """The rows of a node run again no longer wait: a breakpoint's row (attempt 0: it had not
    started) gives way to the attempt that now runs; a parked failure's attempt is what it
    was, failed, retried by the user."""
    rows = NodeRun.objects.filter(
        run_id=run_id, node_id=node_id, iteration=iteration, status=NodeState.WAITING
    )
    rows.filter(attempt=0).delete()
    rows.filter(attempt__gte=1).update(
        status=NodeState.FAILED, reason="retried by the user", wait=None
    )


def apply_decisions(execution: Execution, decisions: list[dict]) -> list[dict]:
    """Apply decisions to a running execution; those applied or void (warned), not those the
    run could not take because it is parking (the drive hands them over)."""
    done = []
    for decision in decisions:
        iteration = decision.get("iteration") or ""
        where = f"{decision['node']} in {iteration}" if iteration else decision["node"]
        if iteration and container_busy(execution, iteration):
            continue  # applied once the container parks on its iterations
        try:
            execution.decide_now(lambda e, d=decision, path=iteration: decide(e, d, path))
        except KeyError as exc:
            execution.warn(f"the decision on {where} was not applied: {exc}")
        except ValueError as exc:
            if execution.status == "running" and "not running" not in str(exc):
                execution.warn(f"the decision on {where} was not applied: {exc}")
            else:
                continue  # parking: handed over with the parked run
        done.append(decision)
    return done


def decide(execution: Execution, decision: dict, iteration: str) -> None:
    """Apply one decision made while the run runs: an approval, or a retry or skip of a node
    that waits (a breakpoint, a failure pause)."""
    node_id, action = decision["node"], decision.get("action") or "approve"
    if action == "skip":
        execution.skip_node(node_id, iteration=iteration)
    elif action == "retry":
        execution.retry_node(node_id, decision.get("config"), iteration=iteration)
    else:
        execution.approve_node(
            node_id, decision["approved"], decision.get("data"), decision.get("by"), iteration
        )


def container_busy(execution: Execution, iteration: str) -> bool:
    """The top-level container of `iteration` (`m` of `m[2]/l[0]`) still runs other items:
    an iteration that waits in it is decided once the container parks (`wait.kind` body)."""
    container = iteration.split("/", 1)[0].rpartition("[")[0]
    record = execution.record_of(container)
    return record is not None and record.status in (
        NodeState.RUNNING,
        NodeState.QUEUED,
        NodeState.RETRYING,
    )


class CancelWatch:
    """Reads the cancel requests of every run this event loop drives, in one query every
    `SWITCHYARD_CANCEL_POLL_S`: a cancel takes effect within a second even when its control
    message is lost (Redis flushed, message dropped), whatever the lease's length. The message
    only makes it sooner."""

    def __init__(self, poll_s: float) -> None:
        self.poll_s = poll_s
        self.runs: dict[int, Execution] = {}
        self.task: asyncio.Task | None = None
        self.failing = False

    def add(self, run_id: int, execution: Execution) -> None:
        self.runs[run_id] = execution
        if self.task is None or self.task.done():
            self.task = asyncio.get_running_loop().create_task(self._poll())

    def discard(self, run_id: int, execution: Execution) -> None:
        if self.runs.get(run_id) is execution:
            del self.runs[run_id]
        if not self.runs and self.task is not None:
            self.task.cancel()
            self.task = None

    async def _poll(self) -> None:
        while self.runs:
            await asyncio.sleep(self.poll_s)
            try:
                requested = await db(cancel_requested, list(self.runs))
            except Exception as exc:
                if not self.failing:  # once per outage, not once per poll
                    logger.warning("cannot read cancel requests: %s", exc)
                self.failing = True
                continue
            self.failing = False
            for run_id, reason in requested.items():
                execution = self.runs.pop(run_id, None)  # cancelled once
                if execution is not None:
                    execution.cancel(reason)
            await self._pauses()
            await self._decisions()

    async def _decisions(self) -> None:
        """Decisions made while the run runs (SPEC §8: approvals, retries and skips of waiting
        nodes): applied at once by this worker."""
        if not self.runs:
            return
        try:
            found = await db(live_decisions, list(self.runs))
        except Exception as exc:
            logger.warning("cannot read live decisions: %s", exc)
            return
        for run_id, decisions in found.items():
            execution = self.runs.get(run_id)
            if execution is None:
                continue
            applied = apply_decisions(execution, decisions)
            if applied:
                try:
                    for retried in [d for d in applied if d.get("action") == "retry"]:
                        path = retried.get("iteration") or ""
                        await db(settle_retried_rows, run_id, retried["node"], path)
                    await db(forget_decisions, run_id, applied)
                except Exception as exc:
                    logger.warning("cannot clear live decisions of run %s: %s", run_id, exc)

    async def _pauses(self) -> None:
        """Pause requests (SPEC §8): the run's execution lets running nodes finish, starts
        nothing new and parks; a request read while the database fails is read next time."""
        if not self.runs:
            return
        try:
            requested = await db(pause_requested, list(self.runs))
        except Exception as exc:
            logger.warning("cannot read pause requests: %s", exc)
            return
        for run_id, request in requested.items():
            execution = self.runs.get(run_id)
            if execution is not None:
                execution.pause((request or {}).get("by"))


_cancel_watches: dict[asyncio.AbstractEventLoop, CancelWatch] = {}


def cancel_watch() -> CancelWatch:
    """This event loop's cancel watch (a worker's, or a CLI's)."""
    loop = asyncio.get_running_loop()
    watch = _cancel_watches.get(loop)
    if watch is None:
        for stale in [other for other in _cancel_watches if other.is_closed()]:
            del _cancel_watches[stale]
        poll_s = conf.value("CANCEL_POLL_S")
        watch = _cancel_watches[loop] = CancelWatch(poll_s)
    return watch


# Top-level nodes of each run (by run id) that are following a child in this process now:
# the worker's stall check leaves them out (the activity is in the child run).
_following: dict[int, Counter] = {}


def following_children(run_id: int) -> set[str]:
    """The run's top-level nodes that wait here for a child run (containers included)."""
    return set(_following.get(run_id) or ())


@contextmanager
def following_child(run_id: int, top: str) -> Iterator[None]:
    """While a node of the run (`top`: its top-level node) follows a child run in this process."""
    following = _following.setdefault(run_id, Counter())
    following[top] += 1
    try:
        yield
    finally:
        following[top] -= 1
        if following[top] <= 0:
            del following[top]
        if not following:
            _following.pop(run_id, None)


class StallWatch:
    """Stall detection of one run, called at each lease renewal: running nodes and no event
    for `stall_s` give one warning event (`stalled: no event for 61 s while fetch running`)
    and the run's `stalled_at` mark, which the next write clears."""

    def __init__(
        self, run_id: int, owner: str, execution: Execution, recorder: RunRecorder, stall_s: float
    ) -> None:
        self.run_id, self.owner, self.stall_s = run_id, owner, stall_s
        self.execution, self.recorder = execution, recorder
        self.stalled = False

    async def check(self) -> None:
        execution = self.execution
        quiet = time.time() - self.recorder.last_event_ts
        # A node following a child run is quiet here because the child does the work (its
        # events are the child's, and the child is watched itself): not a stall of this run.
        following = following_children(self.run_id)
        running = [
            execution.graph.ids[i]
            for i, record in enumerate(execution.records)
            if record.status == NodeState.RUNNING and execution.graph.ids[i] not in following
        ]
        if quiet < self.stall_s or not running:
            self.stalled = False
            return
        if not self.stalled:
            message = f"stalled: no event for {quiet:.0f} s while {', '.join(running)} running"
            execution.warn(message)
            await self.recorder.flush()  # the warning first: every write clears the mark
            await db(mark_stalled, self.run_id, self.owner)
        self.stalled = True


def mark_stalled(run_id: int, owner: str) -> None:
    WorkflowRun.objects.filter(pk=run_id, lease_owner=owner).update(stalled_at=timezone.now())


def stall_seconds() -> float:
    return conf.value("STALL_S")
