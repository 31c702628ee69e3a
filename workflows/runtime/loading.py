"""Reading a run to drive it: its row and its workflow's owner, in one statement built once.

The ORM built `select_related("workflow").get(pk=…)` anew for every run and decoded every
column of the workflow too (its notes, errors, metadata): a fifth of a worker's CPU in
`python -m bench runtime` (issue 13, throughput). Here the statement is built once; the run's
row is made the way the ORM makes it (`from_db`, each field's `from_db_value`), and
`run.workflow` holds the owner, its other columns read when asked for.
SQLite goes through the ORM (its driver's values need the backend's converters).
"""

from __future__ import annotations

from functools import cache

from django.db import connection

from workflows.models import Workflow, WorkflowRun


def load_run(run_id: int) -> tuple[WorkflowRun, str | None]:
    """The run (with `run.workflow`'s owner) and its document's JSON text as PostgreSQL gave
    it (None on SQLite). Raises WorkflowRun.DoesNotExist as `get` does."""
    if connection.vendor != "postgresql":
        return WorkflowRun.objects.select_related("workflow").get(pk=run_id), None
    sql, fields = statement()
    with connection.cursor() as cursor:
        cursor.execute(sql, [run_id])
        row = cursor.fetchone()
    if row is None:
        raise WorkflowRun.DoesNotExist(f"run {run_id}: no such run")
    *values, owner_id = row
    text = values[DOCUMENT]
    for index, field in CONVERTED:
        if values[index] is not None:
            values[index] = field.from_db_value(values[index], None, connection)
    run = WorkflowRun.from_db(connection.alias, fields, values)
    owner = [run.workflow_id, owner_id]
    run.workflow = Workflow.from_db(connection.alias, ["id", "owner_id"], owner)
    return run, text


@cache
def statement() -> tuple[str, list[str]]:
    quote = connection.ops.quote_name
    fields = WorkflowRun._meta.concrete_fields
    columns = ", ".join(f"r.{quote(field.column)}" for field in fields)
    sql = (
        f"SELECT {columns}, w.owner_id FROM {quote(WorkflowRun._meta.db_table)} r "
        f"JOIN {quote(Workflow._meta.db_table)} w ON w.id = r.workflow_id WHERE r.id = %s"
    )
    return sql, [field.attname for field in fields]


_FIELDS = WorkflowRun._meta.concrete_fields
DOCUMENT = next(i for i, field in enumerate(_FIELDS) if field.name == "document")
# The fields whose database value the ORM converts (the JSON ones: psycopg hands their text).
CONVERTED = [(i, field) for i, field in enumerate(_FIELDS) if hasattr(field, "from_db_value")]
