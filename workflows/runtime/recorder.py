"""The engine's sink and store for one run: `RunRecorder` buffers the run's events, persists
them in group commits through the publisher, and makes a node's completion durable before its
successors start (the engine awaits `RunRecorder.node_settled`)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from engine.events import NODE_LOG, NODE_STATUS, RUN_STATUS, Event
from engine.report import NodeRecord
from engine.states import NODE_TERMINAL, RUN_TERMINAL, NodeState, RunState
from workflows.runtime.db import dt
from workflows.runtime.leases import LeaseLost, RunUnstorable
from workflows.runtime.logs import runtime_logger
from workflows.runtime.persistence import Batch

if TYPE_CHECKING:
    from engine.execution import Execution
    from workflows.runtime.publish import Publisher

logger = runtime_logger(__name__)


# Events not followed by a node's completion (a node starts running, logs, waits) are written
# after this short delay, so a completion that comes soon after shares their transaction.
LIVE_FLUSH_DELAY_S = 0.001


ENDS_DRIVE = frozenset({*RUN_TERMINAL, RunState.PAUSED})
KEPT_KEYS = frozenset({NodeState.SUCCEEDED, NodeState.REUSED})


class RunRecorder:
    """Buffers one run's events and persists them in group commits, then publishes them.

    `sink` is called synchronously by the engine for every event; a flush is scheduled at once
    so live clients see a state change within milliseconds. `node_settled` (awaited by the
    engine before a node's successors start) waits until everything emitted so far is durable.
    Concurrent settles share one transaction."""

    def __init__(self, run_id: int, owner: str, publisher: Publisher) -> None:
        self.run_id = run_id
        self.owner = owner
        self.publisher = publisher
        self.execution: Execution | None = None
        self.pending: list[Event] = []
        self.node_rows: dict[tuple[str, str, int], dict[str, Any]] = {}
        self.dirty: set[tuple[str, str, int]] = set()
        self.run_fields: dict[str, Any] = {}
        self.emitted_seq = 0
        self.last_event_ts = time.time()
        self.durable_seq = 0
        self.lease_lost = False
        self.broken: Exception | None = None  # a write that failed for good: the drive ends
        self.fence: RunUnstorable | None = None  # the run was ended failed by the writer
        self.observers: list[Callable[[Event], None]] = []  # e.g. a progress bar
        self.final: list[Event] = []  # the run.status that ends this drive (see sink)
        self._flushing: asyncio.Task | None = None
        self._scheduled = False

    # engine sink
    def sink(self, event: Event) -> None:
        if self.lease_lost:
            return
        for observer in self.observers:
            observer(event)
        if event.type == RUN_STATUS and event.status in ENDS_DRIVE:
            # Written by `finish_run` in one transaction with the outputs, the saved state and
            # the lease release, so nobody sees a finished run without its outputs.
            self.final.append(event)
            return
        self.pending.append(event)
        self.emitted_seq = event.seq
        if event.node is not None or event.type != NODE_LOG:  # a run-level warning is no progress
            self.last_event_ts = event.ts
        if event.type == NODE_STATUS:
            self._track_node(event)
        elif event.type == RUN_STATUS:
            self._track_run(event)
        if not self._scheduled:
            self._scheduled = True
            asyncio.get_running_loop().call_later(LIVE_FLUSH_DELAY_S, self._kick)

    # engine store
    async def node_settled(self, execution: Execution, node_id: str, record: NodeRecord) -> None:
        """Wait until the outcome is durable before the engine starts anything after it —
        unless every successor is replayable (transform, condition, ...): those may run ahead
        of the writer, which then commits a whole stretch of them at once. A node that talks
        to the world still starts only once everything before it is committed."""
        if self.lease_lost:
            raise LeaseLost(f"run {self.run_id} is no longer owned by {self.owner}")
        if not self._successors_replayable(execution, node_id):
            await self.flush()

    @staticmethod
    def _successors_replayable(execution: Execution, node_id: str) -> bool:
        graph = execution.graph
        i = graph.index.get(node_id)
        if i is None:
            return False
        return all(getattr(graph.handlers[t], "replayable", False) for t, _ in graph.out_pairs[i])

    async def flush(self) -> None:
        """Return once every event emitted so far is committed (raise LeaseLost if fenced)."""
        target = self.emitted_seq
        while self.durable_seq < target:
            if self.lease_lost:
                raise self.fence or LeaseLost(
                    f"run {self.run_id} is no longer owned by {self.owner}"
                )
            if self.broken is not None:
                raise self.broken
            if self._flushing is None or self._flushing.done():
                self._flushing = asyncio.ensure_future(self._write())
            await asyncio.shield(self._flushing)

    def _kick(self) -> None:
        self._scheduled = False
        if self.broken is not None:
            return  # no write storm: the drive ends on this error and the run is released
        if self.pending and (self._flushing is None or self._flushing.done()):
            self._flushing = asyncio.ensure_future(self._write())
            self._flushing.add_done_callback(self._after_write)

    def _after_write(self, task: asyncio.Task) -> None:
        if task.cancelled():
            return
        if task.exception() is not None and not isinstance(task.exception(), LeaseLost):
            logger.error("writing events of run %s failed", self.run_id, exc_info=task.exception())
        if self.pending and not self.lease_lost:
            self._kick()

    def _track_node(self, event: Event) -> None:
        status = event.status
        if status == NodeState.QUEUED:
            return
        attempt = event.attempt or 0
        iteration = "" if event.iteration is None else str(event.iteration)
        key = (event.node, iteration, attempt)
        row = self.node_rows.setdefault(key, {"status": status})
        row["status"] = status
        if status == NodeState.RUNNING:
            row["started_at"] = dt(event.ts)
        elif status == NodeState.RETRYING:
            row["status"] = NodeState.FAILED.value  # this attempt failed; another follows
            row["finished_at"] = dt(event.ts)
            row["error"] = self._detailed(key, event.error)
            row["reason"] = "retried"
        elif status in NODE_TERMINAL or status == NodeState.WAITING:
            row["finished_at"] = dt(event.ts) if attempt else None
            row["error"] = self._detailed(key, event.error)
        if event.duration_ms is not None:
            row["duration_ms"] = event.duration_ms
        if event.data and "usage" in event.data:  # the tokens of the attempt that just ended
            row["usage"] = event.data["usage"]
        self.dirty.add(key)

    def _detailed(self, key: tuple[str, str, int], error: dict | None) -> dict | None:
        """The attempt's error as its row keeps it: with the `traceback` of the exception its
        handler raised, if it did (the row is the owner's; events never carry it)."""
        record = self.execution and self.execution.record_of(key[0], key[1])
        found = record.tracebacks.get(key[2]) if record is not None and error else None
        return {**error, "traceback": found} if found else error

    def _track_run(self, event: Event) -> None:
        status = event.status
        self.run_fields["status"] = status
        if status == RunState.RUNNING and "started_at" not in self.run_fields:
            self.run_fields["started_at"] = dt(event.ts)
        if status in (RunState.SUCCEEDED, RunState.FAILED, RunState.CANCELLED):
            self.run_fields["finished_at"] = dt(event.ts)
            self.run_fields["error"] = event.error

    def _input(self, key: tuple[str, str, int], row: dict[str, Any]) -> None:
        """The attempt's input, once it started (what the inspector shows beside the output)."""
        node_id, iteration, attempt = key
        record = self.execution and self.execution.record_of(node_id, iteration)
        if record is not None and record.attempts == attempt and "started_at" in row:
            row["input"] = record.input

    def _wait(self, key: tuple[str, str, int], row: dict[str, Any]) -> None:
        """What a waiting node waits for, so a worker that takes the run over from its rows
        can still approve or wake it."""
        record = self.execution and self.execution.record_of(key[0], key[1])
        if record is not None and record.status == NodeState.WAITING:
            row["wait"] = record.wait

    def _settled_fields(self, node_id: str, iteration: str, row: dict[str, Any]) -> None:
        """Fill what events do not carry (full output, chosen handles, reason) from the
        engine's record, when the row is that node's final word."""
        execution = self.execution
        if execution is None:
            return
        record = execution.record_of(node_id, iteration)
        if record is None or record.status.value != row["status"]:
            return
        row["output"] = record.output
        row["handled"] = record.handled
        row["handles"] = list(record.handles)
        row["reason"] = record.reason or ""
        row["error"] = self._detailed((node_id, iteration, record.attempts), record.error)
        if record.status in KEPT_KEYS:  # a key only with a success: a reusable result
            row["cache_key"] = record.cache_key or ""
            row["reused_from"] = record.reused_from
            if record.memory is not None:  # what an llm node with memory said (engine.memory)
                row["memory"] = record.memory

    async def _write(self) -> None:
        batch, self.pending = self.pending, []
        if not batch:
            return
        rows = []
        for key in self.dirty:
            row = self.node_rows[key]
            if "input" not in row:
                self._input(key, row)
            if row["status"] in NODE_TERMINAL:
                self._settled_fields(key[0], key[1], row)
            elif row["status"] == NodeState.WAITING:
                self._wait(key, row)
            rows.append((key, dict(row)))
        self.dirty = set()
        run_fields, self.run_fields = self.run_fields, {}
        events = [event.to_dict() for event in batch]
        try:
            await self.publisher.write(Batch(self.run_id, self.owner, events, rows, run_fields))
        except LeaseLost as exc:
            self.lease_lost = True
            if isinstance(exc, RunUnstorable):
                self.fence = exc  # what later flushes say
                if self.execution is not None:
                    self.execution.cancel(str(exc))  # ended failed: stop its nodes at once
            raise
        except Exception as exc:
            # Not durable (the writer already retried): put everything back, in order, for
            # whoever continues the run from its rows, and end this drive.
            self.pending[:0] = batch
            for key, _ in rows:
                self.dirty.add(key)
            for name, value in run_fields.items():
                self.run_fields.setdefault(name, value)
            self.broken = exc
            raise
        self.durable_seq = batch[-1].seq
