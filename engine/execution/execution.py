"""The asyncio runner around the planner: one task per running node, a slot counter with a
ready queue for `max_parallel`, retries, timeouts, halt / cancel, events and snapshots.

`Execution(graph, ...).run()` drives one run to its end (or to a park, status `paused`) and
returns a `RunReport`. The planner decides; this module only performs and records.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections import ChainMap, deque
from collections.abc import Callable, Mapping
from functools import partial
from typing import Any

from engine.backoff import retry_delay
from engine.budget import TOO_BIG, in_thread, inline, off_loop
from engine.config import render_node_config
from engine.events import (
    DEFAULT_PREVIEW_BYTES,
    GRAPH_CHANGED,
    NODE_LOG,
    NODE_OUTPUT,
    NODE_PROGRESS,
    NODE_STATUS,
    RUN_STATUS,
    Event,
    iso_us,
    new_event,
    preview,
)
from engine.execution.bodies import Body, Iterations, in_iteration
from engine.execution.growth import GrowthError, grow
from engine.graph import Graph
from engine.handlers.base import (
    ERROR_HANDLE,
    HandlerContext,
    HandlerResult,
    IterationParked,
    NodeError,
    Registry,
    Wait,
)
from engine.planner import RUN, Planner
from engine.report import DRY_RUN_OUTPUT, NodeRecord, RunReport
from engine.scope import Scope
from engine.states import (
    NODE_TERMINAL,
    NODE_TRANSITIONS,
    RUN_TERMINAL,
    EdgeState,
    InvalidTransition,
    NodeState,
    RunState,
    run_transition,
)
from engine.storable import NOT_SMALL, output_problem, small_output_problem, storable_text

SNAPSHOT_VERSION = 1
PENDING = NodeState.PENDING
QUEUED = NodeState.QUEUED
RUNNING = NodeState.RUNNING
RETRYING = NodeState.RETRYING
WAITING = NodeState.WAITING
SUCCEEDED = NodeState.SUCCEEDED
FAILED = NodeState.FAILED
SKIPPED = NodeState.SKIPPED
UPSTREAM_FAILED = NodeState.UPSTREAM_FAILED
CANCELLED = NodeState.CANCELLED
IN_FLIGHT = frozenset({QUEUED, RUNNING, RETRYING})
DEFAULT_DURABLE_DELAY_S = 60.0
DEFAULT_MAX_DEPTH = 5
DEFAULT_MAX_OUTPUT_BYTES = 16 << 20


class SystemClock:
    """Wall time and sleeping; tests pass a fake with the same two methods."""

    time = staticmethod(time.time)
    sleep = staticmethod(asyncio.sleep)


class Execution:
    """One run of a graph. See the module docstring; `options` keys: `http_allow_private`,
    `env` (values for the names allow-listed in settings.env), `secrets`, `max_output_preview`
    (bytes), `max_output_bytes` (one node's output as JSON; default 16 MiB), `clock` (an
    object with `time()` and `async sleep(s)`), `dry_run`, `debug` (breakpoints pause),
    `durable_delay_threshold_s` (a longer `delay` parks the run; default 60, None: never),
    `run_subworkflow` (async `(workflow, inputs, depth, node_id) -> outputs`, or a `Wait` to
    park the node until `continue_node`), `depth` and `max_depth` (sub-workflow nesting),
    `node_slots` (an asyncio.Semaphore capping the handlers executing at once across every run
    that shares it: a worker's global cap)."""

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
        options: Mapping[str, Any] | None = None,
    ) -> None:
        options = dict(options or {})
        n = len(graph)
        self._options = options
        body = options.pop("body", None) or {}
        self._parent: Execution | None = body.get("parent")
        self._root: Execution = self._parent._root if self._parent is not None else self
        self._tearing_down = False
        self._loop_vars: dict | None = body.get("loop")
        self._path: str | None = body.get("path")
        self._debug = bool(options.get("debug"))
        self._node_slots: asyncio.Semaphore | None = options.get("node_slots")
        self._passed_breakpoints: set[int] = set()
        threshold = options.get("durable_delay_threshold_s", DEFAULT_DURABLE_DELAY_S)
        self._durable_delay_s = None if threshold is None else float(threshold)
        self.graph = graph
        self.run_id = run_id
        self._sink = sink
        self._store = store
        self._clock = options.get("clock") or SystemClock()
        self._now = self._clock.time
        self._preview_limit = int(options.get("max_output_preview") or DEFAULT_PREVIEW_BYTES)
        # A hard limit on one node's output (the runtime stores every output whole); there is
        # always one, so no output whose JSON is huge (a list shared a million times) ever
        # reaches `preview` or a sink.
        self._max_output_bytes = int(options.get("max_output_bytes") or DEFAULT_MAX_OUTPUT_BYTES)
        self._dry_run = bool(options.get("dry_run"))
        if registry is None:
            self.handlers = graph.handlers
        else:
            self.handlers = tuple(registry.get(node["type"]) for node in graph.nodes)
        self.iterations = Iterations(self)
        self.status = RunState.QUEUED
        self.error: dict | None = None
        self.started: float | None = None
        self.finished: float | None = None
        self.records = [NodeRecord() for _ in range(n)]
        self.outputs: dict[str, Any] = {}
        self._planner = Planner(graph)
        # node id -> output, what expressions read (a body also reads its container's scope)
        self._results: dict[str, Any] | ChainMap = (
            {} if self._parent is None else ChainMap({}, self._parent._results)
        )
        self._carried: list[Any] = [None] * n  # what a node's taken edges carry
        self._config_override: dict[int, dict] = {}
        self._seq = 0
        self._max_parallel = max(1, int(graph.settings.get("max_parallel") or 16))
        self._active = 0
        self._waiting: deque = deque()
        self._tasks: dict[int, asyncio.Task] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        self._idle: asyncio.Future | None = None
        self._live = 0  # node tasks alive (plus one while the run starts)
        self._crash: BaseException | None = None
        self._max_attempts = [node["retry"].get("max_attempts") or 1 for node in graph.nodes]
        self._stop_status: RunState | None = None
        self._stop_reason: str | None = None
        self._parking = False
        self._unhandled: list[int] = []
        self._resumed: list[tuple[int, str]] = []  # the user's retry/skip of parked nodes
        self._continuing: set[int] = set()  # parked nodes whose handler runs again, same attempt
        self._restored: list[tuple[int, str]] = []  # decisions re-derived from a snapshot
        self._handler_settings = {
            "http_allow_private": bool(options.get("http_allow_private")),
            "dry_run": self._dry_run,
            "clock": self._clock,
            "run_subworkflow": options.get("run_subworkflow"),
            "depth": int(options.get("depth") or 0),
            "max_depth": int(options.get("max_depth") or DEFAULT_MAX_DEPTH),
            "durable_delay_threshold_s": self._durable_delay_s,
        }
        self.inputs = self._run_inputs(inputs or {})
        self._root_input = body["root_input"] if body else self.inputs
        secrets = dict(options.get("secrets") or {})
        self._secret_values = [v for v in secrets.values() if isinstance(v, str) and len(v) >= 4]
        env = options.get("env") or {}
        self._fixed = {
            "inputs": self.inputs,
            "vars": graph.document.get("variables") or {},
            "run": {"id": run_id},
            "env": {name: env[name] for name in graph.settings.get("env") or () if name in env},
            "secrets": secrets,
        }
        if snapshot is not None:
            self._restore(snapshot, inputs)

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
        self._set_run_status(RunState.RUNNING, now)
        if first and self._parent is None:
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
        if self._crash is not None:
            raise self._crash
        self._finish()
        return self.report()

    def _start_timer(self, loop: asyncio.AbstractEventLoop, now: float) -> Any:
        timeout = self.graph.settings.get("timeout_s")
        if not timeout:
            return None
        remaining = max(0.0, float(timeout) - (now - self.started))
        message = f"run timed out after {timeout:g} s"
        error = {"message": message, "type": "timeout"}
        return loop.call_later(remaining, self._stop, RunState.FAILED, message, error)

    async def _tear_down(self) -> None:
        """The task running the run was cancelled (e.g. a worker shutting down): cancel the
        node tasks without recording anything, so the snapshot keeps them in flight."""
        if self._parent is None:
            self._tearing_down = True
        while self._waiting:
            item = self._waiting.popleft()
            if not isinstance(item, int):
                item.cancel()
        tasks = list(self._tasks.values())
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    def _task_done(self, task: asyncio.Task | None = None) -> None:
        self._live -= 1
        if not self._live and not self._idle.done():
            self._idle.set_result(None)

    def warn(self, message: str) -> None:
        """A run-level warning (e.g. the runtime saw no event for a while) as a `node.log`
        event without a node, with `level: "warning"`."""
        data = {"message": storable_text(message), "level": "warning"}
        self._emit(NODE_LOG, self._now(), None, None, None, data=data)

    def _warn_missing_env(self) -> None:
        provided = self._options.get("env") or {}
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

    def retry_node(self, node_id: str, config: dict | None = None, iteration: str = "") -> None:
        """Resume a node parked `waiting` by on_failure=pause: run it again (a new attempt),
        optionally with an edited config. Call before `run()` on a restored execution."""
        if iteration:
            return self._in_iteration(iteration, lambda child: child.retry_node(node_id, config))
        i = self._waiting_node(node_id)
        if config is not None:
            self._config_override[i] = config
        self._passed_breakpoints.add(i)
        self.records[i].wait = None
        self._resumed.append((i, RUN))

    def continue_node(self, node_id: str, iteration: str = "") -> None:
        """Resume a node its handler parked (`Wait`) on something outside the run that has
        now happened — a sub-workflow's child run ended: the handler runs again within the
        same attempt and finds the outcome there. Call before `run()` on a restored execution."""
        if iteration:
            return self._in_iteration(iteration, lambda child: child.continue_node(node_id))
        i = self._waiting_node(node_id)
        record = self.records[i]
        if record.attempts < 1 or record.error is not None:
            raise ValueError(f"node {node_id!r} did not park in its handler: retry it instead")
        record.wait = None
        self._continuing.add(i)
        self._resumed.append((i, RUN))

    def approve_node(
        self, node_id: str, approved: bool, data: Any = None, by: Any = None, iteration: str = ""
    ) -> dict[str, Any]:
        """Decide an `approval` node parked `waiting` (at top level, or in the iteration
        `iteration` of a parked container, e.g. `M[2]`): it succeeds with output `{"approved",
        "data", "by", "at"}` and follows its `approved` or `rejected` handle. Call before
        `run()` on a restored execution; returns the output."""
        if iteration:
            return self._in_iteration(
                iteration, lambda child: child.approve_node(node_id, approved, data, by)
            )
        i = self._waiting_node(node_id)
        wait = self.records[i].wait or {}
        if wait.get("kind") != "approval":
            raise ValueError(f"node {node_id!r} is not waiting for an approval")
        return self._decide_approval(i, bool(approved), data, by)

    def _decide_approval(self, i: int, approved: bool, data: Any, by: Any) -> dict[str, Any]:
        record = self.records[i]
        now = self._now()
        output = {"approved": approved, "data": data, "by": by, "at": iso_us(now)}
        record.handles = ("approved",) if approved else ("rejected",)
        self._wake(i, record, output, now)
        return output

    def _in_iteration(self, path: str, act: Callable[[Execution], Any]) -> Any:
        """Decide inside the iteration `path` (`M[2]`, nested `M[2]/L[1]`) of a parked
        container: `act` on that iteration's execution, then the container continues (the
        same attempt) once the run runs. Nothing changes when `act` raises."""
        step, _, rest = path.partition("/")
        name, _, index = step.rpartition("[")
        c = self.graph.index.get(name)
        if c is None or not index.endswith("]") or not index[:-1].isdigit():
            raise KeyError(f"no iteration {step!r} in this workflow")
        record = self.records[c]
        parked = c in self._continuing or (record.wait or {}).get("kind") == "body"
        if record.status is not WAITING or not parked:
            raise ValueError(f"{name} is {record.status}, not waiting for an iteration")
        k = int(index[:-1])
        child = self.iterations.prepare(c, k)
        result = child._in_iteration(rest, act) if rest else act(child)
        self.iterations.keep(c, k, child)
        self._continue_container(c)
        return result

    def _continue_container(self, c: int) -> None:
        """A parked container goes on within its attempt: its iterations (finished ones too)
        come back from their snapshots or prepared executions."""
        if c in self._continuing:
            return
        self.iterations.go_on(c)
        self.records[c].wait = None
        self._continuing.add(c)
        self._resumed.append((c, RUN))

    def _wake(self, i: int, record: NodeRecord, output: Any, now: float) -> None:
        record.wait = None
        if record.attempts == 0:
            record.attempts = 1
        self._succeeded(i, record, output)
        self._resumed.extend(self._planner.settle(i, SUCCEEDED, record.handles))

    def _wake_due(self) -> None:
        """Parked nodes whose time has come: a durable delay fires, an approval past its
        `timeout_s` is rejected."""
        now = self._now()
        for i, record in enumerate(self.records):
            wait = record.wait
            if record.status is not WAITING or not wait:
                continue
            if wait.get("kind") == "body":
                wake = self.iterations.wake_at(i)
                if wake is not None and wake <= now:
                    self._continue_container(i)  # the iteration wakes when it runs
                continue
            if wait.get("wake_at") is None or now < wait["wake_at"]:
                continue
            if wait["kind"] == "approval":
                self._decide_approval(i, False, None, "timeout")
            else:
                record.handles = ("out",)
                self._wake(i, record, (wait.get("data") or {}).get("output"), now)

    @property
    def wake_at(self) -> float | None:
        """When a parked run must be resumed by itself (the earliest durable delay or
        approval deadline), epoch seconds; None when only a person can resume it."""
        times = []
        for i, record in enumerate(self.records):
            wait = record.wait
            if record.status is not WAITING or not wait:
                continue
            wake = self.iterations.wake_at(i) if wait.get("kind") == "body" else wait.get("wake_at")
            if wake is not None:
                times.append(wake)
        return min(times) if times else None

    def waiting_for(self, node_id: str) -> str | None:
        """What a node waits for (`approval`, `delay`, `breakpoint`, `failure`), or None."""
        i = self.graph.index.get(node_id)
        if i is None or self.records[i].status is not WAITING:
            return None
        return (self.records[i].wait or {}).get("kind", "failure")

    def record_of(self, node_id: str, iteration: str = "") -> NodeRecord | None:
        """A node's record at top level (`""`) or in an iteration (`"M[2]/L[1]"`)."""
        execution: Execution | None = self
        for step in filter(None, iteration.split("/")):
            container, _, index = step.rpartition("[")
            c = execution.graph.index.get(container)
            if c is None or not index.endswith("]") or not index[:-1].isdigit():
                return None
            execution = execution.iterations.find(c, int(index[:-1]))
            if execution is None:
                return None
        i = execution.graph.index.get(node_id)
        return None if i is None else execution.records[i]

    # ---- what container bodies see (bodies.Host) ------------------------------------------

    @property
    def tearing_down(self) -> bool:
        return self._root._tearing_down

    @property
    def path(self) -> str | None:
        """Where this execution runs: None at top level, else its iteration (`M[2]/L[1]`)."""
        return self._path

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
            sink=partial(self.forward, path),
            store=self._store,
            snapshot=snapshot,
            options={
                **self._options,
                "run_subworkflow": in_iteration(self._options.get("run_subworkflow"), path),
                "body": {"parent": self, "loop": loop, "root_input": root_input, "path": path},
            },
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
        self._emit(NODE_PROGRESS, self._now(), node_id, None, attempt, data=data)

    def forward(self, path: str, event: Event) -> None:
        """A child's event goes out through this execution, renumbered, with its path."""
        if event.type == RUN_STATUS:
            return
        self._seq += 1
        if self._sink is None:
            return
        inner = event.iteration
        self._sink(
            new_event(
                self._seq,
                event.type,
                self.run_id,
                event.ts,
                event.node,
                event.status,
                event.attempt,
                event.error,
                event.duration_ms,
                path if inner is None else f"{path}/{inner}",
                event.data,
            )
        )

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

    def _at_breakpoint(self, i: int, record: NodeRecord) -> bool:
        return (
            self._debug
            and self.graph.nodes[i]["breakpoint"]
            and record.attempts == 0
            and i not in self._passed_breakpoints
        )

    def _park(self, i: int, record: NodeRecord, wait: Wait) -> None:
        """A node waits (approval, durable delay, breakpoint): the run pauses once nothing
        else runs, and its snapshot says when it wakes by itself."""
        record.wait = {"kind": wait.kind, "wake_at": wait.wake_at, "data": wait.data}
        self._parking = True
        self._set(i, record, WAITING, self._now())

    def cancel_unfinished(self, reason: str) -> None:
        """A body whose container stopped: what had not ended is cancelled."""
        for i, record in enumerate(self.records):
            if record.status not in NODE_TERMINAL and self.graph.parents[i] < 0:
                self._cancelled(i, record, reason)
        self.iterations.cancel_unfinished(reason)

    def skip_node(self, node_id: str, iteration: str = "") -> None:
        """Resume a node parked `waiting` by marking it skipped (its edges are skipped)."""
        if iteration:
            return self._in_iteration(iteration, lambda child: child.skip_node(node_id))
        i = self._waiting_node(node_id)
        record = self.records[i]
        now = self._now()
        self._set(i, record, SKIPPED, now)
        record.finished = now
        record.reason = "skipped by the user"
        self._resumed.extend(self._planner.settle(i, SKIPPED, ()))

    def snapshot(self) -> dict[str, Any]:
        """The run's durable state, JSON-serialisable, at any moment."""
        ids = self.graph.ids
        return {
            "version": SNAPSHOT_VERSION,
            "run": self.run_id,
            "status": str(self.status),
            "seq": self._seq,
            "started": self.started,
            "finished": self.finished,
            "error": self.error,
            "inputs": self.inputs,
            "outputs": dict(self.outputs),
            "nodes": {ids[i]: record.to_state() for i, record in enumerate(self.records)},
            "edges": {
                edge_id: str(state)
                for edge_id, state in zip(
                    self.graph.edge_ids, self._planner.edge_states, strict=True
                )
            },
            "iterations": self.iterations.snapshots(),
            "wake_at": self.wake_at,
        }

    def report(self) -> RunReport:
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
            dry_run=self._dry_run,
        )

    # ---- scheduling --------------------------------------------------------------------

    async def _begin(self) -> None:
        self._wake_due()
        decisions = self._planner.start()
        decisions.extend(self._restored)
        decisions.extend(self._resumed)
        resumed = {i for i, _ in self._resumed}
        if any(
            record.status is WAITING and i not in resumed for i, record in enumerate(self.records)
        ):
            self._parking = True  # still parked: only the user's resume unparks it
        await self._apply(decisions)

    async def _apply(self, decisions: list[tuple[int, str]]) -> None:
        """Start the nodes decided to run; record the others (skipped / upstream_failed)."""
        store = self._store
        for t, decision in decisions:
            if decision is RUN:
                if self._stop_status is None and not self._parking:
                    self._ready(t)
            else:
                self._not_run(t, decision)
                if store is not None:
                    await store.node_settled(self, self.graph.ids[t], self.records[t])

    def _apply_now(self, decisions: list[tuple[int, str]]) -> None:
        for t, decision in decisions:
            if decision is RUN:
                if self._stop_status is None and not self._parking:
                    self._ready(t)
            else:
                self._not_run(t, decision)

    def _ready(self, i: int) -> None:
        if self._active < self._max_parallel:
            self._active += 1
            self._spawn(i)
        else:
            self._set(i, self.records[i], QUEUED, self._now())
            self._waiting.append(i)

    def _spawn(self, i: int) -> None:
        self._live += 1
        task = self._tasks[i] = self._loop.create_task(self._execute(i))
        # A callback, not a `finally`: a task cancelled before its first step never runs
        # its body, and it must still count as done.
        task.add_done_callback(self._task_done)

    def _release(self) -> None:
        self._active -= 1
        waiting = self._waiting
        while waiting and self._active < self._max_parallel and self._stop_status is None:
            if self._parking and isinstance(waiting[0], int):
                break  # parked: queued nodes wait for the resume
            item = waiting.popleft()
            self._active += 1
            if isinstance(item, int):
                self._spawn(item)
            elif not item.done():
                item.set_result(None)  # hand the slot to a node back from its backoff
            else:
                self._active -= 1

    async def _acquire(self, i: int, record: NodeRecord) -> None:
        if self._active < self._max_parallel:
            self._active += 1
            return
        future = self._loop.create_future()
        self._set(i, record, QUEUED, self._now())
        self._waiting.append(future)
        try:
            await future
        except asyncio.CancelledError:
            if future.done() and not future.cancelled():
                self._release()  # a slot was handed over just before the cancellation
            raise

    # ---- one node ----------------------------------------------------------------------

    async def _execute(self, i: int) -> None:
        """Run node `i` (every attempt), record how it ended, then decide its successors."""
        record = self.records[i]
        try:
            try:
                if self._at_breakpoint(i, record):
                    output, error = Wait("breakpoint"), None
                else:
                    output, error = await self._attempt_in_slot(i, record)
                if error is not None and record.attempts < self._max_attempts[i]:
                    output, error = await self._retry(i, record, error)
            except asyncio.CancelledError:
                self._release()
                self._tasks.pop(i, None)
                if self._stop_status is None:
                    raise  # the run is being torn down: the snapshot keeps the node in flight
                self._cancelled(i, record, self._stop_reason)
                return
            self._tasks.pop(i, None)
            if isinstance(output, Wait):
                self._park(i, record, output)
                status = None
            elif error is None and (error := self._grow(i, output)) is None:
                self._succeeded(i, record, output)
                status = SUCCEEDED
            elif self._failed(i, record, error):
                status = FAILED
            else:
                status = None  # parked (on_failure=pause): nothing downstream is decided
            self._release()  # after the outcome, so a halt starts nothing from the queue
            if status is None:
                return
            if self._store is None:
                self._apply_now(self._planner.settle(i, status, record.handles))
            else:
                await self._store.node_settled(self, self.graph.ids[i], record)
                await self._apply(self._planner.settle(i, status, record.handles))
        except asyncio.CancelledError:
            raise
        except BaseException as exc:  # a bug in the engine or the store: end the run with it
            if self._crash is None:
                self._crash = exc
            self._stop(RunState.FAILED, f"engine error: {exc!r}", None)

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
        added = grown.added
        if emit:
            self._emit(GRAPH_CHANGED, self._now(), self.graph.ids[i], None, None, data=added)
        return None

    async def _retry(self, i: int, record: NodeRecord, error: dict) -> tuple[Any, dict | None]:
        """Back off and try again until an attempt succeeds or none are left. The slot is
        released while the node waits out its backoff."""
        retry = self.graph.nodes[i]["retry"]
        output = None
        while error is not None and record.attempts < self._max_attempts[i]:
            self._release()
            self._set(i, record, RETRYING, self._now(), error=error)
            try:
                await self._clock.sleep(retry_delay(retry, record.attempts))
                await self._acquire(i, record)
            except asyncio.CancelledError:
                self._active += 1  # _execute releases the slot it believes it holds
                raise
            output, error = await self._attempt_in_slot(i, record)
        return output, error

    def _attempt_in_slot(self, i: int, record: NodeRecord):
        """The attempt, within one of the process's node slots when the runtime caps them
        (`options["node_slots"]`, a semaphore shared by every run of a worker). Containers and
        sub-workflow nodes take none: what they wait for (their body, the child's nodes) does."""
        gate = self._node_slots
        if gate is None:
            return self._attempt(i, record)
        handler = self.handlers[i]
        if handler is None or handler.container or handler.type == "subworkflow":
            return self._attempt(i, record)
        return self._slotted_attempt(gate, i, record)

    async def _slotted_attempt(
        self, gate: asyncio.Semaphore, i: int, record: NodeRecord
    ) -> tuple[Any, dict | None]:
        if gate.locked() and record.status is not QUEUED:
            self._set(i, record, QUEUED, self._now())  # waits for a slot of the worker
        async with gate:
            return await self._attempt(i, record)

    async def _attempt(self, i: int, record: NodeRecord) -> tuple[Any, dict | None]:
        """Run one attempt (or continue a parked one): (output, None) on success, (None,
        error) on failure."""
        if i in self._continuing:
            self._continuing.discard(i)
        else:
            record.attempts += 1
        now = self._now()
        if record.started is None:
            record.started = now
        record.attempt_started = now
        self._set(i, record, RUNNING, now)
        graph = self.graph
        node = graph.nodes[i]
        handler = self.handlers[i]
        sources = self._sources(i) if graph.n_sources[i] else {}
        if not sources:
            value = None if graph.n_sources[i] else self._root_input
        elif len(sources) == 1:
            (value,) = sources.values()
        else:
            value = sources
        record.input = value
        if node["disabled"]:
            record.handles = self._passthrough_handles(i)
            return value, None
        try:
            timeout = node["timeout_s"]
            work = self._perform(i, record, node, handler, value, sources)
            result = await (work if not timeout else self._within(timeout, work))
        except NodeError as exc:
            return None, {"message": exc.message, "type": exc.type}
        except IterationParked as parked:
            return Wait("body", None, {"iterations": parked.paths}), None
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            return None, {"message": f"{type(exc).__name__}: {exc}", "type": "exception"}
        if isinstance(result, HandlerResult):
            record.handles = result.handles
            result = result.output
        elif isinstance(result, Wait):
            problem = await self._unstorable(result.data, "wait")
            return (None, problem) if problem else (result, None)
        else:
            record.handles = ("out",)
        problem = small_output_problem(result, self._max_output_bytes)  # the usual: inline
        if problem is NOT_SMALL:
            problem = await self._unstorable(result, "output", self._max_output_bytes)
        return (None, problem) if problem else (result, None)

    async def _perform(
        self, i: int, record: NodeRecord, node: dict, handler: Any, value: Any, sources: dict
    ) -> Any:
        """Render the node's config and run its handler: what the node's `timeout_s` bounds."""
        graph = self.graph
        node_id = graph.ids[i]
        scope = Scope(self._fixed, self._results, node_id, record.attempts, value, self._loop_vars)
        raw = config = self._config_override.get(i, node["config"])
        if graph.render_config[i] or i in self._config_override:
            config = self._render(partial(render_node_config, raw, scope, handler))
            if config is TOO_BIG:
                config = await self._render_in_thread(raw, scope, handler)
        if self._dry_run and handler.side_effects:
            return HandlerResult(DRY_RUN_OUTPUT)
        ctx = HandlerContext(
            node_id,
            config,
            value,
            record.attempts,
            sources,
            scope,
            partial(self._log, i),
            self._handler_settings,
            raw,
            Body(self, self.iterations, i, record.attempts, value) if handler.container else None,
        )
        return await handler.run(ctx)

    async def _unstorable(self, value: Any, root: str, max_bytes: int = 0) -> dict | None:
        """Why a value cannot leave the engine (an output PostgreSQL refuses, or one over the
        size limit), or None. Checked here, once, for every handler's output: nothing
        unstorable reaches an event, a record or the run's outputs."""
        if value is None or type(value) is bool:
            return None
        problem = small_output_problem(value, max_bytes, root)  # a few steps, inline
        if problem is NOT_SMALL:
            problem = await off_loop(partial(output_problem, value, max_bytes, root))
        return problem

    @staticmethod
    async def _within(seconds: float, work: Any) -> Any:
        """`work` within the node's `timeout_s`: a CPU-bound evaluation in a thread is
        cancelled with it (see engine.budget)."""
        deadline = asyncio.timeout(seconds)
        try:
            async with deadline:
                return await work
        except TimeoutError:
            if not deadline.expired():
                raise  # the handler's own TimeoutError: an ordinary failure
            raise NodeError(f"timed out after {seconds:g} s", "timeout") from None

    def _passthrough_handles(self, i: int) -> tuple[str, ...]:
        """A disabled node passes its input through its first output handle."""
        handler = self.handlers[i]
        outs = handler.output_handles(self.graph.nodes[i]["config"]) if handler else ("out",)
        return tuple(h for h in outs if h != ERROR_HANDLE)[:1] or ("out",)

    @staticmethod
    def _render(work: Callable[[], dict]) -> Any:
        """The rendered config, inline; `TOO_BIG` when it must go on in a thread."""
        from engine.expressions import ExpressionError

        try:
            return inline(work)
        except ExpressionError as exc:
            raise NodeError(exc.message, "expression") from None

    @staticmethod
    async def _render_in_thread(config: dict, scope: Scope, handler: Any) -> dict:
        from engine.expressions import ExpressionError

        try:
            return await in_thread(partial(render_node_config, config, scope, handler))
        except ExpressionError as exc:
            raise NodeError(exc.message, "expression") from None

    def _sources(self, i: int) -> dict[str, Any]:
        """What the taken incoming edges carry, by source id, in edge order."""
        sources: dict[str, Any] = {}
        edge_states = self._planner.edge_states
        ids = self.graph.ids
        carried = self._carried
        for s, edges in self.graph.in_pairs[i]:
            for e in edges:
                if edge_states[e] is EdgeState.TAKEN:
                    sources[ids[s]] = carried[s]
                    break
        return sources

    def _log(self, i: int, message: Any) -> None:
        text = storable_text(self._redact(str(message)))
        record = self.records[i]
        self._emit(
            NODE_LOG, self._now(), self.graph.ids[i], None, record.attempts, data={"message": text}
        )

    def _preview(self, output: Any) -> Any:
        """An output as events show it: truncated past the preview limit, secrets as `***`."""
        shown = preview(output, self._preview_limit)
        if not self._secret_values or shown is None or isinstance(shown, bool | int | float):
            return shown
        text = json.dumps(shown, default=str)
        redacted = text
        for secret in self._secret_values:
            redacted = redacted.replace(json.dumps(secret)[1:-1], "***")
        return shown if redacted == text else json.loads(redacted)

    def _redact(self, text: str) -> str:
        for secret in self._secret_values:
            text = text.replace(secret, "***")
        return text

    # ---- outcomes ----------------------------------------------------------------------

    def _succeeded(self, i: int, record: NodeRecord, output: Any) -> None:
        now = self._now()
        node_id = self.graph.ids[i]
        record.output = output
        record.finished = now
        self._carried[i] = output
        self._results[node_id] = output
        handler = self.handlers[i]
        if handler is not None and handler.type == "output":
            self.outputs[node_id] = output
        self._set(i, record, SUCCEEDED, now)
        self._emit(
            NODE_OUTPUT,
            now,
            node_id,
            None,
            record.attempts,
            data={"output": self._preview(output)},
        )

    def _failed(self, i: int, record: NodeRecord, error: dict) -> bool:
        """Record a failure; False when the run parks on it (on_failure=pause)."""
        now = self._now()
        node_id = self.graph.ids[i]
        message = storable_text(self._redact(str(error["message"])))
        error = {"message": message, "type": error["type"]}
        record.error = error
        record.handled = self.graph.has_error_edges[i]
        if not record.handled:
            on_failure = self.graph.settings.get("on_failure")
            if on_failure == "pause":
                self._parking = True
                self._set(i, record, WAITING, now, error=error)
                return False
            self._unhandled.append(i)
        record.finished = now
        self._carried[i] = {"error": {**error, "node": node_id, "attempt": record.attempts}}
        self._set(i, record, FAILED, now, error=error)
        if not record.handled and self.graph.settings.get("on_failure") == "halt":
            self._stop(None, f"cancelled by halt after node {node_id} failed", None)
        return True

    def _cancelled(self, i: int, record: NodeRecord, reason: str | None) -> None:
        if self.handlers[i] is not None and self.handlers[i].container:
            self.iterations.cancel(i, reason or "run cancelled")
        now = self._now()
        record.finished = now if record.started is not None else None
        record.reason = reason
        self._set(i, record, CANCELLED, now)

    def _not_run(self, t: int, decision: str) -> None:
        record = self.records[t]
        record.reason = self._why_not(t, decision)
        self._set(t, record, NodeState(decision), self._now())

    def _why_not(self, t: int, decision: str) -> str:
        ids = self.graph.ids
        states = self._planner.source_states(t)
        rule = self.graph.joins[t]
        if decision == UPSTREAM_FAILED:
            for s, state in states:
                if state is EdgeState.FAILED:
                    return f"upstream {ids[s]} {self.records[s].status.replace('_', ' ')}"
        if rule == "one_failed":
            return "no upstream failed"
        if rule == "all_failed":
            return "not every upstream failed"
        for s, state in states:
            if state is EdgeState.SKIPPED:
                source = self.records[s]
                if source.status in (SKIPPED, UPSTREAM_FAILED, CANCELLED):
                    return f"upstream {ids[s]} {source.status.replace('_', ' ')}"
                handles = self._edge_handles(s, t)
                return f"branch {ids[s]}.{handles} not taken"
        return "no upstream taken"

    def _edge_handles(self, s: int, t: int) -> str:
        for target, edges in self.graph.out_pairs[s]:
            if target == t:
                return "/".join(dict.fromkeys(handle for _, handle in edges))
        return "out"

    # ---- state and events --------------------------------------------------------------

    def _set(
        self, i: int, record: NodeRecord, status: NodeState, now: float, error: dict | None = None
    ) -> None:
        """Move a node to `status` (the transitions table says whether it may) and emit it."""
        previous = record.status
        if status not in NODE_TRANSITIONS[previous]:
            raise InvalidTransition("node", previous, status)
        record.status = status
        duration = None
        if previous is RUNNING:
            duration = int((now - record.attempt_started) * 1000)
        elif previous is WAITING and status is SUCCEEDED and record.started is not None:
            duration = int((now - record.started) * 1000)  # woken: the wait is its duration
        self._seq += 1
        if self._sink is not None:
            self._sink(
                new_event(
                    self._seq,
                    NODE_STATUS,
                    self.run_id,
                    now,
                    self.graph.ids[i],
                    status,
                    record.attempts or None,
                    error,
                    duration,
                )
            )

    def _emit(
        self,
        type: str,
        now: float,
        node: str | None,
        status: str | None,
        attempt: int | None,
        error: dict | None = None,
        data: dict | None = None,
    ) -> None:
        self._seq += 1
        if self._sink is not None:
            self._sink(
                new_event(
                    self._seq,
                    type,
                    self.run_id,
                    now,
                    node,
                    status,
                    attempt,
                    error,
                    None,
                    None,
                    data,
                )
            )

    def _set_run_status(self, status: RunState, now: float) -> None:
        if self.status is not status:
            self.status = run_transition(self.status, status)
        self._emit(RUN_STATUS, now, None, str(status), None, self.error)

    def _stop(self, status: RunState | None, reason: str, error: dict | None) -> None:
        """Halt, cancel or time out: cancel running handlers, start nothing new."""
        if self._stop_status is not None or self.status in RUN_TERMINAL:
            return
        self._stop_status = status or RunState.FAILED
        self._stop_reason = reason
        if error is not None:
            self.error = error
        try:
            current = asyncio.current_task()
        except RuntimeError:  # cancelled before the run started: no loop yet
            current = None
        for task in list(self._tasks.values()):
            if task is not current:
                task.cancel()
        while self._waiting:
            item = self._waiting.popleft()
            if isinstance(item, int):
                self._cancelled(item, self.records[item], reason)
            else:
                item.cancel()

    def _finish(self) -> None:
        now = self._now()
        parked = False
        parents = self.graph.parents
        for i, record in enumerate(self.records):
            if record.status in NODE_TERMINAL or parents[i] >= 0:
                continue
            if self._stop_status is not None:
                self._cancelled(i, record, self._stop_reason)
            elif record.status is WAITING:
                parked = True
            elif not self._parking:
                # Only a snapshot that contradicts itself gets here (e.g. rows edited by hand):
                # end the run failed rather than leave it hanging.
                self._cancelled(i, record, "never decided: an upstream node did not finish")
                self.error = self.error or {
                    "message": f"node {self.graph.ids[i]} could not be decided",
                    "type": "internal",
                }
        if self._stop_status is not None:
            status = self._stop_status
        elif parked or self._parking:
            status = RunState.PAUSED
        elif self._unhandled or self.error is not None:
            status = RunState.FAILED
        else:
            status = RunState.SUCCEEDED
        if status is RunState.FAILED and self.error is None and self._unhandled:
            first = self.records[self._unhandled[0]]
            node_id = self.graph.ids[self._unhandled[0]]
            self.error = {
                "message": f"node {node_id} failed: {first.error['message']}",
                "type": first.error["type"],
            }
        if status in RUN_TERMINAL:
            self.finished = now
        self._set_run_status(status, now)

    # ---- inputs, restore ---------------------------------------------------------------

    def _run_inputs(self, given: Mapping[str, Any]) -> dict[str, Any]:
        inputs: dict[str, Any] = {}
        declared = self.graph.document.get("inputs") or {}
        for name, spec in declared.items():
            if isinstance(spec, dict) and "default" in spec:
                inputs[name] = spec["default"]
        inputs.update(given)
        return inputs

    def _waiting_node(self, node_id: str) -> int:
        i = self.graph.index.get(node_id)
        if i is None:
            raise KeyError(f"no node {node_id!r} in this workflow")
        if self.records[i].status is not WAITING:
            raise ValueError(f"node {node_id!r} is {self.records[i].status}, not waiting")
        return i

    def _restore(self, snapshot: Mapping[str, Any], inputs: Mapping[str, Any] | None) -> None:
        """Rebuild the run from a snapshot: replay every finished node's outcome through the
        planner (so edge states and decisions are derived, never trusted), then queue the
        nodes that were in flight or decided but not started."""
        if snapshot.get("version") != SNAPSHOT_VERSION:
            raise ValueError(f"unsupported snapshot version {snapshot.get('version')!r}")
        graph = self.graph
        self.status = RunState(snapshot.get("status") or RunState.QUEUED)
        self._seq = int(snapshot.get("seq") or 0)
        self.started = snapshot.get("started")
        self.finished = snapshot.get("finished")
        self.error = snapshot.get("error")
        if not inputs and snapshot.get("inputs") is not None:
            self.inputs.clear()
            self.inputs.update(snapshot["inputs"])
        self.outputs.update(snapshot.get("outputs") or {})
        states = snapshot.get("nodes") or {}
        self._regrow(states)
        graph = self.graph
        unknown = sorted(set(states) - set(graph.index))
        if unknown:
            raise ValueError(f"snapshot names nodes not in the graph: {', '.join(unknown)}")
        planner = self._planner
        for node_id, state in states.items():
            i = graph.index[node_id]
            record = NodeRecord.from_state(state)
            self.records[i] = record
            if record.status is not PENDING:
                planner.decided[i] = 1
        records = self.records
        self.iterations.restore(
            snapshot.get("iterations") or {}, lambda c: records[c].status in NODE_TERMINAL
        )
        self._restored = self._replay()

    def _regrow(self, states: Mapping[str, Any]) -> None:
        """Grow the graph again from the recorded outputs of nodes that grew it."""
        done: set[str] = set()
        while True:
            todo = [
                node_id
                for node_id, state in states.items()
                if node_id in self.graph.index
                and node_id not in done
                and state.get("status") == SUCCEEDED
            ]
            if not todo:
                return
            for node_id in todo:
                done.add(node_id)
                self._grow(self.graph.index[node_id], states[node_id].get("output"), emit=False)

    def _replay(self) -> list[tuple[int, str]]:
        planner, graph = self._planner, self.graph
        decisions: list[tuple[int, str]] = []
        in_flight: list[int] = []
        cancelled: list[NodeRecord] = []
        for i in graph.topo_order:
            record = self.records[i]
            status = record.status
            node_id = graph.ids[i]
            if status is SUCCEEDED:
                self._carried[i] = self._results[node_id] = record.output
                decisions.extend(planner.settle(i, SUCCEEDED, record.handles or ("out",)))
            elif status is FAILED:
                error = record.error or {"message": "", "type": "error"}
                self._carried[i] = {"error": {**error, "node": node_id, "attempt": record.attempts}}
                if not record.handled:
                    self._unhandled.append(i)
                decisions.extend(planner.settle(i, FAILED, ()))
            elif status in (SKIPPED, UPSTREAM_FAILED):
                decisions.extend(planner.settle(i, status, ()))
            elif status in IN_FLIGHT:
                record.status = PENDING  # a restore, not a transition: it runs again
                in_flight.append(i)
            elif status is CANCELLED:
                cancelled.append(record)
        if cancelled and self._stop_status is None:
            self._resume_stop(cancelled[0])
        decisions.extend((i, RUN) for i in in_flight)
        return decisions

    def _resume_stop(self, record: NodeRecord) -> None:
        """A cancelled node in a run that had not ended: the worker died while the run was
        being halted or cancelled, so the restored run finishes that stop."""
        halted = self._unhandled and self.graph.settings.get("on_failure") == "halt"
        self._stop_status = RunState.FAILED if halted else RunState.CANCELLED
        self._stop_reason = record.reason or "run cancelled"
