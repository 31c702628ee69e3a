"""Values PostgreSQL refuses (NaN, ±Infinity, a NUL character, a lone surrogate) never poison a
worker's group commit: the run that produced one ends failed with `unstorable_output` naming
the node, the other runs of the same write go on, and the worker keeps claiming runs."""

from __future__ import annotations

import asyncio
import logging
import time
from datetime import timedelta
from types import SimpleNamespace

import psycopg
import pytest
from asgiref.sync import sync_to_async
from django.utils import timezone

from engine.events import iso_ms
from tests.runtime.conftest import make_run
from tests.runtime.workers import WorkerProcess, wait_for
from workflows import services
from workflows.models import NodeRun, RunEvent, WorkflowRun
from workflows.runtime.finish import finish_or_end
from workflows.runtime.leases import LeaseLost, RunUnstorable
from workflows.runtime.persistence import Batch
from workflows.runtime.publish import Publisher

pytestmark = pytest.mark.django_db(transaction=True)

POISONS = {
    "nan": float("nan"),
    "infinity": float("inf"),
    "minus_infinity": float("-inf"),
    "nul": "a\x00b",
    "lone_surrogate": "\ud800",
    "nested_nul_key": {"rows": [{"k\x00": 1}]},
}

# The same values written by a user's expression (`WF(x)` of the issue).
EXPRESSIONS = {
    "nan": "{{ float('nan') }}",
    "infinity": "{{ 1e308 * 10 }}",
    "nul": "{{ 'a\\x00b' }}",
    "lone_surrogate": "{{ '\\ud800' }}",
}


def leased_run(user, owner: str) -> WorkflowRun:
    return make_run(
        user,
        status="running",
        started_at=timezone.now(),
        lease_owner=owner,
        lease_expires_at=timezone.now() + timedelta(seconds=60),
    )


def node_batch(run_id: int, owner: str, output) -> Batch:
    """Node `t` of the run succeeded with `output` (what a recorder hands the publisher)."""
    now = timezone.now()
    at = iso_ms(now.timestamp())
    base = {"run": run_id, "iteration": None, "error": None, "duration_ms": None, "at": at}
    events = [
        {
            **base,
            "seq": 1,
            "type": "run.status",
            "node": None,
            "status": "running",
            "attempt": None,
        },
        {**base, "seq": 2, "type": "node.status", "node": "t", "status": "running", "attempt": 1},
        {**base, "seq": 3, "type": "node.status", "node": "t", "status": "succeeded", "attempt": 1},
        {**base, "seq": 4, "type": "node.output", "node": "t", "status": None, "attempt": 1}
        | {"output": output},
    ]
    row = {
        "status": "succeeded",
        "started_at": now,
        "finished_at": now,
        "input": None,
        "output": output,
        "error": None,
        "duration_ms": 1,
        "handled": False,
        "handles": ["out"],
        "reason": "",
    }
    return Batch(run_id, owner, events, [(("t", "", 1), row)], {"status": "running"})


def seqs(run_id: int) -> list[int]:
    return list(
        RunEvent.objects.filter(run_id=run_id).order_by("seq").values_list("seq", flat=True)
    )


@pytest.mark.parametrize("poison", POISONS.values(), ids=POISONS.keys())
async def test_a_refused_value_fails_its_own_run_and_not_the_group_commit(user, poison):
    good = await sync_to_async(leased_run)(user, "w1")
    bad = await sync_to_async(leased_run)(user, "w1")
    other = await sync_to_async(leased_run)(user, "w1")
    publisher = Publisher()
    groups: list[int] = []
    write = publisher.events.write

    async def counting(batches):
        groups.append(len(batches))
        return await write(batches)

    publisher.events.write = counting
    try:
        results = await asyncio.gather(
            publisher.write(node_batch(good.pk, "w1", {"v": 1})),
            publisher.write(node_batch(bad.pk, "w1", poison)),
            publisher.write(node_batch(other.pk, "w1", "fine")),
            return_exceptions=True,
        )
    finally:
        publisher.close()
    assert groups[0] == 3  # the three runs shared one group commit
    assert results[0] is None and results[2] is None
    assert isinstance(results[1], LeaseLost)  # the bad run's drive stops here

    @sync_to_async
    def check() -> None:
        for run, value in ((good, {"v": 1}), (other, "fine")):
            row = NodeRun.objects.get(run=run, node_id="t")
            assert (row.status, row.output) == ("succeeded", value)
            assert seqs(run.pk) == [1, 2, 3, 4]
        bad.refresh_from_db()
        assert bad.status == "failed"
        assert bad.error["type"] == "unstorable_output"
        assert "node t" in bad.error["message"]
        assert bad.finished_at is not None
        assert bad.lease_owner == ""
        row = NodeRun.objects.get(run=bad, node_id="t")
        assert row.status == "failed"
        assert row.output is None
        assert row.error["type"] == "unstorable_output"
        assert seqs(bad.pk) == [1, 2, 3, 4, 5]  # no gap, and the run's end is an event
        last = RunEvent.objects.filter(run=bad).order_by("seq").last()
        assert last.type == "run.status" and last.payload["status"] == "failed"
        assert last.payload["error"]["type"] == "unstorable_output"

    await check()


async def test_a_database_hiccup_is_retried_with_backoff_and_logged_once_per_failure(user, caplog):
    run = await sync_to_async(leased_run)(user, "w1")
    publisher = Publisher()
    write = publisher.events.write
    failures = [psycopg.OperationalError("server closed the connection")] * 2

    async def flaky(batches):
        if failures:
            raise failures.pop()
        return await write(batches)

    publisher.events.write = flaky
    caplog.set_level(logging.WARNING, logger="workflows.runtime")
    try:
        await publisher.write(node_batch(run.pk, "w1", {"v": 1}))
    finally:
        publisher.close()
    assert await sync_to_async(seqs)(run.pk) == [1, 2, 3, 4]
    lines = [r for r in caplog.records if "server closed the connection" in r.getMessage()]
    assert len(lines) == 2


# ---- with a real worker -----------------------------------------------------------------


def wf(output) -> dict:
    """`start → transform(output = x) → output`."""
    return {
        "version": 1,
        "name": "wf",
        "nodes": [
            {"id": "start", "type": "transform", "config": {"output": 1}},
            {"id": "t", "type": "transform", "config": {"output": output}},
            {"id": "out", "type": "output", "config": {"value": "{{ t }}"}},
        ],
        "edges": [
            {"id": "e1", "source": "start", "target": "t"},
            {"id": "e2", "source": "t", "target": "out"},
        ],
    }


def start_run(user, document: dict) -> WorkflowRun:
    workflow = services.workflow_create(owner=user, source=document)
    return services.run_create(user=user, workflow_id=workflow.pk)


def terminal(run_ids: list[int]) -> bool:
    done = WorkflowRun.objects.filter(
        pk__in=run_ids, status__in=("succeeded", "failed", "cancelled")
    )
    return done.count() == len(run_ids)


@pytest.fixture
def worker():
    started: list[WorkerProcess] = []

    def start(**env: str) -> WorkerProcess:
        process = WorkerProcess(**env)
        started.append(process)
        return process

    yield start
    for process in started:
        process.kill()


@pytest.mark.slow
def test_a_worker_fails_poisoned_runs_cleanly_and_runs_the_others(user, worker):
    before = [start_run(user, wf({"n": k})) for k in range(3)]
    poisoned = {name: start_run(user, wf(x)) for name, x in EXPRESSIONS.items()}
    after = [start_run(user, wf({"n": k})) for k in range(5)]
    process = worker()
    innocent = [run.pk for run in before + after]
    wait_for(lambda: terminal(innocent + [r.pk for r in poisoned.values()]), timeout=30)

    for k, run in enumerate(before + after):
        run.refresh_from_db()
        assert run.status == "succeeded", (run.pk, run.error)
        assert run.outputs == {"out": {"n": k if k < 3 else k - 3}}
    for name, run in poisoned.items():
        run.refresh_from_db()
        assert run.status == "failed", name
        assert run.error["type"] == "unstorable_output", (name, run.error)
        assert "node t" in run.error["message"], (name, run.error)
        assert run.lease_owner == ""
        row = NodeRun.objects.filter(run=run, node_id="t").order_by("attempt").last()
        assert row.status == "failed"
        assert row.error["type"] == "unstorable_output"
        seq = seqs(run.pk)
        assert seq == list(range(1, len(seq) + 1))
    process.stop()
    log = process.proc.stdout.read()
    assert len(log) < 20_000, log[-2000:]  # one line per failure, no retry storm


@pytest.mark.slow
def test_a_run_whose_drive_breaks_ends_failed_and_never_blocks_the_queue(user, worker):
    broken = make_run(  # an edge to nodes that are not there: the drive itself raises
        user,
        {
            "version": 1,
            "name": "w",
            "nodes": [],
            "edges": [{"id": "e", "source": "a", "target": "b"}],
        },
    )
    runs = [start_run(user, wf({"n": k})) for k in range(5)]
    process = worker()
    wait_for(lambda: terminal([run.pk for run in runs]), timeout=15)
    assert {run.status for run in WorkflowRun.objects.filter(pk__in=[r.pk for r in runs])} == {
        "succeeded"
    }
    wait_for(lambda: terminal([broken.pk]), timeout=15)
    broken.refresh_from_db()
    assert broken.status == "failed"
    assert broken.error["type"] == "internal"
    assert "could not be driven" in broken.error["message"]
    assert broken.lease_owner == ""
    process.stop()
    assert process.proc.stdout.read().count("broke") <= 3


async def test_outputs_refused_when_the_drive_ends_fail_the_run_instead_of_every_drive(user):
    run = await sync_to_async(leased_run)(user, "w1")
    report = SimpleNamespace(
        status="succeeded", outputs={"out": float("nan")}, error=None, finished=time.time()
    )
    publisher = Publisher()
    try:
        with pytest.raises(RunUnstorable):
            await finish_or_end(publisher, run.pk, "w1", report, None, [])
    finally:
        publisher.close()
    await run.arefresh_from_db()
    assert run.status == "failed"
    assert run.error["type"] == "unstorable_output"
    assert run.error["message"].startswith("node out failed: ")
    assert "NaN" in run.error["message"]
    assert run.lease_owner == ""
