"""Sticky notes on workflows and the kept revisions of each workflow (issue 17): every
existing workflow gets its current revision kept, read from its rows."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

from workflows import documents as translate


def keep_current_revisions(apps, schema_editor):
    """One kept revision per workflow: its current document, saved by its owner."""
    Workflow = apps.get_model("workflows", "Workflow")
    WorkflowVersion = apps.get_model("workflows", "WorkflowVersion")
    WorkflowNode = apps.get_model("workflows", "WorkflowNode")
    WorkflowEdge = apps.get_model("workflows", "WorkflowEdge")
    edge_columns = (*translate.EDGE_COLUMNS, "source__node_id", "target__node_id")
    for workflow in Workflow.objects.all().iterator(chunk_size=200):
        nodes = WorkflowNode.objects.filter(workflow=workflow).order_by("order")
        edges = WorkflowEdge.objects.filter(workflow=workflow).order_by("order")
        document = {
            **translate.workflow_header(workflow),
            "nodes": [
                translate.node_document(r) for r in nodes.values_list(*translate.NODE_COLUMNS)
            ],
            "edges": [translate.edge_document(r) for r in edges.values_list(*edge_columns)],
        }
        WorkflowVersion.objects.create(
            workflow=workflow,
            revision=workflow.revision,
            document=document,
            saved_by_id=workflow.owner_id,
            saved_at=workflow.updated_at,
        )


class Migration(migrations.Migration):
    dependencies = [
        ("workflows", "0013_webhook_listen"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name="workflow",
            name="notes",
            field=models.JSONField(blank=True, default=list),
        ),
        migrations.CreateModel(
            name="WorkflowVersion",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("revision", models.PositiveIntegerField()),
                ("document", models.JSONField()),
                ("saved_at", models.DateTimeField()),
                (
                    "saved_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "workflow",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="versions",
                        to="workflows.workflow",
                    ),
                ),
            ],
            options={"ordering": ["workflow", "-revision"]},
        ),
        migrations.AddConstraint(
            model_name="workflowversion",
            constraint=models.UniqueConstraint(
                fields=("workflow", "revision"), name="version_revision_unique"
            ),
        ),
        migrations.RunPython(keep_current_revisions, migrations.RunPython.noop),
    ]
