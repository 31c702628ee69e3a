from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("workflows", "0002_runtime_fields"),
    ]

    operations = [
        migrations.AddField(
            model_name="workflowrun",
            name="wake_at",
            field=models.DateTimeField(
                blank=True,
                null=True,
                help_text="A paused run resumes by itself then (durable delay).",
            ),
        ),
    ]
