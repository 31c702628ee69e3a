"""What the run recorder writes and when: replayable nodes (transform, condition, ...) may run
ahead of the event writer, a node that talks to the world starts only once everything before
it is committed, and every attempt keeps its input."""

import pytest
from asgiref.sync import sync_to_async

from engine.graph import default_registry
from engine.handlers.base import Handler, HandlerResult
from tests.observability.drive import execute
from workflows import services
from workflows.models import NodeRun
from workflows.runtime.persistence import (
    Batch,
    EventWriter,
    write_batch_orm,
    write_batches_postgresql,
)

pytestmark = pytest.mark.django_db(transaction=True)


class Probe(Handler):
    """Side effects (not replayable): reports which nodes were durably succeeded when it ran."""

    type = "durability_probe"
    label = "Probe"

    async def run(self, ctx) -> HandlerResult:
        durable = await sync_to_async(_succeeded_rows)(ctx.scope["run"]["id"])
        return HandlerResult(output=durable)


def _succeeded_rows(run_id: int) -> list[str]:
    rows = NodeRun.objects.filter(run_id=run_id, status="succeeded").order_by("node_id")
    return list(rows.values_list("node_id", flat=True))


@pytest.fixture
def probe_type():
    registry = default_registry()
    registry.register(Probe)
    yield
    registry._types.pop(Probe.type)


def chain(types: list[str]) -> dict:
    nodes = [
        {"id": f"n{i:03d}", "type": kind, "config": {"output": i} if kind == "transform" else {}}
        for i, kind in enumerate(types)
    ]
    edges = [
        {"id": f"e{i}", "source": f"n{i - 1:03d}", "target": f"n{i:03d}"}
        for i in range(1, len(types))
    ]
    return {"version": 1, "name": "chain", "nodes": nodes, "edges": edges}


def run_of(user, document: dict):
    workflow = services.workflow_create(owner=user, source=document)
    assert workflow.valid, workflow.errors
    run = services.run_create(user=user, workflow_id=workflow.pk)
    return execute(run.pk)


def test_a_node_with_side_effects_sees_everything_before_it_committed(user, probe_type):
    document = chain(["transform"] * 5 + ["durability_probe", "transform"])
    run = run_of(user, document)
    assert run.status == "succeeded"
    probe = NodeRun.objects.get(run=run, node_id="n005")
    assert probe.output == ["n000", "n001", "n002", "n003", "n004"]
    assert NodeRun.objects.filter(run=run, status="succeeded").count() == 7


def test_a_chain_of_replayable_nodes_is_committed_in_a_few_group_writes(user, monkeypatch):
    writes: list[int] = []
    write = EventWriter.write

    async def counting(self, batches):
        writes.append(sum(len(batch.events) for batch in batches))
        return await write(self, batches)

    monkeypatch.setattr(EventWriter, "write", counting)
    run = run_of(user, chain(["transform"] * 200))
    assert run.status == "succeeded"
    assert NodeRun.objects.filter(run=run, status="succeeded").count() == 200
    # Every event but the final run.status, which finish_run writes with the outputs.
    assert run.events.count() == sum(writes) + 1
    # Waiting for each node's commit would take one write per node (200+).
    assert len(writes) < 50, writes


def test_each_attempt_records_its_input_for_the_inspector(user, client):
    document = {
        "version": 1,
        "name": "inputs",
        "nodes": [
            {"id": "a", "type": "transform", "config": {"output": {"n": 2}}},
            {"id": "b", "type": "transform", "config": {"output": "{{ a.n * 10 }}"}},
            {"id": "c", "type": "transform", "config": {"output": 3}},
            {"id": "m", "type": "merge", "config": {"mode": "object"}},
        ],
        "edges": [
            {"id": "e1", "source": "a", "target": "b"},
            {"id": "e2", "source": "b", "target": "m"},
            {"id": "e3", "source": "c", "target": "m"},
        ],
    }
    run = run_of(user, document)
    client.force_login(user)
    body = client.get(f"/api/runs/{run.pk}/").json()
    inputs = {row["node_id"]: row["input"] for row in body["node_runs"]}
    # Roots get the run's inputs; a join gets its sources by id.
    assert inputs == {"a": {}, "b": {"n": 2}, "c": {}, "m": {"b": 20, "c": 3}}


@pytest.mark.django_db
@pytest.mark.parametrize("write", ["sql", "orm"])
def test_an_attempt_continued_after_a_park_keeps_its_first_start(user, write):
    """Both write paths (PostgreSQL's one statement, and the ORM used on SQLite) keep the
    first start of an attempt that parked and continued, and span its duration over both."""
    from datetime import UTC, datetime, timedelta

    from django.db import connection

    from tests.runtime.conftest import make_run

    if write == "sql" and connection.vendor != "postgresql":
        pytest.skip("WRITE_SQL is PostgreSQL's")
    run = make_run(user, status="running", lease_owner="w1")
    t0 = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
    NodeRun.objects.create(
        run=run, node_id="call", attempt=1, status="waiting", started_at=t0, duration_ms=500
    )
    continued = {
        "status": "succeeded",
        "input": None,
        "started_at": t0 + timedelta(seconds=60),
        "finished_at": t0 + timedelta(seconds=61),
        "output": {"ok": True},
        "error": None,
        "duration_ms": 1000,
        "handled": False,
        "reason": "",
        "handles": ["out"],
        "wait": None,
    }
    fresh = {**continued, "started_at": t0, "finished_at": t0 + timedelta(seconds=2)}
    batch = Batch(
        run_id=run.pk,
        owner="w1",
        events=[],
        rows=[(("call", "", 1), continued), (("other", "", 1), {**fresh, "duration_ms": 2000})],
        run_fields={},
    )
    if write == "sql":
        assert write_batches_postgresql([batch]) == {run.pk}
    else:
        assert write_batch_orm(batch)
    call = NodeRun.objects.get(run=run, node_id="call")
    assert (call.status, call.started_at, call.finished_at) == (
        "succeeded",
        t0,
        t0 + timedelta(seconds=61),
    )
    assert call.duration_ms == 61_000
    other = NodeRun.objects.get(run=run, node_id="other")
    assert (other.started_at, other.duration_ms) == (t0, 2000)  # a first start stays as it is


@pytest.mark.django_db
@pytest.mark.parametrize("write", ["sql", "orm"])
def test_a_resume_keeps_the_run_start_and_a_node_decided_while_parked_keeps_its_own(user, write):
    """A resumed run writes `started_at` again (its recorder is new): the first start stays,
    so a run with a 62 s delay does not read "Total: 0.0s". A node decided while the run was
    parked (an approval) ends without a new start: the row keeps the one it had, on both
    write paths, so the timeline still shows it."""
    from datetime import UTC, datetime, timedelta

    from django.db import connection

    from tests.runtime.conftest import make_run
    from workflows.models import WorkflowRun

    if write == "sql" and connection.vendor != "postgresql":
        pytest.skip("WRITE_SQL is PostgreSQL's")
    t0 = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
    run = make_run(user, status="paused", lease_owner="w1", started_at=t0)
    NodeRun.objects.create(run=run, node_id="ask", attempt=1, status="waiting", started_at=t0)
    decided = {
        "status": "succeeded",
        "finished_at": t0 + timedelta(seconds=62),
        "output": {"approved": True},
        "error": None,
        "handles": ["approved"],
    }
    batch = Batch(
        run_id=run.pk,
        owner="w1",
        events=[],
        rows=[(("ask", "", 1), decided)],
        run_fields={"status": "running", "started_at": t0 + timedelta(seconds=62)},
    )
    if write == "sql":
        assert write_batches_postgresql([batch]) == {run.pk}
    else:
        assert write_batch_orm(batch)
    assert WorkflowRun.objects.get(pk=run.pk).started_at == t0
    ask = NodeRun.objects.get(run=run, node_id="ask")
    assert (ask.status, ask.started_at) == ("succeeded", t0)
    assert ask.finished_at == t0 + timedelta(seconds=62)


def test_a_run_resumed_after_an_approval_keeps_its_start_its_wall_time_and_its_approval(user):
    from workflows import control
    from workflows.observability import timeline

    document = {
        "version": 1,
        "name": "approve",
        "nodes": [
            {"id": "before", "type": "transform", "config": {"output": 1}},
            {"id": "ask", "type": "approval", "config": {"prompt": "go?"}},
            {"id": "yes", "type": "transform", "config": {"output": 2}},
        ],
        "edges": [
            {"id": "e1", "source": "before", "target": "ask"},
            {"id": "e2", "source": "ask", "source_handle": "approved", "target": "yes"},
        ],
    }
    parked = run_of(user, document)
    assert parked.status == "paused"
    control.run_approve(run=parked, node_id="ask", approved=True, by="alice")
    done = execute(parked.pk)
    assert done.status == "succeeded"
    assert done.started_at == parked.started_at
    data = timeline.timeline(done)
    assert data["wall_ms"] == timeline.ms_between(parked.started_at, done.finished_at)
    assert {span["node"] for span in data["spans"]} == {"before", "ask", "yes"}
