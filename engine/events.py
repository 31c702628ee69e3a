"""Run events (SPEC §5): frozen dataclasses handed to the caller's sink, one per state change.

An event keeps its time as a float (one `time.time()` call) and formats it only in `to_dict`,
so a sink that drops events costs next to nothing.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

RUN_STATUS = "run.status"
NODE_STATUS = "node.status"
NODE_OUTPUT = "node.output"
NODE_LOG = "node.log"
NODE_PROGRESS = "node.progress"
GRAPH_CHANGED = "graph.changed"
NODE_STREAM = "node.stream"  # the next piece of a streamed answer: {"text"}

DEFAULT_PREVIEW_BYTES = 4096


def iso_ms(ts: float | None) -> str | None:
    """UTC ISO-8601 with milliseconds and `Z` (events): what
    `datetime.fromtimestamp(ts, UTC).isoformat(timespec="milliseconds")` says, with the date
    and time of the second formatted once per second, not once per event (every event of a
    run, a few per node, is stamped so)."""
    global _stamp
    if ts is None:
        return None
    second = int(ts)
    micros = round((ts - second) * 1_000_000)  # as fromtimestamp rounds (half to even)
    if micros >= 1_000_000:
        second, micros = second + 1, micros - 1_000_000
    if micros < 0:  # before 1970: not an event's time; the slow way
        return datetime.fromtimestamp(ts, UTC).isoformat(timespec="milliseconds")[:-6] + "Z"
    stamp = _stamp  # one read: another thread may replace it meanwhile
    if stamp[0] != second:
        stamp = _stamp = (second, datetime.fromtimestamp(second, UTC).isoformat()[:-6])
    return f"{stamp[1]}.{micros // 1000:03d}Z"


_stamp: tuple[int | None, str] = (None, "")  # the second last formatted, and its text


def iso_us(ts: float | None) -> str | None:
    """UTC ISO-8601 with microseconds and `Z` (run reports)."""
    if ts is None:
        return None
    return datetime.fromtimestamp(ts, UTC).isoformat(timespec="microseconds")[:-6] + "Z"


@dataclass(frozen=True)
class Event:
    """One SPEC §5 event. `data` holds the type-specific fields (`output`, `message`, `done`
    and `total`, `nodes` and `edges`); `to_dict()` is the JSON sent to clients.

    The executor builds events with `new_event`, which fills the frozen instance in one step
    (a third of the generated `__init__`'s cost, which sets each field separately)."""

    seq: int
    type: str
    run: Any
    ts: float
    node: str | None = None
    status: str | None = None
    attempt: int | None = None
    error: dict | None = None
    duration_ms: int | None = None
    iteration: int | None = None
    data: dict | None = None

    @property
    def at(self) -> str:
        return iso_ms(self.ts)

    def to_dict(self) -> dict[str, Any]:
        event = {
            "seq": self.seq,
            "type": self.type,
            "run": self.run,
            "node": self.node,
            "iteration": self.iteration,
            "status": None if self.status is None else str(self.status),
            "attempt": self.attempt,
            "at": iso_ms(self.ts),
            "error": self.error,
            "duration_ms": self.duration_ms,
        }
        if self.data:
            event.update(self.data)
        return event


_new = object.__new__
_set_attr = object.__setattr__


def new_event(
    seq: int,
    type: str,
    run: Any,
    ts: float,
    node: str | None = None,
    status: str | None = None,
    attempt: int | None = None,
    error: dict | None = None,
    duration_ms: int | None = None,
    iteration: int | None = None,
    data: dict | None = None,
) -> Event:
    """The same as `Event(...)`, faster: this runs several times per node."""
    event = _new(Event)
    _set_attr(
        event,
        "__dict__",
        {
            "seq": seq,
            "type": type,
            "run": run,
            "ts": ts,
            "node": node,
            "status": status,
            "attempt": attempt,
            "error": error,
            "duration_ms": duration_ms,
            "iteration": iteration,
            "data": data,
        },
    )
    return event


def preview(value: Any, limit: int = DEFAULT_PREVIEW_BYTES) -> Any:
    """The value itself when its JSON fits in `limit` bytes, else a truncated JSON text marked
    as such (the full value is fetched over HTTP)."""
    if value is None or isinstance(value, bool | int | float):
        return value
    if isinstance(value, str):
        if len(value) <= limit // 4 or len(value.encode("utf-8")) <= limit:
            return value
        text = json.dumps(value)
    else:
        text = json.dumps(value, default=str, separators=(",", ":"))
        if len(text) <= limit // 4 or len(text.encode("utf-8")) <= limit:
            return value
    return {"truncated": True, "size": len(text.encode("utf-8")), "preview": text[:limit]}
