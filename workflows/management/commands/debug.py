"""`manage.py debug WORKFLOW [--input k=v]... [--breakpoints-only]`: step through a run in the
terminal. The engine runs in this process; before a node's handler runs, the debugger stops
(before every node, or with --breakpoints-only only at nodes marked `breakpoint: true`) and reads
commands:

  step (s, or an empty line)  run this node, stop before the next one
  finish (f)                  run this node and stop after it (its outcome and output shown)
  continue (c)                run on to the next breakpoint
  inspect (i) [NODE]          show a node's state, output, error or reason (default: this one)
  skip                        do not run this node: it ends `skipped` ("skipped by the user"),
                              as the API's skip of a paused node, and so does what depends
                              only on it
  quit (q)                    cancel the run (end of input also quits)

When the run parks on a node instead of ending, the debugger asks about it there and goes on:
an approval is decided (`approve [JSON data]`, `reject [JSON data]`), a failure paused by
`on_failure: pause` is retried (`retry`: a new attempt) or skipped (`skip`); `inspect` and
`quit` work there too.

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
from engine.handlers.base import HandlerResult, NodeError, Wait
from engine.report import RunReport
from engine.states import NODE_TERMINAL
from workflows.documents import READ_ONLY_FIELDS
from workflows.management.commands.run_workflow import parse_input
from workflows.management.commands.visualise import document_of
from workflows.runtime.drive import expression_context

SKIP = "debugger skip"  # the wait of a node the user skipped
HELP = "commands: step (s), continue (c), finish (f), inspect (i) [node], skip, quit (q)"
AFTER_HELP = "commands: step (s), continue (c), inspect (i) [node], quit (q)"


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

    def prompt(self, ctx, after: bool = False) -> str:
        """Read commands until one moves on: `run`, `finish`, `skip` or `quit` (after a
        node: `run` or `quit`)."""
        while True:
            command, _ = self.command(ctx.node_id, ctx)
            if command in ("", "s", "step", "c", "continue"):
                self.stepping = command in ("", "s", "step")
                return "run"
            if command == "quit":
                return "quit"
            if command in ("skip", "f", "finish") and not after:
                return "skip" if command == "skip" else "finish"
            self.write(f"unknown command {command!r}; {AFTER_HELP if after else HELP}")

    def command(self, node_id: str, ctx) -> tuple[str, str]:
        """The next command and its argument, after any `inspect` (answered here); `quit` at
        `q` or the end of input."""
        while True:
            line = self.read()
            if line == "":
                self.write("end of input: quitting")
                return "quit", ""
            command, _, argument = line.strip().partition(" ")
            if command in ("quit", "q"):
                return "quit", ""
            if command not in ("i", "inspect"):
                return command, argument.strip()
            self.inspect(argument.strip() or node_id, ctx)

    async def after(self, ctx, outcome: str, output: Any) -> str:
        """Stop after the node `finish` ran: its outcome and output; `run` or `quit`."""
        async with self.lock:
            self.write(f"stopped after {ctx.node_id} (attempt {ctx.attempt}): {outcome}")
            if output is not None:
                self.write(f"  output: {text(output)}")
            return self.prompt(ctx, after=True)

    def decide(self, node_id: str, path: str, state: dict):
        """Ask about a node the run parked on: an approval or a paused failure. What to do
        to the restored execution (`act(execution)`), `quit`, or None (not for the user)."""
        where = f"{node_id} in {path}" if path else node_id
        wait = state.get("wait") or {}
        if wait.get("kind") == "approval":
            self.write(f"{where} waits for an approval: {(wait.get('data') or {}).get('prompt')}")
            self.write("  approve [JSON data], reject [JSON data], inspect (i) [node] or quit")
            answers = ("approve", "reject")
        elif not wait and state.get("error"):
            message = state["error"].get("message")
            self.write(f"{where} failed ({message}) and waits: retry, skip, inspect or quit")
            answers = ("retry", "skip")
        else:
            return None
        return self.answer(node_id, path, answers)

    def answer(self, node_id: str, path: str, answers: tuple[str, ...]):
        while True:
            command, argument = self.command(node_id, None)
            if command == "quit":
                return "quit"
            if command in answers:
                act = decision(command, node_id, path, argument)
                if act is not None:
                    return act
                self.write(f"not JSON: {argument}")
            else:
                self.write(f"unknown command {command!r}; {', '.join(answers)}, inspect, quit")

    def inspect(self, node_id: str, ctx) -> None:
        graph = self.execution.graph
        if node_id not in graph.index:
            self.write(f"no node {node_id!r}; nodes: {', '.join(graph.ids)}")
            return
        record = self.execution.records[graph.index[node_id]]
        self.write(f"{node_id} ({graph.nodes[graph.index[node_id]]['type']}): {record.status}")
        if ctx is not None and node_id == ctx.node_id:
            self.write(f"  input: {text(ctx.input)}")
        if record.output is not None:
            self.write(f"  output: {text(record.output)}")
        if record.error:
            self.write(f"  error: {record.error['type']}: {record.error['message']}")
        if record.reason:
            self.write(f"  reason: {record.reason}")


def decision(command: str, node_id: str, path: str, argument: str):
    """The act on the restored execution an answer at a parked node means (None: bad JSON)."""
    if command == "retry":
        return lambda execution: execution.retry_node(node_id, iteration=path)
    if command == "skip":
        return lambda execution: execution.skip_node(node_id, iteration=path)
    try:
        data = json.loads(argument) if argument else None
    except ValueError:
        return None
    approved = command == "approve"
    return lambda execution: execution.approve_node(
        node_id, approved, data, "debugger", iteration=path
    )


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
        if action != "finish":
            return await self._handler.run(ctx)
        try:
            result = await self._handler.run(ctx)
        except NodeError as exc:
            action = await self._debugger.after(ctx, f"failed: {exc.message}", None)
            self._quit_if(action)
            raise
        if isinstance(result, Wait):
            action = await self._debugger.after(ctx, f"waits ({result.kind})", None)
        else:
            output = result.output if isinstance(result, HandlerResult) else result
            action = await self._debugger.after(ctx, "succeeded", output)
        self._quit_if(action)
        return result

    def _quit_if(self, action: str) -> None:
        if action == "quit":
            self._debugger.execution.cancel("quit from the debugger")
            raise asyncio.CancelledError


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
    help = (
        "Step through a workflow run in the terminal (step, finish, continue, inspect, skip, "
        "quit); decide approvals and paused failures on the way."
    )
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
        acts: list = []
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
            for act in acts:
                act(execution)
            report = await execution.run()
            if report.status != "paused":
                return report
            snapshot = execution.snapshot()
            acts = self.decisions(snapshot, debugger)
            if not acts:
                return report  # it waits for time only (a long delay): nothing to ask

    @staticmethod
    def decisions(snapshot: dict, debugger: Debugger) -> list:
        """What the user decides about each node the run parked on (nodes they skipped are
        skipped, as the API's skip does); quitting cancels the run."""
        acts: list = []
        for node_id, path, state in waiting_leaves(snapshot):
            if (state.get("wait") or {}).get("kind") == SKIP:
                acts.append(lambda e, n=node_id, p=path: e.skip_node(n, iteration=p))
                continue
            act = debugger.decide(node_id, path, state)
            if act == "quit":
                return [lambda e: e.cancel("quit from the debugger")]
            if act is not None:
                acts.append(act)
        return acts

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
