"""What a run's writes cost PostgreSQL (issue 13, throughput): a claim and a lease renewal
change no indexed column, so the row is updated in place (HOT: no index touched); and the
runtime's own writes (claims, event batches, a run's end) commit without waiting for the WAL
flush unless SWITCHYARD_SYNCHRONOUS_EVENT_COMMIT, while a run's creation always waits."""

import pytest
from django.db import connection

from tests.runtime.conftest import make_run
from workflows import services
from workflows.models import WorkflowRun
from workflows.runtime.finish import finish_run
from workflows.runtime.leases import claim_runs, renew_lease

pytestmark = pytest.mark.django_db


def sql(query: str):
    with connection.cursor() as cursor:
        cursor.execute(query)
        return cursor.fetchone()[0]


def run_updates() -> tuple[int, int]:
    """Updates of the runs table in this transaction: (all, HOT)."""
    oid = "'workflows_workflowrun'::regclass"
    return (
        sql(f"SELECT pg_stat_get_xact_tuples_updated({oid})"),
        sql(f"SELECT pg_stat_get_xact_tuples_hot_updated({oid})"),
    )


def test_a_claim_and_its_lease_renewals_update_the_run_in_place(user):
    run = make_run(user)
    before, hot_before = run_updates()
    assert claim_runs("worker-a", 15, [], 8) == ([run.pk], False)
    for _ in range(3):
        assert renew_lease(run.pk, "worker-a", 15) == (True, False)
    updated, hot = run_updates()
    assert updated - before == 4
    assert hot - hot_before == 4, "a claim or a renewal touched an index of the runs table"


def test_no_index_of_the_runs_table_holds_the_lease():
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'workflows_workflowrun'"
        )
        indexes = dict(cursor.fetchall())
    assert not [name for name, definition in indexes.items() if "lease" in definition]
    # the lookups by workflow and by status read the indexes that start with those columns
    assert "run_workflow_created" in indexes and "run_status_created" in indexes
    assert "workflows_workflowrun_status_f49f0a75" not in indexes


def test_claims_and_a_runs_end_commit_without_waiting_for_the_flush(user):
    run = make_run(user)
    assert sql("SHOW synchronous_commit") == "on"
    assert claim_runs("worker-a", 15, [], 8) == ([run.pk], False)
    assert sql("SHOW synchronous_commit") == "off"


def test_a_runs_end_commits_as_its_events_do(user):
    run = make_run(user, lease_owner="worker-a")
    report = type("Report", (), {"status": "succeeded", "outputs": {}, "error": None})()
    report.finished = None
    assert finish_run(run.pk, "worker-a", report, None, [], top_level=True)
    assert WorkflowRun.objects.get(pk=run.pk).status == "succeeded"
    assert sql("SHOW synchronous_commit") == "off"


def test_with_synchronous_event_commit_the_runtime_waits_for_every_flush(user, settings):
    settings.SWITCHYARD_SYNCHRONOUS_EVENT_COMMIT = True
    make_run(user)
    claim_runs("worker-a", 15, [], 8)
    assert sql("SHOW synchronous_commit") == "on"


def test_a_runs_creation_waits_for_the_flush(user):
    workflow = services.workflow_create(
        owner=user,
        source={
            "version": 1,
            "name": "w",
            "nodes": [{"id": "s", "type": "transform", "config": {"output": 1}}],
            "edges": [],
        },
    )
    for _ in range(2):  # the first reads the workflow, the next one inserts in one statement
        services.run_create(user=user, workflow_id=workflow.pk)
        assert sql("SHOW synchronous_commit") == "on"
