"""`manage.py timeline RUN [--json]`: a text Gantt of a run's node executions, its critical path
and its parallel efficiency (definitions in `workflows.observability.timeline`)."""

import json

from django.core.management.base import BaseCommand, CommandError

from workflows.models import WorkflowRun
from workflows.observability import timeline


def run_or_error(run_id: int) -> WorkflowRun:
    run = WorkflowRun.objects.filter(pk=run_id).select_related("workflow").first()
    if run is None:
        raise CommandError(f"no run {run_id}")
    return run


class Command(BaseCommand):
    help = "Print a run's timeline: a text Gantt, the critical path and parallel efficiency."

    def add_arguments(self, parser) -> None:
        parser.add_argument("run", type=int, help="the run's id")
        parser.add_argument("--json", action="store_true", help="print the timeline as JSON")
        parser.add_argument("--width", type=int, default=40, help="bar area width in columns")

    def handle(self, *args, run: int, json: bool, width: int, **options) -> None:
        data = timeline.timeline(run_or_error(run))
        if json:
            self.stdout.write(dumps(data))
        else:
            self.stdout.write(timeline.timeline_text(data, width=max(10, width)))


def dumps(value) -> str:
    return json.dumps(value, indent=2, default=str, ensure_ascii=False)
