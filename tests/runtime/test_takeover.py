"""A takeover is idempotent: a worker that dies while taking a run over (after it marked the
lost attempts, before it recorded their new attempts) leaves the run for the next worker to
take over just the same — however many times in a row that happens."""

from __future__ import annotations

import pytest
from django.db.models import Q
from django.utils import timezone

from tests.runtime.conftest import make_run
from tests.runtime.workers import WorkerProcess, wait_for
from workflows import services
from workflows.models import NodeRun, RunEvent, WorkflowRun
from workflows.runtime.snapshots import snapshot_from_rows

pytestmark = pytest.mark.django_db(transaction=True)


def two_naps() -> dict:
    """Two delays in flight at once; with one node slot a takeover can re-run only one of
    them at a time, so the other's lost attempt stays marked with no new attempt after it."""
    return {
        "version": 1,
        "name": "two naps",
        "nodes": [
            {"id": "s", "type": "transform", "config": {"output": 7}},
            {"id": "y", "type": "delay", "config": {"seconds": 2.5}},
            {"id": "x", "type": "delay", "config": {"seconds": 2.0}},
            {"id": "m", "type": "merge", "config": {"mode": "list"}},
            {"id": "out", "type": "output", "config": {"value": "{{ s }}"}},
        ],
        "edges": [
            {"id": "e1", "source": "s", "target": "y"},
            {"id": "e2", "source": "s", "target": "x"},
            {"id": "e3", "source": "y", "target": "m"},
            {"id": "e4", "source": "x", "target": "m"},
            {"id": "e5", "source": "m", "target": "out"},
        ],
    }


def running_naps(run_id: int) -> set[int]:
    """The rows of the naps' attempts running now."""
    rows = NodeRun.objects.filter(run_id=run_id, node_id__in=("x", "y"), status="running")
    return set(rows.values_list("pk", flat=True))


def latest(run_id: int, node_id: str) -> NodeRun:
    return NodeRun.objects.filter(run_id=run_id, node_id=node_id).order_by("attempt").last()


@pytest.mark.slow
def test_a_run_survives_workers_killed_during_takeover_three_times_in_a_row(user):
    workflow = services.workflow_create(owner=user, source=two_naps())
    run = services.run_create(user=user, workflow_id=workflow.pk)
    processes: list[WorkerProcess] = []
    try:
        processes.append(WorkerProcess())
        wait_for(lambda: len(running_naps(run.pk)) == 2, timeout=20)
        processes[-1].kill()  # both naps in flight
        for round_ in range(1, 4):
            seen = running_naps(run.pk)
            processes.append(WorkerProcess(SWITCHYARD_WORKER_MAX_NODES="1"))
            # The takeover marked the lost attempts and re-runs one nap in the only slot; the
            # other nap's lost attempt is the latest row it has when this worker dies.
            wait_for(lambda seen=seen: running_naps(run.pk) - seen, timeout=20)
            waiting = [n for n in ("x", "y") if latest(run.pk, n).status != "running"]
            assert len(waiting) == 1, round_
            assert latest(run.pk, waiting[0]).error["type"] == "worker_lost"
            processes[-1].kill()
        processes.append(WorkerProcess())
        wait_for(
            lambda: WorkflowRun.objects.get(pk=run.pk).status in ("succeeded", "failed"),
            timeout=40,
        )
    finally:
        for process in processes:
            process.kill()

    run.refresh_from_db()
    assert run.status == "succeeded", run.error
    assert run.outputs == {"out": 7}
    for node in ("x", "y"):
        rows = list(NodeRun.objects.filter(run=run, node_id=node).order_by("attempt"))
        assert [r.attempt for r in rows] == list(range(1, len(rows) + 1))  # counted in order
        assert rows[-1].status == "succeeded"
        assert all(r.status == "failed" and r.error["type"] == "worker_lost" for r in rows[:-1]), [
            (r.attempt, r.status, r.error) for r in rows
        ]
    for node in ("s", "m", "out"):
        assert NodeRun.objects.filter(run=run, node_id=node).count() == 1
    assert not NodeRun.objects.filter(Q(run=run) & ~Q(status__in=("succeeded", "failed"))).exists()
    seqs = list(RunEvent.objects.filter(run=run).order_by("seq").values_list("seq", flat=True))
    assert seqs == list(range(1, len(seqs) + 1))
    ends = RunEvent.objects.filter(run=run, type="run.status", payload__status="succeeded")
    assert ends.count() == 1


def attempt_row(run, node: str, attempt: int, status: str, **fields) -> NodeRun:
    now = timezone.now()
    return NodeRun.objects.create(
        run=run, node_id=node, attempt=attempt, status=status, started_at=now, **fields
    )


def test_rows_of_an_interrupted_takeover_read_as_attempts_in_flight_and_outputs_kept(user):
    document = {
        "version": 1,
        "name": "w",
        "nodes": [
            {"id": node, "type": "transform", "config": {"output": 1}}
            for node in ("lost", "backing_off", "gave_up", "done")
        ]
        + [{"id": "out", "type": "output", "config": {"value": 5}}],
        "edges": [],
    }
    run = make_run(user, document, status="running", started_at=timezone.now())
    RunEvent.objects.create(run=run, seq=1, type="run.status", payload={}, at=timezone.now())
    lost = {"message": "the worker running this attempt was lost", "type": "worker_lost"}
    failed = {"message": "boom", "type": "expression"}
    attempt_row(run, "lost", 1, "failed", error=lost, reason="worker lost; attempted again")
    attempt_row(run, "backing_off", 1, "failed", error=failed, reason="retried")
    attempt_row(run, "gave_up", 1, "failed", error=failed, reason="retried")
    attempt_row(run, "gave_up", 2, "failed", error=failed)
    attempt_row(run, "done", 1, "succeeded", output=3)
    attempt_row(run, "out", 1, "succeeded", output=5)

    snapshot = snapshot_from_rows(run)
    nodes = snapshot["nodes"]
    for node in ("lost", "backing_off"):  # the next attempt runs: not the node's end
        assert nodes[node]["status"] == "running"
        assert nodes[node]["attempts"] == 1  # counted: the next one is attempt 2
        assert nodes[node]["error"] is None
        assert nodes[node]["reason"] is None  # the next attempt's row must not inherit it
    assert (nodes["gave_up"]["status"], nodes["gave_up"]["error"]) == ("failed", failed)
    assert (nodes["done"]["status"], nodes["done"]["output"]) == ("succeeded", 3)
    assert snapshot["outputs"] == {"out": 5}  # an output node done before: not lost
