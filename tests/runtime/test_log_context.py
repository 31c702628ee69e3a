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


BUGGY = {
    "version": 1,
    "name": "buggy",
    "nodes": [
        {"id": "first", "type": "output", "config": {"value": 1}},
        {"id": "bug", "type": "transform", "config": {"output": 2}, "retry": {"max_attempts": 2}},
    ],
    "edges": [{"id": "e1", "source": "first", "target": "bug"}],
}


def test_a_handler_exception_keeps_its_traceback_for_the_owner_not_in_events(
    tmp_path, monkeypatch, user
):
    """The attempt's stored error (its node run in the API's run read) has the traceback; the
    report's error stays `{"message", "type"}` and no event carries the traceback."""
    from engine.handlers.data import Transform
    from tests.runtime.conftest import logged_in
    from workflows.models import NodeRun, RunEvent, WorkflowRun

    def broken_handler(self, ctx):
        raise ZeroDivisionError("the ledger divided by zero")

    monkeypatch.setattr(Transform, "run", broken_handler)
    path = tmp_path / "buggy.json"
    path.write_text(json.dumps(BUGGY))
    code, out, _ = run_command(str(path), "--json")
    report = json.loads(out)
    assert code == 1 and report["nodes"]["bug"]["error"] == {
        "message": "ZeroDivisionError: the ledger divided by zero",
        "type": "exception",
    }
    rows = NodeRun.objects.filter(run_id=report["run"], node_id="bug").order_by("attempt")
    assert [row.status for row in rows] == ["failed", "failed"]
    for row in rows:  # each attempt keeps its own
        trace = row.error["traceback"]
        assert trace.startswith("Traceback (most recent call last):")
        assert "in broken_handler" in trace
        assert trace.rstrip().endswith("ZeroDivisionError: the ledger divided by zero")
    events = RunEvent.objects.filter(run_id=report["run"])
    assert events.exists()
    assert not any("Traceback" in json.dumps(event.payload) for event in events)

    run = WorkflowRun.objects.get(pk=report["run"])
    WorkflowRun.objects.filter(pk=run.pk).update(created_by=user)
    run.workflow.owner = user
    run.workflow.save(update_fields=["owner"])
    read = logged_in(user).get(f"/api/runs/{run.pk}/").json()
    (last,) = [r for r in read["node_runs"] if r["node_id"] == "bug" and r["attempt"] == 2]
    assert "in broken_handler" in last["error"]["traceback"]
    assert "traceback" not in read["nodes"]["bug"]["error"]
