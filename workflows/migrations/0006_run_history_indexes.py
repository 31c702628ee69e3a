"""Indexes that keep the admin's run history fast with 100,000 runs (`python -m bench admin`).

- `run_created_id` (created_at DESC, id DESC): the run list's order, so its first page (and a
  date-hierarchy period, and the hierarchy's bounds) reads 50 index entries, not every run.
- `run_error_message_trgm`, PostgreSQL only: a trigram index on the error message as the admin
  searches it (`UPPER(error ->> 'message') LIKE '%WORD%'`), so searching error text does not
  read every run. SQLite has no trigram index; it scans, which is fine at its scale.

Built CONCURRENTLY on PostgreSQL (the migration is not atomic): the runs table stays writable
while the indexes build. Neither index is in the model state (the trigram one cannot be
expressed portably), so `makemigrations` does not see them.
"""

from django.db import migrations

CREATED = (
    "CREATE INDEX {concurrently} IF NOT EXISTS run_created_id "
    "ON workflows_workflowrun (created_at DESC, id DESC)"
)
ERROR_TRIGRAMS = (
    "CREATE INDEX CONCURRENTLY IF NOT EXISTS run_error_message_trgm ON workflows_workflowrun "
    "USING gin ((UPPER(error ->> 'message')) gin_trgm_ops)"
)


class IndexesForVendor(migrations.RunSQL):
    """RunSQL whose statements depend on the database: `sql` and `reverse_sql` are callables
    taking the vendor name and answering a list of statements."""

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        self._run_sql(schema_editor, self.sql(schema_editor.connection.vendor))

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        self._run_sql(schema_editor, self.reverse_sql(schema_editor.connection.vendor))


def create(vendor: str) -> list[str]:
    if vendor != "postgresql":
        return [CREATED.format(concurrently="")]
    return [
        CREATED.format(concurrently="CONCURRENTLY"),
        "CREATE EXTENSION IF NOT EXISTS pg_trgm",
        ERROR_TRIGRAMS,
    ]


def drop(vendor: str) -> list[str]:
    if vendor != "postgresql":
        return ["DROP INDEX IF EXISTS run_created_id"]
    return [
        "DROP INDEX CONCURRENTLY IF EXISTS run_error_message_trgm",
        "DROP INDEX CONCURRENTLY IF EXISTS run_created_id",
    ]


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("workflows", "0005_workflowrun_parent_iteration"),
    ]

    operations = [IndexesForVendor(sql=create, reverse_sql=drop)]
