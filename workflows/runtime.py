"""The one module that knows both the engine and Django.

It turns a `WorkflowRun` into an engine `Execution`, and the engine's events into rows and
channel-layer messages. Persistence comes before publication: events are written in batches
(`RunEvent` rows, `NodeRun` upserts, the run row) inside one transaction, and only after that
transaction commits are they sent to the run's group. A node's completion is durable before its
successors start (the engine awaits `RunRecorder.node_settled`), so a worker that dies loses at
most the attempts that were in flight; `snapshot_from_rows` rebuilds the engine state from the
rows and another worker continues from there.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import time
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
from asgiref.sync import sync_to_async
from channels.layers import get_channel_layer
from django.conf import settings
from django.db import DatabaseError, InterfaceError, connection, transaction
from django.db.models import BooleanField, ExpressionWrapper, Max, Q
from django.utils import timezone

from engine import Graph, load_document
from engine.events import NODE_LOG, NODE_STATUS, RUN_STATUS, Event
from engine.execution import SNAPSHOT_VERSION, Execution
from engine.report import NodeRecord
from engine.states import NODE_TERMINAL, RUN_TERMINAL, NodeState, RunState
from workflows import conf, live
from workflows.models import NodeRun, RunEvent, WorkflowRun

logger = logging.getLogger(__name__)

NODE_RUN_FIELDS = (
    "status",
    "input",
    "started_at",
    "finished_at",
    "output",
    "error",
    "duration_ms",
    "handled",
    "reason",
    "handles",
    "wait",
)


# Event batches commit without waiting for the WAL flush (≈ 2 ms per commit on this class
# of disk, the whole per-node budget). A committed batch is in the server, so it survives any
# worker crash; only a crash of PostgreSQL itself within wal_writer_delay (200 ms) could lose
# the latest events. Set SWITCHYARD_SYNCHRONOUS_EVENT_COMMIT=1 to wait for every flush.


# Events not followed by a node's completion (a node starts running, logs, waits) are written
# after this short delay, so a completion that comes soon after shares their transaction.
LIVE_FLUSH_DELAY_S = 0.001
ENDS_DRIVE = frozenset({*RUN_TERMINAL, RunState.PAUSED})


class LeaseLost(Exception):
    """This worker no longer owns the run: another worker took it over."""


class RunUnstorable(LeaseLost):
    """The database refused the run's events for good: the run was ended failed
    (`unstorable_output`) and this worker drives it no further (what it emits is dropped)."""


_db_executor: ThreadPoolExecutor | None = None


def db_executor() -> ThreadPoolExecutor:
    """Threads for the worker's database work, apart from the threads serving requests."""
    global _db_executor
    if _db_executor is None:
        threads = conf.value("DB_THREADS")
        if connection.vendor == "sqlite":
            threads = 1  # SQLite has one writer at a time anyway
        _db_executor = ThreadPoolExecutor(
            max_workers=threads,
            thread_name_prefix="switchyard-db",
        )
    return _db_executor


async def db(func: Callable, *args, **kwargs) -> Any:
    """Run blocking ORM code off the event loop, on the worker's database threads."""
    return await sync_to_async(
        _with_connection(func), thread_sensitive=False, executor=db_executor()
    )(*args, **kwargs)


def _with_connection(func: Callable) -> Callable:
    """Keep the thread's connection between calls (a worker writes often), but never reuse
    one that broke: after a database error it is closed, and the next call reconnects."""

    def call(*args, **kwargs):
        try:
            return func(*args, **kwargs)
        except (DatabaseError, InterfaceError):
            connection.close()
            raise

    return call


# The latest instant a row holds: a wait of a run stored before documents had maxima (an
# approval's `timeout_s: 1e300`) wakes "never" instead of overflowing every drive of the run.
LATEST_TS = datetime(9999, 1, 1, tzinfo=UTC).timestamp()


def dt(ts: float | None) -> datetime | None:
    return None if ts is None else datetime.fromtimestamp(min(ts, LATEST_TS), UTC)


def ts(value: datetime | None) -> float | None:
    return None if value is None else value.timestamp()


def json_size(value: Any) -> int:
    return len(json.dumps(value, default=str, separators=(",", ":")))


# ---- building executions --------------------------------------------------------------


def execution_options(run: WorkflowRun) -> dict[str, Any]:
    from workflows import subworkflows  # it drives child runs through this module

    return {
        **subworkflows.execution_options(run),
        "http_allow_private": conf.value("HTTP_ALLOW_PRIVATE"),
        "max_output_preview": conf.value("EVENT_PREVIEW_BYTES"),
        "max_output_bytes": conf.value("MAX_OUTPUT_BYTES"),
        "dry_run": run.mode == "dry_run",
        "debug": run.mode == "debug",
        "durable_delay_threshold_s": conf.value("DURABLE_DELAY_S"),
        "node_slots": node_slots(),
        **expression_context(),
    }


_node_slots: dict[asyncio.AbstractEventLoop, asyncio.Semaphore] = {}


def node_slots() -> asyncio.Semaphore | None:
    """This process's node slots (SWITCHYARD_WORKER_MAX_NODES), shared by every run it drives
    on this event loop: the worker's global cap."""
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:
        return None
    slots = _node_slots.get(loop)
    if slots is None:
        for stale in [other for other in _node_slots if other.is_closed()]:
            del _node_slots[stale]
        slots = _node_slots[loop] = asyncio.Semaphore(conf.value("WORKER_MAX_NODES"))
    return slots


def expression_context() -> dict[str, Any]:
    """`env` and `secrets` for expressions: the allow-listed environment variables that are
    set (a workflow reads those its settings.env names) and the configured named secrets."""
    return {
        "env": {name: os.environ[name] for name in conf.value("ENV_ALLOW") if name in os.environ},
        "secrets": dict(conf.value("SECRETS")),
    }


def graph_for(run: WorkflowRun) -> Graph:
    return Graph.from_document(load_document(run.document))


def snapshot_from_rows(run: WorkflowRun) -> dict[str, Any] | None:
    """The engine state of a run that a worker left mid-way, rebuilt from its rows.

    Each node's latest attempt says where it got to; attempts still `running` were in flight
    and run again as a new attempt. None when the run never started."""
    last_seq = run.events.aggregate(last=Max("seq"))["last"]
    if last_seq is None:
        return None
    by_path: dict[str, dict[str, dict]] = {}  # iteration path -> node id -> node state
    first_started: dict[tuple[str, str], float] = {}
    for row in run.node_runs.order_by("iteration", "node_id", "attempt"):
        key = (row.iteration, row.node_id)
        if row.started_at is not None:
            first_started.setdefault(key, ts(row.started_at))
        state = by_path.setdefault(row.iteration, {})[row.node_id] = {
            "status": row.status,
            "attempts": row.attempt,
            "started": first_started.get(key),
            "finished": ts(row.finished_at),
            "output": row.output,
            "error": row.error,
            "handled": row.handled,
            "handles": list(row.handles or ()),
            "reason": row.reason or None,
            "wait": row.wait if row.status == NodeState.WAITING else None,
        }
        if attempt_goes_on(row):  # nothing of the failed attempt carries over to the next
            state.update(IN_FLIGHT_STATE)
    nodes = by_path.pop("", {})
    iterations = iterations_from_rows(by_path)
    return {
        "version": SNAPSHOT_VERSION,
        "run": run.pk,
        "status": RunState.RUNNING.value,
        "seq": last_seq,
        "started": ts(run.started_at),
        "finished": None,
        "error": None,
        "inputs": run.inputs,
        "outputs": {**(run.outputs or {}), **outputs_from_rows(run.document, nodes)},
        "nodes": nodes,
        "edges": {},
        "iterations": iterations,
    }


def outputs_from_rows(document: dict, nodes: dict[str, dict]) -> dict[str, Any]:
    """The run outputs of the output nodes that succeeded before the takeover: the run row
    gets its outputs only when a drive ends, and those nodes do not run again."""
    return {
        node["id"]: nodes[node["id"]]["output"]
        for node in document.get("nodes") or ()
        if node.get("type") == "output"
        and not node.get("parent")
        and nodes.get(node["id"], {}).get("status") == NodeState.SUCCEEDED
    }


WORKER_LOST = "worker_lost"
RETRIED = ("retried", "retried by the user")  # the reasons of a failed attempt another follows


IN_FLIGHT_STATE = {
    "status": NodeState.RUNNING.value,
    "finished": None,
    "output": None,
    "error": None,
    "handled": False,
    "handles": [],
    "reason": None,
}


def attempt_goes_on(row: NodeRun) -> bool:
    """A failed attempt that is not the node's last word: lost with its worker (marked by a
    takeover that may itself have died before the next attempt was recorded) or failed with
    a retry to follow. Read as in flight, so the next attempt runs — however often the
    takeover was interrupted."""
    if row.status != NodeState.FAILED:
        return False
    return (row.error or {}).get("type") == WORKER_LOST or row.reason in RETRIED


def iterations_from_rows(by_path: dict[str, dict[str, dict]]) -> dict[str, dict]:
    """Nest body rows by iteration path (`M[2]/L[1]`) into the engine's per-container child
    snapshots, so a takeover finishes each iteration where it was and re-runs none that ended."""
    root: dict[str, dict] = {}
    for path, nodes in by_path.items():
        level = root
        child: dict | None = None
        for step in path.split("/"):
            container, _, index = step.rpartition("[")
            child = level.setdefault(container, {}).setdefault(
                index.rstrip("]"),
                {"version": SNAPSHOT_VERSION, "status": RunState.RUNNING.value, "nodes": {}},
            )
            level = child.setdefault("iterations", {})
        if child is not None:
            child["nodes"].update(nodes)
    return root


# ---- the recorder: engine sink + store --------------------------------------------------


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
            row["error"] = event.error
            row["reason"] = "retried"
        elif status in NODE_TERMINAL or status == NodeState.WAITING:
            row["finished_at"] = dt(event.ts) if attempt else None
            row["error"] = event.error
        if event.duration_ms is not None:
            row["duration_ms"] = event.duration_ms
        self.dirty.add(key)

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
        row["error"] = record.error

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


@dataclass
class Batch:
    """One run's events and row changes since its previous write."""

    run_id: int
    owner: str
    events: list[dict]
    rows: list[tuple[tuple[str, str, int], dict]]
    run_fields: dict[str, Any]


def write_batches(batches: list[Batch]) -> set[int]:
    """Persist the batches of many runs at once; returns the runs whose lease still held
    (the others' batches are not written)."""
    if connection.vendor == "postgresql":
        return write_batches_postgresql(batches)
    fenced = set()
    for batch in batches:
        with transaction.atomic():
            if write_batch_orm(batch):
                fenced.add(batch.run_id)
    return fenced


def write_batch_orm(batch: Batch) -> bool:
    updated = WorkflowRun.objects.filter(pk=batch.run_id, lease_owner=batch.owner).update(
        last_event_at=timezone.now(), stalled_at=None, **batch.run_fields
    )
    if not updated:
        return False
    RunEvent.objects.bulk_create(
        RunEvent(
            run_id=batch.run_id,
            seq=event["seq"],
            type=event["type"],
            payload=event_payload(event),
            at=datetime.fromisoformat(event["at"]),
        )
        for event in batch.events
    )
    if batch.rows:
        first = first_starts(batch)
        NodeRun.objects.bulk_create(
            [
                NodeRun(
                    run_id=batch.run_id,
                    node_id=node,
                    iteration=it,
                    attempt=attempt,
                    **keep_first_start(fields, first.get((node, it, attempt))),
                )
                for (node, it, attempt), fields in batch.rows
            ],
            update_conflicts=True,
            unique_fields=["run", "node_id", "iteration", "attempt"],
            update_fields=list(NODE_RUN_FIELDS),
        )
    return True


def first_starts(batch: Batch) -> dict[tuple[str, str, int], datetime]:
    """When the rows of this batch that say they started first started (ORM path)."""
    starting = [key for key, fields in batch.rows if fields.get("started_at") is not None]
    if not starting:
        return {}
    found = NodeRun.objects.filter(
        run_id=batch.run_id,
        node_id__in={node for node, _, _ in starting},
        started_at__isnull=False,
    ).values_list("node_id", "iteration", "attempt", "started_at")
    wanted = set(starting)
    return {(n, i, a): started for n, i, a, started in found if (n, i, a) in wanted}


def keep_first_start(fields: dict, first: datetime | None) -> dict:
    """An attempt continued after a park keeps its first start, and its duration spans both
    stretches (as WRITE_SQL does on PostgreSQL)."""
    started = fields.get("started_at")
    if first is None or started is None or first >= started:
        return fields
    fields = {**fields, "started_at": first}
    finished = fields.get("finished_at")
    if finished is not None:
        fields["duration_ms"] = int((finished - first).total_seconds() * 1000)
    return fields


def event_payload(event: dict) -> dict:
    return {k: v for k, v in event.items() if k not in ("seq", "type", "run")}


# One statement, hence one round trip and its own transaction: fence every run by its lease
# (updating its status fields), then insert the events and upsert the node rows of the runs
# that passed. `set_config(..., true)` relaxes this transaction's WAL wait (see above).
WRITE_SQL = """
WITH cfg AS (SELECT set_config('synchronous_commit', %(sync)s, true) AS v),
fence AS (
  UPDATE workflows_workflowrun AS w SET
    last_event_at = now(), stalled_at = NULL,
    status = COALESCE(r.status, w.status),
    started_at = COALESCE(r.started_at, w.started_at),
    finished_at = COALESCE(r.finished_at, w.finished_at),
    error = CASE WHEN r.set_error THEN r.error ELSE w.error END
  FROM jsonb_to_recordset(%(runs)s::jsonb) AS r(
    id bigint, owner text, status text, started_at timestamptz, finished_at timestamptz,
    set_error boolean, error jsonb)
  WHERE w.id = r.id AND w.lease_owner = r.owner
  RETURNING w.id
),
ev AS (
  INSERT INTO workflows_runevent (run_id, seq, type, payload, at)
  SELECT e.run_id, e.seq, e.type, e.payload, e.at
  FROM jsonb_to_recordset(%(events)s::jsonb) AS e(
    run_id bigint, seq integer, type text, payload jsonb, at timestamptz)
  JOIN fence ON fence.id = e.run_id
),
nr AS (
  INSERT INTO workflows_noderun (run_id, node_id, iteration, attempt, status, started_at,
    finished_at, input, output, error, duration_ms, handled, reason, handles, wait)
  SELECT n.run_id, n.node_id, n.iteration, n.attempt, n.status, n.started_at, n.finished_at,
    n.input, n.output, n.error, n.duration_ms, COALESCE(n.handled, false),
    COALESCE(n.reason, ''), COALESCE(n.handles, '[]'::jsonb), n.wait
  FROM jsonb_to_recordset(%(rows)s::jsonb) AS n(
    run_id bigint, node_id text, iteration text, attempt integer, status text,
    started_at timestamptz, finished_at timestamptz, input jsonb, output jsonb, error jsonb,
    duration_ms integer, handled boolean, reason text, handles jsonb, wait jsonb)
  JOIN fence ON fence.id = n.run_id
  ON CONFLICT (run_id, node_id, iteration, attempt) DO UPDATE SET
    status = EXCLUDED.status, input = EXCLUDED.input, wait = EXCLUDED.wait,
    -- an attempt continued after a park keeps its first start, and its duration spans both
    started_at = COALESCE(workflows_noderun.started_at, EXCLUDED.started_at),
    duration_ms = CASE
      WHEN workflows_noderun.started_at < EXCLUDED.started_at AND EXCLUDED.finished_at IS NOT NULL
      THEN (extract(epoch FROM EXCLUDED.finished_at - workflows_noderun.started_at) * 1000)::int
      ELSE EXCLUDED.duration_ms END,
    finished_at = EXCLUDED.finished_at, output = EXCLUDED.output, error = EXCLUDED.error,
    handled = EXCLUDED.handled, reason = EXCLUDED.reason, handles = EXCLUDED.handles
)
SELECT fence.id FROM fence, cfg
"""


def as_json(value: Any) -> str:
    return json.dumps(value, default=json_default, separators=(",", ":"))


def json_default(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)


def batch_params(batches: list[Batch]) -> dict[str, str]:
    """The parameters of WRITE_SQL for these batches (each a JSON array)."""
    runs, events, rows = [], [], []
    for batch in batches:
        fields = batch.run_fields
        runs.append(
            {
                "id": batch.run_id,
                "owner": batch.owner,
                "status": fields.get("status"),
                "started_at": fields.get("started_at"),
                "finished_at": fields.get("finished_at"),
                "set_error": "error" in fields,
                "error": fields.get("error"),
            }
        )
        for event in batch.events:
            events.append(
                {
                    "run_id": batch.run_id,
                    "seq": event["seq"],
                    "type": event["type"],
                    "payload": event_payload(event),
                    "at": event["at"],
                }
            )
        for (node, iteration, attempt), fields in batch.rows:
            rows.append(
                {
                    "run_id": batch.run_id,
                    "node_id": node,
                    "iteration": iteration,
                    "attempt": attempt,
                    **fields,
                }
            )
    return {
        "sync": "on" if conf.value("SYNCHRONOUS_EVENT_COMMIT") else "off",
        "runs": as_json(runs),
        "events": as_json(events),
        "rows": as_json(rows),
    }


def write_batches_postgresql(batches: list[Batch]) -> set[int]:
    connection.ensure_connection()
    # Autocommit: the statement is its own transaction. A server-side prepared statement
    # (planned once per connection) instead of Django's client-side binding.
    with psycopg.Cursor(connection.connection) as cursor:
        cursor.execute(WRITE_SQL, batch_params(batches), prepare=True)
        return {row[0] for row in cursor.fetchall()}


class EventWriter:
    """The writer's own asyncio PostgreSQL connection (autocommit): a group write is one
    awaited round trip on the event loop, with no thread hop and no GIL hand-over between a
    database thread and the loop. Reconnects after a failure; SQLite goes through the ORM in
    the database thread instead."""

    def __init__(self) -> None:
        self.conn: psycopg.AsyncConnection | None = None

    async def write(self, batches: list[Batch]) -> set[int]:
        if connection.vendor != "postgresql":
            return await db(write_batches, batches)
        params = batch_params(batches)
        try:
            if self.conn is None or self.conn.closed:
                self.conn = await psycopg.AsyncConnection.connect(**_conninfo(), autocommit=True)
            async with self.conn.cursor() as cursor:
                await cursor.execute(WRITE_SQL, params, prepare=True)
                return {row[0] for row in await cursor.fetchall()}
        except psycopg.Error:
            await self.close()  # a broken connection: the next write opens a new one
            raise

    async def close(self) -> None:
        if self.conn is not None:
            await self.conn.close()
            self.conn = None


def _conninfo() -> dict[str, Any]:
    db = connection.settings_dict
    info = {
        "dbname": db["NAME"],
        "user": db.get("USER") or None,
        "password": db.get("PASSWORD") or None,
        "host": db.get("HOST") or None,
        "port": db.get("PORT") or None,
    }
    options = db.get("OPTIONS", {})
    for key in ("sslmode", "sslrootcert", "sslcert", "sslkey", "application_name"):
        if key in options:
            info[key] = options[key]
    return {key: value for key, value in info.items() if value is not None}


# ---- publishing ----------------------------------------------------------------------


class LiveSender:
    """Sends each run's events to its group `run-<id>` on the live layer.

    The Redis pub/sub layer sends one PUBLISH at a time and waits for each reply; with many
    runs in flight that queues up. On that layer (one Redis host) all runs' messages of a round
    go out in one pipelined round trip, on the channel names and in the encoding the layer's
    consumers read. Any other layer gets a `group_send` per run, concurrently."""

    def __init__(self, layer) -> None:
        self.layer = layer
        self.redis = None
        config = settings.CHANNEL_LAYERS.get(live.LAYER, {}).get("CONFIG", {})
        hosts = config.get("hosts") or []
        if type(layer).__name__ == "RedisPubSubChannelLayer" and len(hosts) == 1:
            from channels_redis.utils import create_pool
            from redis import asyncio as aioredis

            self.redis = aioredis.Redis(connection_pool=create_pool(hosts[0]))
            self.prefix = config.get("prefix", "asgi")

    async def send(self, events_by_run: dict[int, list[dict]]) -> None:
        messages = {
            live.run_group(run_id): {"type": "run.events", "events": events}
            for run_id, events in events_by_run.items()
        }
        if self.redis is None:
            await asyncio.gather(
                *(self.layer.group_send(group, message) for group, message in messages.items())
            )
            return
        async with self.redis.pipeline(transaction=False) as pipe:
            for group, message in messages.items():
                pipe.publish(f"{self.prefix}__group__{group}", self.layer.serialize(message))
            await pipe.execute()

    async def close(self) -> None:
        if self.redis is not None:
            await self.redis.aclose()
            self.redis = None


WRITE_ATTEMPTS = 8  # with the pauses below, about 5 s of a database that does not answer
WRITE_BACKOFF_S = 0.05
WRITE_BACKOFF_MAX_S = 2.0


class Publisher:
    """Sends committed events to each run's group, off the engine's path.

    A channel-layer outage (Redis restarting) loses live messages, never events: they are in
    PostgreSQL, and clients re-sync by seq."""

    def __init__(self, loop: asyncio.AbstractEventLoop | None = None) -> None:
        self.loop = loop or asyncio.get_running_loop()
        self.queue: asyncio.Queue = asyncio.Queue()
        self.sender = LiveSender(get_channel_layer(live.LAYER))
        self.task = self.loop.create_task(self._send_forever())
        self.waiting: list[tuple[Batch, asyncio.Future]] = []
        self.has_work = asyncio.Event()
        self.events = EventWriter()
        self.writer = self.loop.create_task(self._write_forever())

    async def write(self, batch: Batch) -> None:
        """Persist a run's batch, sharing the transaction with whatever other runs of this
        worker have pending (group commit), then publish it. Raises LeaseLost if fenced."""
        done = self.loop.create_future()
        self.waiting.append((batch, done))
        self.has_work.set()
        await done

    async def _write_forever(self) -> None:
        try:
            await self._write_loop()
        finally:
            await self.events.close()

    async def _write_loop(self) -> None:
        while True:
            await self.has_work.wait()
            self.has_work.clear()
            items, self.waiting = self.waiting, []
            if items:
                await self._write_group(items)

    async def _write_group(self, items: list[tuple[Batch, asyncio.Future]]) -> None:
        """One group commit. A batch the database refuses for good (a value it cannot store)
        takes no other run down: the group is written again one run at a time, and the run
        whose batch is refused alone is ended failed."""
        from workflows import unstorable

        try:
            fenced = await self._write_retrying([batch for batch, _ in items])
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            if unstorable.transient(exc):
                for _, done in items:
                    if not done.done():
                        done.set_exception(exc)
            elif len(items) > 1:
                for item in items:
                    await self._write_group([item])
            else:
                await self._refused(*items[0], exc)
            return
        for batch, done in items:  # committed: publish, then let the run go on
            if batch.run_id in fenced:
                self.publish(batch.run_id, batch.events)
                if not done.done():
                    done.set_result(None)
            elif not done.done():
                done.set_exception(LeaseLost(f"run {batch.run_id} is no longer owned"))

    async def _write_retrying(self, batches: list[Batch]) -> set[int]:
        """The group write, tried again after a passing database error (connection lost,
        server restarting) with a growing pause, a bounded number of times; one log line per
        failure."""
        from workflows import unstorable

        attempt = 1
        while True:
            try:
                return await self.events.write(batches)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                if attempt == WRITE_ATTEMPTS or not unstorable.transient(exc):
                    raise
                pause = min(WRITE_BACKOFF_S * 2 ** (attempt - 1), WRITE_BACKOFF_MAX_S)
                logger.warning(
                    "writing the events of %d run(s) failed (%s); trying again in %.2f s",
                    len(batches),
                    unstorable.first_line(exc),
                    pause,
                )
                await asyncio.sleep(pause)
                attempt += 1

    async def _refused(self, batch: Batch, done: asyncio.Future, exc: Exception) -> None:
        """The database refused this run's batch for good: end the run failed (its events
        made storable), publish that, and stop its drive."""
        from workflows import unstorable

        logger.error(
            "the database refused the events of run %s: %s; ending the run failed",
            batch.run_id,
            unstorable.first_line(exc),
        )
        try:
            written = await db(unstorable.end_unstorable, batch, unstorable.first_line(exc))
        except Exception as again:
            logger.error("run %s could not be ended either: %s", batch.run_id, again)
            if not done.done():
                done.set_exception(again)
            return
        if written is None:  # another worker holds the run now: it is theirs to end
            ended = LeaseLost(f"run {batch.run_id} is no longer owned")
        else:
            self.publish(batch.run_id, written)
            ended = RunUnstorable(f"run {batch.run_id} ended: its events cannot be stored")
        if not done.done():
            done.set_exception(ended)

    def publish(self, run_id: int, events: list[dict]) -> None:
        """Send events that are already committed."""
        self.queue.put_nowait((run_id, events))

    async def _send_forever(self) -> None:
        try:
            await self._send_loop()
        finally:
            await self.sender.close()

    async def _send_loop(self) -> None:
        """Hand committed events to the channel layer. Whatever queued up meanwhile is merged
        into one message per run (in seq order), and all of them go out together."""
        while True:
            items = [await self.queue.get()]
            while not self.queue.empty():
                items.append(self.queue.get_nowait())
            by_run: dict[int, list[dict]] = {}
            for run_id, events in items:
                by_run.setdefault(run_id, []).extend(events)
            try:
                await self.sender.send(by_run)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                logger.warning("live events of runs %s not sent: %s", sorted(by_run), exc)
            finally:
                for _ in items:
                    self.queue.task_done()

    async def drain(self) -> None:
        """Wait (at most 5 s) until everything queued was handed to the channel layer."""
        try:
            async with asyncio.timeout(5):
                await self.queue.join()
        except TimeoutError:
            logger.warning("live events still unsent after 5 s; clients re-sync by seq")

    def close(self) -> None:
        self.task.cancel()
        self.writer.cancel()


# ---- driving one run --------------------------------------------------------------------


def load_for_execution(run_id: int) -> tuple[WorkflowRun, dict | None]:
    """The run and the state to continue from (None: start from the beginning)."""
    run = WorkflowRun.objects.get(pk=run_id)
    if run.status == RunState.RUNNING:  # taken over from a worker that died
        snapshot = snapshot_from_rows(run)
        mark_interrupted(run)
        return run, snapshot
    if run.source_run_id and run.from_node and run.state is None:  # partial re-run
        from workflows.rerun import rerun_snapshot

        return run, rerun_snapshot(run)
    return run, run.state  # queued: fresh, or resumed after a pause (state saved at parking)


def mark_interrupted(run: WorkflowRun) -> None:
    """The attempts a dead worker was running failed; the takeover runs them again."""
    run.node_runs.filter(status__in=(NodeState.RUNNING, NodeState.QUEUED)).update(
        status=NodeState.FAILED,
        finished_at=timezone.now(),
        error={"message": "the worker running this attempt was lost", "type": WORKER_LOST},
        reason="worker lost; attempted again",
    )


def finish_run(
    run_id: int,
    owner: str,
    report,
    state: dict | None,
    events: list[dict] = (),
    *,
    top_level: bool = False,
) -> bool:
    """End a drive: the run row (status, outputs, state, lease released) and the run.status
    event(s) that say so, in one transaction fenced by the lease. `top_level`: the run has no
    parent run to wake (then a run that ended takes one statement on PostgreSQL)."""
    fields = {
        "last_event_at": timezone.now(),
        "stalled_at": None,
        "status": str(report.status),
        "outputs": report.outputs,
        "error": report.error,
        "lease_owner": "",
        "lease_expires_at": None,
        "state": state,
        "wake_at": dt((state or {}).get("wake_at")),
    }
    if report.status in (RunState.SUCCEEDED, RunState.FAILED, RunState.CANCELLED):
        fields["finished_at"] = dt(report.finished) or timezone.now()
    if top_level and "finished_at" in fields and connection.vendor == "postgresql":
        return finish_ended_run_postgresql(run_id, owner, fields, events)
    from workflows import subworkflows

    with transaction.atomic():
        if not WorkflowRun.objects.filter(pk=run_id, lease_owner=owner).update(**fields):
            return False
        RunEvent.objects.bulk_create(
            RunEvent(
                run_id=run_id,
                seq=event["seq"],
                type=event["type"],
                payload=event_payload(event),
                at=datetime.fromisoformat(event["at"]),
            )
            for event in events
        )
        subworkflows.run_finished(run_id, str(report.status), state)  # wake a parked parent
    return True


# finish_run of a run that ended and wakes no parent, in one round trip: the run row fenced by
# the lease, and the final events inserted only if the fence passed.
FINISH_SQL = """
WITH fence AS (
  UPDATE workflows_workflowrun SET
    last_event_at = %(last_event_at)s, stalled_at = NULL, status = %(status)s,
    outputs = %(outputs)s::jsonb, error = %(error)s::jsonb, lease_owner = '',
    lease_expires_at = NULL, state = %(state)s::jsonb, wake_at = %(wake_at)s,
    finished_at = %(finished_at)s
  WHERE id = %(run)s AND lease_owner = %(owner)s
  RETURNING id
),
ev AS (
  INSERT INTO workflows_runevent (run_id, seq, type, payload, at)
  SELECT fence.id, e.seq, e.type, e.payload, e.at
  FROM jsonb_to_recordset(%(events)s::jsonb) AS e(
    seq integer, type text, payload jsonb, at timestamptz), fence
)
SELECT id FROM fence
"""


def finish_ended_run_postgresql(run_id: int, owner: str, fields: dict, events: list[dict]) -> bool:
    def jsonb(value: Any) -> str | None:
        return None if value is None else as_json(value)  # SQL NULL, as the ORM writes it

    params = {
        **fields,
        "outputs": jsonb(fields["outputs"]),
        "error": jsonb(fields["error"]),
        "state": jsonb(fields["state"]),
        "run": run_id,
        "owner": owner,
        "events": as_json(
            [
                {"seq": e["seq"], "type": e["type"], "payload": event_payload(e), "at": e["at"]}
                for e in events
            ]
        ),
    }
    connection.ensure_connection()
    with psycopg.Cursor(connection.connection) as cursor:
        cursor.execute(FINISH_SQL, params, prepare=True)
        return cursor.fetchone() is not None


def mark_stalled(run_id: int, owner: str) -> None:
    WorkflowRun.objects.filter(pk=run_id, lease_owner=owner).update(stalled_at=timezone.now())


def apply_requests(run: WorkflowRun, execution: Execution) -> None:
    """What users asked for while no worker held the run: resume a waiting node, cancel. A
    request the saved state no longer allows (checked when it was made, so only a state
    changed by hand gets here) is dropped with a warning event instead of breaking the run."""
    resume = (run.state or {}).get("resume") if run.status != RunState.RUNNING else None
    approve = (run.state or {}).get("approve") if run.status != RunState.RUNNING else None
    for decision in [approve] if isinstance(approve, dict) else approve or ():
        iteration = decision.get("iteration") or ""
        try:
            execution.approve_node(
                decision["node"],
                decision["approved"],
                decision.get("data"),
                decision.get("by"),
                iteration=iteration,
            )
        except (KeyError, ValueError) as exc:
            where = f"{decision['node']} in {iteration}" if iteration else decision["node"]
            execution.warn(f"the decision on {where} was not applied: {exc}")
    if resume:
        iteration = resume.get("iteration") or ""
        try:
            if resume["action"] == "skip":
                execution.skip_node(resume["node"], iteration=iteration)
            else:
                execution.retry_node(resume["node"], resume.get("config"), iteration=iteration)
        except (KeyError, ValueError) as exc:
            execution.warn(f"the {resume['action']} of {resume['node']} was not applied: {exc}")
    if run.cancel_requested_at is not None:
        execution.cancel("by user")


def retried_node(run: WorkflowRun) -> tuple[str, str] | None:
    """The (node, iteration) a resume runs again: past its breakpoint, or after the failure
    it parked on (on_failure=pause)."""
    resume = (run.state or {}).get("resume") if run.status != RunState.RUNNING else None
    if not resume or resume.get("action") == "skip":
        return None
    return resume["node"], resume.get("iteration") or ""


def settle_retried_rows(run_id: int, node_id: str, iteration: str) -> None:
    """The rows of a node run again no longer wait: a breakpoint's row (attempt 0: it had not
    started) gives way to the attempt that now runs; a parked failure's attempt is what it
    was, failed, retried by the user."""
    rows = NodeRun.objects.filter(
        run_id=run_id, node_id=node_id, iteration=iteration, status=NodeState.WAITING
    )
    rows.filter(attempt=0).delete()
    rows.filter(attempt__gte=1).update(
        status=NodeState.FAILED, reason="retried by the user", wait=None
    )


# ---- leases ------------------------------------------------------------------------------


def renew_lease(run_id: int, owner: str, lease_s: float) -> tuple[bool, bool]:
    """Extend the lease; returns (still ours, cancel requested)."""
    updated = WorkflowRun.objects.filter(pk=run_id, lease_owner=owner).update(
        lease_expires_at=timezone.now() + timedelta(seconds=lease_s)
    )
    if not updated:
        return False, False
    cancel = WorkflowRun.objects.filter(pk=run_id, cancel_requested_at__isnull=False).exists()
    return True, cancel


async def keep_lease(
    run_id: int,
    owner: str,
    lease_s: float,
    execution: Execution,
    recorder: RunRecorder,
    on_renewed: Callable[[], Awaitable[None]] | None = None,
) -> None:
    """Renew the lease every third of its length while the run executes. A lost lease stops
    the run here (another process owns it now); a cancel request cancels it (read far more
    often than the lease is renewed, by the event loop's `CancelWatch`)."""
    watch = cancel_watch()
    watch.add(run_id, execution)
    try:
        while True:
            await asyncio.sleep(max(0.05, lease_s / 3))
            try:
                ours, cancel = await db(renew_lease, run_id, owner, lease_s)
            except Exception as exc:
                logger.warning("%s cannot renew the lease of run %s: %s", owner, run_id, exc)
                continue
            if not ours:
                recorder.lease_lost = True
                execution.cancel("this process lost the run's lease")
                return
            if cancel:
                execution.cancel("by user")
            if on_renewed is not None:
                await on_renewed()
    finally:
        watch.discard(run_id, execution)


def cancel_requested(run_ids: list[int]) -> dict[int, str]:
    """The runs among these whose cancel was requested, with the reason their events give: a
    child whose parent ended or is being cancelled stops because of it, any other by a user."""
    rows = WorkflowRun.objects.filter(pk__in=run_ids, cancel_requested_at__isnull=False)
    return {
        pk: "the parent run stopped" if parent_stopped else "by user"
        for pk, parent_stopped in rows.annotate(
            parent_stopped=ExpressionWrapper(
                Q(parent_run__cancel_requested_at__isnull=False)
                | Q(parent_run__status__in=sorted(RUN_TERMINAL)),
                output_field=BooleanField(),
            )
        ).values_list("pk", "parent_stopped")
    }


class CancelWatch:
    """Reads the cancel requests of every run this event loop drives, in one query every
    `SWITCHYARD_CANCEL_POLL_S`: a cancel takes effect within a second even when its control
    message is lost (Redis flushed, message dropped), whatever the lease's length. The message
    only makes it sooner."""

    def __init__(self, poll_s: float) -> None:
        self.poll_s = poll_s
        self.runs: dict[int, Execution] = {}
        self.task: asyncio.Task | None = None
        self.failing = False

    def add(self, run_id: int, execution: Execution) -> None:
        self.runs[run_id] = execution
        if self.task is None or self.task.done():
            self.task = asyncio.get_running_loop().create_task(self._poll())

    def discard(self, run_id: int, execution: Execution) -> None:
        if self.runs.get(run_id) is execution:
            del self.runs[run_id]
        if not self.runs and self.task is not None:
            self.task.cancel()
            self.task = None

    async def _poll(self) -> None:
        while self.runs:
            await asyncio.sleep(self.poll_s)
            try:
                requested = await db(cancel_requested, list(self.runs))
            except Exception as exc:
                if not self.failing:  # once per outage, not once per poll
                    logger.warning("cannot read cancel requests: %s", exc)
                self.failing = True
                continue
            self.failing = False
            for run_id, reason in requested.items():
                execution = self.runs.pop(run_id, None)  # cancelled once
                if execution is not None:
                    execution.cancel(reason)


_cancel_watches: dict[asyncio.AbstractEventLoop, CancelWatch] = {}


def cancel_watch() -> CancelWatch:
    """This event loop's cancel watch (a worker's, or a CLI's)."""
    loop = asyncio.get_running_loop()
    watch = _cancel_watches.get(loop)
    if watch is None:
        for stale in [other for other in _cancel_watches if other.is_closed()]:
            del _cancel_watches[stale]
        poll_s = conf.value("CANCEL_POLL_S")
        watch = _cancel_watches[loop] = CancelWatch(poll_s)
    return watch


class StallWatch:
    """Stall detection of one run, called at each lease renewal: running nodes and no event
    for `stall_s` give one warning event (`stalled: no event for 61 s while fetch running`)
    and the run's `stalled_at` mark, which the next write clears."""

    def __init__(
        self, run_id: int, owner: str, execution: Execution, recorder: RunRecorder, stall_s: float
    ) -> None:
        self.run_id, self.owner, self.stall_s = run_id, owner, stall_s
        self.execution, self.recorder = execution, recorder
        self.stalled = False

    async def check(self) -> None:
        from workflows.subworkflows import following_children

        execution = self.execution
        quiet = time.time() - self.recorder.last_event_ts
        # A node following a child run is quiet here because the child does the work (its
        # events are the child's, and the child is watched itself): not a stall of this run.
        following = following_children(self.run_id)
        running = [
            execution.graph.ids[i]
            for i, record in enumerate(execution.records)
            if record.status == NodeState.RUNNING and execution.graph.ids[i] not in following
        ]
        if quiet < self.stall_s or not running:
            self.stalled = False
            return
        if not self.stalled:
            message = f"stalled: no event for {quiet:.0f} s while {', '.join(running)} running"
            execution.warn(message)
            await self.recorder.flush()  # the warning first: every write clears the mark
            await db(mark_stalled, self.run_id, self.owner)
        self.stalled = True


def stall_seconds() -> float:
    return conf.value("STALL_S")


async def execute_leased(
    run_id: int,
    owner: str,
    lease_s: float,
    *,
    act: Callable[[Execution], None] | None = None,
    observer: Callable[[Event], None] | None = None,
    stall_s: float | None = None,
):
    """Drive a run whose lease `owner` holds, with a publisher of its own, renewing the lease
    meanwhile (the CLI and sub-workflow children; a worker shares one publisher); with
    `stall_s`, stall-checked at each renewal like a worker's runs."""
    publisher = Publisher()
    renewing: list[asyncio.Task] = []

    def started(execution: Execution, recorder: RunRecorder) -> None:
        if observer is not None:
            recorder.observers.append(observer)
        check = None
        if stall_s is not None:
            check = StallWatch(run_id, owner, execution, recorder, stall_s).check
        renewing.append(
            asyncio.create_task(
                keep_lease(run_id, owner, lease_s, execution, recorder, on_renewed=check)
            )
        )

    try:
        report = await drive(run_id, owner, publisher, act=act, started=started)
        await publisher.drain()
        return report
    finally:
        for task in renewing:
            task.cancel()
        publisher.close()


async def drive(
    run_id: int,
    owner: str,
    publisher: Publisher,
    *,
    act: Callable[[Execution], None] | None = None,
    started: Callable[[Execution, RunRecorder], None] | None = None,
):
    """Execute a run this owner holds the lease of, to its end or its next park."""
    run, snapshot = await db(load_for_execution, run_id)
    recorder = RunRecorder(run_id, owner, publisher)
    execution = Execution(
        graph_for(run),
        inputs=run.inputs,
        run_id=run_id,
        sink=recorder.sink,
        store=recorder,
        snapshot=snapshot,
        options=execution_options(run),
    )
    recorder.execution = execution
    apply_requests(run, execution)
    if retried := retried_node(run):
        await db(settle_retried_rows, run_id, *retried)
    from workflows import subworkflows

    await subworkflows.before_drive(run, execution)  # nodes parked on a child that ended
    if act is not None:
        act(execution)
    if started is not None:
        started(execution, recorder)
    report = await execution.run()
    await recorder.flush()
    if recorder.lease_lost:
        raise recorder.fence or LeaseLost(f"run {run_id} is no longer owned by {owner}")
    await subworkflows.after_drive(run_id, execution, str(report.status))
    state = execution.snapshot() if report.status == RunState.PAUSED else None
    final = [event.to_dict() for event in recorder.final]
    top_level = run.parent_run_id is None
    if await finish_or_end(publisher, run_id, owner, report, state, final, top_level) and final:
        publisher.publish(run_id, final)
    return report


async def finish_or_end(
    publisher: Publisher,
    run_id: int,
    owner: str,
    report,
    state: dict | None,
    final: list,
    top_level: bool = False,
) -> bool:
    """`finish_run`; when the database refuses the run's outputs or saved state for good, the
    run ends failed (`unstorable_output`) instead of breaking every drive of it."""
    from workflows import unstorable

    try:
        return await db(finish_run, run_id, owner, report, state, final, top_level=top_level)
    except Exception as exc:
        if unstorable.transient(exc):
            raise
        detail = unstorable.first_line(exc)
        written = await db(
            unstorable.end_unfinishable, run_id, owner, report.outputs, state, detail
        )
        if written:
            publisher.publish(run_id, written)
        raise RunUnstorable(f"run {run_id} ended: its outputs cannot be stored") from exc
