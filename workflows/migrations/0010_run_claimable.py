"""`run_claimable`: the runs not ended (queued, running, paused) by (created_at, id), the
order a worker claims them in (runtime/leases.py). Without it PostgreSQL answered a claim by
walking `run_created_id` from the oldest run and skipping every finished one: a claim read the
whole runs table (88 ms with 22,000 runs), several times a second per worker. Partial: a run
leaves the index when it ends, so a claim reads a few entries however long the history.

Built CONCURRENTLY on PostgreSQL (the migration is not atomic): the runs table stays writable
while it builds.
"""

from django.db import migrations, models

COLUMNS = "workflows_workflowrun (created_at, id) WHERE status IN ('queued', 'running', 'paused')"


def create(vendor: str) -> list[str]:
    concurrently = "CONCURRENTLY " if vendor == "postgresql" else ""
    return [f"CREATE INDEX {concurrently}IF NOT EXISTS run_claimable ON {COLUMNS}"]


def drop(vendor: str) -> list[str]:
    concurrently = "CONCURRENTLY " if vendor == "postgresql" else ""
    return [f"DROP INDEX {concurrently}IF EXISTS run_claimable"]


class IndexForVendor(migrations.RunSQL):
    """RunSQL whose statements depend on the database (as in 0006)."""

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        self._run_sql(schema_editor, self.sql(schema_editor.connection.vendor))

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        self._run_sql(schema_editor, self.reverse_sql(schema_editor.connection.vendor))


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("workflows", "0009_drop_duplicate_run_indexes"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[IndexForVendor(create, reverse_sql=drop)],
            state_operations=[
                migrations.AddIndex(
                    model_name="workflowrun",
                    index=models.Index(
                        condition=models.Q(status__in=("queued", "running", "paused")),
                        fields=["created_at", "id"],
                        name="run_claimable",
                    ),
                ),
            ],
        ),
    ]
