"""The asyncio runner around the planner: one task per running node, a slot counter with a
ready queue for `max_parallel`, retries, timeouts, halt / cancel, events and snapshots.

`Execution(graph, ...).run()` drives one run to its end (or to a park, status `paused`) and
returns a `RunReport`. The planner decides; the execution only performs and records. Its
parts, one job each, are in this package: slots, decisions, attempts, outcomes, parking,
restore (mixed into `Execution`), recording (`Recorder`) and bodies (`Iterations`, `Body`).
"""

from __future__ import annotations

import asyncio
from collections import ChainMap, deque
from collections.abc import Callable, Mapping
from dataclasses import replace
from functools import partial
from typing import Any

from engine.events import GRAPH_CHANGED, NODE_LOG, NODE_PROGRESS, Event
from engine.execution.attempts import Attempts
from engine.execution.bodies import Iterations, Seat, in_iteration
from engine.execution.decisions import Decisions
from engine.execution.growth import GrowthError, grow
from engine.execution.options import ExecutionOptions
from engine.execution.outcomes import Outcomes
from engine.execution.parking import Parking
from engine.execution.recording import Recorder
from engine.execution.recovery import Recovery
from engine.execution.restore import Restore
from engine.execution.slots import Slots
from engine.graph import Graph
from engine.handlers.base import Registry
from engine.planner import Planner
from engine.report import NodeRecord, RunReport
from engine.scope import Scope
from engine.states import RUN_TERMINAL, NodeState, RunState
from engine.storable import storable_text
from engine.usage import RunUsage

WAITING = NodeState.WAITING


class Execution(Attempts, Slots, Decisions, Outcomes, Parking, Recovery, Restore):
    """One run of a graph. See the module docstring; `options` is an `ExecutionOptions` or a
    mapping of its fields (`ExecutionOptions.from_mapping`). `seat` is where a container's
    iteration runs (given by its parent execution, never by a caller)."""

    def __init__(
        self,
        graph: Graph,
        *,
        inputs: Mapping[str, Any] | None = None,
        run_id: Any = None,
        sink: Callable[[Event], Any] | None = None,
        store: Any = None,
        snapshot: Mapping[str, Any] | None = None,
        registry: Registry | None = None,
        options: Mapping[str, Any] | ExecutionOptions | None = None,
        seat: Seat | None = None,
    ) -> None:
        if not isinstance(options, ExecutionOptions):
            options = ExecutionOptions.from_mapping(options)
        if options.usage is None:  # shared with its bodies' executions through `replace`
            options = replace(options, usage=RunUsage(graph.settings.get("max_tokens")))
        if options.memory is None:
            options = replace(options, memory={})
        self._options = options
        self._seat = seat
        self._tearing_down = False
        self.graph = graph
        self.run_id = run_id
        self._store = store
        self._now = options.clock.time
        self._recorder = Recorder(run_id, sink, options.max_output_preview, options.secrets)
        if registry is None:
            self.handlers = graph.handlers
        else:
            self.handlers = tuple(registry.get(node["type"]) for node in graph.nodes)
        self.iterations = Iterations(self)
        self._handler_settings = options.handler_settings()
        self._start_state(graph)
        self._start_scheduling(graph)
        self.inputs = self._run_inputs(inputs or {})
        self._loop_vars = seat.loop if seat else None
        self._root_input = seat.root_input if seat else self.inputs
        self._fixed = self._fixed_scope(graph, options)
        if snapshot is not None:
            self._restore(snapshot, inputs)

    def _start_state(self, graph: Graph) -> None:
        """The run's state before anything ran: records, outcomes, decisions."""
        n = len(graph)
        self.status = RunState.QUEUED
        self.error: dict | None = None
        self.started: float | None = None
        self.finished: float | None = None
        self.records = [NodeRecord() for _ in range(n)]
        self.outputs: dict[str, Any] = {}
        self._planner = Planner(graph)
        # node id -> output, what expressions read (a body also reads its container's scope)
        seat = self._seat
        self._results: dict[str, Any] | ChainMap = (
            {} if seat is None else ChainMap({}, seat.results)
        )
        self._carried: list[Any] = [None] * n  # what a node's taken edges carry
        self._config_override: dict[int, dict] = {}
        self._max_attempts = [node["retry"].get("max_attempts") or 1 for node in graph.nodes]
        self._stop_status: RunState | None = None
        self._stop_reason: str | None = None
        self._pausing = False  # paused on demand: nothing new starts (see pause())
        self._unhandled: list[int] = []
        self._resumed: list[tuple[int, str]] = []  # the user's retry/skip of parked nodes
        self._continuing: set[int] = set()  # parked nodes whose handler runs again, same attempt
        self._restored: list[tuple[int, str]] = []  # decisions re-derived from a snapshot
        self._passed_breakpoints: set[int] = set()
        self._said_running = False  # a decision before `run()` already said run.status running
        self._other_triggers: set[int] = set()  # trigger roots skipped: another one started it

    def _start_scheduling(self, graph: Graph) -> None:
        """The slot counter, ready queue and node tasks (see slots.py)."""
        self._max_parallel = max(1, int(graph.settings.get("max_parallel") or 16))
        self._active = 0
        self._waiting: deque = deque()
        self._tasks: dict[int, asyncio.Task] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        self._idle: asyncio.Future | None = None
        self._live = 0  # node tasks alive (plus one while the run starts)
        self._wake_timers: list[asyncio.TimerHandle] = []  # parked nodes' times, while running
        self._crash: BaseException | None = None

    def _fixed_scope(self, graph: Graph, options: ExecutionOptions) -> dict[str, Any]:
        """The parts of every expression scope that do not change during the run."""
        env = options.env
        return {
            "inputs": self.inputs,
            "vars": graph.document.get("variables") or {},
            "run": {"id": self.run_id},
            "env": {name: env[name] for name in graph.settings.get("env") or () if name in env},
            "secrets": options.secrets,
        }

    # ---- public ------------------------------------------------------------------------

    async def run(self) -> RunReport:
        """Run until every node is decided and done, the run is stopped, or it parks."""
        if self.status in RUN_TERMINAL:
            return self.report()
        if self._stop_status is not None and self.status in (RunState.QUEUED, RunState.PAUSED):
            # Cancelled (or failed) before it ran again: it ends straight from queued or
            # paused, with what was unfinished cancelled, and never shows as running.
            self._finish()
            return self.report()
        loop = self._loop = asyncio.get_running_loop()
        now = self._now()
        first = self.started is None
        if first:
            self.started = now
        if not self._said_running:
            self._set_run_status(RunState.RUNNING, now)
        if first and self._seat is None:
            self._warn_missing_env()
        timer = self._start_timer(loop, now)
        self._idle = loop.create_future()
        self._live = 1  # _begin itself, so that the run cannot look idle while it starts
        try:
            if self._stop_status is None:
                await self._begin()
            self._task_done()
            await self._idle
        except asyncio.CancelledError:
            await self._tear_down()
            raise
        finally:
            if timer is not None:
                timer.cancel()
            for handle in self._wake_timers:
                handle.cancel()
            self._wake_timers.clear()
        if self._crash is not None:
            raise self._crash
        self._finish()
        return self.report()

    def _start_timer(self, loop: asyncio.AbstractEventLoop, now: float) -> Any:
        timeout = self.graph.settings.get("timeout_s")
        if not timeout:
            return None
        remaining = float(timeout) - (now - self.started)
        message = f"run timed out after {timeout:g} s"
        error = {"message": message, "type": "timeout"}
        if remaining <= 0:  # resumed past its timeout: it fails before anything starts
            self._stop(RunState.FAILED, message, error)
            return None
        return loop.call_later(remaining, self._stop, RunState.FAILED, message, error)

    async def _tear_down(self) -> None:
        """The task running the run was cancelled (e.g. a worker shutting down): cancel the
        node tasks without recording anything, so the snapshot keeps them in flight."""
        if self._seat is None:
            self._tearing_down = True
        while self._waiting:
            item = self._waiting.popleft()
            if not isinstance(item, int):
                item.cancel()
        tasks = list(self._tasks.values())
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    def warn(self, message: str) -> None:
        """A run-level warning (e.g. the runtime saw no event for a while) as a `node.log`
        event without a node, with `level: "warning"`."""
        data = {"message": storable_text(message), "level": "warning"}
        self._recorder.emit(NODE_LOG, self._now(), None, None, None, data=data)

    def _warn_missing_env(self) -> None:
        provided = self._options.env or {}
        missing = [name for name in self.graph.settings.get("env") or () if name not in provided]
        if missing:
            self.warn(
                f"settings.env names {', '.join(missing)}, which this runtime does not provide "
                "(not allow-listed on the server, or not set): env."
                f"{missing[0]} will be missing"
            )

    def cancel(self, reason: str = "") -> None:
        """Stop the run: running handlers are cancelled, nothing new starts, the run ends
        `cancelled`. Call it from the run's event loop."""
        message = f"run cancelled: {reason}" if reason else "run cancelled"
        self._stop(RunState.CANCELLED, message, None)

    def report(self) -> RunReport:
        """The run as it stands: SPEC §7 (`to_dict()`); the final report once it ended."""
        ids, parents = self.graph.ids, self.graph.parents
        return RunReport(
            run=self.run_id,
            status=self.status,
            started=self.started,
            finished=self.finished,
            nodes={ids[i]: record for i, record in enumerate(self.records) if parents[i] < 0},
            outputs=dict(self.outputs),
            iterations=self.iterations.reports(),
            error=self.error,
            dry_run=self._options.dry_run,
            edges=tuple((edge["source"], edge["target"]) for edge in self.graph.edges),
            usage=self._options.usage.totals() if self._options.usage.total else None,
        )

    # ---- running -----------------------------------------------------------------------

    async def _begin(self) -> None:
        self._wake_due()
        decisions = self._trigger_roots(self._planner.start())
        decisions.extend(self._restored)
        decisions.extend(self._resumed)
        await self._apply(decisions)

    def _grow(self, i: int, output: Any, emit: bool = True) -> dict | None:
        """Dynamic growth: add what the handler's `grow` asks for; an error when invalid."""
        handler = self.handlers[i]
        additions = handler.grow(self.graph.nodes[i], output) if handler is not None else None
        if not additions:
            return None
        try:
            grown = grow(self.graph, self.handlers, self._planner, i, additions)
        except GrowthError as exc:
            return {"message": str(exc), "type": "graph"}
        self._take_growth(grown.graph, grown.planner)
        if emit:
            node_id = self.graph.ids[i]
            self._recorder.emit(GRAPH_CHANGED, self._now(), node_id, None, None, data=grown.added)
        return None

    def _take_growth(self, graph: Graph, planner: Planner) -> None:
        """The graph grew: per-node state extends to the added nodes."""
        n_old = len(self.graph)
        self.graph = graph
        self._planner = planner
        self.handlers = graph.handlers
        added = len(graph) - n_old
        self.records.extend(NodeRecord() for _ in range(added))
        self._carried.extend([None] * added)
        self._max_attempts.extend(
            node["retry"].get("max_attempts") or 1 for node in graph.nodes[n_old:]
        )

    def _run_inputs(self, given: Mapping[str, Any]) -> dict[str, Any]:
        inputs: dict[str, Any] = {}
        declared = self.graph.document.get("inputs") or {}
        for name, spec in declared.items():
            if isinstance(spec, dict) and "default" in spec:
                inputs[name] = spec["default"]
        inputs.update(given)
        return inputs

    # ---- what the bodies of its containers see (bodies.Host) ------------------------------

    @property
    def tearing_down(self) -> bool:
        """The task running the whole run was cancelled: nothing is recorded any more."""
        seat = self._seat
        return self._tearing_down if seat is None else seat.parent.tearing_down

    @property
    def path(self) -> str | None:
        """Where this execution runs: None at top level, else its iteration (`M[2]/L[1]`)."""
        return None if self._seat is None else self._seat.path

    @property
    def own_outputs(self) -> dict[str, Any]:
        """The outputs of this execution's nodes (a body's, without its container's)."""
        results = self._results
        return results.maps[0] if isinstance(results, ChainMap) else results

    def child(
        self, container: int, index: int, loop: dict | None, root_input: Any, snapshot: Any
    ) -> Execution:
        path = f"{self.graph.ids[container]}[{index}]"
        return Execution(
            self.iterations.body_graph(container),
            inputs=self.inputs,
            run_id=self.run_id,
            sink=partial(self._recorder.forward, path),
            store=self._store,
            snapshot=snapshot,
            options=replace(
                self._options, run_subworkflow=in_iteration(self._options.run_subworkflow, path)
            ),
            seat=Seat(self, path, loop, root_input, self._results),
        )

    def take_up(self, loop: dict, root_input: Any) -> None:
        """A prepared iteration goes on in its container's attempt."""
        self._loop_vars = loop
        self._root_input = root_input

    def scope(self, node_id: str, attempt: int, value: Any, loop: dict, inner: Any) -> Scope:
        outputs = self._results if inner is None else ChainMap(inner, self._results)
        return Scope(self._fixed, outputs, node_id, attempt, value, loop)

    def progress(self, node_id: str, attempt: int, done: int, total: int | None) -> None:
        data = {"done": done, "total": total}
        self._recorder.emit(NODE_PROGRESS, self._now(), node_id, None, attempt, data=data)
