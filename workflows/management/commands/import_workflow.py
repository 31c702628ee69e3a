"""`manage.py import_workflow FILE [--owner USERNAME]`: store a JSON or YAML workflow file.

Without `--owner` the workflow belongs to the command-line user (`cli`, created when needed),
the owner `run_workflow` uses, so a fresh install can import; a named owner must exist."""

from pathlib import Path

from django.core.exceptions import ObjectDoesNotExist
from django.core.management.base import BaseCommand, CommandError

from workflows import services
from workflows.errors import SwitchyardError
from workflows.runtime import cli


class Command(BaseCommand):
    help = "Import a workflow document (JSON or YAML) and print the new workflow's id."

    def add_arguments(self, parser) -> None:
        parser.add_argument("file", help="path to a .json, .yaml or .yml workflow document")
        parser.add_argument(
            "--owner",
            help=f"owner username (default: `{cli.CLI_USERNAME}`, created if needed)",
        )

    def handle(self, *args, **options) -> None:
        path = Path(options["file"])
        if not path.is_file():
            raise CommandError(f"{path}: no such file")
        try:
            owner = cli.cli_user(options["owner"])
        except ObjectDoesNotExist:
            raise CommandError(f"no user named {options['owner']!r} (create it or pass --owner)")
        format = "yaml" if path.suffix.lower() in (".yaml", ".yml") else None
        source = path.read_bytes()
        try:
            workflow = services.workflow_import(owner=owner, source=source, format=format)
        except SwitchyardError as exc:
            lines = "\n".join(f"  {error['code']}: {error['message']}" for error in exc.errors)
            raise CommandError(f"{path}: the workflow cannot be imported:\n{lines}")
        if not workflow.valid:
            self.stderr.write(f"imported as a draft with {len(workflow.errors)} problem(s):")
            for error in workflow.errors:
                self.stderr.write(f"  {error['code']}: {error['message']}")
        self.stdout.write(str(workflow.pk))
