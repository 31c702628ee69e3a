"""Schedules fire from PostgreSQL (SPEC §8), with an injected clock: each fire time starts
exactly one run however many workers race, a worker killed while firing loses and doubles
nothing, misfire and overlap policies, and DST days."""

from __future__ import annotations

import subprocess
import sys
import threading
from collections import Counter
from datetime import UTC, datetime, timedelta
from itertools import pairwise

import pytest
from django.db import connection

from tests.runtime.workers import ROOT, worker_env
from workflows import services, triggers
from workflows.models import Trigger, TriggerFire, WorkflowRun
from workflows.runtime.schedules import fire_due

pytestmark = pytest.mark.django_db(transaction=True)

T0 = datetime(2026, 6, 1, tzinfo=UTC)


def scheduled(user, at: datetime = T0, **config) -> Trigger:
    """An active workflow whose schedule `tick` feeds an output; armed as of `at`."""
    document = {
        "nodes": [
            {"id": "tick", "type": "schedule", "config": config},
            {"id": "out", "type": "output", "config": {"value": "{{ input.scheduled_for }}"}},
        ],
        "edges": [{"id": "e", "source": "tick", "target": "out"}],
    }
    workflow = services.workflow_create(owner=user, source=document)
    assert workflow.valid, workflow.errors
    triggers.workflow_activate(user=user, workflow_id=workflow.pk)
    trigger = Trigger.objects.get(workflow=workflow)
    trigger.next_fire_at = triggers.first_fire(trigger.config, at)
    trigger.save()
    return trigger


def fired_times() -> list[str]:
    runs = WorkflowRun.objects.filter(trigger="schedule").order_by("id")
    return [run.trigger_data["scheduled_for"] for run in runs]


def race(workers: int, clock: list[datetime]) -> None:
    """`workers` threads step through the same clock together, each firing at every tick."""
    barrier = threading.Barrier(workers)
    errors: list[BaseException] = []

    def work() -> None:
        try:
            for now in clock:
                barrier.wait()
                fire_due(now=now)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)
            barrier.abort()
        finally:
            connection.close()

    threads = [threading.Thread(target=work) for _ in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors, errors


def test_three_racing_workers_start_exactly_one_run_per_fire_time_over_a_day(user):
    scheduled(user, cron="* * * * *", overlap="allow")
    clock = [T0 + timedelta(minutes=m, seconds=1) for m in range(1, 1441)]
    race(3, clock)
    times = fired_times()
    assert len(times) == 1440
    assert len(set(times)) == 1440
    assert times[0] == "2026-06-01T00:01:00.000000Z"
    assert times[-1] == "2026-06-02T00:00:00.000000Z"
    assert TriggerFire.objects.filter(outcome="started").count() == 1440


def test_the_run_begins_at_the_schedule_with_its_fire_time(user):
    scheduled(user, every_s=60)
    assert fire_due(now=T0 + timedelta(seconds=61)) == 1
    run = WorkflowRun.objects.get()
    assert (run.trigger, run.trigger_node) == ("schedule", "tick")
    assert run.trigger_data == {
        "scheduled_for": "2026-06-01T00:01:00.000000Z",
        "fired_at": "2026-06-01T00:01:01.000000Z",
    }
    assert Trigger.objects.get().next_fire_at == T0 + timedelta(minutes=2)


KILL_SCRIPT = """
import os, django
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "switchyard.settings")
django.setup()
from datetime import datetime
from workflows import services
from workflows.runtime.schedules import fire_due
real, calls = services.run_create, []
def dying(**kwargs):
    calls.append(1)
    if len(calls) == 3:
        os._exit(9)  # as kill -9: mid-transaction, nothing cleaned up
    return real(**kwargs)
services.run_create = dying
fire_due(now=datetime.fromisoformat("{now}"))
"""


def test_a_worker_killed_while_firing_loses_no_fire_and_doubles_none(user):
    scheduled(user, cron="*/10 * * * *", misfire="catch_up", catch_up_max=6, overlap="allow")
    now = T0 + timedelta(hours=1, seconds=5)
    script = KILL_SCRIPT.format(now=now.isoformat())
    died = subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=worker_env(), check=False)
    assert died.returncode == 9
    assert WorkflowRun.objects.count() == 0  # its transaction died with it
    assert TriggerFire.objects.count() == 0
    assert fire_due(now=now) == 6
    assert fire_due(now=now) == 0
    assert fired_times() == [f"2026-06-01T00:{m}0:00.000000Z" for m in range(1, 6)] + [
        "2026-06-01T01:00:00.000000Z"
    ]


def test_after_an_outage_skip_fires_nothing_missed_and_catch_up_fires_the_latest(user):
    skip = scheduled(user, cron="*/10 * * * *", overlap="allow")
    catch = scheduled(
        user, cron="*/10 * * * *", overlap="allow", misfire="catch_up", catch_up_max=3
    )
    now = T0 + timedelta(hours=5, minutes=5)  # 30 fire times passed while nobody ran
    fire_due(now=now)
    by_trigger = Counter(WorkflowRun.objects.values_list("workflow_id", flat=True))
    assert by_trigger[skip.workflow_id] == 0
    assert by_trigger[catch.workflow_id] == 3
    assert sorted(fired_times()) == [
        "2026-06-01T04:40:00.000000Z",
        "2026-06-01T04:50:00.000000Z",
        "2026-06-01T05:00:00.000000Z",
    ]
    for trigger in (skip, catch):
        trigger.refresh_from_db()
        assert trigger.next_fire_at == T0 + timedelta(hours=5, minutes=10)
    fire_due(now=T0 + timedelta(hours=5, minutes=10, seconds=3))  # back on time: both fire
    assert WorkflowRun.objects.count() == 5


def step_minutes(trigger: Trigger, minutes: int) -> None:
    for m in range(1, minutes + 1):
        fire_due(now=T0 + timedelta(minutes=m, seconds=1))


def outcomes(trigger: Trigger) -> list[str]:
    return list(trigger.fires.order_by("scheduled_for").values_list("outcome", flat=True))


def test_overlap_skip_records_the_fire_skipped_while_the_previous_run_goes_on(user):
    trigger = scheduled(user, every_s=60)  # overlap: skip (the default)
    step_minutes(trigger, 3)  # no worker: the first run stays queued
    assert outcomes(trigger) == ["started", "skipped", "skipped"]
    assert (
        trigger.fires.filter(outcome="skipped").first().reason == "the previous run is still going"
    )
    WorkflowRun.objects.update(status="succeeded")
    fire_due(now=T0 + timedelta(minutes=4, seconds=1))
    assert outcomes(trigger)[-1] == "started"


def test_overlap_allow_starts_a_run_for_every_fire(user):
    trigger = scheduled(user, every_s=60, overlap="allow")
    step_minutes(trigger, 3)
    assert outcomes(trigger) == ["started"] * 3
    assert WorkflowRun.objects.count() == 3


def test_overlap_queue_starts_the_waiting_fires_one_after_another(user):
    trigger = scheduled(user, every_s=60, overlap="queue")
    step_minutes(trigger, 3)
    assert outcomes(trigger) == ["started", "queued", "queued"]
    assert WorkflowRun.objects.count() == 1
    WorkflowRun.objects.update(status="succeeded")
    fire_due(now=T0 + timedelta(minutes=3, seconds=30))  # no new fire time: the queue moves
    assert outcomes(trigger) == ["started", "started", "queued"]
    assert fired_times() == ["2026-06-01T00:01:00.000000Z", "2026-06-01T00:02:00.000000Z"]


def test_a_deactivated_schedule_fires_nothing(user):
    trigger = scheduled(user, every_s=60, overlap="allow")
    triggers.workflow_deactivate(user=user, workflow_id=trigger.workflow_id)
    step_minutes(trigger, 3)
    assert WorkflowRun.objects.count() == 0


NEW_YORK = "America/New_York"


def day_of_fires(user, cron: str, start: datetime) -> list[datetime]:
    scheduled(user, start, cron=cron, timezone=NEW_YORK, overlap="allow")
    clock = [start + timedelta(minutes=m, seconds=1) for m in range(1, 25 * 60 + 1)]
    race(1, clock)
    return [datetime.fromisoformat(at) for at in fired_times()]


def test_on_the_autumn_dst_day_a_daily_time_fires_once_and_a_half_hourly_one_every_half_hour(user):
    start = datetime(2026, 11, 1, 4, 0, tzinfo=UTC)  # midnight in New York, EDT
    fires = day_of_fires(user, "30 1 * * *", start)
    assert fires == [datetime(2026, 11, 1, 5, 30, tzinfo=UTC)]  # 01:30 EDT, not 01:30 EST too
    WorkflowRun.objects.all().delete()
    fires = day_of_fires(user, "*/30 * * * *", start)
    assert len(fires) == 50  # 25 hours of real time, none twice
    assert all(b - a == timedelta(minutes=30) for a, b in pairwise(fires))


def test_on_the_spring_dst_day_a_time_in_the_gap_fires_once_after_it(user):
    start = datetime(2026, 3, 8, 5, 0, tzinfo=UTC)  # midnight in New York, EST
    fires = day_of_fires(user, "30 2 * * *", start)
    assert fires == [datetime(2026, 3, 8, 7, 30, tzinfo=UTC)]  # 03:30 EDT
