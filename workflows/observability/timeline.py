"""Where a run's time went: its timeline of spans, critical path and parallel efficiency, as the
timeline API's body or a text Gantt chart.

Definitions (the SPEC is silent; these are ours):

- A **span** is one attempt of one node (body nodes of containers too, with their iteration),
  from its `started_at` to its `finished_at` (an attempt still running ends "now").
- A top-level node's **duration** on the critical path runs from its first attempt's start to
  its last attempt's end: retries and their backoff are time the path waited for.
- The **critical path** is the longest chain, by those durations, through the edges the run
  actually took (an edge is taken when its source succeeded choosing the edge's handle, or
  failed with the failure handled through an `error` edge), between nodes that ran.
- **Parallel efficiency** = busy / (wall * max_parallel_used), where busy is the sum of the
  top-level spans (a container's span covers its body), wall the run's elapsed time, and
  max_parallel_used the largest number of top-level attempts running at one instant. A chain
  that never idles is 100 %; two parallel branches where one waits idle half the time is 75 %.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.utils import timezone

from workflows.models import NodeRun, WorkflowRun

BAR = "█"


@dataclass(frozen=True)
class Span:
    node: str
    iteration: str
    attempt: int
    status: str
    start: datetime
    end: datetime

    @property
    def duration_ms(self) -> int:
        return int((self.end - self.start).total_seconds() * 1000)


# ---- timeline ---------------------------------------------------------------------------


def timeline(run: WorkflowRun) -> dict[str, Any]:
    """The run's spans, critical path and parallel efficiency (the timeline API's body)."""
    rows = list(NodeRun.objects.filter(run=run).order_by("started_at", "node_id", "attempt"))
    now = timezone.now()
    # Nodes a partial re-run reused ran in the source run, not in this one.
    ran = [row for row in rows if row.started_at and not row.reason.startswith("reused from run")]
    spans = [span_of(row, run.finished_at or now) for row in ran]
    top = [span for span in spans if not span.iteration]
    origin = run.started_at or min((span.start for span in spans), default=None)
    end = run.finished_at or max((span.end for span in spans), default=origin)
    wall_ms = ms_between(origin, end) if origin and end else 0
    path, path_ms = critical_path(top, taken_edges(run.ran_document, latest_rows(rows)))
    busy_ms = sum(span.duration_ms for span in top)
    used = max_parallel_used(top)
    return {
        "run": run.pk,
        "status": run.status,
        "started_at": iso(origin),
        "finished_at": iso(run.finished_at),
        "wall_ms": wall_ms,
        "busy_ms": busy_ms,
        "max_parallel_used": used,
        "efficiency": efficiency(busy_ms, wall_ms, used),
        "critical_path": path,
        "critical_path_ms": path_ms,
        "spans": [span_body(span, origin) for span in spans],
    }


def span_of(row: NodeRun, open_end: datetime) -> Span:
    end = row.finished_at or open_end
    return Span(row.node_id, row.iteration, row.attempt, row.status, row.started_at, end)


def span_body(span: Span, origin: datetime | None) -> dict[str, Any]:
    return {
        "node": span.node,
        "iteration": span.iteration,
        "attempt": span.attempt,
        "status": span.status,
        "started_at": iso(span.start),
        "finished_at": iso(span.end),
        "offset_ms": ms_between(origin, span.start) if origin else 0,
        "duration_ms": span.duration_ms,
    }


def latest_rows(rows: list[NodeRun]) -> dict[str, NodeRun]:
    """Each top-level node's latest attempt."""
    latest: dict[str, NodeRun] = {}
    for row in rows:
        if row.iteration:
            continue
        if row.node_id not in latest or row.attempt > latest[row.node_id].attempt:
            latest[row.node_id] = row
    return latest


def taken_edges(document: dict, latest: dict[str, NodeRun]) -> list[tuple[str, str]]:
    """(source, target) pairs whose edge the run took, read from how each source ended."""
    pairs = []
    for edge in document.get("edges", []):
        source = latest.get(edge["source"])
        if source is None or edge["target"] not in latest:
            continue
        handle = edge.get("source_handle") or "out"
        ok = source.status in ("succeeded", "reused") and handle in (source.handles or ["out"])
        handled = source.status == "failed" and source.handled and handle == "error"
        if ok or handled:
            pairs.append((edge["source"], edge["target"]))
    return pairs


def critical_path(top: list[Span], edges: list[tuple[str, str]]) -> tuple[list[str], int]:
    """The longest chain of node durations through the taken edges: (node ids, total ms)."""
    first: dict[str, datetime] = {}
    last: dict[str, datetime] = {}
    for span in top:
        first[span.node] = min(first.get(span.node, span.start), span.start)
        last[span.node] = max(last.get(span.node, span.end), span.end)
    if not first:
        return [], 0
    sources: dict[str, list[str]] = {}
    for source, target in edges:
        sources.setdefault(target, []).append(source)
    best: dict[str, tuple[int, str | None]] = {}
    # A node starts after every source it waited for ended, so start order is topological.
    for node in sorted(first, key=lambda n: (first[n], last[n], n)):
        own = ms_between(first[node], last[node])
        before = [(best[s][0], s) for s in sources.get(node, ()) if s in best]
        length, previous = max(before, default=(0, None))
        best[node] = (length + own, previous)
    end = max(best, key=lambda n: (best[n][0], last[n]))
    path = [end]
    while best[path[-1]][1] is not None:
        path.append(best[path[-1]][1])
    return path[::-1], best[end][0]


def max_parallel_used(top: list[Span]) -> int:
    """The most top-level attempts running at one instant (an end at t frees a slot for a
    start at t)."""
    marks = sorted([(s.start, 1) for s in top] + [(s.end, -1) for s in top])
    running = peak = 0
    for _, delta in marks:
        running += delta
        peak = max(peak, running)
    return peak


def efficiency(busy_ms: int, wall_ms: int, used: int) -> float | None:
    if not wall_ms or not used:
        return None
    return round(min(1.0, busy_ms / (wall_ms * used)), 4)


def ms_between(start: datetime, end: datetime) -> int:
    return max(0, int((end - start).total_seconds() * 1000))


def iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat().replace("+00:00", "Z")


# ---- the text Gantt ---------------------------------------------------------------------


def timeline_text(data: dict[str, Any], width: int = 40) -> str:
    """`Total: 45.2s | Parallel efficiency: 78%`, one bar per span, then the critical path."""
    wall = max(data["wall_ms"], 1)
    eff = data["efficiency"]
    lines = [
        f"Run {data['run']} ({data['status']})",
        f"Total: {seconds(data['wall_ms'])} | Parallel efficiency: "
        + ("n/a" if eff is None else f"{round(eff * 100)}%")
        + f" | Max parallel: {data['max_parallel_used']}",
    ]
    critical = set(data["critical_path"])
    for span in data["spans"]:
        lead = int(width * span["offset_ms"] / wall)
        size = max(1, round(width * span["duration_ms"] / wall))
        label = span["node"] + (f" [{span['iteration']}]" if span["iteration"] else "")
        label += f" #{span['attempt']}" if span["attempt"] > 1 else ""
        mark = "*" if span["node"] in critical and not span["iteration"] else " "
        extra = "" if span["status"] == "succeeded" else f" {span['status']}"
        lines.append(
            f"{clock(span['offset_ms'])} {' ' * lead}{BAR * size}{' ' * (width - lead - size)}"
            f" {mark}{label} ({seconds(span['duration_ms'])}){extra}"
        )
    if not data["spans"]:
        lines.append("(no node has started)")
    path = " → ".join(data["critical_path"]) or "(none)"
    lines.append(f"Critical path: {path} ({seconds(data['critical_path_ms'])})")
    return "\n".join(lines)


def clock(ms: int) -> str:
    total = ms // 1000
    return f"{total // 60:02d}:{total % 60:02d}"


def seconds(ms: int) -> str:
    return f"{ms / 1000:.1f}s"
