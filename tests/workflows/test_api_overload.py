"""Under overload the API sheds load with 503 + Retry-After, never a 500 or a dropped connection,
and every 201 is a committed run that a worker claims and finishes (issue 13, defect 8).

A real server (`manage.py serve --no-worker`, Daphne) on a throw-away port against the test
database takes a burst of concurrent run submissions from one asyncio client."""

from __future__ import annotations

import asyncio
import threading
import time
from contextlib import contextmanager

import httpx
import psycopg
import pytest
from psycopg_pool import PoolTimeout
from rest_framework.authtoken.models import Token

from tests.factories import chain_document, workflow_for
from tests.runtime import workers
from tests.runtime.workers import ServerProcess, WorkerProcess, wait_for
from workflows import selectors
from workflows.models import WorkflowRun

BURSTS = {"stalled database": 1000}  # as in the drill; the others 300


async def burst(url: str, token: str, count: int) -> list[httpx.Response | Exception]:
    """`count` POSTs at once, each on a connection of its own."""
    limits = httpx.Limits(max_connections=None, max_keepalive_connections=0)
    timeout = httpx.Timeout(60.0)
    headers = {"Authorization": f"Token {token}"}
    async with httpx.AsyncClient(limits=limits, timeout=timeout, headers=headers) as client:

        async def submit() -> httpx.Response | Exception:
            try:
                return await client.post(url, json={"inputs": {}})
            except httpx.HTTPError as exc:  # a dropped or refused connection
                return exc

        return await asyncio.gather(*(submit() for _ in range(count)))


@contextmanager
def stalled(workflow_id: int, *, seconds: float):
    """Hold a lock on the workflow's row for `seconds` from another connection (a run's
    insert checks its foreign key with a share lock, which then waits)."""
    if not seconds:
        yield
        return
    locked = threading.Event()

    def hold() -> None:
        with psycopg.connect(workers.test_database_url(), autocommit=False) as conn:
            conn.execute("SELECT 1 FROM workflows_workflow WHERE id = %s FOR UPDATE", [workflow_id])
            locked.set()
            time.sleep(seconds)

    holder = threading.Thread(target=hold)
    holder.start()
    locked.wait(10)
    try:
        yield
    finally:
        holder.join()


OVERLOADS = {
    # The default sizes (pool 20, 16 requests at once, 200 waiting for 5 s, pool timeout 3 s)
    # while the database stalls for longer than any of those: the workflow row is locked, so
    # every run insert waits (as on a database busy with something else).
    "stalled database": {},
    # Few slots and a short queue: most of the burst is turned away at the door.
    "admission": {"DATABASE_POOL_MAX": "6", "SWITCHYARD_REQUEST_QUEUE": "40"},
    # More requests admitted than the pool has connections, and a short pool timeout: the
    # requests that find no connection in time are answered 503 too.
    "pool": {
        "DATABASE_POOL_MAX": "2",
        "DATABASE_POOL_TIMEOUT": "0.3",
        "SWITCHYARD_MAX_CONCURRENT_REQUESTS": "64",
        "SWITCHYARD_REQUEST_QUEUE": "1000",
    },
}


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("overload", OVERLOADS)
def test_a_burst_of_run_submissions_gets_201_or_503_and_every_201_runs(user, overload):
    workflow = workflow_for(user, chain_document(1))
    token = Token.objects.create(user=user).key
    server = ServerProcess("--no-worker", **OVERLOADS[overload])
    try:
        url = f"http://127.0.0.1:{server.port}/api/workflows/{workflow.pk}/runs/"
        started = time.monotonic()
        with stalled(workflow.pk, seconds=12 if overload == "stalled database" else 0):
            answers = asyncio.run(burst(url, token, BURSTS.get(overload, 300)))
        elapsed = time.monotonic() - started
    finally:
        server.stop()
    dropped = [answer for answer in answers if isinstance(answer, Exception)]
    assert not dropped, f"{len(dropped)} connections dropped: {dropped[:3]}"
    statuses = sorted({answer.status_code for answer in answers})
    assert set(statuses) <= {201, 503}, [a.text[:200] for a in answers if a.status_code == 500][:3]
    shed = [answer for answer in answers if answer.status_code == 503]
    created = [answer.json()["id"] for answer in answers if answer.status_code == 201]
    print(f"{overload}: {len(created)} created, {len(shed)} shed in {elapsed:.1f} s")
    assert shed and created, statuses
    for answer in shed:
        assert int(answer.headers["Retry-After"]) >= 1
        assert answer.json()["errors"][0]["code"] == "overloaded"
    # Every 201 is committed and queued; a 503 created nothing.
    runs = WorkflowRun.objects.filter(workflow=workflow)
    assert sorted(runs.values_list("pk", flat=True)) == sorted(created)
    assert set(runs.values_list("status", flat=True)) == {"queued"}
    worker = WorkerProcess()
    try:
        wait_for(lambda: not runs.exclude(status="succeeded").exists(), timeout=120, interval=0.5)
    finally:
        worker.stop()


@pytest.mark.django_db
def test_a_pool_timeout_answers_503_with_retry_after(api, monkeypatch):
    def exhausted(**kwargs):
        raise PoolTimeout("couldn't get a connection after 3.00 sec")

    monkeypatch.setattr(selectors, "run_list", exhausted)
    response = api.get("/api/runs/")
    assert response.status_code == 503
    assert response["Retry-After"] == "2"
    assert response.json()["errors"][0]["code"] == "overloaded"
