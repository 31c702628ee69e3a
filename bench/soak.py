"""Soak: steady load on a real deployment for a long time (`make soak`, SOAK_MINUTES=30).

Runs against a scratch database `switchyard_soak` next to the one DATABASE_URL names, with a
real Daphne (`serve --no-worker`) and two `runworker` processes. Runs of mixed shapes are
submitted over the API at a steady rate (chains, fan-outs, conditions, flaky nodes that
succeed on a retry, nodes that fail every attempt, approvals decided over the API, delays
that keep runs in flight); every SOAK_KILL_S one worker is killed with SIGKILL and started
again (the other one lives throughout, so its memory can be followed). The processes run
with DEBUG off, as deployed (DEBUG=1 to keep it: each database thread then holds its last
9,000 queries, which reads as growth). At the end, once every run has had time to finish
(or SOAK_DRAIN_S), it prints:
- runs created / finished / lost (never finished) and runs that ended otherwise than their
  shape says (target 0 lost, 0 unexpected)
- duplicate completions: a node attempt that succeeded twice, a run that ended twice (0)
- RSS of the long-lived worker and of the web process, and PostgreSQL connections, first
  sample after warm-up against the last (growth target <= 10%)

    python -m bench.soak [--minutes 30] [--rate 20] [--kill-every 60]

(or SOAK_MINUTES, SOAK_RATE, SOAK_KILL_S). Exits 1 when a target is missed.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import logging
import os
import random
import signal
import statistics
import sys
import time
from dataclasses import dataclass, field

from bench.runtime import Processes, create_workflow, free_port, wait_port
from bench.scratch import ensure_database, scratch_database_url

SOAK_DB = os.environ.get("SWITCHYARD_SOAK_DB", "switchyard_soak")
SAMPLE_S = 10
GROWTH_TARGET = 0.10
DRAIN_S = float(os.environ.get("SOAK_DRAIN_S", 120))  # after the load: time left to finish
TERMINAL = ("succeeded", "failed", "cancelled")


# ---- shapes: (document, weight, the status a run of it must end with) --------------------


def node(node_id: str, type: str, config: dict | None = None, **extra) -> dict:
    return {"id": node_id, "type": type, "config": config or {}, **extra}


def edge(source: str, target: str, handle: str = "out") -> dict:
    return {"id": f"{source}-{target}", "source": source, "target": target, "source_handle": handle}


def doc(name: str, nodes: list[dict], edges: list[dict], **settings) -> dict:
    document = {"version": 1, "name": f"soak {name}", "nodes": nodes, "edges": edges}
    if settings:
        document["settings"] = settings
    return document


def chain(n: int = 10) -> dict:
    nodes = [node(f"n{i}", "transform", {"output": f"{{{{ {i} }}}}"}) for i in range(n)]
    return doc("chain", nodes, [edge(f"n{i - 1}", f"n{i}") for i in range(1, n)])


def fanout(width: int = 8) -> dict:
    nodes = [node("s", "transform", {"output": 1})]
    nodes += [node(f"p{i}", "transform", {"output": "{{ input + 1 }}"}) for i in range(width)]
    nodes.append(node("m", "merge", {"mode": "list"}))
    edges = [edge("s", f"p{i}") for i in range(width)] + [edge(f"p{i}", "m") for i in range(width)]
    return doc("fanout", nodes, edges)


def condition() -> dict:
    nodes = [
        node("s", "transform", {"output": "{{ run.id }}"}),
        node("c", "condition", {"expression": "input % 2 == 0"}),
        node("even", "transform", {"output": "even"}),
        node("odd", "transform", {"output": "odd"}),
        node("out", "output", {"value": "{{ input }}"}),
    ]
    edges = [
        edge("s", "c"),
        edge("c", "even", "true"),
        edge("c", "odd", "false"),
        edge("even", "out"),
        edge("odd", "out"),
    ]
    return doc("condition", nodes, edges)


def flaky() -> dict:
    retry = {"max_attempts": 3, "delay_s": 0.05}
    nodes = [
        node("s", "transform", {"output": 1}),
        node("flaky", "error", {"message": "flaky", "when": "node.attempt < 2"}, retry=retry),
        node("out", "output", {"value": "{{ input }}"}),
    ]
    return doc("flaky", nodes, [edge("s", "flaky"), edge("flaky", "out")])


def failing() -> dict:
    retry = {"max_attempts": 2, "delay_s": 0.05}
    nodes = [
        node("s", "transform", {"output": 1}),
        node("bad", "error", {"message": "no"}, retry=retry),
    ]
    return doc("failing", nodes, [edge("s", "bad")])


def approval() -> dict:
    nodes = [
        node("s", "transform", {"output": 1}),
        node("ask", "approval", {"prompt": "go on?"}),
        node("out", "output", {"value": "{{ input }}"}),
    ]
    return doc("approval", nodes, [edge("s", "ask"), edge("ask", "out", "approved")])


def delays() -> dict:
    nodes = [node(f"d{i}", "delay", {"seconds": 0.4}) for i in range(3)]
    return doc("delays", nodes, [edge(f"d{i - 1}", f"d{i}") for i in range(1, 3)])


SHAPES = {  # name: (document, weight, expected status)
    "chain": (chain, 3, "succeeded"),
    "fanout": (fanout, 2, "succeeded"),
    "condition": (condition, 2, "succeeded"),
    "flaky": (flaky, 1, "succeeded"),
    "failing": (failing, 1, "failed"),
    "approval": (approval, 1, "succeeded"),
    "delays": (delays, 1, "succeeded"),
}


# ---- the soak ----------------------------------------------------------------------------


@dataclass
class Soak:
    minutes: float
    rate: float
    kill_every: float
    procs: Processes
    base: str = ""
    auth: dict = field(default_factory=dict)
    workflows: dict[str, int] = field(default_factory=dict)  # shape -> workflow id
    runs: dict[int, str] = field(default_factory=dict)  # run id -> shape
    refused: dict[int, int] = field(default_factory=dict)  # HTTP status -> count
    approved: set[int] = field(default_factory=set)
    kills: int = 0
    samples: list[dict] = field(default_factory=list)
    loaded: bool = True  # samples taken under load count for the growth figures
    steady = None  # the worker never killed
    victim = None  # the worker killed and started again

    @property
    def seconds(self) -> float:
        return self.minutes * 60

    @property
    def warm_up(self) -> float:
        """Until the pools have opened what the load needs: two to three minutes (at most
        half of a short soak)."""
        return min(180.0, max(120.0, self.seconds * 0.2), self.seconds / 2)

    async def run(self) -> None:
        import httpx

        deadline = time.monotonic() + self.seconds
        async with httpx.AsyncClient(timeout=30) as http:
            tasks = [
                asyncio.create_task(self.submit(http, deadline)),
                asyncio.create_task(self.approve(http)),
                asyncio.create_task(self.kill_forever(deadline)),
                asyncio.create_task(self.sample_forever()),
            ]
            await tasks[0]
            await self.drain()
            for task in tasks[1:]:
                task.cancel()
            await asyncio.gather(*tasks[1:], return_exceptions=True)
        self.loaded = False
        await asyncio.to_thread(self.sample)  # shown, not counted: the load has stopped

    async def submit(self, http, deadline: float) -> None:
        """`rate` runs a second, shapes drawn by weight, at most 64 requests in flight."""
        names = list(SHAPES)
        weights = [SHAPES[name][1] for name in names]
        gate = asyncio.Semaphore(64)
        pending: set[asyncio.Task] = set()
        started = time.monotonic()
        for k in itertools.count():
            due = started + k / self.rate
            if due >= deadline:
                break
            await asyncio.sleep(max(0.0, due - time.monotonic()))
            await gate.acquire()
            shape = random.choices(names, weights)[0]
            task = asyncio.create_task(self.start_run(http, shape))
            task.add_done_callback(lambda _: gate.release())
            pending.add(task)
            task.add_done_callback(pending.discard)
        await asyncio.gather(*pending, return_exceptions=True)

    async def start_run(self, http, shape: str) -> None:
        url = f"{self.base}/api/workflows/{self.workflows[shape]}/runs/"
        try:
            response = await http.post(url, json={}, headers=self.auth)
        except Exception:
            self.refused[0] = self.refused.get(0, 0) + 1  # no answer at all
            return
        if response.status_code == 201:
            self.runs[response.json()["id"]] = shape
        else:
            self.refused[response.status_code] = self.refused.get(response.status_code, 0) + 1

    async def approve(self, http) -> None:
        """Approve every approval run that waits, over the API, as a person would."""
        from asgiref.sync import sync_to_async

        while True:
            await asyncio.sleep(0.5)
            ids = [run_id for run_id, shape in self.runs.items() if shape == "approval"]
            waiting = await sync_to_async(waiting_approvals)(set(ids) - self.approved)
            for run_id in waiting:
                url = f"{self.base}/api/runs/{run_id}/nodes/ask/approve/"
                try:
                    response = await http.post(url, json={"approved": True}, headers=self.auth)
                except Exception:
                    continue
                if response.status_code == 200:
                    self.approved.add(run_id)

    async def kill_forever(self, deadline: float) -> None:
        while time.monotonic() + self.kill_every < deadline:
            await asyncio.sleep(self.kill_every)
            self.victim.send_signal(signal.SIGKILL)
            self.victim.wait()
            self.kills += 1
            self.victim = await asyncio.to_thread(start_worker, self.procs)

    async def sample_forever(self) -> None:
        began = time.monotonic()
        while True:
            await asyncio.sleep(SAMPLE_S)
            await asyncio.to_thread(self.sample, time.monotonic() - began)

    def sample(self, at: float | None = None) -> None:
        at = self.seconds + DRAIN_S if at is None else at
        self.samples.append(
            {
                "at": at,
                "worker_rss_mb": rss_mb(self.steady.pid),
                "web_rss_mb": rss_mb(self.procs.procs[0].pid),
                "pg_connections": pg_connections(),
                "loaded": self.loaded,
            }
        )
        last = self.samples[-1]
        print(
            f"  {at:6.0f} s  runs {len(self.runs):6}  worker {last['worker_rss_mb']:6.1f} MB  "
            f"web {last['web_rss_mb']:6.1f} MB  pg connections {last['pg_connections']:3}",
            flush=True,
        )

    async def drain(self) -> None:
        from asgiref.sync import sync_to_async

        deadline = time.monotonic() + DRAIN_S
        while time.monotonic() < deadline:
            if not await sync_to_async(unfinished)(list(self.runs)):
                return
            await asyncio.sleep(1)


def start_worker(procs: Processes):
    return procs.start("runworker", "workflow-runs", ready="serving")


def rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def pg_connections() -> int:
    """Connections to the soak's database, but this one's."""
    import psycopg

    with psycopg.connect(os.environ["DATABASE_URL"], autocommit=True) as conn:
        query = "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
        return conn.execute(query + " AND pid <> pg_backend_pid()").fetchone()[0]


def connection_ceiling() -> int:
    """The most connections the soak's processes may open: the web process's pool, and per
    worker its database threads' pool plus the event writer's own connection."""
    from django.conf import settings

    from workflows import conf

    web = settings.DATABASES["default"].get("OPTIONS", {}).get("pool", {}).get("max_size", 0)
    worker_threads = conf.value("DB_THREADS")
    return web + 2 * (worker_threads + 1)


def waiting_approvals(run_ids: set[int]) -> list[int]:
    from workflows.models import NodeRun

    rows = NodeRun.objects.filter(run_id__in=run_ids, node_id="ask", status="waiting")
    return list(rows.values_list("run_id", flat=True).distinct())


def unfinished(run_ids: list[int]) -> int:
    from workflows.models import WorkflowRun

    return WorkflowRun.objects.filter(pk__in=run_ids).exclude(status__in=TERMINAL).count()


# ---- the verdict -------------------------------------------------------------------------


def outcomes(soak: Soak) -> dict[str, int]:
    from workflows.models import WorkflowRun

    statuses = dict(WorkflowRun.objects.filter(pk__in=soak.runs).values_list("pk", "status"))
    finished = [run_id for run_id, status in statuses.items() if status in TERMINAL]
    unexpected = [run_id for run_id in finished if statuses[run_id] != SHAPES[soak.runs[run_id]][2]]
    return {
        "created": len(soak.runs),
        "finished": len(finished),
        "lost": len(soak.runs) - len(finished),
        "unexpected": len(unexpected),
        "first_unexpected": unexpected[:5],
    }


DUPLICATES_SQL = """
SELECT
  (SELECT count(*) FROM (
     SELECT 1 FROM workflows_noderun WHERE run_id = ANY(%(runs)s) AND status = 'succeeded'
     GROUP BY run_id, node_id, iteration HAVING count(*) > 1) AS twice),
  (SELECT count(*) FROM (
     SELECT 1 FROM workflows_runevent WHERE run_id = ANY(%(runs)s) AND type = 'node.status'
       AND payload->>'status' = 'succeeded'
     GROUP BY run_id, payload->>'node', payload->>'iteration' HAVING count(*) > 1) AS events),
  (SELECT count(*) FROM (
     SELECT 1 FROM workflows_runevent WHERE run_id = ANY(%(runs)s) AND type = 'run.status'
       AND payload->>'status' IN ('succeeded', 'failed', 'cancelled')
     GROUP BY run_id HAVING count(*) > 1) AS ended)
"""


def duplicates(soak: Soak) -> dict[str, int]:
    """Nodes that completed twice (rows, events) and runs that ended twice."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(DUPLICATES_SQL, {"runs": list(soak.runs)})
        rows, events, runs = cursor.fetchone()
    return {"node rows": rows, "node events": events, "run ends": runs}


def growth(soak: Soak, key: str, window: int, summary) -> tuple[float, float, float]:
    """(first after warm-up, last, growth) of the samples taken under load, each summarised
    over `window` samples: one sample taken mid-collection or mid-reconnect does not decide."""
    after = [s[key] for s in soak.samples if s["loaded"] and s["at"] >= soak.warm_up]
    if len(after) < 2:
        return float("nan"), float("nan"), float("nan")
    first = summary(after[:window])
    last = summary(after[-window:])
    return first, last, (last - first) / first if first else float("nan")


# RSS: the median of 3 samples. Connections: the most open in a minute, since the pools open
# them on demand and close idle ones, and the killed worker's pool starts again from one.
FIGURES = (
    ("worker_rss_mb", "MB", 3, statistics.median),
    ("web_rss_mb", "MB", 3, statistics.median),
    ("pg_connections", "", 60 // SAMPLE_S, max),
)


def report(soak: Soak) -> bool:
    runs = outcomes(soak)
    twice = duplicates(soak)
    ok = runs["lost"] == 0 and runs["unexpected"] == 0 and not any(twice.values())
    print()
    print(
        f"soak: {soak.minutes:g} min at {soak.rate:g} runs/s, {soak.kills} worker kills (SIGKILL)"
    )
    print(f"runs created {runs['created']}, finished {runs['finished']}, lost {runs['lost']}")
    print(f"runs ended otherwise than their shape says: {runs['unexpected']}", end="")
    print(f" (e.g. {runs['first_unexpected']})" if runs["unexpected"] else "")
    print(f"requests refused: {soak.refused or 'none'}", end="")
    print(f"; approvals decided over the API: {len(soak.approved)}")
    print("duplicate completions: " + ", ".join(f"{name} {count}" for name, count in twice.items()))
    print(f"under load, after a warm-up of {soak.warm_up:.0f} s (a sample every {SAMPLE_S} s):")
    for key, unit, window, summary in FIGURES:
        first, last, grew = growth(soak, key, window, summary)
        verdict = "ok" if grew <= GROWTH_TARGET else "OVER TARGET"
        ok = ok and grew <= GROWTH_TARGET
        print(f"  {key:<15} {first:8.1f} -> {last:8.1f} {unit:<2}  growth {grew:+6.1%}  {verdict}")
    ceiling = connection_ceiling()
    print(f"  (the pools of the web process and two workers cap theirs at {ceiling}; this script")
    print("   holds one or two more: growth under that cap is a pool opening for a burst)")
    print("PASS" if ok else "FAIL")
    return ok


# ---- setup -------------------------------------------------------------------------------


def arguments(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.soak", description=__doc__)
    parser.add_argument("--minutes", type=float, default=float(os.environ.get("SOAK_MINUTES", 30)))
    parser.add_argument("--rate", type=float, default=float(os.environ.get("SOAK_RATE", 20)))
    parser.add_argument(
        "--kill-every", type=float, default=float(os.environ.get("SOAK_KILL_S", 60))
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = arguments(sys.argv[1:] if argv is None else argv)
    logging.getLogger("httpx").setLevel(logging.WARNING)
    url = scratch_database_url(SOAK_DB)
    if url is None or not os.environ.get("REDIS_URL"):
        print("skipped: needs DATABASE_URL (PostgreSQL) and REDIS_URL (make soak sets both)")
        return 0
    ensure_database(url)
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "switchyard.settings")
    # A prefix of its own: wake-ups and live events stay among this soak's processes.
    os.environ.setdefault("SWITCHYARD_CHANNEL_PREFIX", f"soak{os.getpid()}")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    env = {
        **os.environ,
        "SWITCHYARD_SWEEP_S": "1",
        "SWITCHYARD_LEASE_S": "5",  # a killed worker's runs are taken over within seconds
        # As deployed: with DEBUG every database thread keeps its last 9,000 queries.
        "DEBUG": os.environ.get("DEBUG", "0"),
        "PYTHONUNBUFFERED": "1",
    }
    procs = Processes(env, log="soak-processes.log")
    soak = Soak(args.minutes, args.rate, args.kill_every, procs)
    try:
        setup(soak)
        print(
            f"soak: {args.minutes:g} min, {args.rate:g} runs/s, kill -9 every {args.kill_every:g} s"
        )
        asyncio.run(soak.run())
    finally:
        procs.stop()
    return 0 if report(soak) else 1


def setup(soak: Soak) -> None:
    from django.contrib.auth import get_user_model
    from rest_framework.authtoken.models import Token

    user, _ = get_user_model().objects.get_or_create(username="soak")
    token, _ = Token.objects.get_or_create(user=user)
    port = free_port()
    soak.procs.start("serve", "--no-worker", "--port", str(port))
    soak.steady = start_worker(soak.procs)
    soak.victim = start_worker(soak.procs)
    wait_port(port)
    soak.base = f"http://127.0.0.1:{port}"
    soak.auth = {"Authorization": f"Token {token.key}"}
    for name, (make, _, _) in SHAPES.items():
        soak.workflows[name] = create_workflow(user, make())


if __name__ == "__main__":
    sys.exit(main())
