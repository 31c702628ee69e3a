"""`manage.py inspect RUN [NODE] [--json]`: what happened in a run. Without NODE: the run's
status, inputs, outputs, error and one line per node (attempts, duration, error or the reason it
did not run). With NODE: that node's input, and every attempt's output, error and reason."""

import json
from collections import Counter

from django.core.management.base import BaseCommand, CommandError

from engine.report import dry_run_plan
from workflows import selectors
from workflows.management.commands.timeline import run_or_error
from workflows.models import NodeRun, WorkflowRun
from workflows.observability import causes, explain, timeline


def text(value) -> str:
    return json.dumps(value, default=str, ensure_ascii=False)


def seconds(ms: int | None) -> str:
    return "-" if ms is None else f"{ms / 1000:.1f}s"


class Command(BaseCommand):
    help = "Show a run (or one node of it): inputs, outputs, errors, attempts, reasons."

    def add_arguments(self, parser) -> None:
        parser.add_argument("run", type=int, help="the run's id")
        parser.add_argument("node", nargs="?", help="a node id: show its attempts in full")
        parser.add_argument("--json", action="store_true", help="print JSON")

    def handle(self, *args, run: int, node: str | None, json: bool, **options) -> None:
        found = run_or_error(run)
        rows = list(NodeRun.objects.filter(run=found).order_by("iteration", "node_id", "attempt"))
        if node is None:
            self.show_run(found, rows, as_json=json)
        else:
            self.show_node(found, rows, node, as_json=json)

    def show_run(self, run: WorkflowRun, rows: list[NodeRun], *, as_json: bool) -> None:
        report = selectors.run_report(run=run)
        if as_json:
            self.stdout.write(text(report))
            return
        write = self.stdout.write
        write(f"Run {run.pk} of {run.workflow}: {run.status} (mode {run.mode}, {run.trigger})")
        write(f"Started {report['started_at'] or '-'}  finished {report['finished_at'] or '-'}")
        if run.source_run_id:
            write(f"Re-run of run {run.source_run_id} from node {run.from_node or '(start)'}")
        write(f"Inputs: {text(run.inputs)}")
        write(f"Outputs: {text(run.outputs)}")
        if run.error:
            write(f"Error: {run.error.get('message')} ({run.error.get('type')})")
        for line in causes.cause_lines(report.get("root_causes") or []):
            write(line)
        latest = timeline.latest_rows(rows)
        if run.mode == "dry_run":
            self.show_plan(report["nodes"])
        write("Nodes:")
        width = max((len(n["id"]) for n in run.ran_document.get("nodes", [])), default=4)
        for doc_node in run.ran_document.get("nodes", []):
            if doc_node.get("parent"):
                continue
            write("  " + self.node_line(doc_node["id"], latest.get(doc_node["id"]), run, width))
        for container, items in report["iterations"].items():
            write(f"  {container}: {len(items)} iteration(s)")

    def show_plan(self, nodes: dict[str, dict]) -> None:
        """What a dry run found: the nodes a real run would execute, and where it stood in
        for handlers with side effects."""
        plan = dry_run_plan(nodes)
        self.stdout.write(f"Dry run: would run {', '.join(plan['would_run']) or 'nothing'}")
        placeholders = ", ".join(plan["placeholders"]) or "none"
        self.stdout.write(f"  side effects not performed: {placeholders}")

    def node_line(self, node_id: str, row: NodeRun | None, run: WorkflowRun, width: int) -> str:
        status = row.status if row else "pending"
        attempts = row.attempt if row else 0
        duration = (
            timeline.ms_between(row.started_at, row.finished_at)
            if (row and row.started_at and row.finished_at)
            else None
        )
        line = f"{node_id:<{width}}  {status:<15} {attempts} attempt(s)  {seconds(duration):>7}"
        if row and row.error:
            handled = ", handled" if row.handled else ""
            line += f"  {row.error.get('type')}: {row.error.get('message')}{handled}"
        elif row and row.reused_from is not None:
            line += f"  output reused from run {row.reused_from} (cache)"
        elif status != "succeeded":
            line += f"  {explain.why_not_run(row, run)}"
        return line.rstrip()

    def show_node(self, run: WorkflowRun, rows: list[NodeRun], node: str, *, as_json: bool):
        known = {n["id"]: n for n in run.ran_document.get("nodes", [])}
        if node not in known:
            raise CommandError(f"run {run.pk} has no node {node!r} (nodes: {', '.join(known)})")
        mine = [row for row in rows if row.node_id == node]
        in_body = bool(known[node].get("parent"))
        if in_body:
            facts = body_node_facts(run, mine)
        else:
            facts = node_facts(run, node, timeline.latest_rows(rows))
        body = {
            "node": node,
            "type": known[node]["type"],
            **facts,
            "attempts": [attempt_body(row) for row in mine],
        }
        if as_json:
            self.stdout.write(text(body))
            return
        write = self.stdout.write
        summary = body.get("summary", body["status"])
        write(f"Node {node} ({body['type']}) in run {run.pk}: {summary}")
        if in_body:
            write("Input: each iteration's, below")
        elif body["ran"]:
            write(f"Input: {text(body['input'])}")
        else:
            write("Input: none (it never ran)")
        if body["reason"] and body["status"] != "succeeded":
            write(f"Reason: {body['reason']}")
        for attempt in body["attempts"]:
            if not attempt["attempt"]:
                continue  # decided without running (skipped, upstream failed): the reason says why
            where = f" iteration {attempt['iteration']}" if attempt["iteration"] else ""
            write(
                f"Attempt {attempt['attempt']}{where}: {attempt['status']}, "
                f"{attempt['started_at'] or '-'} → {attempt['finished_at'] or '-'} "
                f"({seconds(attempt['duration_ms'])})"
            )
            if in_body:
                write(f"  input: {text(attempt['input'])}")
            if attempt["error"]:
                write(f"  error: {attempt['error'].get('type')}: {attempt['error'].get('message')}")
            if attempt["status"] == "succeeded":
                write(f"  output: {text(attempt['output'])}")
                write(f"  handles: {', '.join(attempt['handles']) or '-'}")
            if attempt["reason"]:
                write(f"  reason: {attempt['reason']}")


def node_facts(run: WorkflowRun, node: str, latest: dict[str, NodeRun]) -> dict:
    """A top-level node's status, and its input only if it ran (a node decided without
    running, e.g. `upstream_failed`, never had one)."""
    row = latest.get(node)
    ran = row is not None and row.attempt >= 1
    return {
        "status": row.status if row else "pending",
        "ran": ran,
        "input": explain.node_input(run, node, latest) if ran else None,
        "reason": explain.why_not_run(row, run) or None,
    }


def body_node_facts(run: WorkflowRun, mine: list[NodeRun]) -> dict:
    """A loop/map body node runs once per iteration: its status says how its iterations
    ended (`mixed` when they differ); each attempt carries its own input."""
    final: dict[str, NodeRun] = {}
    for row in mine:
        if row.iteration not in final or row.attempt > final[row.iteration].attempt:
            final[row.iteration] = row
    if not final:
        reason = explain.why_not_run(None, run)
        return {"status": "pending", "ran": False, "input": None, "reason": reason}
    counts = Counter(row.status for row in final.values())
    parts = [f"{status} in {n}" for status, n in counts.most_common()]
    parts[0] += f" of {len(final)} iterations"
    status = next(iter(counts)) if len(counts) == 1 else "mixed"
    return {
        "status": status,
        "summary": ", ".join(parts),
        "iterations": dict(counts),
        "ran": True,
        "input": None,
        "reason": None,
    }


def attempt_body(row: NodeRun) -> dict:
    duration = row.duration_ms
    if duration is None and row.started_at and row.finished_at:
        duration = timeline.ms_between(row.started_at, row.finished_at)
    return {
        "iteration": row.iteration,
        "attempt": row.attempt,
        "status": row.status,
        "started_at": timeline.iso(row.started_at),
        "finished_at": timeline.iso(row.finished_at),
        "duration_ms": duration,
        "input": row.input,
        "output": row.output,
        "error": row.error,
        "handled": row.handled,
        "handles": list(row.handles or ()),
        "reason": row.reason or None,
    }
