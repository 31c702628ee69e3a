"""`manage.py export_workflow ID --format json|yaml`: print a workflow's document."""

from django.core.management.base import BaseCommand, CommandError

from workflows.api.workflows import document_text
from workflows.models import Workflow
from workflows.selectors import workflow_document


class Command(BaseCommand):
    help = "Print a workflow's document (lossless: importing it gives the same workflow)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("id", type=int, help="the workflow's id")
        parser.add_argument("--format", choices=["json", "yaml"], default="json")

    def handle(self, *args, **options) -> None:
        workflow = Workflow.objects.filter(pk=options["id"]).first()
        if workflow is None:
            raise CommandError(f"no workflow with id {options['id']}")
        text, _ = document_text(workflow_document(workflow=workflow), options["format"])
        self.stdout.write(text, ending="")
