"""Node attempts and run events have no run_id index of their own: the unique constraints lead
with run_id and serve every lookup by run (one index less to keep up on every insert)."""

from __future__ import annotations

import pytest
from django.db import connection

from workflows.models import NodeRun, RunEvent


@pytest.mark.django_db
@pytest.mark.parametrize("model", [NodeRun, RunEvent])
def test_lookups_by_run_have_one_index_leading_with_run_id(model):
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, model._meta.db_table)
    leading = sorted(
        name
        for name, info in constraints.items()
        if (info["index"] or info["unique"]) and info["columns"][:1] == ["run_id"]
    )
    assert leading == [model._meta.constraints[0].name]
    assert any(info["foreign_key"] for info in constraints.values())  # the key itself stays
