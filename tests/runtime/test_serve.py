"""Embedded mode: `manage.py serve` runs Daphne and a worker in one process; a real websocket
client (not the test communicator) logs in and watches a run to the end. Also: Redis restarting
in the middle of a run loses no event."""

from __future__ import annotations

import json
import subprocess
import time

import pytest
import websockets
from asgiref.sync import sync_to_async
from django.test import Client

from tests.runtime.test_worker import chain, finished, persisted_events, run_status, start_run
from tests.runtime.workers import ServerProcess, WorkerProcess, wait_for
from workflows import services

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


@pytest.fixture
def server():
    process = ServerProcess()
    yield f"127.0.0.1:{process.port}"
    process.stop()


def session_cookie(user) -> str:
    client = Client()
    client.force_login(user)
    return client.cookies["sessionid"].value


async def test_serve_executes_a_run_and_a_real_client_watches_it(user, server):
    workflow = await sync_to_async(services.workflow_create)(owner=user, source=chain(0.2))
    run = await sync_to_async(services.run_create)(user=user, workflow_id=workflow.pk)
    cookie = await sync_to_async(session_cookie)(user)
    events = []
    async with websockets.connect(
        f"ws://{server}/ws/runs/{run.pk}/",
        additional_headers={"Cookie": f"sessionid={cookie}", "Origin": f"http://{server}"},
    ) as socket_:
        while True:
            event = json.loads(await socket_.recv())
            events.append(event)
            if event["type"] == "run.status" and event["status"] != "running":
                break
    assert events[-1]["status"] == "succeeded", events
    assert [e["seq"] for e in events] == list(range(1, len(events) + 1))
    assert [e["node"] for e in events if e.get("status") == "running" and e["node"]] == [
        "a",
        "d1",
        "out",
    ]


async def test_serve_refuses_a_websocket_without_login(user, server):
    run = await sync_to_async(start_run)(user, chain(0.01))
    with pytest.raises(websockets.exceptions.WebSocketException):
        async with websockets.connect(
            f"ws://{server}/ws/runs/{run.pk}/", additional_headers={"Origin": f"http://{server}"}
        ) as socket_:
            await socket_.recv()


def restart_redis() -> None:
    subprocess.run(
        ["redis-cli", "-h", "127.0.0.1", "-p", "6379", "shutdown", "nosave"], check=False
    )
    time.sleep(0.5)
    subprocess.run(
        [
            "redis-server",
            "--daemonize",
            "yes",
            "--bind",
            "127.0.0.1",
            "--port",
            "6379",
            "--save",
            "",
            "--appendonly",
            "no",
        ],
        check=True,
    )
    wait_for(
        lambda: (
            subprocess.run(["redis-cli", "ping"], capture_output=True, text=True).stdout.strip()
            == "PONG"
        ),
        timeout=10,
    )


def test_a_redis_restart_mid_run_loses_no_event(user):
    worker = WorkerProcess()
    try:
        run = start_run(user, chain(0.5, 0.5, 0.5, 0.5))
        wait_for(lambda: run_status(run.pk) == "running", timeout=20)
        restart_redis()
        wait_for(lambda: finished(run.pk), timeout=30)
    finally:
        worker.kill()
    assert run_status(run.pk) == "succeeded"
    seqs = [e["seq"] for e in persisted_events(run.pk)]
    assert seqs == list(range(1, len(seqs) + 1))


async def test_a_client_that_never_reads_slows_neither_the_run_nor_other_clients(user, server):
    workflow = await sync_to_async(services.workflow_create)(
        owner=user, source=chain(*([0.02] * 30))
    )
    run = await sync_to_async(services.run_create)(user=user, workflow_id=workflow.pk)
    cookie = await sync_to_async(session_cookie)(user)
    headers = {"Cookie": f"sessionid={cookie}", "Origin": f"http://{server}"}
    url = f"ws://{server}/ws/runs/{run.pk}/"
    began = time.monotonic()
    async with (
        websockets.connect(url, additional_headers=headers, max_queue=1) as stuck,
        websockets.connect(url, additional_headers=headers) as reader,
    ):
        events = []
        while True:
            event = json.loads(await reader.recv())
            events.append(event)
            if event["type"] == "run.status" and event["status"] != "running":
                break
        elapsed = time.monotonic() - began
        assert stuck.state.name == "OPEN"
    assert events[-1]["status"] == "succeeded"
    assert [e["seq"] for e in events] == list(range(1, len(events) + 1))
    assert elapsed < 10  # 30 nodes of 20 ms; a blocked server would never get here
