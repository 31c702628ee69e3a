"""The reason a polled cancel gives (issue 13, defect 10: cancels are read from PostgreSQL):
a child run stops because its parent stopped, any other run by a user."""

from __future__ import annotations

import pytest
from django.utils import timezone

from tests.runtime.conftest import make_run
from workflows.runtime.watches import cancel_requested

pytestmark = pytest.mark.django_db


def test_a_polled_cancel_names_the_parent_for_a_child_and_the_user_otherwise(user):
    now = timezone.now()
    parent = make_run(user, status="running", cancel_requested_at=now)
    child = make_run(user, status="running", parent_run=parent, cancel_requested_at=now)
    ended = make_run(user, status="failed")
    orphan = make_run(user, status="running", parent_run=ended, cancel_requested_at=now)
    alone = make_run(user, status="running", cancel_requested_at=now)
    running = make_run(user, status="running")
    kept = make_run(user, status="running", parent_run=running, cancel_requested_at=now)
    untouched = make_run(user, status="running")

    ids = [parent.pk, child.pk, orphan.pk, alone.pk, kept.pk, untouched.pk]
    assert cancel_requested(ids) == {
        parent.pk: "by user",
        child.pk: "the parent run stopped",
        orphan.pk: "the parent run stopped",
        alone.pk: "by user",
        kept.pk: "by user",  # its parent goes on: a user cancelled the child itself
    }
