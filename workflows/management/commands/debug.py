"""`manage.py debug WORKFLOW [--input k=v]... [--breakpoints-only]`: step through a run in the
terminal. The engine runs in this process; before a node's handler runs, the debugger stops
(before every node, or with --breakpoints-only only at nodes marked `breakpoint: true`) and reads
commands:

  step (s, or an empty line)  run this node, stop before the next one
  continue (c)                run on to the next breakpoint
  inspect (i) [NODE]          show a node's state, output, error or reason (default: this one)
  skip                        do not run this node: it ends `skipped` ("skipped by the user"),
                              as the API's skip of a paused node, and so does what depends
                              only on it
  quit (q)                    cancel the run (end of input also quits)

Node and run timeouts are lifted while debugging: time spent at the prompt is not the node's.
Nothing is recorded in the database. Exit status as `run_workflow`: 0 succeeded, 1 failed or
cancelled, 2 invalid.
"""

from __future__ import annotations

import asyncio
import json
import sys
from typing import Any

from django.core.management.base import BaseCommand

from engine import Execution, Graph, all_problems, errors_only, load_document
from engine.config import masked
from engine.events import NODE_STATUS
from engine.execution import waiting_leaves
from engine.handlers import registry as default_registry
from engine.handlers.base import Wait
from engine.report import RunReport
from engine.states import NODE_TERMINAL
from workflows.documents import READ_ONLY_FIELDS
from workflows.management.commands.run_workflow import parse_input
from workflows.management.commands.visualise import document_of
from workflows.runtime.drive import expression_context

SKIP = "debugger skip"  # the wait of a node the user skipped
HELP = "commands: step (s), continue (c), inspect (i) [node], skip, quit (q)"


def text(value: Any, limit: int = 400) -> str:
    rendered = json.dumps(value, default=str, ensure_ascii=False)
    return rendered if len(rendered) <= limit else rendered[:limit] + "…"


class Debugger:
    """Stops before nodes and asks the user what to do; one prompt at a time."""

    def __init__(self, read, write, *, break_all: bool) -> None:
        self.read, self.write = read, write
        self.stepping = break_all
        self.execution: Execution | None = None
        self.lock = asyncio.Lock()

    def wants_stop(self, node_id: str) -> bool:
        node = self.execution.graph.nodes[self.execution.graph.index[node_id]]
        return self.stepping or bool(node.get("breakpoint"))

    async def before(self, ctx) -> str:
        """What to do with the node about to run: `run`, `skip` or `quit`."""
        if not self.wants_stop(ctx.node_id):
            return "run"
        async with self.lock:
            if not self.wants_stop(ctx.node_id):  # a `continue` while this one waited
                return "run"
            self.write(f"paused before {ctx.node_id} (attempt {ctx.attempt})")
            self.write(f"  input: {text(ctx.input)}")
            self.write(f"  config: {text(self.shown_config(ctx))}")
            return self.prompt(ctx)

    def shown_config(self, ctx) -> Any:
        """The rendered config, with the fields that send secrets as `***`."""
        graph = self.execution.graph
        index = graph.index.get(ctx.node_id)
        handler = graph.handlers[index] if index is not None else None
        return masked(ctx.config, handler.secret_fields if handler else ())

    def prompt(self, ctx) -> str:
        while True:
            line = self.read()
            if line == "":
                self.write("end of input: quitting")
                return "quit"
            command, _, argument = line.strip().partition(" ")
            if command in ("", "s", "step"):
                self.stepping = True
                return "run"
            if command in ("c", "continue"):
                self.stepping = False
                return "run"
            if command in ("skip", "quit", "q"):
                return "skip" if command == "skip" else "quit"
            if command in ("i", "inspect"):
                self.inspect(argument.strip() or ctx.node_id, ctx)
            else:
                self.write(f"unknown command {command!r}; {HELP}")

    def inspect(self, node_id: str, ctx) -> None:
        graph = self.execution.graph
        if node_id not in graph.index:
            self.write(f"no node {node_id!r}; nodes: {', '.join(graph.ids)}")
            return
        record = self.execution.records[graph.index[node_id]]
        self.write(f"{node_id} ({graph.nodes[graph.index[node_id]]['type']}): {record.status}")
        if node_id == ctx.node_id:
            self.write(f"  input: {text(ctx.input)}")
        if record.output is not None:
            self.write(f"  output: {text(record.output)}")
        if record.error:
            self.write(f"  error: {record.error['type']}: {record.error['message']}")
        if record.reason:
            self.write(f"  reason: {record.reason}")


class PausingHandler:
    """A node type's handler behind the debugger: it asks before the real one runs."""

    def __init__(self, handler, debugger: Debugger) -> None:
        self._handler, self._debugger = handler, debugger

    def __getattr__(self, name: str) -> Any:
        return getattr(self._handler, name)

    async def run(self, ctx) -> Any:
        action = await self._debugger.before(ctx)
        if action == "skip":
            return Wait(SKIP)  # parks the node; the run goes on with it skipped (see Command)
        if action == "quit":
            self._debugger.execution.cancel("quit from the debugger")
            raise asyncio.CancelledError
        return await self._handler.run(ctx)


class PausingRegistry:
    def __init__(self, debugger: Debugger) -> None:
        self.debugger = debugger

    def get(self, type_name: str):
        handler = default_registry.get(type_name)
        return None if handler is None else PausingHandler(handler, self.debugger)


def without_timeouts(document: dict) -> dict:
    nodes = [{**node, "timeout_s": None} for node in document["nodes"]]
    settings = {**(document.get("settings") or {}), "timeout_s": None}
    return {**document, "nodes": nodes, "settings": settings}


class Command(BaseCommand):
    help = "Step through a workflow run in the terminal (step, continue, inspect, skip, quit)."
    stealth_options = ("stdin",)

    def add_arguments(self, parser) -> None:
        parser.add_argument("workflow", help="a workflow id or a document file")
        parser.add_argument("--input", action="append", default=[], metavar="K=V")
        parser.add_argument(
            "--breakpoints-only",
            action="store_true",
            help="stop only at nodes with `breakpoint: true` (default: before every node)",
        )

    def handle(self, *args, workflow: str, input: list[str], breakpoints_only: bool, **options):
        stdin = options.get("stdin") or sys.stdin
        document = without_timeouts(load_document(document_of(workflow)))
        document = {k: v for k, v in document.items() if k not in READ_ONLY_FIELDS}
        problems = errors_only(all_problems(document))
        if problems:
            for problem in problems:
                self.stdout.write(f"invalid: {problem.code}: {problem.message}")
            sys.exit(2)
        debugger = Debugger(self.reader(stdin), self.stdout.write, break_all=not breakpoints_only)
        inputs = dict(parse_input(pair) for pair in input)
        report = asyncio.run(self.run_to_end(Graph.from_document(document), inputs, debugger))
        self.stdout.write(f"run {report.status}")
        for node_id, record in report.nodes.items():
            why = f" ({record.reason})" if record.reason else ""
            self.stdout.write(f"  {node_id}: {record.status}{why}")
        sys.exit(0 if report.status == "succeeded" else 1)

    async def run_to_end(self, graph: Graph, inputs: dict, debugger: Debugger) -> RunReport:
        """Run, and whenever the run parks on nodes the user skipped, skip them (as the API's
        skip does) and go on from the snapshot."""
        options, snapshot = expression_context(), None
        skipped: list[tuple[str, str]] = []
        while True:
            execution = Execution(
                graph,
                inputs=inputs,
                sink=self.show_event,
                registry=PausingRegistry(debugger),
                options=options,
                snapshot=snapshot,
            )
            debugger.execution = execution
            for node_id, path in skipped:
                execution.skip_node(node_id, iteration=path)
            report = await execution.run()
            snapshot = execution.snapshot()
            skipped = [
                (node_id, path)
                for node_id, path, state in waiting_leaves(snapshot)
                if (state.get("wait") or {}).get("kind") == SKIP
            ]
            if report.status != "paused" or not skipped:
                return report

    def reader(self, stdin):
        def read() -> str:
            self.stdout.write("(debug) ", ending="")
            self.stdout.flush()
            return stdin.readline()

        return read

    def show_event(self, event) -> None:
        if event.type == NODE_STATUS and event.status in NODE_TERMINAL:
            error = f": {event.error['message']}" if event.error else ""
            self.stdout.write(f"  {event.node} {event.status}{error}")
