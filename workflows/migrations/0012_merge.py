"""Joins the migrations made side by side in one session: the node cache, live control
requests, triggers, the llm node (usage, stored secrets)."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("workflows", "0011_cache"),
        ("workflows", "0011_run_live_requests"),
        ("workflows", "0011_triggers"),
        ("workflows", "0011_llm"),
    ]

    operations = []
