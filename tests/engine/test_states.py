"""The state tables: every allowed move passes, every other raises, terminal states are final."""

import pytest

from engine.states import (
    NODE_TERMINAL,
    NODE_TRANSITIONS,
    RUN_TERMINAL,
    RUN_TRANSITIONS,
    InvalidTransition,
    NodeState,
    RunState,
    run_transition,
    transition,
)

NODE_PAIRS = [(a, b) for a in NodeState for b in NodeState]
RUN_PAIRS = [(a, b) for a in RunState for b in RunState]


@pytest.mark.parametrize(("current", "target"), NODE_PAIRS)
def test_node_transition_follows_the_table(current, target):
    if target in NODE_TRANSITIONS[current]:
        assert transition(current, target) is target
    else:
        with pytest.raises(InvalidTransition, match=f"{current} -> {target}"):
            transition(current, target)


@pytest.mark.parametrize(("current", "target"), RUN_PAIRS)
def test_run_transition_follows_the_table(current, target):
    if target in RUN_TRANSITIONS[current]:
        assert run_transition(current, target) is target
    else:
        with pytest.raises(InvalidTransition):
            run_transition(current, target)


def test_terminal_node_states_have_no_way_out():
    assert all(not NODE_TRANSITIONS[state] for state in NODE_TERMINAL)
    assert set(NODE_TERMINAL) == {
        "succeeded",
        "failed",
        "skipped",
        "upstream_failed",
        "cancelled",
        "reused",
    }


def test_terminal_run_states_have_no_way_out():
    assert all(not RUN_TRANSITIONS[state] for state in RUN_TERMINAL)


def test_every_state_has_a_row_in_its_table():
    assert set(NODE_TRANSITIONS) == set(NodeState)
    assert set(RUN_TRANSITIONS) == set(RunState)


def test_a_node_cannot_run_again_after_it_succeeded():
    with pytest.raises(InvalidTransition, match="succeeded -> running"):
        transition(NodeState.SUCCEEDED, NodeState.RUNNING)


def test_states_are_strings_for_json_and_model_choices():
    assert NodeState.UPSTREAM_FAILED == "upstream_failed"
    assert RunState.PAUSED == "paused"
