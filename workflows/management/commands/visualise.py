"""`manage.py visualise WORKFLOW --format mermaid|dot|svg [--run RUN]`: a picture of a workflow's
DAG. WORKFLOW is a saved workflow's id or a document file (JSON/YAML), as for `run_workflow`.
With `--run`, nodes take the SPEC §4 colours of their state in that run, and the picture is of
the document that run executed."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from engine import DocumentError, load_document
from workflows.models import Workflow
from workflows.observability import diagrams
from workflows.selectors import workflow_document

RENDERERS = {"mermaid": diagrams.mermaid, "dot": diagrams.dot, "svg": diagrams.svg}


def document_of(source: str) -> dict:
    """The document a WORKFLOW argument names: a saved workflow's id, else a file."""
    path = Path(source)
    if source.isdigit() and not path.exists():
        workflow = Workflow.objects.filter(pk=int(source)).first()
        if workflow is None:
            raise CommandError(f"no workflow {source}")
        return workflow_document(workflow=workflow)
    if not path.is_file():
        raise CommandError(f"no such workflow file or id: {source}")
    suffix = path.suffix.lower()
    fmt = "yaml" if suffix in (".yaml", ".yml") else "json" if suffix == ".json" else None
    try:
        return load_document(path.read_bytes(), format=fmt)
    except DocumentError as exc:
        problems = "; ".join(problem.message for problem in exc.errors)
        raise CommandError(f"{source} is not a workflow document: {problems}") from None


class Command(BaseCommand):
    help = "Draw a workflow's DAG as mermaid, dot or SVG (with --run, in that run's colours)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("workflow", help="a workflow id or a document file")
        parser.add_argument("--format", choices=sorted(RENDERERS), default="mermaid")
        parser.add_argument("--run", type=int, help="colour nodes by their state in this run")

    def handle(self, *args, workflow: str, format: str, run: int | None, **options) -> None:
        from workflows.management.commands.timeline import run_or_error

        document = document_of(workflow)
        statuses = None
        if run is not None:
            found = run_or_error(run)
            if workflow.isdigit() and found.workflow_id != int(workflow):
                raise CommandError(f"run {run} is not a run of workflow {workflow}")
            document, statuses = found.ran_document, diagrams.node_statuses(found)
        self.stdout.write(RENDERERS[format](document, statuses), ending="")
