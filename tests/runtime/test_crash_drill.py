"""The crash drill, short enough for `make test`: runs of mixed shapes over real workers that
are killed with kill -9 ten times — some while they take over a dead worker's runs — and not
one run is lost, no node completes twice, every output is right."""

from __future__ import annotations

import time
from collections import Counter

import pytest

from tests.runtime.workers import WorkerProcess, wait_for
from workflows import services
from workflows.models import NodeRun, RunEvent, WorkflowRun

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.slow,
    pytest.mark.crash_drill,
]

TERMINAL = ("succeeded", "failed", "cancelled")


def chain(k: int) -> tuple[dict, str, dict | None]:
    document = {
        "version": 1,
        "name": "chain",
        "nodes": [
            {"id": "a", "type": "transform", "config": {"output": {"v": k}}},
            {"id": "nap", "type": "delay", "config": {"seconds": 1.5}},
            {"id": "t", "type": "transform", "config": {"output": "{{ a.v * 2 }}"}},
            {"id": "out", "type": "output", "config": {"value": "{{ t }}"}},
        ],
        "edges": [
            {"id": "e1", "source": "a", "target": "nap"},
            {"id": "e2", "source": "nap", "target": "t"},
            {"id": "e3", "source": "t", "target": "out"},
        ],
    }
    return document, "succeeded", {"out": 2 * k}


def fan(k: int) -> tuple[dict, str, dict | None]:
    nodes = [{"id": "s", "type": "transform", "config": {"output": k}}]
    nodes += [{"id": f"p{i}", "type": "delay", "config": {"seconds": 0.3 * i}} for i in range(5)]
    nodes += [
        {"id": "m", "type": "merge", "config": {"mode": "list"}},
        {"id": "out", "type": "output", "config": {"value": "{{ s + 1 }}"}},
    ]
    edges = [{"id": f"a{i}", "source": "s", "target": f"p{i}"} for i in range(5)]
    edges += [{"id": f"b{i}", "source": f"p{i}", "target": "m"} for i in range(5)]
    edges.append({"id": "c", "source": "m", "target": "out"})
    return (
        {"version": 1, "name": "fan", "nodes": nodes, "edges": edges},
        "succeeded",
        {"out": k + 1},
    )


def items(k: int) -> tuple[dict, str, dict | None]:
    document = {
        "version": 1,
        "name": "items",
        "nodes": [
            {
                "id": "m",
                "type": "map",
                "config": {"items": [k, k + 1, k + 2], "max_concurrency": 2},
            },
            {"id": "nap", "type": "delay", "parent": "m", "config": {"seconds": 0.6}},
            {
                "id": "v",
                "type": "transform",
                "parent": "m",
                "config": {"output": "{{ loop.item }}"},
            },
            {"id": "out", "type": "output", "config": {"value": "{{ m }}"}},
        ],
        "edges": [
            {"id": "e1", "source": "nap", "target": "v"},
            {"id": "e2", "source": "m", "target": "out"},
        ],
    }
    return document, "succeeded", {"out": [k, k + 1, k + 2]}


def failing(k: int) -> tuple[dict, str, dict | None]:
    """Fails after three attempts (more when one of them is lost with its worker)."""
    document = {
        "version": 1,
        "name": "failing",
        "nodes": [
            {"id": "nap", "type": "delay", "config": {"seconds": 1.0}},
            {
                "id": "bad",
                # An `error` node's failure is retryable (an expression error is not: a
                # division by zero or int('x') fails the same way every time).
                "type": "error",
                "config": {"message": "bad input"},
                "retry": {"max_attempts": 3, "delay_s": 0.4},  # kills hit its backoff too
            },
        ],
        "edges": [{"id": "e1", "source": "nap", "target": "bad"}],
    }
    return document, "failed", None


SHAPES = (chain, fan, items, failing)


class Fleet:
    """The drill's workers: kill -9 and replace, counting the kills."""

    def __init__(self) -> None:
        self.alive: list[WorkerProcess] = []
        self.dead: list[WorkerProcess] = []
        self.kills = 0

    def start(self, ready: bool = True) -> WorkerProcess:
        process = WorkerProcess(ready=ready)
        self.alive.append(process)
        return process

    def kill(self, process: WorkerProcess) -> None:
        process.kill()
        self.alive.remove(process)
        self.dead.append(process)
        self.kills += 1

    def close(self) -> None:
        for process in self.alive + self.dead:
            process.kill()


def lost_marks() -> int:
    return NodeRun.objects.filter(error__type="worker_lost").count()


def in_flight(run_ids) -> bool:
    return NodeRun.objects.filter(run_id__in=run_ids, status="running").exists()


def submit(user, wave: int, expected: dict) -> None:
    for j, shape in enumerate(SHAPES):
        for n in range(2 if shape is not failing else 1):
            k = wave * 10 + j * 2 + n
            document, status, outputs = shape(k)
            workflow = services.workflow_create(owner=user, source=document)
            run = services.run_create(user=user, workflow_id=workflow.pk)
            expected[run.pk] = (status, outputs)


def double_crash(fleet: Fleet) -> None:
    """Kill every worker, then kill the one that takes their runs over as soon as it has
    marked the lost attempts (mid-takeover); the next one takes over again."""
    for process in list(fleet.alive):
        fleet.kill(process)
    marks = lost_marks()
    taker = fleet.start()
    wait_for(lambda: lost_marks() > marks, timeout=20, interval=0.01)
    fleet.kill(taker)


def test_crash_drill_loses_no_run_and_completes_no_node_twice(user):
    began = time.monotonic()
    expected: dict[int, tuple[str, dict | None]] = {}
    fleet = Fleet()
    try:
        fleet.start()
        fleet.start()
        for wave in range(8):
            submit(user, wave, expected)  # 7 runs a wave, 56 in all
            wait_for(lambda: in_flight(expected), timeout=20)  # kills hit running attempts
            if wave in (2, 5):
                double_crash(fleet)  # three kills
            elif wave in (0, 3, 4, 7):
                fleet.kill(fleet.alive[0])  # the oldest: serving, with runs in flight
            while len(fleet.alive) < 2:
                fleet.start(ready=False)  # the drill goes on while it starts
        wait_for(
            lambda: (
                WorkflowRun.objects.filter(pk__in=expected, status__in=TERMINAL).count()
                == len(expected)
            ),
            timeout=60,
            interval=0.2,
        )
    finally:
        fleet.close()
    took = time.monotonic() - began

    assert fleet.kills == 10
    assert len(expected) >= 50
    runs = {run.pk: run for run in WorkflowRun.objects.filter(pk__in=expected)}
    for run_id, (status, outputs) in expected.items():
        run = runs[run_id]
        assert run.status == status, (run_id, run.document["name"], run.error)
        if outputs is not None:
            assert run.outputs == outputs, run_id
        else:
            assert "bad" in run.error["message"]
        ends = RunEvent.objects.filter(run_id=run_id, type="run.status", payload__status=status)
        assert ends.count() == 1, run_id  # finished once
        seqs = list(RunEvent.objects.filter(run_id=run_id).values_list("seq", flat=True))
        assert sorted(seqs) == list(range(1, len(seqs) + 1)), run_id
    rows = NodeRun.objects.filter(run_id__in=expected).values_list(
        "run_id", "node_id", "iteration", "attempt", "status", "error", "reason"
    )
    attempts: dict[tuple, list[tuple]] = {}
    for run_id, node_id, iteration, attempt, status, error, reason in rows:
        lost = status == "failed" and error["type"] == "worker_lost"
        retried = status == "failed" and reason == "retried"
        attempts.setdefault((run_id, node_id, iteration), []).append(
            (attempt, status, lost or retried, error and error["type"], reason)
        )
    completions = Counter(
        key for key, tries in attempts.items() for _, status, *_ in tries if status == "succeeded"
    )
    assert max(completions.values()) == 1  # no node's success recorded twice
    for key, tries in attempts.items():
        tries.sort()
        assert [a for a, *_ in tries] == list(range(1, len(tries) + 1)), (key, tries)
        # every earlier attempt was lost with its worker, or failed with a retry to follow
        assert all(goes_on for _, _, goes_on, *_ in tries[:-1]), (key, tries)
        assert not tries[-1][2], (key, tries)  # and the last one is the node's end
        if key[1] == "bad":
            assert len(tries) >= 3 and tries[-1][1] == "failed", (key, tries)
    for run_id, (status, _) in expected.items():
        if status == "succeeded":
            assert not any(
                tries[-1][1] != "succeeded" for key, tries in attempts.items() if key[0] == run_id
            ), run_id
    assert lost_marks() > 0  # the kills did hit attempts in flight
    lost_twice = sum(1 for key, tries in attempts.items() if key[1] != "bad" and len(tries) > 2)
    print(
        f"crash drill: {len(expected)} runs, {fleet.kills} kills, {lost_marks()} attempts lost, "
        f"{lost_twice} nodes lost twice or more, {took:.1f} s"
    )
