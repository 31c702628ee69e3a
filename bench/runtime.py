"""End-to-end runtime benchmark: API call → worker → PostgreSQL → Redis → websocket client.

Runs against a scratch database `switchyard_bench` next to the one DATABASE_URL names, with
real `runworker` processes and a real Daphne (`serve --no-worker`). Prints:
- chain_1000 / fanout_1000 / fanin_1000 of no-op nodes: ms per node from the API call to the
  final status
- latency from a node's state change to a websocket client receiving it, 20 runs in flight
- throughput of 20-node runs per second over 2 workers (submitted 8 at a time over keep-alive
  connections by a small load generator of its own), and how fast the API took them
- CPU milliseconds per run of that throughput, per process (web, workers, PostgreSQL
  backends, this client) read from /proc: robust where wall-clock rates are not (a busy
  machine stretches the time, not the work)

The web and worker processes run with DEBUG off, as in production (DEBUG keeps every SQL query
in memory and costs CPU); SWITCHYARD_BENCH_DEBUG=1 runs them with DEBUG on instead.

SWITCHYARD_BENCH_ONLY=throughput skips the other benchmarks (A/B runs of the throughput);
SWITCHYARD_BENCH_RUNS sets how many runs it submits (default 600, after 40 not counted that
warm the processes up).
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import signal
import socket
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from bench.scratch import ensure_database, scratch_database_url

ROOT = Path(__file__).resolve().parent.parent
# Another name (SWITCHYARD_BENCH_DB) keeps benchmarks run at the same time apart: workers
# claim any queued run of their database.
BENCH_DB = os.environ.get("SWITCHYARD_BENCH_DB", "switchyard_bench")
LATENCY_NODES = 60


def noop_chain(n: int) -> dict:
    nodes = [{"id": f"n{i}", "type": "transform", "config": {"output": i}} for i in range(n)]
    edges = [{"id": f"e{i}", "source": f"n{i - 1}", "target": f"n{i}"} for i in range(1, n)]
    return {"version": 1, "name": f"chain_{n}", "nodes": nodes, "edges": edges}


def noop_fanout(n: int) -> dict:
    nodes = [{"id": f"n{i}", "type": "transform", "config": {"output": i}} for i in range(n)]
    edges = [{"id": f"e{i}", "source": "n0", "target": f"n{i}"} for i in range(1, n)]
    doc = {"version": 1, "name": f"fanout_{n}", "nodes": nodes, "edges": edges}
    doc["settings"] = {"max_parallel": 64}
    return doc


def noop_fanin(n: int) -> dict:
    """n sources into one all_success join that reads them all: as cheap per node as a chain."""
    nodes = [{"id": f"n{i}", "type": "transform", "config": {"output": i}} for i in range(n - 1)]
    join = {"output": "{{ len(input) }}"}
    nodes.append({"id": "join", "type": "transform", "join": "all_success", "config": join})
    edges = [{"id": f"e{i}", "source": f"n{i}", "target": "join"} for i in range(n - 1)]
    return {"version": 1, "name": f"fanin_{n}", "nodes": nodes, "edges": edges}


def delay_chain(n: int, seconds: float) -> dict:
    nodes = [{"id": f"n{i}", "type": "delay", "config": {"seconds": seconds}} for i in range(n)]
    edges = [{"id": f"e{i}", "source": f"n{i - 1}", "target": f"n{i}"} for i in range(1, n)]
    return {"version": 1, "name": f"delays_{n}", "nodes": nodes, "edges": edges}


def wide(width: int) -> dict:
    nodes = [{"id": "s", "type": "transform", "config": {"output": 1}}]
    nodes += [{"id": f"p{i}", "type": "transform", "config": {"output": i}} for i in range(width)]
    nodes.append({"id": "m", "type": "merge", "config": {"mode": "list"}})
    edges = [{"id": f"a{i}", "source": "s", "target": f"p{i}"} for i in range(width)]
    edges += [{"id": f"b{i}", "source": f"p{i}", "target": "m"} for i in range(width)]
    return {"version": 1, "name": "wide", "nodes": nodes, "edges": edges}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Processes:
    def __init__(self, env: dict[str, str], log: str = "runtime-processes.log") -> None:
        self.env = env
        self.procs: list[subprocess.Popen] = []
        self.log = open(ROOT / "bench" / log, "w")  # noqa: SIM115

    def start(self, *args: str, ready: str | None = None) -> subprocess.Popen:
        proc = subprocess.Popen(
            [sys.executable, "manage.py", *args],
            cwd=ROOT,
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=self.log,
            text=True,
        )
        self.procs.append(proc)
        if ready:
            line = proc.stdout.readline()
            if ready not in line:
                raise RuntimeError(f"{args} did not start: {line}")
        return proc

    def stop(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in self.procs:
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
        self.log.close()


def wait_port(port: int) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"nothing listens on {port}")


def main() -> None:
    logging.getLogger("httpx").setLevel(logging.WARNING)  # one line per request otherwise
    url = scratch_database_url(BENCH_DB)
    if url is None or not os.environ.get("REDIS_URL"):
        print("skipped: needs DATABASE_URL (PostgreSQL) and REDIS_URL (make bench sets both)")
        return
    ensure_database(url)
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "switchyard.settings")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    env = {
        **os.environ,
        "SWITCHYARD_SWEEP_S": "1",
        "PYTHONUNBUFFERED": "1",
        "DEBUG": server_debug(),
    }
    procs = Processes(env)
    try:
        rows = run_benchmarks(procs)
    finally:
        procs.stop()
    print(f"web and worker processes: DEBUG={'on' if env['DEBUG'] == '1' else 'off'}")
    width = max(len(name) for name, _, _ in rows)
    print(f"{'benchmark':<{width}}  {'result':>14}  target")
    for name, value, target in rows:
        print(f"{name:<{width}}  {value:>14}  {target}")


def server_debug() -> str:
    """DEBUG of the web and worker processes: off (production) unless SWITCHYARD_BENCH_DEBUG."""
    return "1" if os.environ.get("SWITCHYARD_BENCH_DEBUG") == "1" else "0"


def run_benchmarks(procs: Processes) -> list[tuple[str, str, str]]:
    from django.contrib.auth import get_user_model
    from rest_framework.authtoken.models import Token

    user, _ = get_user_model().objects.get_or_create(username="bench")
    token, _ = Token.objects.get_or_create(user=user)
    port = free_port()
    procs.start("serve", "--no-worker", "--port", str(port))
    procs.start("runworker", "workflow-runs", ready="serving")
    wait_port(port)
    base = f"http://127.0.0.1:{port}"
    auth = {"Authorization": f"Token {token.key}"}
    rows = []
    if os.environ.get("SWITCHYARD_BENCH_ONLY") == "throughput":
        procs.start("runworker", "workflow-runs", ready="serving")
        return throughput_rows(procs, base, auth, user)
    shapes = (
        ("chain_1000", noop_chain(1000)),
        ("fanout_1000", noop_fanout(1000)),
        ("fanin_1000", noop_fanin(1000)),
    )
    for name, doc in shapes:
        ms = end_to_end_ms(base, auth, user, doc)
        rows.append((f"{name} (ms/node, API → final)", f"{ms / 1000:.3f}", "≤ 1.5"))
    procs.start("runworker", "workflow-runs", ready="serving")
    p50, p95, count = asyncio.run(latency(base, port, auth, user))
    name = f"ws latency p50 ({count} events, 20 runs x {LATENCY_NODES} nodes)"
    rows.append((name, f"{p50:.1f} ms", "≤ 10 ms"))
    rows.append(("ws latency p95", f"{p95:.1f} ms", "≤ 50 ms"))
    return rows + throughput_rows(procs, base, auth, user)


def throughput_rows(procs: Processes, base: str, auth: dict, user) -> list[tuple[str, str, str]]:
    runs = int(os.environ.get("SWITCHYARD_BENCH_RUNS", "600"))
    web, *workers = procs.procs
    workflow_id = create_workflow(user, wide(18))
    # Warm-up, not counted: each process's first runs pay once for imports, caches and pools.
    wait_finished(asyncio.run(submit_runs(base, auth, workflow_id, WARM_UP_RUNS)))
    before = cpu_snapshot(web, workers)
    rate, submitted = throughput(base, auth, workflow_id, runs=runs)
    spent = {
        part: (ms - before.get(part, 0.0)) / runs for part, ms in cpu_snapshot(web, workers).items()
    }
    rows = [("throughput, 20-node runs, 2 workers", f"{rate:.1f} runs/s", "≥ 150")]
    name = f"  of which submissions ({SUBMITTERS} at a time)"
    rows.append((name, f"{submitted:.1f} runs/s", "—"))
    total = sum(spent.values())
    rows.append(("  CPU per run, all processes", f"{total:.1f} ms", "≤ 13 ms"))
    for part in ("web", "workers", "postgres", "client"):
        rows.append((f"    {part}", f"{spent.get(part, 0.0):.1f} ms", "—"))
    return rows


def cpu_snapshot(web: subprocess.Popen, workers: list[subprocess.Popen]) -> dict[str, float]:
    """CPU milliseconds spent so far by each part: the web process, the workers, the
    PostgreSQL backends of the bench database (pooled: they outlive the measurement) and this
    process."""
    backends = postgres_backends()
    return {
        "web": cpu_ms(web.pid),
        "workers": sum(cpu_ms(proc.pid) for proc in workers),
        "postgres": sum(cpu_ms(pid) for pid in backends),
        "client": sum(os.times()[:2]) * 1000,
    }


def postgres_backends() -> list[int]:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database()"
            " AND pid <> pg_backend_pid()"
        )
        return [pid for (pid,) in cursor.fetchall()]


CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def cpu_ms(pid: int) -> float:
    """User + system CPU of a process, 0 when it is gone or not readable (another host)."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) * 1000 / CLOCK_TICKS


def create_workflow(user, doc: dict) -> int:
    from workflows import services

    return services.workflow_create(owner=user, source=doc).pk


def start_run(client, base: str, auth: dict, workflow_id: int) -> int:
    response = client.post(f"{base}/api/workflows/{workflow_id}/runs/", json={}, headers=auth)
    response.raise_for_status()
    return response.json()["id"]


def wait_finished(run_ids: list[int], timeout: float = 300) -> dict[int, datetime]:
    from workflows.models import WorkflowRun

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        done = dict(
            WorkflowRun.objects.filter(pk__in=run_ids, finished_at__isnull=False).values_list(
                "pk", "finished_at"
            )
        )
        if len(done) == len(run_ids):
            return done
        time.sleep(0.01)
    raise RuntimeError("runs did not finish in time")


def end_to_end_ms(base: str, auth: dict, user, doc: dict) -> float:
    import httpx

    workflow_id = create_workflow(user, doc)
    with httpx.Client(timeout=30) as client:
        start_run(client, base, auth, workflow_id)  # warm-up: imports, pools, caches
        wait_finished_latest(workflow_id)
        began = datetime.now(UTC)
        run_id = start_run(client, base, auth, workflow_id)
    finished_at = wait_finished([run_id])[run_id]
    return (finished_at - began).total_seconds() * 1000


def wait_finished_latest(workflow_id: int) -> None:
    from workflows.models import WorkflowRun

    ids = list(WorkflowRun.objects.filter(workflow_id=workflow_id).values_list("pk", flat=True))
    wait_finished(ids)


async def latency(base: str, port: int, auth: dict, user) -> tuple[float, float, int]:
    import httpx
    import websockets
    from asgiref.sync import sync_to_async
    from django.test import Client

    # 20 runs of 60 x 50 ms delays: ~3 s each, all in flight together, ~800 state changes/s.
    workflow_id = await sync_to_async(create_workflow)(user, delay_chain(LATENCY_NODES, 0.05))
    client = Client()
    await sync_to_async(client.force_login)(user)
    cookie = client.cookies["sessionid"].value
    async with httpx.AsyncClient(timeout=30) as http:
        responses = await asyncio.gather(
            *(
                http.post(f"{base}/api/workflows/{workflow_id}/runs/", json={}, headers=auth)
                for _ in range(20)
            )
        )
    run_ids = [r.json()["id"] for r in responses]
    samples: list[float] = []

    async def watch(run_id: int) -> None:
        async with websockets.connect(
            f"ws://127.0.0.1:{port}/ws/runs/{run_id}/",
            additional_headers={"Cookie": f"sessionid={cookie}", "Origin": base},
            max_size=None,
        ) as ws:
            subscribed = time.time()
            while True:
                event = json.loads(await ws.recv())
                received = time.time()
                at = datetime.fromisoformat(event["at"]).timestamp()
                # Only changes that happened while subscribed: the replay of earlier events
                # measures how late the client connected, not the runtime.
                if event["type"] == "node.status" and at > subscribed:
                    samples.append((received - at) * 1000)
                if event["type"] == "run.status" and event["status"] in ("succeeded", "failed"):
                    return

    await asyncio.gather(*(watch(run_id) for run_id in run_ids))
    live = sorted(samples)
    p95 = live[int(len(live) * 0.95) - 1]
    return statistics.median(live), p95, len(live)


def throughput(base: str, auth: dict, workflow_id: int, runs: int) -> tuple[float, float]:
    """(runs finished per second, runs submitted per second): `runs` submissions over the
    API, SUBMITTERS at a time as several clients would, timed to the last run's end."""
    from workflows.models import WorkflowRun

    began = datetime.now(UTC)
    run_ids = asyncio.run(submit_runs(base, auth, workflow_id, runs))
    submitted = (datetime.now(UTC) - began).total_seconds()
    finished = wait_finished(run_ids)
    assert WorkflowRun.objects.filter(pk__in=run_ids, status="succeeded").count() == runs
    return runs / (max(finished.values()) - began).total_seconds(), runs / submitted


SUBMITTERS = 8
WARM_UP_RUNS = 40


async def submit_runs(base: str, auth: dict, workflow_id: int, runs: int) -> list[int]:
    """Submit `runs` runs over SUBMITTERS keep-alive connections, each sending its next
    request when the last one was answered. A load generator written for this (HTTP/1.1 on
    asyncio streams), not httpx: the client shares the machine with what it measures, and
    httpx's own work per request (about 1 ms of CPU) was taken from the server's share."""
    host, port = base.removeprefix("http://").split(":")
    path = f"/api/workflows/{workflow_id}/runs/"
    request = (
        f"POST {path} HTTP/1.1\r\nHost: {host}:{port}\r\n"
        + "".join(f"{name}: {value}\r\n" for name, value in auth.items())
        + "Content-Type: application/json\r\nContent-Length: 2\r\n\r\n{}"
    ).encode()
    left = iter(range(runs))
    run_ids: list[int] = []

    async def submitter() -> None:
        reader, writer = await asyncio.open_connection(host, int(port))
        try:
            for _ in left:
                writer.write(request)
                run_ids.append(json.loads(await read_response(reader, path))["id"])
        finally:
            writer.close()

    await asyncio.gather(*(submitter() for _ in range(SUBMITTERS)))
    return run_ids


async def read_response(reader: asyncio.StreamReader, path: str) -> bytes:
    """The body of one HTTP/1.1 response with a Content-Length; anything but 201 raises."""
    head = await reader.readuntil(b"\r\n\r\n")
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    headers = dict(line.split(": ", 1) for line in header_lines if ": " in line)
    length = int(next(v for k, v in headers.items() if k.lower() == "content-length"))
    body = await reader.readexactly(length)
    if status_line.split()[1] != "201":
        raise RuntimeError(f"POST {path} answered {status_line}: {body[:300]!r}")
    return body


if __name__ == "__main__":
    main()
