"""What a worker does when PostgreSQL refuses to store a run's events, or a run's drive breaks.

A node output PostgreSQL cannot hold (NaN or ±Infinity in jsonb, a NUL character or a lone
surrogate in text or jsonb) must not poison the group commit it shares with other runs, nor be
retried forever: the run that produced it ends `failed` with an `unstorable_output` error naming
the node, and the values are replaced by storable ones in what is written. A run whose drive
keeps breaking for another reason ends `failed` (`internal`) the same way, so it never stays
`running` with nobody driving it. The engine may catch such outputs first (the node fails with
the same error type); this is the write path's own guard.
"""

from __future__ import annotations

import math
from dataclasses import replace
from typing import Any

import psycopg
from django.db import DatabaseError, transaction
from django.db import InterfaceError as DjangoInterfaceError
from django.db import OperationalError as DjangoOperationalError
from django.db.models import Max
from django.utils import timezone

from engine.events import NODE_OUTPUT, NODE_STATUS, RUN_STATUS, iso_ms
from engine.states import NodeState, RunState
from engine.storable import BAD_CHARACTERS, storable_text
from workflows.models import NodeRun, RunEvent, WorkflowRun
from workflows.runtime import child_runs
from workflows.runtime.persistence import Batch, event_payload, write_batch_orm

UNSTORABLE = "unstorable_output"
# SQLSTATE classes of errors that pass: connection (08), transaction rollback (40: serialization
# failure, deadlock), insufficient resources (53), operator intervention (57: shutdown, query
# cancelled), system error (58). Every other error refuses the batch itself.
TRANSIENT_SQLSTATE = frozenset({"08", "40", "53", "57", "58"})
MAX_DEPTH = 200  # deeper than the JSON encoders go (their recursion limit)
IN_FLIGHT_ROWS = (NodeState.RUNNING, NodeState.QUEUED, NodeState.RETRYING, NodeState.WAITING)


def transient(exc: BaseException) -> bool:
    """A database error that may pass on retry (the connection, the server), as opposed to a
    batch the database refuses whatever happens (a value it cannot store, a constraint)."""
    for error in (exc, exc.__cause__):
        if isinstance(error, psycopg.Error):
            state = error.sqlstate
            if state is not None:
                return state[:2] in TRANSIENT_SQLSTATE
            return isinstance(error, psycopg.OperationalError | psycopg.InterfaceError)
    return isinstance(
        exc, DjangoOperationalError | DjangoInterfaceError | ConnectionError | TimeoutError
    )


def first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0][:300]


# ---- finding and replacing what PostgreSQL refuses -----------------------------------------


def refused_part(value: Any) -> str | None:
    """What in `value` PostgreSQL would refuse, said for a user (None: nothing)."""
    stack = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, float):
            if math.isnan(item):
                return "NaN"
            if math.isinf(item):
                return "Infinity" if item > 0 else "-Infinity"
        elif isinstance(item, str):
            if "\x00" in item:
                return "a NUL character (\\u0000)"
            if BAD_CHARACTERS.search(item):  # not NUL: a lone surrogate
                return "a lone surrogate (\\ud800-\\udfff)"
        elif isinstance(item, dict | list | tuple):
            if depth >= MAX_DEPTH:
                return f"values nested over {MAX_DEPTH} levels deep"
            pairs = item.items() if isinstance(item, dict) else enumerate(item)
            for key, child in pairs:
                stack.append((key, depth + 1))
                stack.append((child, depth + 1))
    return None


def scrub(value: Any, depth: int = 0) -> Any:
    """A storable copy of `value`: NaN and ±Infinity become null, NUL characters and lone
    surrogates U+FFFD, anything nested too deep null."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, str):
        return storable_text(value)
    if isinstance(value, dict | list | tuple) and depth >= MAX_DEPTH:
        return None
    if isinstance(value, dict):
        return {scrub(k, depth + 1): scrub(v, depth + 1) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [scrub(v, depth + 1) for v in value]
    return value


def where(node: str | None, iteration: str | int | None) -> str:
    if node is None:
        return "the run"
    return f"node {node} in {iteration}" if iteration not in (None, "") else f"node {node}"


def node_error(part: str) -> dict:
    return {
        "message": f"a value it produced cannot be stored: it contains {part}, which "
        "PostgreSQL refuses",
        "type": UNSTORABLE,
    }


def node_key(event: dict) -> tuple[str, str]:
    iteration = event.get("iteration")
    return event["node"], "" if iteration is None else str(iteration)


def storable_batch(batch: Batch) -> tuple[Batch, dict | None]:
    """The batch with every refused value replaced and the nodes that produced one failed
    with `unstorable_output`; and the run's error, naming the first such node (None: no
    refused value found)."""
    culprits: dict[tuple[str, str], str] = {}
    for event in batch.events:  # in seq order: the node that produced the value comes first
        if event.get("node") is not None and (part := refused_part(event)):
            culprits.setdefault(node_key(event), part)
    for (node, iteration, _), fields in sorted(batch.rows, key=_started):
        if part := refused_part(fields):
            culprits.setdefault((node, iteration), part)
    rows = [(key, _storable_row(key, fields, culprits)) for key, fields in batch.rows]
    events = [_storable_event(scrub(event), culprits) for event in batch.events]
    started = {k: v for k, v in batch.run_fields.items() if k == "started_at"}
    storable = replace(batch, events=events, rows=rows, run_fields=started)
    if culprits:
        (node, iteration), part = next(iter(culprits.items()))
        message = f"{where(node, iteration)} failed: {node_error(part)['message']}"
        return storable, {"message": message, "type": UNSTORABLE}
    if part := refused_part(batch.run_fields):
        message = f"the run's error cannot be stored: it contains {part}"
        return storable, {"message": message, "type": UNSTORABLE}
    return storable, None


def _started(row: tuple) -> tuple:
    started = row[1].get("started_at")
    return (started is None, started.timestamp() if started is not None else 0.0)


def _storable_row(key: tuple[str, str, int], fields: dict, culprits: dict) -> dict:
    part = refused_part(fields)
    stored = {name: scrub(value) for name, value in fields.items()} if part else fields
    culprit = culprits.get(key[:2])
    if part or (culprit and fields.get("status") == NodeState.SUCCEEDED):
        stored = {
            **stored,
            "status": NodeState.FAILED.value,
            "output": None,
            "error": node_error(part or culprit),
        }
    return stored


def _storable_event(event: dict, culprits: dict[tuple[str, str], str]) -> dict:
    """A culprit node's success event says it failed, and its output event carries none."""
    if event.get("node") is None:
        return event
    part = culprits.get(node_key(event))
    if part is None:
        return event
    if event["type"] == NODE_STATUS and event.get("status") == NodeState.SUCCEEDED:
        return {**event, "status": NodeState.FAILED.value, "error": node_error(part)}
    if event["type"] == NODE_OUTPUT:
        return {**event, "output": None}
    return event


# ---- ending the run --------------------------------------------------------------------------


def end_unstorable(batch: Batch, detail: str) -> list[dict] | None:
    """End the run whose batch the database refused for good: what can be kept of the batch
    (refused values replaced), the culprit node failed, the run failed with its error and the
    lease released — in one transaction fenced by the lease. Returns the events written, to
    publish (None: the lease was not ours any more)."""
    storable, error = storable_batch(batch)
    error = error or {
        "message": f"the run's events cannot be stored: {detail}",
        "type": UNSTORABLE,
    }
    return end_failed(batch.run_id, batch.owner, error, storable)


def end_unfinishable(
    run_id: int, owner: str, outputs: dict, state: dict | None, detail: str
) -> list[dict] | None:
    """End a run whose outputs or saved state the database refused when its drive ended."""
    for name, value in (outputs or {}).items():
        if part := refused_part(value):
            message = f"{where(name, None)} failed: {node_error(part)['message']}"
            break
    else:
        part = refused_part(state)
        message = f"the run's state cannot be stored: it contains {part}" if part else detail
    return end_failed(run_id, owner, {"message": message, "type": UNSTORABLE}, None)


def end_broken(run_id: int, owner: str, exc: BaseException) -> list[dict] | None:
    """End a run whose drive broke again and again (not a passing database error)."""
    error = {"message": f"the run could not be driven: {first_line(exc)}", "type": "internal"}
    return end_failed(run_id, owner, scrub(error), None)


def end_failed(run_id: int, owner: str, error: dict, batch: Batch | None) -> list[dict] | None:
    """End the run failed with `error`, if `owner` still holds it: the batch first (when the
    database takes it), attempts still in flight cancelled, a final `run.status` event, the
    lease released, a parked parent woken. Returns the events written (None: not ours)."""
    with transaction.atomic():
        run = WorkflowRun.objects.select_for_update().filter(pk=run_id, lease_owner=owner).first()
        if run is None:
            return None
        written = _write_what_can_be(batch) if batch is not None else []
        now = timezone.now()
        NodeRun.objects.filter(run_id=run_id, status__in=IN_FLIGHT_ROWS).update(
            status=NodeState.CANCELLED,
            finished_at=now,
            reason=f"the run failed: {error['message']}",
        )
        seq = (run.events.aggregate(last=Max("seq"))["last"] or 0) + 1
        final = {
            "seq": seq,
            "type": RUN_STATUS,
            "run": run_id,
            "node": None,
            "iteration": None,
            "status": RunState.FAILED.value,
            "attempt": None,
            "at": iso_ms(now.timestamp()),
            "error": error,
            "duration_ms": None,
        }
        RunEvent.objects.create(
            run_id=run_id, seq=seq, type=RUN_STATUS, payload=event_payload(final), at=now
        )
        WorkflowRun.objects.filter(pk=run_id).update(
            status=RunState.FAILED,
            error=error,
            finished_at=now,
            started_at=run.started_at or now,
            last_event_at=now,
            stalled_at=None,
            lease_owner="",
            lease_expires_at=None,
            state=None,
            wake_at=None,
        )
        child_runs.run_finished(run_id, RunState.FAILED.value, None)  # wake a parked parent
    return [*written, final]


def _write_what_can_be(batch: Batch) -> list[dict]:
    """The storable batch, if the database takes it (else nothing of it: the run's end is
    written anyway)."""
    try:
        with transaction.atomic():
            write_batch_orm(batch)
    except (DatabaseError, ValueError, UnicodeError):
        return []
    return batch.events
