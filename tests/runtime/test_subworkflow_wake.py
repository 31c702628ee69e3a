"""Who wakes a parent parked on its child (`child_runs.run_finished`, called in the
transaction that ends a drive): the child's end wakes a parked parent; a parent that parks
after its child already ended wakes itself; nothing else does."""

from __future__ import annotations

import pytest

from tests.runtime.conftest import make_run
from workflows.models import WorkflowRun
from workflows.runtime import child_runs

pytestmark = pytest.mark.django_db


def parked_state(attempts: int = 1, **node) -> dict:
    wait = {"kind": "subworkflow", "wake_at": None, "data": {"run": 0}}
    call = {"status": "waiting", "attempts": attempts, "error": None, "wait": wait, **node}
    return {"version": 1, "nodes": {"first": {"status": "succeeded"}, "call": call}}


def parked_in_body_state(index: int = 1) -> dict:
    """`call` waits for its child in iteration m[index] of map `m`; the other item finished."""
    top = parked_state()
    call = top["nodes"].pop("call")
    wait = {"kind": "body", "wake_at": None, "data": {"iterations": [f"m[{index}]"]}}
    top["nodes"]["m"] = {"status": "waiting", "attempts": 1, "error": None, "wait": wait}
    done = {"version": 1, "nodes": {"call": {"status": "succeeded", "attempts": 1}}}
    waiting = {"version": 1, "nodes": {"call": call}}
    top["iterations"] = {"m": {str(1 - index): done, str(index): waiting}}
    return top


def family(user, parent_status="paused", child_status="succeeded", attempt=1, **child):
    parent = make_run(user, status=parent_status, state=parked_state())
    kid = make_run(
        user,
        status=child_status,
        parent_run=parent,
        parent_node="call",
        parent_attempt=attempt,
        **child,
    )
    return parent, kid


def wake_at(run: WorkflowRun):
    return WorkflowRun.objects.values_list("wake_at", flat=True).get(pk=run.pk)


def test_a_child_that_ends_wakes_the_parent_parked_on_it(user, django_capture_on_commit_callbacks):
    parent, kid = family(user)
    with django_capture_on_commit_callbacks() as callbacks:
        child_runs.run_finished(kid.pk, "succeeded", None)
    assert wake_at(parent) is not None
    assert len(callbacks) == 1  # the wake-up message, once committed


@pytest.mark.parametrize(
    "case",
    [
        {"parent_status": "running"},  # not parked (yet): it wakes itself when it parks
        {"attempt": 2},  # a child of another attempt
        {"parent_iteration": "m[0]"},  # the same node id, but in an iteration
    ],
)
def test_nothing_wakes_a_parent_not_parked_on_that_child(user, case):
    parent, kid = family(user, **case)
    child_runs.run_finished(kid.pk, "failed", None)
    assert wake_at(parent) is None


def test_a_child_started_in_an_iteration_wakes_the_parent_parked_on_that_iteration(user):
    parent = make_run(user, status="paused", state=parked_in_body_state(index=1))
    other = make_run(
        user,
        status="succeeded",
        parent_run=parent,
        parent_node="call",
        parent_iteration="m[0]",
        parent_attempt=1,
    )
    child_runs.run_finished(other.pk, "succeeded", None)
    assert wake_at(parent) is None  # m[0] does not wait any more
    kid = make_run(
        user,
        status="failed",
        parent_run=parent,
        parent_node="call",
        parent_iteration="m[1]",
        parent_attempt=1,
    )
    child_runs.run_finished(kid.pk, "failed", None)
    assert wake_at(parent) is not None


def test_a_paused_child_does_not_wake_its_parent(user):
    parent, kid = family(user, child_status="paused")
    child_runs.run_finished(kid.pk, "paused", {"nodes": {}})
    assert wake_at(parent) is None


def test_a_parent_parking_on_a_child_that_already_ended_wakes_itself(user):
    parent, _ = family(user, parent_status="paused", child_status="cancelled")
    child_runs.run_finished(parent.pk, "paused", parked_state())
    assert wake_at(parent) is not None


def test_a_parent_parking_on_a_child_still_paused_stays_parked(user):
    parent, _ = family(user, parent_status="paused", child_status="paused")
    child_runs.run_finished(parent.pk, "paused", parked_state())
    assert wake_at(parent) is None
