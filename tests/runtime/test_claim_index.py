"""A claim reads the runs not ended through `run_claimable`, not the whole history: with
thousands of finished runs, PostgreSQL plans the claim query as a scan of that partial index
in claim order."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tests.runtime.conftest import make_run
from workflows.models import CLAIMABLE_STATES, WorkflowRun
from workflows.runtime.leases import claim_runs

pytestmark = pytest.mark.django_db

FINISHED = 3000


def test_the_claim_query_reads_the_runs_not_ended_through_their_own_index(user):
    queued = make_run(user)
    finished = [
        WorkflowRun(
            workflow_id=queued.workflow_id,
            document=queued.document,
            revision=1,
            status="succeeded",
            finished_at=timezone.now(),
        )
        for _ in range(FINISHED)
    ]
    WorkflowRun.objects.bulk_create(finished)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE workflows_workflowrun")

    with CaptureQueriesContext(connection) as queries:
        assert claim_runs("me", 15, [], 8) == ([queued.pk], False)

    [claim] = [q["sql"] for q in queries.captured_queries if "SKIP LOCKED" in q["sql"]]
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN {claim}")
        plan = "\n".join(row[0] for row in cursor.fetchall())
    # A plain index scan in claim order: it marks the entries of runs that ended since as
    # dead and skips them from then on (a bitmap scan would visit them all, every claim, until
    # a VACUUM).
    assert "Index Scan using run_claimable" in plan, plan


def test_the_index_holds_every_state_a_claim_takes():
    index = next(i for i in WorkflowRun._meta.indexes if i.name == "run_claimable")
    assert set(CLAIMABLE_STATES) == {"queued", "running", "paused"}
    assert dict(index.condition.children) == {"status__in": CLAIMABLE_STATES}
