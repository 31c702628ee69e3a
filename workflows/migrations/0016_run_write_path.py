"""A run's row is written four times or more (created, claimed, each batch of events, ended)
and its lease is renewed while it runs: fewer indexes to keep, and writes PostgreSQL can make
in place (issue 13, throughput).

- `status` and `workflow` lose their single-column indexes: `run_status_created` and
  `run_workflow_created` start with those columns and answer the same lookups.
- `run_status_lease` goes: no query reads it (a claim reads `run_claimable`), and with it no
  index holds the lease, so a claim and a lease renewal change no indexed column.
- PostgreSQL only: the runs table keeps 30 % of each page free (fillfactor 70), so an update
  that changes no indexed column is a HOT update (the new row version on the same page, no
  index touched). Pages written before keep their layout until rewritten.
"""

from django.db import migrations, models

WORKFLOW_INDEX = "workflows_workflowrun_workflow_id_51c8c945"


class ForPostgreSQL(migrations.RunSQL):
    """RunSQL on PostgreSQL only (SQLite has no fillfactor)."""

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            super().database_forwards(app_label, schema_editor, from_state, to_state)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            super().database_backwards(app_label, schema_editor, from_state, to_state)


class Migration(migrations.Migration):
    dependencies = [
        ("workflows", "0015_merge"),
    ]

    operations = [
        migrations.RemoveIndex(
            model_name="workflowrun",
            name="run_status_lease",
        ),
        migrations.AlterField(
            model_name="workflowrun",
            name="status",
            field=models.CharField(
                choices=[
                    ("queued", "queued"),
                    ("running", "running"),
                    ("paused", "paused"),
                    ("succeeded", "succeeded"),
                    ("failed", "failed"),
                    ("cancelled", "cancelled"),
                ],
                default="queued",
                max_length=16,
            ),
        ),
        # Only the index goes, as in 0009: altering the field would drop the foreign key and
        # validate it again over every run.
        migrations.SeparateDatabaseAndState(
            database_operations=[
                migrations.RunSQL(
                    f'DROP INDEX IF EXISTS "{WORKFLOW_INDEX}"',
                    reverse_sql=(
                        f'CREATE INDEX IF NOT EXISTS "{WORKFLOW_INDEX}" '
                        'ON "workflows_workflowrun" ("workflow_id")'
                    ),
                )
            ],
            state_operations=[
                migrations.AlterField(
                    model_name="workflowrun",
                    name="workflow",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=models.deletion.CASCADE,
                        related_name="runs",
                        to="workflows.workflow",
                    ),
                )
            ],
        ),
        ForPostgreSQL(
            "ALTER TABLE workflows_workflowrun SET (fillfactor = 70)",
            "ALTER TABLE workflows_workflowrun RESET (fillfactor)",
        ),
    ]
