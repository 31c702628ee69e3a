"""Where a run's time went and what its graph looked like: timelines, critical paths, parallel
efficiency, and pictures of the DAG (mermaid, dot, SVG) in the SPEC §4 state colours.

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
from html import escape
from typing import Any

from django.utils import timezone

from engine.report import dry_run_plan
from workflows.models import NodeRun, WorkflowRun

# SPEC §4 colours, the same values as the canvas (frontend/src/lib/status.ts).
STATE_COLOURS = {
    "pending": "#94a3b8",
    "queued": "#7dd3fc",
    "running": "#3b82f6",
    "retrying": "#f59e0b",
    "waiting": "#a855f7",
    "succeeded": "#22c55e",
    "failed": "#ef4444",
    "skipped": "#cbd5e1",
    "upstream_failed": "#f97316",
    "cancelled": "#475569",
    "paused": "#a855f7",
}
DARK_STATES = frozenset({"running", "failed", "cancelled", "waiting", "paused"})
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
    path, path_ms = critical_path(top, taken_edges(run.document, latest_rows(rows)))
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
        ok = source.status == "succeeded" and handle in (source.handles or ["out"])
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


# ---- pictures of the DAG ------------------------------------------------------------------


def node_statuses(run: WorkflowRun) -> dict[str, str]:
    """Each top-level node's final state in the run (`pending` if it has no row)."""
    rows = NodeRun.objects.filter(run=run, iteration="").order_by("node_id", "attempt")
    statuses = {node["id"]: "pending" for node in run.document.get("nodes", [])}
    for node_id, status in rows.values_list("node_id", "status"):
        statuses[node_id] = status
    return statuses


def edge_label(edge: dict) -> str:
    handle = edge.get("source_handle") or "out"
    return "" if handle == "out" else handle


def node_label(node: dict) -> str:
    name = node.get("name") or node["id"]
    return f"{name} ({node['type']})" if name == node["id"] else f"{name} [{node['id']}]"


def mermaid(document: dict, statuses: dict[str, str] | None = None) -> str:
    """A mermaid flowchart of the document; with `statuses`, nodes in their state colours."""
    lines = ["flowchart LR"]
    for node in document.get("nodes", []):
        label = node_label(node).replace('"', "#quot;")
        lines.append(f'  {node["id"]}["{label}"]')
    for edge in document.get("edges", []):
        label = edge_label(edge)
        arrow = f"-->|{label}|" if label else "-->"
        lines.append(f"  {edge['source']} {arrow} {edge['target']}")
    if statuses:
        used = sorted(set(statuses.values()))
        for status in used:
            lines.append(f"  classDef {status} {mermaid_style(status)}")
        for status in used:
            members = ",".join(n for n, s in statuses.items() if s == status)
            lines.append(f"  class {members} {status}")
    return "\n".join(lines) + "\n"


def mermaid_style(status: str) -> str:
    colour = STATE_COLOURS.get(status, STATE_COLOURS["pending"])
    text = "#ffffff" if status in DARK_STATES else "#0f172a"
    dashed = ",stroke-dasharray:5 5" if status == "skipped" else ""
    return f"fill:{colour},stroke:#334155,color:{text}{dashed}"


def dot(document: dict, statuses: dict[str, str] | None = None) -> str:
    """A Graphviz digraph of the document; with `statuses`, nodes filled in their colours."""
    lines = [
        f"digraph {quote(document.get('name') or 'workflow')} {{",
        "  rankdir=LR;",
        '  node [shape=box, style="rounded,filled", fillcolor="#ffffff", fontname="Helvetica"];',
    ]
    for node in document.get("nodes", []):
        attrs = [f"label={quote(node_label(node))}"]
        if statuses:
            status = statuses.get(node["id"], "pending")
            style = "rounded,filled,dashed" if status == "skipped" else "rounded,filled"
            attrs += [f'fillcolor="{STATE_COLOURS.get(status, "#94a3b8")}"', f'style="{style}"']
            if status in DARK_STATES:
                attrs.append('fontcolor="#ffffff"')
            attrs.append(f"tooltip={quote(status)}")
        lines.append(f"  {quote(node['id'])} [{', '.join(attrs)}];")
    for edge in document.get("edges", []):
        label = edge_label(edge)
        attrs = f" [label={quote(label)}]" if label else ""
        lines.append(f"  {quote(edge['source'])} -> {quote(edge['target'])}{attrs};")
    lines.append("}")
    return "\n".join(lines) + "\n"


def quote(text: str) -> str:
    return '"' + str(text).replace("\\", "\\\\").replace('"', '\\"') + '"'


def layers(document: dict) -> dict[str, int]:
    """Each node's column: the length of the longest edge path reaching it."""
    ids = [node["id"] for node in document.get("nodes", [])]
    sources: dict[str, list[str]] = {node_id: [] for node_id in ids}
    for edge in document.get("edges", []):
        if edge["target"] in sources and edge["source"] in sources:
            sources[edge["target"]].append(edge["source"])
    column: dict[str, int] = {}

    def depth(node_id: str, seen: frozenset) -> int:
        if node_id not in column:
            if node_id in seen:  # a cycle in a draft: cut it here
                return 0
            inner = seen | {node_id}
            column[node_id] = 1 + max((depth(s, inner) for s in sources[node_id]), default=-1)
        return column[node_id]

    for node_id in ids:
        depth(node_id, frozenset())
    return column


def svg(document: dict, statuses: dict[str, str] | None = None) -> str:
    """An inline SVG of the DAG, laid out in columns, nodes in their state colours."""
    column = layers(document)
    rows: dict[int, int] = {}
    where: dict[str, tuple[int, int]] = {}
    for node in document.get("nodes", []):
        c = column[node["id"]]
        where[node["id"]] = (20 + c * 190, 20 + rows.get(c, 0) * 60)
        rows[c] = rows.get(c, 0) + 1
    width = 20 + (max(column.values(), default=0) + 1) * 190
    height = 20 + max(rows.values(), default=1) * 60
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" class="switchyard-dag" font-family="sans-serif" '
        'font-size="12">',
        '<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="6" '
        'markerHeight="6" orient="auto"><path d="M0,0 L10,5 L0,10 z" fill="#64748b"/>'
        "</marker></defs>",
    ]
    for edge in document.get("edges", []):
        if edge["source"] in where and edge["target"] in where:
            parts.append(svg_edge(where[edge["source"]], where[edge["target"]], edge_label(edge)))
    for node in document.get("nodes", []):
        status = (statuses or {}).get(node["id"])
        parts.append(svg_node(node, where[node["id"]], status))
    parts.append("</svg>")
    return "".join(parts)


def svg_edge(start: tuple[int, int], end: tuple[int, int], label: str) -> str:
    x1, y1, x2, y2 = start[0] + 150, start[1] + 20, end[0], end[1] + 20
    line = (
        f'<line x1="{x1}" y1="{y1}" x2="{x2}" y2="{y2}" stroke="#64748b" marker-end="url(#arrow)"/>'
    )
    if not label:
        return line
    mid = ((x1 + x2) // 2, (y1 + y2) // 2 - 4)
    return line + f'<text x="{mid[0]}" y="{mid[1]}" fill="#475569">{escape(label)}</text>'


def svg_node(node: dict, at: tuple[int, int], status: str | None) -> str:
    fill = STATE_COLOURS.get(status, "#f8fafc") if status else "#f8fafc"
    text = "#ffffff" if status in DARK_STATES else "#0f172a"
    dash = ' stroke-dasharray="5 3"' if status == "skipped" else ""
    title = escape(node["id"] + (f": {status}" if status else ""))
    label = escape((node.get("name") or node["id"])[:22])
    return (
        f'<g data-node-id="{escape(node["id"])}" data-status="{escape(status or "")}">'
        f"<title>{title}</title>"
        f'<rect x="{at[0]}" y="{at[1]}" width="150" height="40" rx="6" fill="{fill}" '
        f'stroke="#334155"{dash}/>'
        f'<text x="{at[0] + 75}" y="{at[1] + 17}" text-anchor="middle" fill="{text}">{label}'
        f'</text><text x="{at[0] + 75}" y="{at[1] + 32}" text-anchor="middle" fill="{text}" '
        f'font-size="10">{escape(node["type"])}{" · " + escape(status) if status else ""}'
        "</text></g>"
    )


# ---- inspecting a run -----------------------------------------------------------------------


def node_input(run: WorkflowRun, node_id: str, latest: dict[str, NodeRun]) -> Any:
    """What a top-level node received (SPEC §2 `input`): a root gets the run's inputs; one
    taken source gives its output (an error edge carries `{"error"}`); several, a dict."""
    incoming = [e for e in run.document.get("edges", []) if e["target"] == node_id]
    if not incoming:
        return run.inputs
    carried = {}
    for source, target in taken_edges(run.document, latest):
        if target == node_id and source not in carried:
            row = latest[source]
            carried[source] = row.output if row.status == "succeeded" else {"error": row.error}
    if len(carried) == 1:
        return next(iter(carried.values()))
    return carried or None


def why_not_run(row: NodeRun | None, run: WorkflowRun) -> str:
    """A node's reason for not running, also for nodes the run never got to."""
    if row is None:
        ended = run.status in ("succeeded", "failed", "cancelled")
        return f"never decided: the run {'ended' if ended else 'is'} {run.status}"
    return row.reason or ""


def run_plan(run: WorkflowRun) -> dict[str, list[str]]:
    """For a dry run: the top-level nodes a real run would execute and those whose side
    effects were not performed (`engine.report.dry_run_plan`), from the run's rows."""
    latest = latest_rows(list(NodeRun.objects.filter(run=run, iteration="")))
    nodes = {
        node["id"]: {"status": latest[node["id"]].status, "output": latest[node["id"]].output}
        for node in run.document.get("nodes", [])
        if node["id"] in latest and not node.get("parent")
    }
    return dry_run_plan(nodes)
