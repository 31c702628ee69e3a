"""`GET /metrics` (SPEC §8 Control): the Prometheus text format for staff sessions or the
metrics bearer token; 401 anonymous, 403 for a user who is not staff."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone
from prometheus_client.parser import text_string_to_metric_families

from workflows import services
from workflows.models import NodeRun, WorkflowRun

pytestmark = pytest.mark.django_db

DOCUMENT = {
    "version": 1,
    "name": "measured",
    "nodes": [
        {"id": "fetch", "type": "http", "config": {"url": "https://example.com/"}},
        {"id": "shape", "type": "transform", "config": {"output": 1}},
    ],
    "edges": [{"id": "e1", "source": "fetch", "target": "shape"}],
}
TOKEN = "scrape-me-7f3a"


@pytest.fixture
def measured(user):
    workflow = services.workflow_create(owner=user, source=DOCUMENT)
    done = services.run_create(user=user, workflow_id=workflow.pk)
    start = timezone.now()
    WorkflowRun.objects.filter(pk=done.pk).update(status="succeeded")
    for node_id, ms in (("fetch", 1200), ("shape", 3)):
        NodeRun.objects.create(
            run=done,
            node_id=node_id,
            status="succeeded",
            started_at=start,
            finished_at=start + timedelta(milliseconds=ms),
            duration_ms=ms,
        )
    services.run_create(user=user, workflow_id=workflow.pk)  # queued
    failed = services.run_create(user=user, workflow_id=workflow.pk)
    WorkflowRun.objects.filter(pk=failed.pk).update(status="failed", trigger="webhook")
    return workflow


def families(response) -> dict:
    text = response.content.decode()
    return {family.name: family for family in text_string_to_metric_families(text)}


def samples(family, name: str | None = None) -> dict:
    return {
        tuple(sorted(sample.labels.items())): sample.value
        for sample in family.samples
        if name is None or sample.name == name
    }


def test_staff_reads_runs_queue_and_node_durations(measured, django_user_model):
    staff = django_user_model.objects.create_user("ops", password="x", is_staff=True)
    client = Client()
    client.force_login(staff)
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain; version=")
    found = families(response)
    runs = samples(found["switchyard_runs"])
    assert runs[(("status", "succeeded"), ("trigger", "api"))] == 1
    assert runs[(("status", "queued"), ("trigger", "api"))] == 1
    assert runs[(("status", "failed"), ("trigger", "webhook"))] == 1
    assert samples(found["switchyard_queue_depth"]) == {(): 1}
    assert samples(found["switchyard_runs_waiting"]) == {(): 0}
    assert samples(found["switchyard_workers"]) == {(): 0}
    durations = found["switchyard_node_duration_seconds"]
    counts = samples(durations, "switchyard_node_duration_seconds_count")
    assert counts == {(("type", "http"),): 1, (("type", "transform"),): 1}
    buckets = samples(durations, "switchyard_node_duration_seconds_bucket")
    assert buckets[(("le", "1.0"), ("type", "http"))] == 0
    assert buckets[(("le", "5.0"), ("type", "http"))] == 1
    assert buckets[(("le", "0.005"), ("type", "transform"))] == 1
    sums = samples(durations, "switchyard_node_duration_seconds_sum")
    assert sums[(("type", "http"),)] == pytest.approx(1.2)


def test_the_bearer_token_reads_the_metrics(measured, settings):
    settings.SWITCHYARD_METRICS_TOKEN = TOKEN
    response = Client().get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.status_code == 200
    assert "switchyard_runs" in families(response)


def test_a_wrong_token_or_no_credentials_is_401(settings):
    settings.SWITCHYARD_METRICS_TOKEN = TOKEN
    wrong = Client().get("/metrics", headers={"Authorization": "Bearer nope"})
    assert wrong.status_code == 401
    assert wrong["WWW-Authenticate"].startswith("Bearer")
    assert Client().get("/metrics").status_code == 401


def test_no_bearer_access_while_the_setting_is_empty(settings):
    settings.SWITCHYARD_METRICS_TOKEN = ""
    response = Client().get("/metrics", headers={"Authorization": "Bearer "})
    assert response.status_code == 401


def test_a_user_who_is_not_staff_is_403(user):
    client = Client()
    client.force_login(user)
    response = client.get("/metrics")
    assert response.status_code == 403
    assert b"staff" in response.content


def test_per_node_statistics_of_a_workflow(measured, user, other_user):
    run = WorkflowRun.objects.filter(workflow=measured, status="succeeded").get()
    start = timezone.now()
    for attempt, (status, ms) in enumerate([("failed", 100), ("failed", 300)], start=2):
        NodeRun.objects.create(
            run=run,
            node_id="fetch",
            attempt=attempt,
            status=status,
            started_at=start,
            finished_at=start + timedelta(milliseconds=ms),
            duration_ms=ms,
        )
    client = Client()
    client.force_login(user)
    response = client.get(f"/api/workflows/{measured.pk}/stats/")
    assert response.status_code == 200
    body = response.json()
    assert body["runs"] == 1 and body["slowest"] == "fetch"
    assert body["nodes"]["fetch"] == {
        "count": 3,
        "failures": 2,
        "failure_rate": 0.6667,
        "p50_ms": 300,
        "p95_ms": 1200,
    }
    assert body["nodes"]["shape"]["p50_ms"] == 3
    stranger = Client()
    stranger.force_login(other_user)
    assert stranger.get(f"/api/workflows/{measured.pk}/stats/").status_code == 404
