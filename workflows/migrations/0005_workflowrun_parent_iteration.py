from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("workflows", "0004_workflowrun_wake_at"),
    ]

    operations = [
        migrations.AddField(
            model_name="workflowrun",
            name="parent_iteration",
            field=models.CharField(blank=True, default="", max_length=255),
        ),
        migrations.AddField(
            model_name="workflowrun",
            name="parent_attempt",
            field=models.PositiveIntegerField(default=0),
        ),
    ]
