"""Snapshots: the run's durable state (`snapshot()`), and rebuilding a run from one: every
finished node's outcome is replayed through the planner (edge states and decisions are derived,
never trusted), a graph that grew grows again, and what was in flight runs again."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from engine.planner import RUN
from engine.report import NodeRecord
from engine.states import NODE_TERMINAL, NodeState, RunState

PENDING = NodeState.PENDING
QUEUED = NodeState.QUEUED
RUNNING = NodeState.RUNNING
RETRYING = NodeState.RETRYING
SUCCEEDED = NodeState.SUCCEEDED
FAILED = NodeState.FAILED
SKIPPED = NodeState.SKIPPED
UPSTREAM_FAILED = NodeState.UPSTREAM_FAILED
CANCELLED = NodeState.CANCELLED
REUSED = NodeState.REUSED
IN_FLIGHT = frozenset({QUEUED, RUNNING, RETRYING})

SNAPSHOT_VERSION = 1


class Restore:
    """Part of `Execution`: to and from a snapshot."""

    def snapshot(self) -> dict[str, Any]:
        """The run's durable state, JSON-serialisable, at any moment."""
        ids = self.graph.ids
        snapshot = {
            "version": SNAPSHOT_VERSION,
            "run": self.run_id,
            "status": str(self.status),
            "seq": self._recorder.seq,
            "started": self.started,
            "finished": self.finished,
            "error": self.error,
            "inputs": self.inputs,
            "outputs": dict(self.outputs),
            "nodes": {ids[i]: record.to_state() for i, record in enumerate(self.records)},
            "edges": {
                edge_id: str(state)
                for edge_id, state in zip(
                    self.graph.edge_ids, self._planner.edge_states, strict=True
                )
            },
            "iterations": self.iterations.snapshots(),
            "wake_at": self.wake_at,
            "pausing": self._pausing,
        }
        if self._seat is None and self._options.memory:  # one store per run: at its root
            # llm nodes' conversation memory (engine.memory): a paused run resumes with it
            snapshot["memory"] = {k: list(v) for k, v in self._options.memory.items()}
        return snapshot

    def _restore(self, snapshot: Mapping[str, Any], inputs: Mapping[str, Any] | None) -> None:
        """Rebuild the run from a snapshot: replay every finished node's outcome through the
        planner (so edge states and decisions are derived, never trusted), then queue the
        nodes that were in flight or decided but not started."""
        if snapshot.get("version") != SNAPSHOT_VERSION:
            raise ValueError(f"unsupported snapshot version {snapshot.get('version')!r}")
        self.status = RunState(snapshot.get("status") or RunState.QUEUED)
        self._recorder.seq = int(snapshot.get("seq") or 0)
        self.started = snapshot.get("started")
        self.finished = snapshot.get("finished")
        self.error = snapshot.get("error")
        self._pausing = bool(snapshot.get("pausing"))
        if not inputs and snapshot.get("inputs") is not None:
            self.inputs.clear()
            self.inputs.update(snapshot["inputs"])
        self.outputs.update(snapshot.get("outputs") or {})
        if snapshot.get("memory") and self._options.memory is not None:
            self._options.memory.update(snapshot["memory"])  # the store bodies share
        states = snapshot.get("nodes") or {}
        self._regrow(states)
        graph = self.graph
        unknown = sorted(set(states) - set(graph.index))
        if unknown:
            raise ValueError(f"snapshot names nodes not in the graph: {', '.join(unknown)}")
        planner = self._planner
        for node_id, state in states.items():
            i = graph.index[node_id]
            record = NodeRecord.from_state(state)
            self.records[i] = record
            if record.status is not PENDING:
                planner.decided[i] = 1
        records = self.records
        self.iterations.restore(
            snapshot.get("iterations") or {}, lambda c: records[c].status in NODE_TERMINAL
        )
        self._restored = self._replay()

    def _regrow(self, states: Mapping[str, Any]) -> None:
        """Grow the graph again from the recorded outputs of nodes that grew it."""
        done: set[str] = set()
        while True:
            todo = [
                node_id
                for node_id, state in states.items()
                if node_id in self.graph.index
                and node_id not in done
                and state.get("status") in (SUCCEEDED, REUSED)
            ]
            if not todo:
                return
            for node_id in todo:
                done.add(node_id)
                self._grow(self.graph.index[node_id], states[node_id].get("output"), emit=False)

    def _replay(self) -> list[tuple[int, str]]:
        planner, graph = self._planner, self.graph
        decisions: list[tuple[int, str]] = []
        in_flight: list[int] = []
        cancelled: list[NodeRecord] = []
        for i in graph.topo_order:
            record = self.records[i]
            status = record.status
            node_id = graph.ids[i]
            if status is SUCCEEDED or status is REUSED:
                self._carried[i] = self._results[node_id] = record.output
                decisions.extend(planner.settle(i, SUCCEEDED, record.handles or ("out",)))
            elif status is FAILED:
                error = record.error or {"message": "", "type": "error"}
                self._carried[i] = {"error": {**error, "node": node_id, "attempt": record.attempts}}
                if not record.handled:
                    self._unhandled.append(i)
                decisions.extend(planner.settle(i, FAILED, ()))
            elif status in (SKIPPED, UPSTREAM_FAILED):
                decisions.extend(planner.settle(i, status, ()))
            elif status in IN_FLIGHT:
                record.status = PENDING  # a restore, not a transition: it runs again
                in_flight.append(i)
            elif status is CANCELLED:
                cancelled.append(record)
        if cancelled and self._stop_status is None:
            self._resume_stop(cancelled[0])
        decisions.extend((i, RUN) for i in in_flight)
        return decisions

    def _resume_stop(self, record: NodeRecord) -> None:
        """A cancelled node in a run that had not ended: the worker died while the run was
        being halted or cancelled, so the restored run finishes that stop."""
        nodes = self.graph.nodes
        halted = any(nodes[i].get("critical") for i in self._unhandled) or (
            self._unhandled and self.graph.settings.get("on_failure") == "halt"
        )
        self._stop_status = RunState.FAILED if halted else RunState.CANCELLED
        self._stop_reason = record.reason or "run cancelled"
