"""Joins the three migrations of 2026-12-06 made side by side: llm conversation memory on node
runs, workflow versions with sticky notes, and a workflow's metadata (dagger-style imports)."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("workflows", "0014_noderun_memory"),
        ("workflows", "0014_versions"),
        ("workflows", "0014_workflow_metadata"),
    ]
    operations = []
