"""Retention: `prune_runs` deletes old finished runs with their rows, a batch per short
transaction, and leaves every other run and its rows alone."""

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from tests.observability.conftest import build_diamond_run
from workflows.management.commands import prune_runs
from workflows.models import NodeRun, RunEvent, WorkflowRun

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def history(user) -> dict[str, list[WorkflowRun]]:
    """Five old finished runs (oldest first), an old running one and two recent ones."""
    now = timezone.now()
    old = [build_diamond_run(user) for _ in range(5)]
    for days, run in enumerate(old):
        WorkflowRun.objects.filter(pk=run.pk).update(created_at=now - timedelta(days=90 - days))
    running = build_diamond_run(user)
    WorkflowRun.objects.filter(pk=running.pk).update(
        status="running", finished_at=None, created_at=now - timedelta(days=90)
    )
    recent = [build_diamond_run(user) for _ in range(2)]
    return {"old": old, "kept": [running, *recent]}


def rows_of(runs: list[WorkflowRun]) -> tuple[int, int, int]:
    ids = [run.pk for run in runs]
    return (
        WorkflowRun.objects.filter(pk__in=ids).count(),
        NodeRun.objects.filter(run_id__in=ids).count(),
        RunEvent.objects.filter(run_id__in=ids).count(),
    )


def test_prune_deletes_in_batches_of_the_given_size_oldest_first(history, monkeypatch):
    batches = []
    original = prune_runs.prune_batch
    monkeypatch.setattr(
        prune_runs, "prune_batch", lambda ids: batches.append(list(ids)) or original(ids)
    )
    kept_before = rows_of(history["kept"])

    out = StringIO()
    call_command("prune_runs", "--days", "30", "--batch-size", "2", stdout=out)

    old_ids = [run.pk for run in history["old"]]
    assert batches == [old_ids[0:2], old_ids[2:4], old_ids[4:5]]
    assert "deleted 5 run(s), 30 node run(s) and 10 event(s)" in out.getvalue()
    assert rows_of(history["old"]) == (0, 0, 0)
    assert rows_of(history["kept"]) == kept_before == (3, 18, 6)


def test_each_batch_is_its_own_transaction(history, monkeypatch):
    """An interruption in the second batch keeps what the first deleted and rolls the second
    back whole: no batch holds its locks beyond its own rows."""
    calls = []
    original = prune_runs.delete_in_chunks

    def interrupted(queryset):
        calls.append(queryset.model.__name__)
        if len(calls) == 4:  # batch 2 deleted its events, then dies before its node runs
            raise RuntimeError("interrupted")
        return original(queryset)

    monkeypatch.setattr(prune_runs, "delete_in_chunks", interrupted)

    with pytest.raises(RuntimeError, match="interrupted"):
        call_command("prune_runs", "--days", "30", "--batch-size", "2", stdout=StringIO())

    assert calls == ["RunEvent", "NodeRun", "RunEvent", "NodeRun"]
    assert rows_of(history["old"][:2]) == (0, 0, 0)
    assert rows_of(history["old"][2:4]) == (2, 12, 4)  # events restored with the rollback
    assert rows_of(history["old"][4:]) == (1, 6, 2)
    assert rows_of(history["kept"]) == (3, 18, 6)


def test_prune_dry_run_counts_and_deletes_nothing(history):
    out = StringIO()
    call_command("prune_runs", "--days", "30", "--dry-run", stdout=out)

    assert "would delete 5 run(s) older than 30 day(s)" in out.getvalue()
    assert rows_of(history["old"]) == (5, 30, 10)


def test_prune_refuses_a_batch_size_below_one():
    from django.core.management import CommandError

    with pytest.raises(CommandError, match="--batch-size must be at least 1"):
        call_command("prune_runs", "--batch-size", "0", stdout=StringIO())
