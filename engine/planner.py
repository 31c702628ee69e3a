"""The pure planning core, in the spirit of `graphlib`: the caller reports how each node ended
(`settle`) and the planner says which nodes that decides and how (run / skipped /
upstream_failed), resolving edges to taken / skipped / failed on the way. No I/O, no clock.

Join rules count upstream *sources*, not edges (SPEC §4): all edges from one source resolve
together, and the pair counts as taken if any of its edges is taken, else failed if any failed,
else skipped. Counters per target make each resolution O(1).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from engine.graph import Graph
from engine.handlers.base import ERROR_HANDLE
from engine.states import EdgeState, NodeState

RUN = "run"
SKIPPED = NodeState.SKIPPED
UPSTREAM_FAILED = NodeState.UPSTREAM_FAILED
SUCCEEDED = NodeState.SUCCEEDED
FAILED = NodeState.FAILED

TAKEN = EdgeState.TAKEN
EDGE_SKIPPED = EdgeState.SKIPPED
EDGE_FAILED = EdgeState.FAILED
EDGE_PENDING = EdgeState.PENDING

# A join rule sees (taken, failed, skipped, total) sources and returns a decision or None (wait).
JoinRule = Callable[[int, int, int, int], str | None]


def none_failed_min_one_success(t: int, f: int, s: int, n: int) -> str | None:
    if t + f + s < n:
        return None
    if f:
        return UPSTREAM_FAILED
    return RUN if t else SKIPPED


def all_success(t: int, f: int, s: int, n: int) -> str | None:
    if t == n:
        return RUN
    if t + f + s < n:
        return None
    return UPSTREAM_FAILED if f else SKIPPED


def one_success(t: int, f: int, s: int, n: int) -> str | None:
    if t:
        return RUN
    if f + s < n:
        return None
    return UPSTREAM_FAILED if f else SKIPPED


def all_done(t: int, f: int, s: int, n: int) -> str | None:
    return RUN if t + f + s == n else None


def none_failed(t: int, f: int, s: int, n: int) -> str | None:
    if f:
        return UPSTREAM_FAILED if t + f + s == n else None
    return RUN if t + s == n else None


def one_failed(t: int, f: int, s: int, n: int) -> str | None:
    if f:
        return RUN
    return SKIPPED if t + s == n else None


def all_failed(t: int, f: int, s: int, n: int) -> str | None:
    if f == n:
        return RUN
    return SKIPPED if t + f + s == n else None


JOIN_RULES: dict[str, JoinRule] = {
    "none_failed_min_one_success": none_failed_min_one_success,
    "all_success": all_success,
    "one_success": one_success,
    "all_done": all_done,
    "none_failed": none_failed,
    "one_failed": one_failed,
    "all_failed": all_failed,
}


EARLY_RULES = frozenset({"one_success", "one_failed"})  # they may fire before all sources resolve


def join_decision(rule: str, taken: int, failed: int, skipped: int, total: int) -> str | None:
    """What `rule` decides with these counts of resolved sources: "run", "skipped",
    "upstream_failed", or None while it must wait for more sources."""
    try:
        decide = JOIN_RULES[rule]
    except KeyError:
        raise ValueError(f"unknown join rule {rule!r}; expected one of {sorted(JOIN_RULES)}")
    return decide(taken, failed, skipped, total)


class Planner:
    """Edge states, per-target source counters and which nodes are decided, for one run."""

    __slots__ = (
        "_early",
        "_rules",
        "decided",
        "edge_states",
        "failed",
        "graph",
        "skipped",
        "taken",
    )

    def __init__(self, graph: Graph) -> None:
        n = len(graph)
        self.graph = graph
        self.edge_states: list[str] = [EDGE_PENDING] * len(graph.edges)
        self.taken = [0] * n
        self.failed = [0] * n
        self.skipped = [0] * n
        self.decided = bytearray(n)
        self._rules = [JOIN_RULES[rule] for rule in graph.joins]
        self._early = bytearray(rule in EARLY_RULES for rule in graph.joins)

    def start(self) -> list[tuple[int, str]]:
        """The roots, decided to run (roots start at once)."""
        decisions = []
        for i in self.graph.roots:
            if not self.decided[i]:
                self.decided[i] = 1
                decisions.append((i, RUN))
        return decisions

    def settle(
        self, node: int, status: str, handles: Iterable[str] = ("out",)
    ) -> list[tuple[int, str]]:
        """Report that `node` ended with `status` (succeeded with the chosen `handles`, failed,
        skipped or upstream_failed). Returns the nodes this decides, in causal order; skipped
        and upstream_failed decisions are propagated here, since those nodes never run."""
        graph = self.graph
        out_pairs = graph.out_pairs
        edge_states = self.edge_states
        decided = self.decided
        rules = self._rules
        early = self._early
        n_sources = graph.n_sources
        taken, failed, skipped = self.taken, self.failed, self.skipped
        decisions: list[tuple[int, str]] = []
        stack = [(node, status, handles)]
        while stack:
            i, status, handles = stack.pop()
            if status == FAILED and graph.has_error_edges[i]:
                status, handles = SUCCEEDED, (ERROR_HANDLE,)
            for t, edges in out_pairs[i]:
                if status == SUCCEEDED and len(edges) == 1:
                    e, handle = edges[0]
                    pair = edge_states[e] = TAKEN if handle in handles else EDGE_SKIPPED
                else:
                    pair = self._resolve_pair(edges, status, handles, edge_states)
                if pair is TAKEN:
                    taken[t] += 1
                elif pair is EDGE_FAILED:
                    failed[t] += 1
                else:
                    skipped[t] += 1
                if decided[t]:
                    continue
                t_, f_, s_, n_ = taken[t], failed[t], skipped[t], n_sources[t]
                if t_ + f_ + s_ < n_ and not early[t]:
                    continue  # only the one_* rules decide before every source resolved
                decision = rules[t](t_, f_, s_, n_)
                if decision is not None:
                    decided[t] = 1
                    decisions.append((t, decision))
                    if decision is not RUN:
                        stack.append((t, decision, ()))
        return decisions

    @staticmethod
    def _resolve_pair(edges: tuple, status: str, handles: Iterable[str], edge_states: list) -> str:
        if status is SUCCEEDED or status == SUCCEEDED:
            pair = EDGE_SKIPPED
            for e, handle in edges:
                if handle in handles:
                    edge_states[e] = pair = TAKEN
                else:
                    edge_states[e] = EDGE_SKIPPED
            return pair
        state = EDGE_SKIPPED if status == SKIPPED else EDGE_FAILED
        for e, _ in edges:
            edge_states[e] = state
        return state

    def source_states(self, node: int) -> list[tuple[int, str]]:
        """Each source of `node` with its pair state (taken, failed, skipped or pending)."""
        result = []
        edge_states = self.edge_states
        for s, edges in self.graph.in_pairs[node]:
            states = {edge_states[e] for e in edges}
            for state in (TAKEN, EDGE_FAILED, EDGE_SKIPPED):
                if state in states:
                    result.append((s, state))
                    break
            else:
                result.append((s, EDGE_PENDING))
        return result
