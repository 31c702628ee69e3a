"""`manage.py run_workflow FILE_OR_ID [--input k=v]... [--dry-run] [--json] [--stream]`: run
a workflow in-process and print its report (SPEC §7); `--stream` prints what llm nodes
stream. The run is recorded in the database like any other (trigger `cli`): a FILE becomes (or
updates) a workflow of the CLI user with the file's name, an ID names a saved workflow. The
command holds the run's lease while it executes, so no worker takes it.

Exit status: 0 succeeded, 1 failed or cancelled, 2 invalid (nothing runs).
"""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path
from typing import Any

from django.core.exceptions import ObjectDoesNotExist
from django.core.management.base import BaseCommand, CommandError
from django.http import Http404

from engine import DocumentError, all_problems, errors_only, load_document
from engine.states import NODE_TERMINAL
from workflows.documents import READ_ONLY_FIELDS
from workflows.observability import causes

EXIT_SUCCEEDED, EXIT_FAILED, EXIT_INVALID = 0, 1, 2
EXIT_PAUSED = 3  # not in SPEC §7 (it names 0, 1, 2): a run that waits has not ended


def parse_input(pair: str) -> tuple[str, Any]:
    """`k=v` -> (k, v) with v read as JSON when it parses, else kept as a string."""
    key, sep, raw = pair.partition("=")
    if not sep or not key:
        raise CommandError(f"--input takes key=value, got {pair!r}")
    try:
        return key, json.loads(raw)
    except ValueError:
        return key, raw


class Progress:
    """A one-line progress bar on stderr, fed by the run's events. It counts the workflow's
    top-level nodes: a container's body nodes finish once per iteration (their events carry
    the iteration) and are not among the `total`."""

    WIDTH = 20

    def __init__(self, total: int, write: Any) -> None:
        self.total, self.write = total, write
        self.finished: set[str] = set()

    @property
    def done(self) -> int:
        return min(len(self.finished), self.total)

    def __call__(self, event: Any) -> None:
        if event.type != "node.status" or event.status not in NODE_TERMINAL:
            return
        if event.iteration is not None:
            return
        self.finished.add(event.node)  # a node that ends again (a resumed run) counts once
        filled = self.WIDTH * self.done // max(self.total, 1)
        bar = "#" * filled + "-" * (self.WIDTH - filled)
        line = f"[{bar}] {self.done}/{self.total} nodes  {event.node}: {event.status}"
        self.write(f"\r{line}\033[K")

    def close(self, status: str) -> None:
        self.write(f"\nrun {status}\n")


class StreamPrinter:
    """`--stream`: the text `llm` nodes stream (`node.stream` events), as it arrives, under a
    header naming the node (and iteration and attempt) it comes from."""

    def __init__(self, write: Any) -> None:
        self.write = write
        self.source: tuple | None = None

    def __call__(self, event: Any) -> None:
        if event.type != "node.stream":
            return
        source = (event.node, event.iteration, event.attempt)
        if source != self.source:
            where = f" in {event.iteration}" if event.iteration else ""
            again = f" (attempt {event.attempt})" if (event.attempt or 1) > 1 else ""
            start = "" if self.source is None else "\n"
            self.write(f"{start}[{event.node}{where}{again}] ")
            self.source = source
        self.write(event.data["text"])

    def close(self) -> None:
        if self.source is not None:
            self.write("\n")


def both(*observers: Any) -> Any:
    def observe(event: Any) -> None:
        for observer in observers:
            observer(event)

    return observe


def execute_saved(workflow, *, inputs: dict, dry_run: bool, progress: Any | None) -> dict:
    from workflows.runtime import cli

    run = cli.claim_cli_run(workflow=workflow, inputs=inputs, dry_run=dry_run)
    report = asyncio.run(cli.execute_claimed(run.pk, observer=progress))
    return report.to_dict()


def paused_hint(report: dict) -> str:
    """What a paused run waits for, and how it goes on (the CLI does not wait for people)."""
    waiting = [
        node_id
        for node_id, node in (report.get("nodes") or {}).items()
        if node["status"] == "waiting"
    ]
    return (
        f"run {report['run']} paused at {', '.join(waiting) or 'a node'}: decide it in the app or "
        f"over the API (POST /api/runs/{report['run']}/...); a worker (`serve` or `runworker`) "
        "continues it"
    )


class Command(BaseCommand):
    help = "Run a workflow file in-process through the engine and print the run report."

    def add_arguments(self, parser) -> None:
        parser.add_argument("file", help="a workflow document (JSON or YAML) or a workflow id")
        parser.add_argument("--owner", help="the user who owns the run (default: `cli`)")
        parser.add_argument(
            "--input",
            action="append",
            default=[],
            metavar="K=V",
            help="a run input; V is read as JSON when it parses, else as a string",
        )
        parser.add_argument("--dry-run", action="store_true", help="side effects are skipped")
        parser.add_argument("--json", action="store_true", help="print the run report as JSON")
        parser.add_argument(
            "--stream",
            action="store_true",
            help="print the text llm nodes stream as it arrives (on stderr with --json)",
        )

    def handle(self, *args, file: str, input: list[str], dry_run: bool, json: bool, **options):
        from workflows.errors import SwitchyardError
        from workflows.runtime import cli

        inputs = dict(parse_input(pair) for pair in input)
        try:
            owner = cli.cli_user(options.get("owner"))
        except ObjectDoesNotExist:
            raise CommandError(f"no user named {options.get('owner')!r}")
        try:
            if file.isdigit() and not Path(file).exists():
                try:
                    workflow = cli.saved_workflow(owner=owner, workflow_id=int(file))
                except (ObjectDoesNotExist, Http404):
                    raise CommandError(f"no workflow with id {file} (and no such file)")
                total = workflow.nodes.filter(parent="").count()
                report = self.run_saved(workflow, inputs, dry_run, total, {**options, "json": json})
            else:
                document, errors = self.load(file)
                if errors:
                    self.invalid(errors, json)
                workflow = cli.workflow_for_document(owner=owner, document=document)
                total = sum(1 for node in document["nodes"] if not node.get("parent"))
                report = self.run_saved(workflow, inputs, dry_run, total, {**options, "json": json})
        except SwitchyardError as exc:
            self.invalid(exc.errors, json)
        self.print_report(report, as_json=json)
        if report["status"] == "paused":
            self.stderr.write(paused_hint(report))
            sys.exit(EXIT_PAUSED)
        sys.exit(EXIT_SUCCEEDED if report["status"] == "succeeded" else EXIT_FAILED)

    def run_saved(self, workflow, inputs: dict, dry_run: bool, total: int, options: dict) -> dict:
        progress = Progress(total, self.progress_line)
        observer, printer = progress, None
        if options.get("stream"):
            out = self.stderr if options.get("json") else self.stdout
            printer = StreamPrinter(lambda text: (out.write(text, ending=""), out.flush()))
            observer = both(progress, printer)
        report = execute_saved(workflow, inputs=inputs, dry_run=dry_run, progress=observer)
        if printer is not None:
            printer.close()
        progress.close(report["status"])
        return report

    def invalid(self, errors: list[dict], as_json: bool) -> None:
        self.print_report({"status": "invalid", "errors": errors}, as_json=as_json)
        sys.exit(EXIT_INVALID)

    def progress_line(self, text: str) -> None:
        self.stderr.write(text, ending="")
        self.stderr.flush()

    @staticmethod
    def load(file: str) -> tuple[dict | None, list[dict]]:
        path = Path(file)
        if not path.is_file():
            raise CommandError(f"no such workflow file: {file}")
        suffix = path.suffix.lower()
        fmt = "yaml" if suffix in (".yaml", ".yml") else "json" if suffix == ".json" else None
        try:
            document = load_document(path.read_bytes(), format=fmt)
        except DocumentError as exc:
            return None, [problem.to_dict() for problem in exc.errors]
        document = {k: v for k, v in document.items() if k not in READ_ONLY_FIELDS}
        problems = errors_only(all_problems(document))
        return document, [problem.to_dict() for problem in problems]

    def print_report(self, report: dict, *, as_json: bool) -> None:
        if as_json:
            self.stdout.write(json_text(report))
            return
        self.stdout.write(f"status: {report['status']}")
        for error in report.get("errors", []):
            self.stdout.write(f"  {error['code']}: {error['message']}")
        for node_id, node in report.get("nodes", {}).items():
            line = f"  {node_id}: {node['status']}"
            if node.get("error"):
                line += f" ({node['error']['type']}: {node['error']['message']})"
            elif node.get("reason"):
                line += f" ({node['reason']})"
            self.stdout.write(line)
        for key, value in report.get("outputs", {}).items():
            self.stdout.write(f"  output {key} = {json_text(value)}")
        if usage := report.get("usage"):
            self.stdout.write(
                f"  tokens: {usage['prompt_tokens']:,} prompt + "
                f"{usage['completion_tokens']:,} completion"
            )
        for line in causes.cause_lines(report.get("root_causes") or []):
            self.stdout.write(line)
        reuse = report.get("reuse") or {}
        if reuse.get("nodes"):
            saved = reuse["saved_ms"] / 1000
            self.stdout.write(f"{reuse['nodes']} node(s) reused, {saved:.1f} s saved")


def json_text(value: Any) -> str:
    return json.dumps(value, indent=2, default=str)
