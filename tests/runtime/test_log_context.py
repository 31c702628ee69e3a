"""Every runtime log line names its run and node (issue 18, Logs): a filter on the runtime's
loggers puts `[run N node X]` in front of the message (and `run_id`/`node` on the record),
the node inside a body with its iteration (`c in m[0]`)."""

from __future__ import annotations

import json
import logging

import pytest
from django.db import DatabaseError

from tests.engine.test_run_workflow_command import run_command
from workflows.runtime.cache import RowCache

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.timeout(60)]

CACHED = {
    "version": 1,
    "name": "cached",
    "nodes": [
        {"id": "top", "type": "transform", "config": {"output": 1}, "cache": {"ttl_s": 60}},
        {"id": "m", "type": "map", "config": {"items": [1]}},
        {
            "id": "c",
            "type": "transform",
            "parent": "m",
            "config": {"output": 2},
            "cache": {"ttl_s": 60},
        },
    ],
    "edges": [{"id": "e1", "source": "top", "target": "m"}],
}


def test_a_runtime_warning_names_its_run_and_node(tmp_path, monkeypatch, caplog):
    def broken(self, key, max_age_s):
        raise DatabaseError("the cache table is gone")

    monkeypatch.setattr(RowCache, "find", broken)
    caplog.set_level(logging.WARNING, logger="workflows.runtime")
    path = tmp_path / "cached.json"
    path.write_text(json.dumps(CACHED))
    code, out, _ = run_command(str(path), "--json")
    assert code == 0, out
    run_id = json.loads(out)["run"]
    lines = [r for r in caplog.records if "cache lookup failed" in r.getMessage()]
    messages = sorted(r.getMessage() for r in lines)
    assert messages == [
        f"[run {run_id} node c in m[0]] cache lookup failed; the node runs",
        f"[run {run_id} node top] cache lookup failed; the node runs",
    ]
    assert {(r.run_id, r.node) for r in lines} == {(run_id, "top"), (run_id, "c in m[0]")}
    assert all(r.exc_info for r in lines)  # the traceback of the failure is kept


def test_a_line_outside_any_run_says_so(caplog):
    from workflows.runtime.worker import logger

    caplog.set_level(logging.INFO, logger="workflows.runtime")
    logger.info("worker %s started", "w1")
    (record,) = caplog.records
    assert record.getMessage() == "[run - node -] worker w1 started"
    assert (record.run_id, record.node) == ("-", "-")
