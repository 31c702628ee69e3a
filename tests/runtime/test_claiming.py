"""Claiming never stops at a run it cannot or should not take: the runs queued behind a run
whose drive broke are claimed, and the broken run is taken again (by any worker, its last
worker included) once nobody keeps away from it."""

from datetime import timedelta

import pytest
from django.utils import timezone

from tests.runtime.conftest import make_run
from workflows.runtime.leases import claim_next_run, release_lease

pytestmark = pytest.mark.django_db


def test_a_run_whose_drive_broke_here_does_not_hide_the_runs_queued_after_it(user):
    broken = make_run(user, status="running", lease_owner="me", lease_expires_at=timezone.now())
    release_lease(broken.pk, "me")  # the drive broke: let any worker continue it
    queued = [make_run(user) for _ in range(5)]

    claimed = [claim_next_run("me", 15, [broken.pk]) for _ in range(5)]
    assert claimed == [run.pk for run in queued]  # oldest first, past the broken run
    assert claim_next_run("me", 15, [broken.pk]) is None
    assert claim_next_run("me", 15, []) == broken.pk  # no longer kept away: taken again


def test_a_run_left_with_an_expired_lease_is_claimed_by_its_last_worker_too(user):
    left = make_run(
        user,
        status="running",
        lease_owner="me",
        lease_expires_at=timezone.now() - timedelta(seconds=5),
    )
    later = make_run(user)
    assert claim_next_run("me", 15, []) == left.pk
    assert claim_next_run("me", 15, [left.pk]) == later.pk
