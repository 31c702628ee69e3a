"""Writing a run's events and row changes: one `Batch` per run since its previous write, many
runs' batches in one statement (a group commit), fenced by each run's lease.

On PostgreSQL a group is one round trip (`WRITE_SQL`) on the writer's own asyncio connection
(`EventWriter`); SQLite goes through the ORM on the database threads.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import psycopg
from django.db import connection, transaction
from django.utils import timezone

from workflows.models import NodeRun, RunEvent, WorkflowRun
from workflows.runtime.db import RELAXED_COMMIT_CTE, conninfo, db, synchronous_commit

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
    "cache_key",
    "reused_from",
    "usage",
    "memory",
)


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
    fields = dict(batch.run_fields)
    started = fields.pop("started_at", None)
    run = WorkflowRun.objects.filter(pk=batch.run_id, lease_owner=batch.owner)
    if not run.update(last_event_at=timezone.now(), stalled_at=None, **fields):
        return False
    if started is not None:  # a resumed run writes its start again: the first one stays
        run.filter(started_at__isnull=True).update(started_at=started)
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
    """When the rows of this batch already started, if they did (ORM path)."""
    if not batch.rows:
        return {}
    found = NodeRun.objects.filter(
        run_id=batch.run_id,
        node_id__in={node for (node, _, _), _ in batch.rows},
        started_at__isnull=False,
    ).values_list("node_id", "iteration", "attempt", "started_at")
    wanted = {key for key, _ in batch.rows}
    return {(n, i, a): started for n, i, a, started in found if (n, i, a) in wanted}


def keep_first_start(fields: dict, first: datetime | None) -> dict:
    """An attempt continued after a park keeps its first start, and its duration spans both
    stretches; a row decided while the run was parked (no new start) keeps the start it had
    (as WRITE_SQL does on PostgreSQL)."""
    started = fields.get("started_at")
    if first is None or (started is not None and first >= started):
        return fields
    fields = {**fields, "started_at": first}
    if started is None:
        return fields
    finished = fields.get("finished_at")
    if finished is not None:
        fields["duration_ms"] = int((finished - first).total_seconds() * 1000)
    return fields


def event_payload(event: dict) -> dict:
    return {k: v for k, v in event.items() if k not in ("seq", "type", "run")}


# Event batches commit without waiting for the WAL flush (≈ 2 ms per commit on this class
# of disk, the whole per-node budget). A committed batch is in the server, so it survives any
# worker crash; only a crash of PostgreSQL itself within wal_writer_delay (200 ms) could lose
# the latest events. Set SWITCHYARD_SYNCHRONOUS_EVENT_COMMIT=1 to wait for every flush.


# One statement, hence one round trip and its own transaction: fence every run by its lease
# (updating its status fields), then insert the events and upsert the node rows of the runs
# that passed. `set_config(..., true)` relaxes this transaction's WAL wait (see above).
WRITE_SQL = f"""
WITH {RELAXED_COMMIT_CTE},
fence AS (
  UPDATE workflows_workflowrun AS w SET
    last_event_at = now(), stalled_at = NULL,
    status = COALESCE(r.status, w.status),
    -- a resumed run writes its start again: the first one stays
    started_at = COALESCE(w.started_at, r.started_at),
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
  SELECT b.run_id, (e.ev->>'seq')::integer, e.ev->>'type', e.ev - '{{seq,type,run}}'::text[],
    (e.ev->>'at')::timestamptz
  FROM jsonb_to_recordset(%(events)s::jsonb) AS b(run_id bigint, events jsonb)
  JOIN fence ON fence.id = b.run_id
  CROSS JOIN LATERAL jsonb_array_elements(b.events) AS e(ev)
),
nr AS (
  INSERT INTO workflows_noderun (run_id, node_id, iteration, attempt, status, started_at,
    finished_at, input, output, error, duration_ms, handled, reason, handles, wait, cache_key,
    reused_from, usage, memory)
  SELECT n.run_id, n.node_id, n.iteration, n.attempt, n.status, n.started_at, n.finished_at,
    n.input, n.output, n.error, n.duration_ms, COALESCE(n.handled, false),
    COALESCE(n.reason, ''), COALESCE(n.handles, '[]'::jsonb), n.wait,
    COALESCE(n.cache_key, ''), n.reused_from, n.usage, n.memory
  FROM jsonb_to_recordset(%(rows)s::jsonb) AS n(
    run_id bigint, node_id text, iteration text, attempt integer, status text,
    started_at timestamptz, finished_at timestamptz, input jsonb, output jsonb, error jsonb,
    duration_ms integer, handled boolean, reason text, handles jsonb, wait jsonb,
    cache_key text, reused_from bigint, usage jsonb, memory jsonb)
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
    handled = EXCLUDED.handled, reason = EXCLUDED.reason, handles = EXCLUDED.handles,
    cache_key = EXCLUDED.cache_key, reused_from = EXCLUDED.reused_from,
    usage = COALESCE(EXCLUDED.usage, workflows_noderun.usage),
    memory = COALESCE(EXCLUDED.memory, workflows_noderun.memory)
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
    """The parameters of WRITE_SQL for these batches (each a JSON array). Events go as they
    are, a list per run: the statement takes their payload apart."""
    runs, events, rows = [], [], []
    for batch in batches:
        fields = batch.run_fields
        run_id = batch.run_id
        runs.append(
            {
                "id": run_id,
                "owner": batch.owner,
                "status": fields.get("status"),
                "started_at": fields.get("started_at"),
                "finished_at": fields.get("finished_at"),
                "set_error": "error" in fields,
                "error": fields.get("error"),
            }
        )
        events.append({"run_id": run_id, "events": batch.events})
        for (node, iteration, attempt), fields in batch.rows:
            row = {"run_id": run_id, "node_id": node, "iteration": iteration, "attempt": attempt}
            row.update(fields)
            rows.append(row)
    return {
        "sync": synchronous_commit(),
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
                self.conn = await psycopg.AsyncConnection.connect(**conninfo(), autocommit=True)
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
