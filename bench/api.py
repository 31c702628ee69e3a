"""API benchmark: read and save a 500-node / 600-edge workflow through the REST API.

Standalone: `DATABASE_URL=postgres://... .venv/bin/python -m bench.api` (or `python -m bench api`).
It runs in a scratch database (`test_<name>`, created, migrated and dropped here), so the
configured database is never touched. Targets (SPEC issue 4): GET <= 100 ms, PUT with 10 nodes
changed <= 150 ms, full replace <= 400 ms.
"""

from __future__ import annotations

import copy
import os
import statistics
import time
from collections.abc import Callable

NODES = 500
EDGES = 600
ROUNDS = 7
TARGETS_MS = {"GET": 100.0, "PUT 10 nodes changed": 150.0, "PUT full replace": 400.0}


def document(prefix: str = "n") -> dict:
    """A valid DAG: a chain of transforms, plus skip edges (i -> i+2) up to EDGES edges."""
    nodes = [
        {
            "id": f"{prefix}{i}",
            "type": "transform",
            "name": f"Step {i}",
            "config": {"output": {"value": i, "previous": "{{ input }}"}},
            "position": {"x": 200 * (i % 25), "y": 120 * (i // 25)},
        }
        for i in range(NODES)
    ]
    edges = [
        {"id": f"{prefix}e{i}", "source": f"{prefix}{i - 1}", "target": f"{prefix}{i}"}
        for i in range(1, NODES)
    ]
    for i in range(EDGES - len(edges)):
        edges.append(
            {"id": f"{prefix}s{i}", "source": f"{prefix}{i}", "target": f"{prefix}{i + 2}"}
        )
    return {"version": 1, "name": "bench", "nodes": nodes, "edges": edges}


def timed(action: Callable[[], object]) -> float:
    started = time.perf_counter()
    action()
    return (time.perf_counter() - started) * 1000


def measure(client, workflow_id: int) -> dict[str, list[float]]:
    url = f"/api/workflows/{workflow_id}/"
    results: dict[str, list[float]] = {name: [] for name in TARGETS_MS}

    def get():
        response = client.get(url)
        assert response.status_code == 200, response.content[:300]
        return response.json()

    current = get()
    for round_ in range(ROUNDS):
        results["GET"].append(timed(get))
        changed = copy.deepcopy(current)
        for node in changed["nodes"][round_ * 10 : round_ * 10 + 10]:
            node["config"] = {"output": {"value": f"changed in round {round_}"}}
        results["PUT 10 nodes changed"].append(timed(lambda body=changed: put(client, url, body)))
        current = get()
        replacement = document(prefix="b" if round_ % 2 == 0 else "n")
        replacement["revision"] = current["revision"]
        results["PUT full replace"].append(timed(lambda body=replacement: put(client, url, body)))
        current = get()
    return results


def put(client, url: str, body: dict) -> None:
    response = client.put(url, body, format="json")
    assert response.status_code == 200, response.content[:300]
    body["revision"] = response.json()["revision"]


def print_table(results: dict[str, list[float]]) -> None:
    print(f"workflow of {NODES} nodes / {EDGES} edges, {ROUNDS} rounds, through the REST API")
    print(f"{'operation':<24}{'median ms':>11}{'max ms':>9}{'target ms':>11}  ok")
    for name, samples in results.items():
        median = statistics.median(samples)
        target = TARGETS_MS[name]
        verdict = "yes" if median <= target else "NO"
        print(f"{name:<24}{median:>11.1f}{max(samples):>9.1f}{target:>11.0f}  {verdict}")


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "switchyard.settings")
    import django

    django.setup()
    from django.conf import settings
    from django.db import connection
    from django.test.utils import setup_test_environment, teardown_test_environment

    if connection.vendor != "postgresql":
        print("bench.api: set DATABASE_URL to a PostgreSQL database (the targets are for it)")
        return
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    setup_test_environment()
    old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True)
    try:
        print_table(run())
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)
        teardown_test_environment()


def run() -> dict[str, list[float]]:
    from django.contrib.auth import get_user_model
    from rest_framework.test import APIClient

    from workflows import services

    user = get_user_model().objects.create_user(username="bench", password="bench-password")
    workflow = services.workflow_create(owner=user, source=document())
    assert workflow.valid, workflow.errors[:3]
    client = APIClient()
    client.force_authenticate(user)
    return measure(client, workflow.pk)


if __name__ == "__main__":
    main()
