"""Node, run and edge states as data: string enums, a transitions table, one `transition()`."""

from enum import StrEnum


class NodeState(StrEnum):
    PENDING = "pending"
    QUEUED = "queued"
    RUNNING = "running"
    RETRYING = "retrying"
    WAITING = "waiting"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    SKIPPED = "skipped"
    UPSTREAM_FAILED = "upstream_failed"
    CANCELLED = "cancelled"
    REUSED = "reused"  # ended with an earlier attempt's output, without running (cache)


class RunState(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    PAUSED = "paused"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"


class EdgeState(StrEnum):
    PENDING = "pending"
    TAKEN = "taken"
    SKIPPED = "skipped"
    FAILED = "failed"


class InvalidTransition(Exception):
    """A state change the tables do not allow: always a bug in the caller."""

    def __init__(self, kind: str, current: str, target: str) -> None:
        super().__init__(f"invalid {kind} transition {current} -> {target}")
        self.current = current
        self.target = target


N = NodeState
NODE_TERMINAL = frozenset(
    {N.SUCCEEDED, N.FAILED, N.SKIPPED, N.UPSTREAM_FAILED, N.CANCELLED, N.REUSED}
)
NODE_TRANSITIONS: dict[NodeState, frozenset[NodeState]] = {
    N.PENDING: frozenset(
        {N.QUEUED, N.RUNNING, N.WAITING, N.SKIPPED, N.UPSTREAM_FAILED, N.CANCELLED, N.SUCCEEDED}
    ),
    N.QUEUED: frozenset({N.RUNNING, N.WAITING, N.CANCELLED}),
    N.RUNNING: frozenset(
        {N.SUCCEEDED, N.FAILED, N.RETRYING, N.WAITING, N.CANCELLED, N.QUEUED, N.REUSED}
    ),
    N.RETRYING: frozenset({N.QUEUED, N.RUNNING, N.CANCELLED}),
    N.WAITING: frozenset({N.QUEUED, N.RUNNING, N.SUCCEEDED, N.FAILED, N.SKIPPED, N.CANCELLED}),
    N.SUCCEEDED: frozenset(),
    N.FAILED: frozenset(),
    N.SKIPPED: frozenset(),
    N.UPSTREAM_FAILED: frozenset(),
    N.CANCELLED: frozenset(),
    N.REUSED: frozenset(),
}

R = RunState
RUN_TERMINAL = frozenset({R.SUCCEEDED, R.FAILED, R.CANCELLED})
RUN_TRANSITIONS: dict[RunState, frozenset[RunState]] = {
    R.QUEUED: frozenset({R.RUNNING, R.CANCELLED, R.FAILED}),
    R.RUNNING: frozenset({R.PAUSED, R.SUCCEEDED, R.FAILED, R.CANCELLED}),
    R.PAUSED: frozenset({R.RUNNING, R.CANCELLED, R.FAILED}),
    R.SUCCEEDED: frozenset(),
    R.FAILED: frozenset(),
    R.CANCELLED: frozenset(),
}


def transition(current: NodeState, target: NodeState) -> NodeState:
    """Return `target` when a node may move there from `current`, else raise."""
    if target not in NODE_TRANSITIONS[current]:
        raise InvalidTransition("node", current, target)
    return target


def run_transition(current: RunState, target: RunState) -> RunState:
    """Return `target` when a run may move there from `current`, else raise."""
    if target not in RUN_TRANSITIONS[current]:
        raise InvalidTransition("run", current, target)
    return target
