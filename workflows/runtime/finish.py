"""Ending a drive: the run row (status, outputs, saved state, lease released) and the events
that say so, in one transaction fenced by the lease."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

import psycopg
from django.db import connection, transaction
from django.utils import timezone

from engine.states import RunState
from workflows.models import RunEvent, WorkflowRun
from workflows.runtime import child_runs, unstorable
from workflows.runtime.db import RELAXED_COMMIT_CTE, db, dt, synchronous_commit
from workflows.runtime.leases import RunUnstorable
from workflows.runtime.persistence import as_json, event_payload

if TYPE_CHECKING:
    from workflows.runtime.publish import Publisher


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
        child_runs.run_finished(run_id, str(report.status), state)  # wake a parked parent
    return True


# finish_run of a run that ended and wakes no parent, in one round trip: the run row fenced by
# the lease, and the final events inserted only if the fence passed. It commits as the event
# batches do (db.synchronous_commit): a crash of PostgreSQL itself within ~200 ms could lose
# the end as it could lose the last events, and the run is then taken over from its rows.
FINISH_SQL = f"""
WITH {RELAXED_COMMIT_CTE},
fence AS (
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
SELECT id FROM fence, cfg
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
        "sync": synchronous_commit(),
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
