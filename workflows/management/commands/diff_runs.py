"""`manage.py diff_runs A B [--json] [--node N] [--all]`: two runs of one workflow compared node
by node (SPEC §8): what changed in the document between them, and each node's status,
duration and output in each run."""

import json

from django.core.management.base import BaseCommand, CommandError

from workflows.errors import SwitchyardError
from workflows.management.commands.timeline import run_or_error
from workflows.observability import diff


def ms(value: int | None) -> str:
    return "-" if value is None else f"{value}ms"


class Command(BaseCommand):
    help = "Compare two runs of one workflow: node changes, statuses, durations, output diffs."

    def add_arguments(self, parser) -> None:
        parser.add_argument("a", type=int, help="the first run's id")
        parser.add_argument("b", type=int, help="the second run's id")
        parser.add_argument("--json", action="store_true", help="print the diff as JSON")
        parser.add_argument("--node", help="only this node, with its whole output diff")
        parser.add_argument("--all", action="store_true", help="list unchanged nodes too")

    def handle(self, *args, a: int, b: int, json: bool, node: str | None, all: bool, **options):
        run_a, run_b = run_or_error(a), run_or_error(b)
        try:
            diff.same_workflow(run_a, run_b)
            data = diff.run_diff(run_a, run_b, node=node)
        except SwitchyardError as exc:
            raise CommandError(str(exc)) from None
        if json:
            self.stdout.write(dumps(data))
            return
        for line in diff_lines(data, every_node=all or node is not None):
            self.stdout.write(line)


def diff_lines(data: dict, *, every_node: bool) -> list[str]:
    """A header with the counts, then a line per node that differs (every node with
    `every_node`) and the changes of its output, indented."""
    counts = data["summary"]
    rev_a, rev_b = data["revisions"]
    lines = [
        f"Run {data['a']} (revision {rev_a}) → run {data['b']} (revision {rev_b}) of workflow "
        f"{data['workflow']}: {counts['added']} added, {counts['removed']} removed, "
        f"{counts['changed']} changed, {counts['same']} same; {counts['status_changed']} "
        f"ended differently, {counts['output_changed']} with another output"
    ]
    width = max((len(node_id) for node_id in data["nodes"]), default=4)
    for node_id, entry in data["nodes"].items():
        status_a, status_b = entry["status"]
        differs = entry["change"] != "same" or status_a != status_b or entry["output_changed"]
        if not (differs or every_node):
            continue
        status = status_a if status_a == status_b else f"{status_a or '-'} → {status_b or '-'}"
        took = " → ".join(ms(value) for value in entry["duration_ms"])
        line = f"  {entry['change']:<8} {node_id:<{width}}  {status}  ({took})"
        lines.append(line + ("  output changed" if entry["output_changed"] else ""))
        lines.extend(output_lines(entry.get("output_diff")))
    return lines


def output_lines(found: dict | None) -> list[str]:
    if not found:
        return []
    lines = []
    for change in found["changes"]:
        a = text(change.get("a")) if "a" in change else ""
        b = text(change.get("b")) if "b" in change else ""
        arrow = {"changed": f"{a} → {b}", "added": f"+ {b}", "removed": f"- {a}"}[change["op"]]
        lines.append(f"      {change['path']}: {arrow}")
    if found["truncated"]:
        shown = len(found["changes"])
        lines.append(f"      … {found['total'] - shown} more (--node to see them all)")
    return lines


def text(value) -> str:
    return value if isinstance(value, str) and value.endswith("…") else dumps_inline(value)


def dumps_inline(value) -> str:
    return json.dumps(value, default=str, ensure_ascii=False)


def dumps(value) -> str:
    return json.dumps(value, indent=2, default=str, ensure_ascii=False)
