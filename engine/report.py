"""What a run did, per node and overall: the SPEC §7 run report."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from engine.causes import root_causes
from engine.events import iso_us
from engine.states import NodeState

# What a handler with side effects (http, subworkflow) yields in a dry run instead of running.
DRY_RUN_OUTPUT = {"dry_run": True}
# Its reason: what marks the stand-in (a pass-through node downstream carries the same output).
DRY_RUN_REASON = "dry run: side effects not performed"


class NodeRecord:
    """The durable state of one node in one run (also what the store receives)."""

    __slots__ = (
        "attempt_started",
        "attempts",
        "cache_key",
        "error",
        "finished",
        "handled",
        "handles",
        "input",
        "memory",
        "output",
        "reason",
        "reused_from",
        "saved_ms",
        "started",
        "status",
        "tracebacks",
        "usage",
        "wait",
    )

    def __init__(self) -> None:
        self.status: NodeState = NodeState.PENDING
        self.attempts = 0
        self.started: float | None = None  # first attempt, epoch seconds
        self.finished: float | None = None
        self.output: Any = None
        self.input: Any = None  # the current attempt's input (not in snapshots: derivable)
        self.error: dict | None = None  # {"message", "type"}
        self.handled = False
        self.handles: tuple[str, ...] = ()  # the output handles chosen on success
        self.reason: str | None = None  # why a node did not run
        self.attempt_started = 0.0  # the current attempt's start (not persisted)
        self.wait: dict | None = None  # while waiting: {"kind", "wake_at", "data"}
        self.cache_key: str | None = None  # a cached node's content hash (engine.caching)
        self.reused_from: Any = None  # ended `reused`: the run whose output it took
        self.saved_ms: int | None = None  # ...and how long that attempt had taken
        self.usage: dict | None = None  # the current attempt's tokens (engine.usage.Meter)
        # what an llm node with memory said in this attempt (engine.memory), redacted: its row
        # keeps it, so a worker taking the run over rebuilds the memory
        self.memory: list | None = None
        # attempt -> the traceback of the exception a handler raised (redacted): stored with
        # the attempt's row for its owner, never in an event (not persisted in snapshots)
        self.tracebacks: dict[int, str] = {}

    def to_dict(self) -> dict[str, Any]:
        """The SPEC §7 shape of this node."""
        data = {
            "status": str(self.status),
            "attempts": self.attempts,
            "started_at": iso_us(self.started),
            "finished_at": iso_us(self.finished),
            "output": self.output,
            "error": self.error,
            "handled": self.handled,
        }
        if self.reason is not None:
            data["reason"] = self.reason
        if self.reused_from is not None:
            data["reused_from"] = self.reused_from
            data["saved_ms"] = self.saved_ms
        return data

    def to_state(self) -> dict[str, Any]:
        """A JSON-serialisable form for snapshots (floats kept exact)."""
        return {
            "status": str(self.status),
            "attempts": self.attempts,
            "started": self.started,
            "finished": self.finished,
            "output": self.output,
            "error": self.error,
            "handled": self.handled,
            "handles": list(self.handles),
            "reason": self.reason,
            "wait": self.wait,
            "cache_key": self.cache_key,
            "reused_from": self.reused_from,
            "saved_ms": self.saved_ms,
        }

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> NodeRecord:
        record = cls()
        record.status = NodeState(state["status"])
        record.attempts = int(state.get("attempts", 0))
        record.started = state.get("started")
        record.finished = state.get("finished")
        record.output = state.get("output")
        record.error = state.get("error")
        record.handled = bool(state.get("handled", False))
        record.handles = tuple(state.get("handles") or ())
        record.reason = state.get("reason")
        record.wait = state.get("wait")
        record.cache_key = state.get("cache_key")
        record.reused_from = state.get("reused_from")
        record.saved_ms = state.get("saved_ms")
        return record


@dataclass
class RunReport:
    """The outcome of a run. `to_dict()` is the SPEC §7 JSON."""

    run: Any
    status: str
    started: float | None
    finished: float | None
    nodes: dict[str, NodeRecord]
    outputs: dict[str, Any] = field(default_factory=dict)
    iterations: dict[str, list] = field(default_factory=dict)
    error: dict | None = None
    dry_run: bool = False
    edges: tuple[tuple[str, str], ...] = ()  # (source, target) ids: for `root_causes`
    usage: dict | None = None  # the run's token totals (engine.usage.RunUsage), when any

    def to_dict(self) -> dict[str, Any]:
        nodes = {node_id: record.to_dict() for node_id, record in self.nodes.items()}
        data = {
            "run": self.run,
            "status": str(self.status),
            "outputs": self.outputs,
            "started_at": iso_us(self.started),
            "finished_at": iso_us(self.finished),
            "nodes": nodes,
            "iterations": self.iterations,
            "error": self.error,
            "reuse": reuse_summary(nodes, self.iterations),
            "root_causes": failure_causes(
                self.status, self.edges, nodes, self.iterations, self.error
            ),
        }
        if self.usage:
            data["usage"] = self.usage
        return with_dry_run_plan(data) if self.dry_run else data


def reuse_summary(nodes: Mapping, iterations: Mapping) -> dict[str, int]:
    """How many node executions ended `reused` (top level and in bodies) and the time their
    original attempts took (`saved_ms`)."""
    entries = [
        *nodes.values(),
        *(e for items in iterations.values() for i in items for e in i.values()),
    ]
    reused = [entry for entry in entries if entry.get("status") == "reused"]
    return {"nodes": len(reused), "saved_ms": sum(entry.get("saved_ms") or 0 for entry in reused)}


def failure_causes(
    status: str, edges, nodes: Mapping, iterations: Mapping, error: dict | None
) -> list[dict[str, Any]]:
    """A failed run's `root_causes` (engine.causes); empty for any other run."""
    return root_causes(edges, nodes, iterations, error) if status == "failed" else []


def dry_run_plan(nodes: Mapping[str, Mapping[str, Any]]) -> dict[str, list[str]]:
    """What a dry run found, from its report's node entries (SPEC §7, in document order): the
    nodes a real run would execute (`would_run`: those the dry run executed or stood in for)
    and, among them, those whose handler has side effects and was not called (`placeholders`:
    they yielded `DRY_RUN_OUTPUT` with the reason `DRY_RUN_REASON`)."""
    would_run = [n for n, node in nodes.items() if node["status"] in ("succeeded", "failed")]
    placeholders = [n for n in would_run if stood_in(nodes[n])]
    return {"would_run": would_run, "placeholders": placeholders}


def with_dry_run_plan(report: dict[str, Any]) -> dict[str, Any]:
    """A dry run's report (SPEC §7 dict) with its plan: `would_run` and `placeholders`, and on
    each node (body nodes too) `dry_run`: `"placeholder"` (side effects not performed), `"ran"`
    (executed: it has none) or `"not run"` (a real run would not run it either)."""
    plan = dry_run_plan(report["nodes"])
    entries = list(report["nodes"].values())
    for items in report.get("iterations", {}).values():
        entries += [node for item in items for node in item.values()]
    for node in entries:
        ran = node["status"] in ("succeeded", "failed")
        placeholder = ran and stood_in(node)
        node["dry_run"] = "placeholder" if placeholder else "ran" if ran else "not run"
    return {**report, **plan}


def stood_in(node: Mapping[str, Any]) -> bool:
    """The dry run did not call this node's handler (it has side effects). Rows recorded
    before stand-ins had their reason say so only by their output: when the entry has the
    input too, a pass-through node (its input is its output) is told apart from them."""
    if node.get("reason"):
        return node["reason"] == DRY_RUN_REASON
    return "input" in node and node["output"] == DRY_RUN_OUTPUT != node["input"]
