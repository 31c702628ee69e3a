"""How nodes and the run end: a node's success, failure and cancellation recorded (its state
transition and event), a halt / cancel / timeout stopping the run, and the run's final
status."""

from __future__ import annotations

import asyncio
from typing import Any

from engine.causes import CRITICAL_HALT_REASON, HALT_REASON
from engine.events import NODE_OUTPUT, RUN_STATUS
from engine.pinning import PINNED_REASON
from engine.report import NodeRecord
from engine.states import NODE_TERMINAL, RUN_TERMINAL, NodeState, RunState, run_transition
from engine.storable import storable_text

WAITING = NodeState.WAITING
SUCCEEDED = NodeState.SUCCEEDED
FAILED = NodeState.FAILED
CANCELLED = NodeState.CANCELLED
REUSED = NodeState.REUSED


class Outcomes:
    """Part of `Execution`: recording how nodes and the run end."""

    def _succeeded(self, i: int, record: NodeRecord, output: Any) -> None:
        now = self._now()
        node_id = self.graph.ids[i]
        output = self._recorder.redact_value(output)  # a secret never reaches what is stored
        record.output = output
        record.finished = now
        self._carried[i] = output
        self._results[node_id] = output
        handler = self.handlers[i]
        if handler is not None and handler.type == "output":
            self.outputs[node_id] = output
        reused = record.reused_from is not None or record.reason == PINNED_REASON
        self._set(i, record, REUSED if reused else SUCCEEDED, now)
        self._recorder.emit(
            NODE_OUTPUT,
            now,
            node_id,
            None,
            record.attempts,
            data={"output": self._recorder.preview(output)},
        )

    def _failed(self, i: int, record: NodeRecord, error: dict, pause: bool = True) -> bool:
        """Record a failure; False when the run parks on it (on_failure=pause). An unhandled
        failure of a `critical` node halts the run whatever on_failure says."""
        now = self._now()
        node_id = self.graph.ids[i]
        message = storable_text(self._recorder.redact(str(error["message"])))
        recovery = error.get("recovery")  # what its on_failure.run did (execution/recovery.py)
        error = {"message": message, "type": error["type"]}
        if recovery is not None:
            error["recovery"] = recovery
        record.error = error
        record.handled = self.graph.has_error_edges[i]
        on_failure = self.graph.settings.get("on_failure")
        critical = bool(self.graph.nodes[i].get("critical"))
        if not record.handled:
            if on_failure == "pause" and pause and not critical:
                self._set(i, record, WAITING, now, error=error)
                return False
            self._unhandled.append(i)
        record.finished = now
        self._carried[i] = {"error": {**error, "node": node_id, "attempt": record.attempts}}
        self._set(i, record, FAILED, now, error=error)
        if not record.handled and (critical or on_failure == "halt"):
            reason = CRITICAL_HALT_REASON if critical and on_failure != "halt" else HALT_REASON
            self._stop(None, reason.format(node_id), None)
        return True

    def _cancelled(self, i: int, record: NodeRecord, reason: str | None) -> None:
        if self.handlers[i] is not None and self.handlers[i].container:
            self.iterations.cancel(i, reason or "run cancelled")
        now = self._now()
        record.finished = now if record.started is not None else None
        record.reason = reason
        self._set(i, record, CANCELLED, now)

    def _set(
        self, i: int, record: NodeRecord, status: NodeState, now: float, error: dict | None = None
    ) -> None:
        """Move a node to `status` and emit it (see Recorder.node_status)."""
        self._recorder.node_status(self.graph.ids[i], record, status, now, error)

    def _set_run_status(self, status: RunState, now: float) -> None:
        if self.status is not status:
            self.status = run_transition(self.status, status)
        self._recorder.emit(RUN_STATUS, now, None, str(status), None, self.error)

    def _stop(self, status: RunState | None, reason: str, error: dict | None) -> None:
        """Halt, cancel or time out: cancel running handlers, start nothing new."""
        if self._stop_status is not None or self.status in RUN_TERMINAL:
            return
        self._stop_status = status or RunState.FAILED
        self._stop_reason = reason
        if error is not None:
            self.error = error
        try:
            current = asyncio.current_task()
        except RuntimeError:  # cancelled before the run started: no loop yet
            current = None
        for task in list(self._tasks.values()):
            if task is not current:
                task.cancel()
        while self._waiting:
            item = self._waiting.popleft()
            if isinstance(item, int):
                self._cancelled(item, self.records[item], reason)
            else:
                item.cancel()

    def _finish(self) -> None:
        now = self._now()
        parents = self.graph.parents
        parked = self._pausing or any(
            record.status is WAITING and parents[i] < 0 for i, record in enumerate(self.records)
        )
        for i, record in enumerate(self.records):
            if record.status in NODE_TERMINAL or parents[i] >= 0:
                continue
            if self._stop_status is not None:
                self._cancelled(i, record, self._stop_reason)
            elif not parked:
                # Only a snapshot that contradicts itself gets here (e.g. rows edited by hand):
                # end the run failed rather than leave it hanging.
                self._cancelled(i, record, "never decided: an upstream node did not finish")
                self.error = self.error or {
                    "message": f"node {self.graph.ids[i]} could not be decided",
                    "type": "internal",
                }
        if self._stop_status is not None:
            status = self._stop_status
        elif parked:
            status = RunState.PAUSED
        elif self._unhandled or self.error is not None:
            status = RunState.FAILED
        else:
            status = RunState.SUCCEEDED
        if status is RunState.FAILED and self.error is None and self._unhandled:
            first = self.records[self._unhandled[0]]
            node_id = self.graph.ids[self._unhandled[0]]
            self.error = {
                "message": f"node {node_id} failed: {first.error['message']}",
                "type": first.error["type"],
            }
        if status in RUN_TERMINAL:
            self.finished = now
        self._set_run_status(status, now)
