"""`WorkflowRun.pause_request`: a pause asked for while the run runs (`POST
/api/runs/{id}/pause/`), until the worker holding the run applies it."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("workflows", "0010_run_claimable")]

    operations = [
        migrations.AddField(
            model_name="workflowrun",
            name="pause_request",
            field=models.JSONField(
                blank=True,
                help_text="A pause asked for while the run ran ({by, at}), until its worker "
                "applies it.",
                null=True,
            ),
        ),
    ]
