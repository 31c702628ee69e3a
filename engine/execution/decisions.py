"""What the planner's decisions do: start the nodes decided to run, record the others
(`skipped`, `upstream_failed`) with the reason why, and what a starting node's taken incoming
edges carry."""

from __future__ import annotations

from typing import Any

from engine.handlers.triggers import NOT_THIS_TRIGGER, fired_node, skips
from engine.pinning import pinned_result
from engine.planner import RUN
from engine.states import EdgeState, NodeState

FAILED = NodeState.FAILED
SKIPPED = NodeState.SKIPPED
UPSTREAM_FAILED = NodeState.UPSTREAM_FAILED
CANCELLED = NodeState.CANCELLED


class Decisions:
    """Part of `Execution`: the planner decides, this applies and explains it."""

    async def _apply(self, decisions: list[tuple[int, str]]) -> None:
        """Start the nodes decided to run; record the others (skipped / upstream_failed)."""
        store = self._store
        for t, decision in decisions:
            if decision is RUN:
                if self._stop_status is None and not self._pausing:
                    self._ready(t)
            else:
                self._not_run(t, decision)
                if store is not None:
                    await store.node_settled(self, self.graph.ids[t], self.records[t])

    def _apply_now(self, decisions: list[tuple[int, str]]) -> None:
        for t, decision in decisions:
            if decision is RUN:
                if self._stop_status is None and not self._pausing:
                    self._ready(t)
            else:
                self._not_run(t, decision)

    def _trigger_roots(self, decisions: list[tuple[int, str]]) -> list[tuple[int, str]]:
        """The roots' decisions with the trigger nodes that did not start this run skipped
        (and what that decides downstream), engine/handlers/triggers.py."""
        if self._seat is not None:
            return decisions
        fired = fired_node(self._handler_settings)
        graph, result = self.graph, []
        for t, decision in decisions:
            if (
                decision is RUN
                and skips(graph.nodes[t]["type"], fired, graph.ids[t])
                and not (fired is None and self._stands_in(t))
            ):
                self._other_triggers.add(t)
                result.append((t, SKIPPED))
                result.extend(self._planner.settle(t, SKIPPED, ()))
            else:
                result.append((t, decision))
        return result

    def _stands_in(self, t: int) -> bool:
        """A pinned trigger node in a run that uses pins and no trigger started: its pinned
        data (a request captured before, say) starts the run as the trigger would."""
        return (
            pinned_result(self._options.use_pinned, self.graph.nodes[t], self.handlers[t])
            is not None
        )

    def _not_run(self, t: int, decision: str) -> None:
        record = self.records[t]
        record.reason = self._why_not(t, decision)
        self._set(t, record, NodeState(decision), self._now())

    def _why_not(self, t: int, decision: str) -> str:
        if t in self._other_triggers:
            return NOT_THIS_TRIGGER
        ids = self.graph.ids
        states = self._planner.source_states(t)
        rule = self.graph.joins[t]
        if decision == UPSTREAM_FAILED:
            for s, state in states:
                if state is EdgeState.FAILED:
                    return f"upstream {ids[s]} {self.records[s].status.replace('_', ' ')}"
        if rule == "one_failed":
            return "no upstream failed"
        if rule == "all_failed":
            return "not every upstream failed"
        for s, state in states:
            if state is EdgeState.SKIPPED:
                source = self.records[s]
                if source.status in (SKIPPED, UPSTREAM_FAILED, CANCELLED):
                    return f"upstream {ids[s]} {source.status.replace('_', ' ')}"
                handles = self._edge_handles(s, t)
                return f"branch {ids[s]}.{handles} not taken"
        return "no upstream taken"

    def _edge_handles(self, s: int, t: int) -> str:
        for target, edges in self.graph.out_pairs[s]:
            if target == t:
                return "/".join(dict.fromkeys(handle for _, handle in edges))
        return "out"

    def _sources(self, i: int) -> dict[str, Any]:
        """What the taken incoming edges carry, by source id, in edge order."""
        sources: dict[str, Any] = {}
        edge_states = self._planner.edge_states
        ids = self.graph.ids
        carried = self._carried
        for s, edges in self.graph.in_pairs[i]:
            for e in edges:
                if edge_states[e] is EdgeState.TAKEN:
                    sources[ids[s]] = carried[s]
                    break
        return sources
