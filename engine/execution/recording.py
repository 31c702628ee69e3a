"""A run's events: numbered in order (`seq`, which the snapshot keeps), sent to the sink, with
outputs previewed and secrets redacted; a child execution's events go out through its
parent's recorder with the iteration path."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

from engine.events import NODE_STATUS, RUN_STATUS, Event, new_event, preview
from engine.report import NodeRecord
from engine.states import NODE_TRANSITIONS, InvalidTransition, NodeState

RUNNING = NodeState.RUNNING
WAITING = NodeState.WAITING
SUCCEEDED = NodeState.SUCCEEDED
REUSED = NodeState.REUSED


class Recorder:
    """Numbers a run's events and sends them to its sink (None: numbered, not sent)."""

    __slots__ = ("preview_limit", "run_id", "secret_values", "seq", "sink")

    def __init__(
        self,
        run_id: Any,
        sink: Callable[[Event], Any] | None,
        preview_limit: int,
        secrets: Mapping[str, Any],
    ) -> None:
        self.run_id = run_id
        self.sink = sink
        self.seq = 0
        self.preview_limit = preview_limit
        self.secret_values = [v for v in secrets.values() if isinstance(v, str) and len(v) >= 4]

    def node_status(
        self,
        node_id: str,
        record: NodeRecord,
        status: NodeState,
        now: float,
        error: dict | None = None,
    ) -> None:
        """Move a node to `status` (the transitions table says whether it may) and emit it."""
        previous = record.status
        if status not in NODE_TRANSITIONS[previous]:
            raise InvalidTransition("node", previous, status)
        record.status = status
        duration = data = None
        if previous is RUNNING:
            duration = int((now - record.attempt_started) * 1000)
            if record.usage:  # the attempt's tokens: on its row and in the inspector
                data = {"usage": record.usage}
        elif previous is WAITING and status is SUCCEEDED and record.started is not None:
            duration = int((now - record.started) * 1000)  # woken: the wait is its duration
        self.seq += 1
        if self.sink is not None:
            self.sink(
                new_event(
                    self.seq,
                    NODE_STATUS,
                    self.run_id,
                    now,
                    node_id,
                    status,
                    record.attempts or None,
                    error,
                    duration,
                    None,
                    self._reused_data(record, data) if status is REUSED else data,
                )
            )

    @staticmethod
    def _reused_data(record: NodeRecord, data: dict | None) -> dict:
        """A `reused` node's event names the run it took its output from, or why (pinned)."""
        reused = {**(data or {}), "reused_from": record.reused_from}
        if record.reason:
            reused["reason"] = record.reason
        return reused

    def emit(
        self,
        type: str,
        now: float,
        node: str | None,
        status: str | None,
        attempt: int | None,
        error: dict | None = None,
        data: dict | None = None,
    ) -> None:
        self.seq += 1
        if self.sink is not None:
            self.sink(
                new_event(
                    self.seq, type, self.run_id, now, node, status, attempt, error, None, None, data
                )
            )

    def forward(self, path: str, event: Event) -> None:
        """A child's event (its run status excepted) goes out renumbered, with its path."""
        if event.type == RUN_STATUS:
            return
        self.seq += 1
        if self.sink is None:
            return
        inner = event.iteration
        self.sink(
            new_event(
                self.seq,
                event.type,
                self.run_id,
                event.ts,
                event.node,
                event.status,
                event.attempt,
                event.error,
                event.duration_ms,
                path if inner is None else f"{path}/{inner}",
                event.data,
            )
        )

    def preview(self, output: Any) -> Any:
        """An output as events show it: truncated past the preview limit, secrets as `***`."""
        shown = preview(output, self.preview_limit)
        if not self.secret_values or shown is None or isinstance(shown, bool | int | float):
            return shown
        text = json.dumps(shown, default=str)
        redacted = text
        for secret in self.secret_values:
            redacted = redacted.replace(json.dumps(secret)[1:-1], "***")
        return shown if redacted == text else json.loads(redacted)

    def redact_value(self, value: Any) -> Any:
        """`value` with every secret in its strings (keys too) as `***`: what is stored."""
        if not self.secret_values:
            return value
        if isinstance(value, str):
            return self.redact(value)
        if isinstance(value, dict):
            return {self.redact_value(k): self.redact_value(v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [self.redact_value(item) for item in value]
        return value

    def redact(self, text: str) -> str:
        for secret in self.secret_values:
            text = text.replace(secret, "***")
        return text
