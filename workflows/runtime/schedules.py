"""Schedules fire (SPEC §8): a step every worker runs (`schedule_forever`), any number of
them at once, against PostgreSQL only — no in-memory timer.

A step claims due schedule triggers one at a time (`FOR UPDATE SKIP LOCKED`: each due
trigger is handled by one worker at a time), and in that trigger's one transaction records a
`TriggerFire` per fire time (unique per trigger and time: a fire time starts at most one run,
whoever races), starts its run, and moves `next_fire_at` past now. A worker killed in the
middle rolls the whole transaction back; the next step fires the same times again, once.

Misfire (fire times passed while no worker ran): `skip` fires only those at most
`MISFIRE_GRACE_S` late; `catch_up` fires the latest `catch_up_max` of those missed within
`CATCH_UP_WINDOW` too. Overlap (the trigger's previous run still going): `skip` records the
fire as skipped, `allow` starts another run, `queue` records it queued and starts it when the
previous run ends (at most `MAX_QUEUED` waiting; more are skipped).
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import datetime, timedelta

from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.utils import timezone

from engine.schedule import fire_times, next_fire
from workflows import conf, services
from workflows.documents import iso
from workflows.errors import NotRunnable
from workflows.models import CLAIMABLE_STATES, RunTrigger, Trigger, TriggerFire, WorkflowRun
from workflows.runtime.db import db
from workflows.runtime.logs import runtime_logger

logger = runtime_logger(__name__)

MISFIRE_GRACE_S = 60
CATCH_UP_WINDOW = timedelta(days=7)
MAX_QUEUED = 100
MAX_TRIGGERS_PER_STEP = 200
Outcome = TriggerFire.Outcome


def fire_due(*, now: datetime | None = None) -> int:
    """One scheduler step at `now` (the clock tests inject): fire every due schedule, then
    start queued fires whose previous run ended. Returns the runs started."""
    now = now or timezone.now()
    started = 0
    for _ in range(MAX_TRIGGERS_PER_STEP):
        with transaction.atomic():
            trigger = claim_due(now)
            if trigger is None:
                break
            started += fire_trigger(trigger, now)
    return started + start_queued(now)


def claim_due(now: datetime) -> Trigger | None:
    due = Trigger.objects.filter(
        type="schedule", armed=True, next_fire_at__lte=now, workflow__active=True
    )
    return (
        due.select_for_update(skip_locked=True, of=("self",))
        .select_related("workflow")
        .order_by("next_fire_at")
        .first()
    )


def fire_trigger(trigger: Trigger, now: datetime) -> int:
    """Fire the trigger's due times (by its misfire policy) and move it past `now`."""
    started = 0
    last = None
    for scheduled_for in due_times(trigger, now):
        started += fire_once(trigger, scheduled_for, now)
        last = scheduled_for
    trigger.next_fire_at = next_fire(trigger.config, now)
    if last is not None:
        trigger.last_fire_at = last
    trigger.save(update_fields=["next_fire_at", "last_fire_at"])
    return started


def due_times(trigger: Trigger, now: datetime) -> list[datetime]:
    """The fire times in [next_fire_at, now] this step fires, by the misfire policy."""
    config = trigger.config
    first = trigger.next_fire_at
    if config.get("misfire") == "catch_up":
        since = max(first, now - CATCH_UP_WINDOW)
        keep = int(config.get("catch_up_max") or 10)
    else:
        since = max(first, now - timedelta(seconds=MISFIRE_GRACE_S))
        keep = None
    times = list(times_from(config, since, now))
    late = [at for at in times if (now - at).total_seconds() > MISFIRE_GRACE_S]
    if keep is not None and len(late) > keep:
        times = times[len(late) - keep :]
    return times


def times_from(config: dict, since: datetime, now: datetime) -> Iterator[datetime]:
    """Fire times in [since, now]."""
    yield from fire_times(config, since - timedelta(microseconds=1), now)


def fire_once(trigger: Trigger, scheduled_for: datetime, now: datetime) -> int:
    """Record this fire time (once: the unique fire record) and start its run, skip it or
    queue it by the overlap policy. 1 when a run started."""
    outcome, reason = overlap_outcome(trigger)
    try:
        with transaction.atomic():
            fire = TriggerFire.objects.create(
                trigger=trigger,
                scheduled_for=scheduled_for,
                fired_at=now,
                outcome=outcome,
                reason=reason,
            )
    except IntegrityError:
        return 0  # fired before
    if outcome != Outcome.STARTED:
        return 0
    return start_fire(trigger, fire, now)


def overlap_outcome(trigger: Trigger) -> tuple[str, str]:
    policy = trigger.config.get("overlap") or "skip"
    if policy == "allow" or not (running(trigger) or queued(trigger).exists()):
        return Outcome.STARTED, ""
    if policy == "queue" and queued(trigger).count() < MAX_QUEUED:
        return Outcome.QUEUED, "the previous run is still going"
    if policy == "queue":
        return Outcome.SKIPPED, f"{MAX_QUEUED} fires already wait"
    return Outcome.SKIPPED, "the previous run is still going"


def running(trigger: Trigger) -> bool:
    return WorkflowRun.objects.filter(
        workflow_id=trigger.workflow_id,
        trigger=RunTrigger.SCHEDULE,
        trigger_node=trigger.node_id,
        status__in=CLAIMABLE_STATES,
    ).exists()


def queued(trigger: Trigger):
    return TriggerFire.objects.filter(trigger=trigger, outcome=Outcome.QUEUED)


def start_fire(trigger: Trigger, fire: TriggerFire, now: datetime) -> int:
    """Start the run of a fire; a workflow that cannot run (inputs it needs) skips it."""
    data = {"scheduled_for": iso(fire.scheduled_for), "fired_at": iso(now)}
    started_by = {"trigger_node": trigger.node_id, "trigger_data": data}
    owner = get_user_model()(pk=trigger.workflow.owner_id)
    try:
        with transaction.atomic():
            run = services.run_create(
                user=owner,
                workflow_id=trigger.workflow_id,
                trigger=RunTrigger.SCHEDULE,
                started_by=started_by,
            )
    except NotRunnable as exc:
        fire.outcome, fire.reason, fire.run = Outcome.SKIPPED, str(exc)[:200], None
        fire.save(update_fields=["outcome", "reason", "run"])
        return 0
    fire.outcome, fire.reason, fire.run = Outcome.STARTED, "", run
    fire.save(update_fields=["outcome", "reason", "run"])
    return 1


def start_queued(now: datetime) -> int:
    """Start the oldest queued fire of each trigger whose previous run ended."""
    started = 0
    waiting = TriggerFire.objects.filter(outcome=Outcome.QUEUED).values_list("trigger_id")
    ids = list(waiting.distinct()[:MAX_TRIGGERS_PER_STEP])
    for (trigger_id,) in ids:
        with transaction.atomic():
            trigger = (
                Trigger.objects.select_for_update(skip_locked=True, of=("self",))
                .select_related("workflow")
                .filter(pk=trigger_id)
                .first()
            )
            if trigger is None or running(trigger):
                continue
            fire = queued(trigger).order_by("scheduled_for").first()
            if fire is None:
                continue
            if not (trigger.armed and trigger.workflow.active):
                queued(trigger).update(outcome=Outcome.SKIPPED, reason="the schedule was disarmed")
                continue
            started += start_fire(trigger, fire, now)
    return started


async def schedule_forever(stopping: asyncio.Event) -> None:
    """A worker's scheduler: a step every `SWITCHYARD_SCHEDULE_POLL_S` until it stops."""
    failing = False
    while not stopping.is_set():
        try:
            await db(fire_due)
            failing = False
        except asyncio.CancelledError:
            raise
        except Exception:
            if not failing:
                logger.exception("scheduler step failed")
            failing = True
        try:
            await asyncio.wait_for(stopping.wait(), timeout=conf.value("SCHEDULE_POLL_S"))
        except TimeoutError:
            pass
