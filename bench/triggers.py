"""Webhook benchmark (SPEC §8): `python -m bench triggers` (or `python -m bench.triggers`).

Against a scratch database next to the one DATABASE_URL names, with a real Daphne
(`serve --no-worker`) and a `runworker`, it prints p50/p95 of
- async: a webhook request until its 202 (the run is committed and queued by then);
- sync: the round trip of a sync webhook of a 5-node workflow (webhook, three transforms, an
  output), answered with the run's outputs.
Targets (issue 15): async p95 ≤ 20 ms, sync p95 ≤ 60 ms.
"""

from __future__ import annotations

import logging
import os
import statistics
import time
from itertools import pairwise

import httpx

from bench.runtime import Processes, free_port, wait_port
from bench.scratch import ensure_database, scratch_database_url

WARMUP = 20
ASYNC_SAMPLES = 300
SYNC_SAMPLES = 150


def five_nodes(response: str) -> dict:
    nodes = [
        {
            "id": "hook",
            "type": "webhook",
            "config": {"response": response, "rate_per_min": 100_000},
        },
        {"id": "t1", "type": "transform", "config": {"output": "{{ input.body.n + 1 }}"}},
        {"id": "t2", "type": "transform", "config": {"output": "{{ input * 2 }}"}},
        {"id": "t3", "type": "transform", "config": {"output": "{{ input - 1 }}"}},
        {"id": "result", "type": "output", "config": {"value": "{{ input }}"}},
    ]
    ids = [node["id"] for node in nodes]
    edges = [{"id": f"e{i}", "source": a, "target": b} for i, (a, b) in enumerate(pairwise(ids))]
    return {"version": 1, "name": f"bench {response} webhook", "nodes": nodes, "edges": edges}


def hook_path(user, response: str) -> str:
    from workflows import services, triggers
    from workflows.models import Trigger

    workflow = services.workflow_create(owner=user, source=five_nodes(response))
    assert workflow.valid, workflow.errors
    triggers.workflow_activate(user=user, workflow_id=workflow.pk)
    return f"/hooks/{Trigger.objects.get(workflow=workflow).token}/"


def sample(client: httpx.Client, path: str, count: int, status: int) -> list[float]:
    times = []
    for i in range(WARMUP + count):
        started = time.perf_counter()
        answer = client.post(path, json={"n": i})
        elapsed = (time.perf_counter() - started) * 1000
        assert answer.status_code == status, (answer.status_code, answer.text[:300])
        if i >= WARMUP:
            times.append(elapsed)
    return times


def percentiles(times: list[float]) -> tuple[float, float]:
    cuts = statistics.quantiles(times, n=100)
    return statistics.median(times), cuts[94]


def main() -> None:
    logging.getLogger("httpx").setLevel(logging.WARNING)
    url = scratch_database_url(os.environ.get("SWITCHYARD_BENCH_DB", "switchyard_bench_triggers"))
    if url is None or not os.environ.get("REDIS_URL"):
        print("skipped: needs DATABASE_URL (PostgreSQL) and REDIS_URL (make bench sets both)")
        return
    ensure_database(url)
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "switchyard.settings")
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    user, _ = get_user_model().objects.get_or_create(username="bench-triggers")
    paths = {"async": hook_path(user, "async"), "sync": hook_path(user, "sync")}
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "DEBUG": "0"}
    procs = Processes(env, log="triggers-processes.log")
    port = free_port()
    try:
        procs.start("serve", "--no-worker", "--port", str(port))
        procs.start("runworker", "workflow-runs", ready="serving")
        wait_port(port)
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as client:
            rows = [
                (
                    "async: request → run created (202)",
                    sample(client, paths["async"], ASYNC_SAMPLES, 202),
                    20,
                ),
                (
                    "sync: 5-node workflow round trip (200)",
                    sample(client, paths["sync"], SYNC_SAMPLES, 200),
                    60,
                ),
            ]
    finally:
        procs.stop()
    print(f"{'webhook':<40}{'p50 ms':>9}{'p95 ms':>9}{'target p95':>12}  ok")
    for name, times, target in rows:
        p50, p95 = percentiles(times)
        print(f"{name:<40}{p50:>9.1f}{p95:>9.1f}{target:>12}  {'yes' if p95 <= target else 'NO'}")


if __name__ == "__main__":
    main()
