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


def node_kinds(document: dict) -> set[tuple[str, str]]:
    return {(node.get("id"), node.get("type")) for node in document.get("nodes") or ()}


def refuse_a_run_of_another_workflow(path: str, document: dict, run) -> None:
    """A file has no workflow id: run N is FILE's when the document it started from has the
    same nodes (ids and types) as the file — else the picture would show another workflow."""
    ran, drawn = node_kinds(run.document or {}), node_kinds(document)
    if ran == drawn:
        return
    only_run = ", ".join(sorted(node_id for node_id, _ in ran - drawn)) or "none"
    only_file = ", ".join(sorted(node_id for node_id, _ in drawn - ran)) or "none"
    raise CommandError(
        f"run {run.pk} is not a run of {path}: it ran workflow {run.workflow_id} "
        f"({run.workflow.name!r}), whose nodes differ (only in the run: {only_run}; "
        f"only in the file: {only_file})"
    )


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
            if workflow.isdigit() and not Path(workflow).exists():
                if found.workflow_id != int(workflow):
                    raise CommandError(f"run {run} is not a run of workflow {workflow}")
            else:
                refuse_a_run_of_another_workflow(workflow, document, found)
            document, statuses = found.ran_document, diagrams.node_statuses(found)
        self.stdout.write(RENDERERS[format](document, statuses), ending="")
