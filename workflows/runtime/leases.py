"""Who holds a run: a worker (or the API, the CLI, a parent's worker) executes a run only while
it holds the run's lease, and every write of the run is fenced by it.

A worker claims runs with `SELECT … FOR UPDATE SKIP LOCKED` plus a compare-and-set of the
lease, renews the lease while the run executes, and releases it when it stops. A run whose
lease expired (its worker died) is free for anyone: `nobody_holds` is that condition, the one
every claim uses.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import TYPE_CHECKING

from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from engine.states import RunState
from workflows.models import CLAIMABLE_STATES, WorkflowRun
from workflows.runtime.db import RELAXED_COMMIT_CTE, db, synchronous_commit
from workflows.runtime.logs import runtime_logger
from workflows.runtime.watches import cancel_watch

if TYPE_CHECKING:
    from engine.execution import Execution
    from workflows.runtime.recorder import RunRecorder

logger = runtime_logger(__name__)


class LeaseLost(Exception):
    """This worker no longer owns the run: another worker took it over."""


class RunUnstorable(LeaseLost):
    """The database refused the run's events for good: the run was ended failed
    (`unstorable_output`) and this worker drives it no further (what it emits is dropped)."""


def nobody_holds(now) -> Q:
    """Runs no live worker holds: never leased, released, or whose lease expired."""
    return Q(lease_owner="") | Q(lease_expires_at__lt=now)


CLAIM_TRIES = 5  # candidate batches one claim looks at before it gives up until the next sweep


def claim_next_run(owner: str, lease_s: float, exclude: list[int]) -> int | None:
    """Lease the oldest claimable run: queued, running with an expired lease, or paused with
    a wake-up time that has come (durable delay, approval timeout, a decision to apply).

    Runs this worker holds or keeps away from (`exclude`: those it drives, those whose drive
    broke here lately) are skipped by id — a run it left with an expired lease is its to take
    again once it is not kept away, even alone — and a candidate that cannot be taken does not
    end the search: one unclaimable run never hides the runs queued after it."""
    taken, _ = claim_runs(owner, lease_s, exclude, 1)
    return taken[0] if taken else None


def claim_runs(
    owner: str, lease_s: float, exclude: list[int], limit: int
) -> tuple[list[int], bool]:
    """Lease up to `limit` of the oldest claimable runs (as `claim_next_run` picks them) in
    one transaction: one query for a burst of runs, not one each. Also says whether more may
    be waiting (the query found `limit` candidates), so a caller need not ask again to learn
    that nothing is left."""
    now = timezone.now()
    expires = now + timedelta(seconds=lease_s)
    if connection.vendor == "postgresql":
        return claim_runs_postgresql(owner, now, expires, exclude, limit)
    # The runs not ended first, as the partial index `run_claimable` holds them (PostgreSQL
    # reads only that index then, in claim order); of those, the queued and running ones
    # (running: its worker died) and the paused ones that are due (a durable timer, an
    # approval timeout, a user's decision, a child's end).
    claimable = (
        nobody_holds(now)
        & Q(status__in=CLAIMABLE_STATES)
        & (Q(status__in=(RunState.QUEUED, RunState.RUNNING)) | Q(wake_at__lte=now))
    )
    passed = list(exclude)
    for _ in range(CLAIM_TRIES):
        with transaction.atomic():
            candidates = list(
                WorkflowRun.objects.select_for_update(skip_locked=True)
                .filter(claimable)
                .exclude(pk__in=passed)
                .order_by("created_at", "pk")
                .values_list("pk", flat=True)[:limit]
            )
            if not candidates:
                return [], False
            # Compare-and-set as well: correct even where FOR UPDATE is a no-op (SQLite).
            taken = WorkflowRun.objects.filter(claimable, pk__in=candidates).update(
                lease_owner=owner, lease_expires_at=expires
            )
            ours = candidates
            if taken < len(candidates):  # some could not be taken: which ones are ours
                leased = WorkflowRun.objects.filter(
                    pk__in=candidates, lease_owner=owner, lease_expires_at=expires
                )
                mine = set(leased.values_list("pk", flat=True))
                ours = [run_id for run_id in candidates if run_id in mine]
        if ours:
            return ours, len(candidates) == limit
        passed.extend(candidates)
    return [], False


# claim_runs on PostgreSQL in one statement (its own transaction) instead of four round trips
# and three ORM-compiled queries: the oldest claimable runs, locked with SKIP LOCKED, leased at
# once. PostgreSQL checks a locked row's condition again on its latest version, so every row
# the select returns is still claimable and is taken. The condition is claim_runs' own (and
# reads the partial index run_claimable in claim order). It commits as the event batches do
# (db.synchronous_commit): a claim PostgreSQL lost in a crash of its own leaves the run
# claimable, and the claimer's first write, fenced by the lease, fails.
CLAIM_SQL = f"""
WITH {RELAXED_COMMIT_CTE},
candidates AS (
  SELECT id FROM workflows_workflowrun
  WHERE (lease_owner = '' OR lease_expires_at < %(now)s)
    AND status IN ({", ".join(f"'{state}'" for state in CLAIMABLE_STATES)})
    AND (status IN ('{RunState.QUEUED.value}', '{RunState.RUNNING.value}') OR wake_at <= %(now)s)
    AND NOT (id = ANY(%(exclude)s::bigint[]))
  ORDER BY created_at, id
  LIMIT %(limit)s
  FOR UPDATE SKIP LOCKED
)
UPDATE workflows_workflowrun AS w SET lease_owner = %(owner)s, lease_expires_at = %(expires)s
FROM candidates, cfg WHERE w.id = candidates.id
RETURNING w.id, w.created_at
"""


def claim_runs_postgresql(
    owner: str, now, expires, exclude: list[int], limit: int
) -> tuple[list[int], bool]:
    params = {"now": now, "exclude": list(exclude), "limit": limit, "sync": synchronous_commit()}
    params.update(owner=owner, expires=expires)
    with connection.cursor() as cursor:
        cursor.execute(CLAIM_SQL, params)
        taken = sorted(cursor.fetchall(), key=lambda row: (row[1], row[0]))
    return [run_id for run_id, _ in taken], len(taken) == limit


def release_lease(run_id: int, owner: str) -> None:
    """Let any worker take the run over at once, this one included (it is stopping, or the
    run's drive broke here)."""
    WorkflowRun.objects.filter(pk=run_id, lease_owner=owner).update(
        lease_owner="", lease_expires_at=timezone.now() - timedelta(seconds=1)
    )


def renew_lease(run_id: int, owner: str, lease_s: float) -> tuple[bool, bool]:
    """Extend the lease; returns (still ours, cancel requested)."""
    updated = WorkflowRun.objects.filter(pk=run_id, lease_owner=owner).update(
        lease_expires_at=timezone.now() + timedelta(seconds=lease_s)
    )
    if not updated:
        return False, False
    cancel = WorkflowRun.objects.filter(pk=run_id, cancel_requested_at__isnull=False).exists()
    return True, cancel


async def keep_lease(
    run_id: int,
    owner: str,
    lease_s: float,
    execution: Execution,
    recorder: RunRecorder,
    on_renewed: Callable[[], Awaitable[None]] | None = None,
) -> None:
    """Renew the lease every third of its length while the run executes. A lost lease stops
    the run here (another process owns it now); a cancel request cancels it (read far more
    often than the lease is renewed, by the event loop's `CancelWatch`)."""
    watch = cancel_watch()
    watch.add(run_id, execution)
    try:
        while True:
            await asyncio.sleep(max(0.05, lease_s / 3))
            try:
                ours, cancel = await db(renew_lease, run_id, owner, lease_s)
            except Exception as exc:
                logger.warning("%s cannot renew the lease of run %s: %s", owner, run_id, exc)
                continue
            if not ours:
                recorder.lease_lost = True
                execution.cancel("this process lost the run's lease")
                return
            if cancel:
                execution.cancel("by user")
            if on_renewed is not None:
                await on_renewed()
    finally:
        watch.discard(run_id, execution)
