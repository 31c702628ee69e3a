"""A cancel reaches the worker through PostgreSQL within a second even when its control message
is lost (Redis flushed, message dropped), whatever the lease length."""

from __future__ import annotations

import time

import pytest

from tests.runtime.conftest import logged_in
from tests.runtime.workers import WorkerProcess, wait_for
from workflows import services
from workflows.models import NodeRun, WorkflowRun

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


def long_nap() -> dict:
    return {
        "version": 1,
        "name": "nap",
        "nodes": [
            {"id": "a", "type": "transform", "config": {"output": 1}},
            {"id": "d1", "type": "delay", "config": {"seconds": 20}},
        ],
        "edges": [{"id": "e1", "source": "a", "target": "d1"}],
    }


def test_cancel_applies_within_a_second_when_the_control_message_is_lost(user, monkeypatch):
    # A lease of 9 s: renewals (which also read cancel requests) come only every 3 s.
    process = WorkerProcess(SWITCHYARD_LEASE_S="9")
    try:
        client = logged_in(user)
        workflow = services.workflow_create(owner=user, source=long_nap())
        run = services.run_create(user=user, workflow_id=workflow.pk)
        wait_for(lambda: NodeRun.objects.filter(run=run, node_id="d1", status="running").exists())
        asked = time.monotonic()
        response = client.post(f"/api/runs/{run.pk}/cancel/")
        assert response.status_code == 200, response.content
        wait_for(
            lambda: WorkflowRun.objects.get(pk=run.pk).status == "cancelled",
            timeout=10,
            interval=0.02,
        )
        took = time.monotonic() - asked
    finally:
        process.kill()
    assert took < 1.0, f"the cancel took {took:.2f} s"
    assert NodeRun.objects.get(run=run, node_id="d1").status == "cancelled"
