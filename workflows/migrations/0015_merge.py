"""Joins the two migrations of 2026-12-06 made side by side: llm conversation memory on node
runs, and workflow versions with sticky notes."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("workflows", "0014_noderun_memory"),
        ("workflows", "0014_versions"),
    ]
    operations = []
