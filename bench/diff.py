"""Run-diff benchmark (issue 19: "diffing two 1,000-node runs answers in ≤ 300 ms").

`DATABASE_URL=postgres://... .venv/bin/python -m bench diff` (or `python -m bench.diff`).
In a scratch database (`switchyard_bench_diff` next to the one DATABASE_URL names: dropped,
created and migrated here, dropped at the end) it saves a 1,000-node workflow, records two
runs of it (a node row each, with an output of a few keys; one node in ten ends with another
output in the second run, one in fifty failed), then times `GET /api/runs/{a}/diff/{b}/`
through Django's test client, logged in as the owner: the median of a few requests after a
warm-up (the database reads, the comparison, the JSON answer).
"""

from __future__ import annotations

import os
import statistics
import time
from datetime import timedelta

from bench.scratch import scratch_database

BENCH_DB = "switchyard_bench_diff"
NODES = 1_000
ROUNDS = 5
TARGET_MS = 300.0


def document() -> dict:
    nodes = [
        {"id": f"n{i}", "type": "transform", "config": {"output": {"i": i, "label": f"node {i}"}}}
        for i in range(NODES)
    ]
    edges = [{"id": f"e{i}", "source": f"n{i // 2}", "target": f"n{i}"} for i in range(1, NODES)]
    return {"version": 1, "name": "diff bench", "nodes": nodes, "edges": edges}


def record_run(workflow, user, second: bool):
    from django.utils import timezone

    from workflows import selectors
    from workflows.models import NodeRun, WorkflowRun

    start = timezone.now()
    run = WorkflowRun.objects.create(
        workflow=workflow,
        document=selectors.workflow_document(workflow=workflow),
        revision=workflow.revision,
        status="succeeded",
        started_at=start,
        finished_at=start + timedelta(seconds=NODES / 100),
        created_by=user,
    )
    rows = []
    for i in range(NODES):
        changed = second and i % 10 == 0
        failed = second and i % 50 == 7
        output = {
            "i": i,
            "label": f"node {i}",
            "items": list(range(i % 7)),
            "v": 2 if changed else 1,
        }
        rows.append(
            NodeRun(
                run=run,
                node_id=f"n{i}",
                status="failed" if failed else "succeeded",
                started_at=start,
                finished_at=start + timedelta(milliseconds=10 + i % 13),
                duration_ms=10 + i % 13,
                output=None if failed else output,
                error={"message": "boom", "type": "error"} if failed else None,
                handles=["out"],
            )
        )
    NodeRun.objects.bulk_create(rows, batch_size=500)
    return run


def main() -> None:
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgres"):
        print("bench.diff: set DATABASE_URL to a PostgreSQL database (the target is for it)")
        return
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "switchyard.settings")
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.test import Client

    from workflows import services

    with scratch_database(url, BENCH_DB):
        user = get_user_model().objects.create_user("bench", password="bench-pw")
        workflow = services.workflow_create(owner=user, source=document())
        a, b = record_run(workflow, user, False), record_run(workflow, user, True)
        client = Client()
        client.force_login(user)
        samples = []
        for round_ in range(ROUNDS + 1):
            started = time.perf_counter()
            response = client.get(f"/api/runs/{a.pk}/diff/{b.pk}/")
            elapsed = (time.perf_counter() - started) * 1000
            assert response.status_code == 200, response.content[:500]
            if round_:  # the first request warms caches
                samples.append(elapsed)
        summary = response.json()["summary"]
        median = statistics.median(samples)
        verdict = "yes" if median <= TARGET_MS else "NO"
        print(f"diff of two {NODES}-node runs: {summary}")
        print(f"{'request':<28}{'median ms':>11}{'max ms':>9}{'target ms':>11}  ok")
        request = "GET /api/runs/a/diff/b/"
        print(f"{request:<28}{median:>11.1f}{max(samples):>9.1f}{TARGET_MS:>11.0f}  {verdict}")


if __name__ == "__main__":
    main()
