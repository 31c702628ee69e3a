"""Joins two migrations made side by side (the node cache, live control requests)."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("workflows", "0011_cache"),
        ("workflows", "0011_run_live_requests"),
    ]

    operations = []
