"""A run of a workflow this process has run before, inserted in one statement.

`services.run_create` reads the workflow (with the user's access), its document, and inserts
the run, in a transaction: four round trips to PostgreSQL and two ORM queries to build. Once
a revision has run here, its document is remembered (`remember`), and the next run of it is
one `INSERT … SELECT … FROM workflow WHERE` the workflow still has that revision and
`updated_at` (every save moves both) and the user still owns it or has it shared with them.
No row inserted (the workflow changed, was deleted or unshared): the caller takes the reading
path, which answers as before. The statement commits on its own (autocommit) or with the
caller's transaction.
"""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any

from django.db import connection
from django.db.models.signals import post_save, pre_save

from workflows.models import Workflow, WorkflowRun

MAX_WORKFLOWS = 256  # remembered per process, the least recently run dropped first


@dataclass(frozen=True)
class Known:
    revision: int
    updated_at: datetime
    document: dict[str, Any]  # the runnable document (callers never change it)
    run_document: str  # a run's `document` column: the JSON of {id, revision, **document}


_known: OrderedDict[int, Known] = OrderedDict()
_lock = threading.Lock()


def remember(workflow: Workflow, document: dict[str, Any]) -> None:
    """The runnable document of the workflow's current revision (callers never change it)."""
    run_document = json.dumps({"id": workflow.pk, "revision": workflow.revision, **document})
    known = Known(workflow.revision, workflow.updated_at, document, run_document)
    with _lock:
        _known[workflow.pk] = known
        _known.move_to_end(workflow.pk)
        while len(_known) > MAX_WORKFLOWS:
            _known.popitem(last=False)


def known(workflow_id: int) -> Known | None:
    """The revision last run here, or None. Usable only on PostgreSQL and while nothing
    listens to a run's save signals (the statement sends none)."""
    if connection.vendor != "postgresql" or saves_are_heard():
        return None
    with _lock:
        entry = _known.get(workflow_id)
        if entry is not None:
            _known.move_to_end(workflow_id)
        return entry


def forget_all() -> None:
    with _lock:
        _known.clear()


def saves_are_heard() -> bool:
    return pre_save.has_listeners(WorkflowRun) or post_save.has_listeners(WorkflowRun)


def insert_if_unchanged(run: WorkflowRun, known: Known, *, user_id: int) -> bool:
    """Insert the unsaved `run` of the `known` revision if its workflow still is at that
    revision and the user may see it; True (and `run.pk` set) if it was."""
    params = [
        known.run_document if field.name == "document" else db_value(run, field)
        for field in insert_fields()
    ]
    params += [run.workflow_id, known.revision, known.updated_at, user_id, user_id]
    with connection.cursor() as cursor:
        cursor.execute(insert_sql(), params)
        row = cursor.fetchone()
    if row is None:
        return False
    run.pk = row[0]
    run._state.adding = False
    run._state.db = connection.alias
    return True


def db_value(run: WorkflowRun, field) -> Any:
    return field.get_db_prep_save(field.pre_save(run, True), connection)


def insert_fields() -> list:
    return [field for field in WorkflowRun._meta.concrete_fields if not field.primary_key]


@cache
def insert_sql() -> str:
    quote = connection.ops.quote_name
    columns = ", ".join(quote(field.column) for field in insert_fields())
    values = ", ".join(["%s"] * len(insert_fields()))
    shared = Workflow.shared_with.through._meta.db_table
    return (
        f"INSERT INTO {quote(WorkflowRun._meta.db_table)} ({columns}) "
        f"SELECT {values} FROM {quote(Workflow._meta.db_table)} w "
        "WHERE w.id = %s AND w.revision = %s AND w.updated_at = %s AND (w.owner_id = %s OR "
        f"EXISTS (SELECT 1 FROM {quote(shared)} s WHERE s.workflow_id = w.id AND s.user_id = %s)) "
        f"RETURNING {quote(WorkflowRun._meta.pk.column)}"
    )
