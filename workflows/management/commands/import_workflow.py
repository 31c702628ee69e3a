"""`manage.py import_workflow FILE [--owner USERNAME]`: store a JSON or YAML workflow file."""

from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from workflows import services
from workflows.errors import DocumentRejected
from workflows.management.commands.seed_demo import DEMO_USERNAME


class Command(BaseCommand):
    help = "Import a workflow document (JSON or YAML) and print the new workflow's id."

    def add_arguments(self, parser) -> None:
        parser.add_argument("file", help="path to a .json, .yaml or .yml workflow document")
        parser.add_argument(
            "--owner", default=DEMO_USERNAME, help=f"owner username (default {DEMO_USERNAME})"
        )

    def handle(self, *args, **options) -> None:
        path = Path(options["file"])
        if not path.is_file():
            raise CommandError(f"{path}: no such file")
        owner = get_user_model().objects.filter(username=options["owner"]).first()
        if owner is None:
            raise CommandError(f"no user named {options['owner']!r} (create it or pass --owner)")
        format = "yaml" if path.suffix.lower() in (".yaml", ".yml") else None
        source = path.read_bytes()
        try:
            workflow = services.workflow_import(owner=owner, source=source, format=format)
        except DocumentRejected as exc:
            lines = "\n".join(f"  {error['code']}: {error['message']}" for error in exc.errors)
            raise CommandError(f"{path}: the workflow cannot be imported:\n{lines}")
        if not workflow.valid:
            self.stderr.write(f"imported as a draft with {len(workflow.errors)} problem(s):")
            for error in workflow.errors:
                self.stderr.write(f"  {error['code']}: {error['message']}")
        self.stdout.write(str(workflow.pk))
