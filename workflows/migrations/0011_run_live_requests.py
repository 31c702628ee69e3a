"""What users ask of a run while a worker executes it, until that worker applies it:
`WorkflowRun.pause_request` (`POST /api/runs/{id}/pause/`, `{by, at}`) and
`WorkflowRun.live_decisions` (approvals decided while other branches still run)."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("workflows", "0010_run_claimable")]

    operations = [
        migrations.AddField(
            model_name="workflowrun",
            name="pause_request",
            field=models.JSONField(
                blank=True,
                help_text="A pause asked for while the run ran ({by, at}), until a resume.",
                null=True,
            ),
        ),
        migrations.AddField(
            model_name="workflowrun",
            name="live_decisions",
            field=models.JSONField(
                blank=True,
                help_text="Approvals decided while the run ran, until its worker applies them.",
                null=True,
            ),
        ),
    ]
