"""`manage.py prune_runs [--days N] [--batch-size B] [--dry-run]`: delete finished runs older
than the retention (`SWITCHYARD_RUN_RETENTION_DAYS`, default 30), with their node runs and
events. Each batch is its own short transaction (events, then node runs, then the runs), so no
lock is held for long and the work already done survives an interruption. Queued, running and
paused runs are never pruned, whatever their age."""

from datetime import timedelta

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from engine.states import RUN_TERMINAL
from workflows import conf
from workflows.models import NodeRun, RunEvent, WorkflowRun

ROWS_PER_DELETE = 5000


def prunable(cutoff):
    ended = [str(state) for state in RUN_TERMINAL]
    return WorkflowRun.objects.filter(created_at__lt=cutoff, status__in=ended)


def delete_in_chunks(queryset) -> int:
    """Delete the rows of `queryset` a chunk at a time (bounded statements)."""
    deleted = 0
    while True:
        ids = list(queryset.values_list("pk", flat=True)[:ROWS_PER_DELETE])
        if not ids:
            return deleted
        deleted += queryset.model.objects.filter(pk__in=ids)._raw_delete(queryset.db)


def with_descendants(run_ids: list[int]) -> list[list[int]]:
    """The runs and their subworkflow runs (which cascade with them), one generation a list."""
    generations = [run_ids]
    while generations[-1]:
        generations.append(
            list(
                WorkflowRun.objects.filter(parent_run_id__in=generations[-1]).values_list(
                    "pk", flat=True
                )
            )
        )
    return generations[:-1]


@transaction.atomic
def prune_batch(run_ids: list[int]) -> tuple[int, int, int]:
    """Delete these runs, their subworkflow runs and what hangs off them: (runs, node runs,
    events) deleted."""
    generations = with_descendants(run_ids)
    every = [pk for generation in generations for pk in generation]
    events = delete_in_chunks(RunEvent.objects.filter(run_id__in=every))
    node_runs = delete_in_chunks(NodeRun.objects.filter(run_id__in=every))
    # Re-runs keep pointing at nothing rather than disappearing with their source.
    WorkflowRun.objects.filter(source_run_id__in=every).update(source_run=None)
    runs = 0
    for generation in reversed(generations):  # children before their parents
        runs += WorkflowRun.objects.filter(pk__in=generation)._raw_delete(WorkflowRun.objects.db)
    return runs, node_runs, events


def prune_runs(*, days: int, batch_size: int = 500) -> tuple[int, int, int]:
    """Prune finished runs created more than `days` days ago; the totals deleted."""
    cutoff = timezone.now() - timedelta(days=days)
    totals = (0, 0, 0)
    while True:
        ids = list(
            prunable(cutoff)
            .filter(parent_run__isnull=True)
            .order_by("created_at", "id")
            .values_list("pk", flat=True)[:batch_size]
        )
        if not ids:
            return totals
        totals = tuple(a + b for a, b in zip(totals, prune_batch(ids), strict=True))


class Command(BaseCommand):
    help = "Delete finished runs older than the retention (SWITCHYARD_RUN_RETENTION_DAYS)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--days", type=int, help="keep runs this many days (default: setting)")
        parser.add_argument("--batch-size", type=int, default=500, help="runs per transaction")
        parser.add_argument("--dry-run", action="store_true", help="count, delete nothing")

    def handle(self, *args, days: int | None, batch_size: int, dry_run: bool, **options) -> None:
        if days is None:
            days = conf.value("RUN_RETENTION_DAYS")
        if days < 0:
            raise CommandError(f"--days must be 0 or more, got {days}")
        if batch_size < 1:
            raise CommandError(f"--batch-size must be at least 1, got {batch_size}")
        if dry_run:
            count = prunable(timezone.now() - timedelta(days=days)).count()
            self.stdout.write(f"would delete {count} run(s) older than {days} day(s)")
            return
        runs, node_runs, events = prune_runs(days=days, batch_size=batch_size)
        self.stdout.write(
            f"deleted {runs} run(s), {node_runs} node run(s) and {events} event(s) "
            f"older than {days} day(s)"
        )
