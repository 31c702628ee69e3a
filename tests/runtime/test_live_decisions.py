"""Decisions made while a run runs (`WorkflowRun.live_decisions`): what the worker applies
at once, what it hands over when the run parks first (workflows/runtime/watches.py)."""

from __future__ import annotations

import pytest

from tests.runtime.conftest import make_run
from workflows.models import WorkflowRun
from workflows.runtime.watches import forget_decisions, hand_over_decisions, live_decisions

pytestmark = pytest.mark.django_db

YES = {"node": "ask", "iteration": "", "approved": True, "data": {"n": 1}, "by": "ann"}
NO = {"node": "other", "iteration": "", "approved": False, "data": None, "by": "bob"}


def test_a_decision_that_lands_as_the_run_parks_goes_on_with_the_parked_run(user):
    state = {"nodes": {}, "approve": [NO]}
    run = make_run(user, status="paused", state=state, live_decisions=[YES])
    assert hand_over_decisions(run.pk) is True
    run.refresh_from_db()
    assert run.live_decisions is None
    assert run.state["approve"] == [NO, YES]  # the worker applies them together
    assert run.wake_at is not None  # due now: a worker claims it without a person


def test_nothing_is_handed_over_from_a_running_run_or_without_decisions(user):
    running = make_run(user, status="running", state={"nodes": {}}, live_decisions=[YES])
    assert hand_over_decisions(running.pk) is False
    assert WorkflowRun.objects.get(pk=running.pk).live_decisions == [YES]
    paused = make_run(user, status="paused", state={"nodes": {}})
    assert hand_over_decisions(paused.pk) is False
    assert WorkflowRun.objects.get(pk=paused.pk).wake_at is None


def test_only_the_applied_decisions_are_forgotten(user):
    run = make_run(user, status="running", live_decisions=[YES, NO])
    assert live_decisions([run.pk]) == {run.pk: [YES, NO]}
    forget_decisions(run.pk, [YES])  # NO arrived after the worker read the row
    assert WorkflowRun.objects.get(pk=run.pk).live_decisions == [NO]
    forget_decisions(run.pk, [NO])
    assert WorkflowRun.objects.get(pk=run.pk).live_decisions is None
    assert live_decisions([run.pk]) == {}
