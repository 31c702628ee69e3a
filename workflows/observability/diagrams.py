"""Pictures of a workflow's DAG (mermaid, Graphviz dot, inline SVG), nodes in the SPEC §4 state
colours when a run's statuses are given."""

from __future__ import annotations

from collections.abc import Iterable
from html import escape

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
    "reused": "#14b8a6",  # teal: an earlier run's output, not run again (node cache)
    "paused": "#a855f7",
}
DARK_STATES = frozenset({"running", "failed", "cancelled", "waiting", "paused"})


def node_statuses(run: WorkflowRun) -> dict[str, str]:
    """Each node's state in the run (`statuses_from_rows` over its node runs)."""
    rows = NodeRun.objects.filter(run=run).order_by("node_id", "attempt")
    return statuses_from_rows(run.ran_document, rows.values_list("node_id", "iteration", "status"))


def statuses_from_rows(document: dict, rows: Iterable[tuple]) -> dict[str, str]:
    """Each node's state from `(node, iteration, status, …)` rows in attempt order: a
    top-level node's last attempt's; a container body's node summed over its iterations'
    last attempts (`body_status`); `pending` while it has no row."""
    statuses = {node["id"]: "pending" for node in document.get("nodes", [])}
    last: dict[tuple[str, str], str] = {}
    for node_id, iteration, status, *_ in rows:
        last[node_id, iteration] = status
    counts: dict[str, dict[str, int]] = {}
    for (node_id, iteration), status in last.items():
        if not iteration:
            statuses[node_id] = status
        else:
            by_status = counts.setdefault(node_id, {})
            by_status[status] = by_status.get(status, 0) + 1
    for node_id, by_status in counts.items():
        if statuses.get(node_id) == "pending":
            statuses[node_id] = body_status(by_status)
    return statuses


def body_status(counts: dict[str, int]) -> str:
    """One state for a body node from its iterations' final states: what still moves first,
    then a failure, then succeeded when any iteration did and none failed."""
    for state in ("running", "retrying", "queued", "waiting", "failed", "upstream_failed"):
        if counts.get(state):
            return "running" if state in ("retrying", "queued") else state
    if counts.get("succeeded"):
        return "succeeded"
    return max(counts, key=counts.__getitem__)


def edge_label(edge: dict) -> str:
    handle = edge.get("source_handle") or "out"
    return "" if handle == "out" else handle


def node_label(node: dict) -> str:
    name = node.get("name") or node["id"]
    return f"{name} ({node['type']})" if name == node["id"] else f"{name} [{node['id']}]"


def mermaid(document: dict, statuses: dict[str, str] | None = None) -> str:
    """A mermaid flowchart of the document, each container a subgraph around its body (edges
    to and from the container meet its frame); with `statuses`, nodes in their state colours."""
    nodes = document.get("nodes", [])
    lines = ["flowchart LR", *mermaid_scope(None, members(nodes), "  ")]
    for edge in document.get("edges", []):
        label = edge_label(edge)
        arrow = f"-->|{label}|" if label else "-->"
        lines.append(f"  {edge['source']} {arrow} {edge['target']}")
    if statuses:
        frames = {node_id for node_id, inside in members(nodes).items() if inside and node_id}
        used = sorted({s for n, s in statuses.items() if n not in frames})
        for status in used:
            lines.append(f"  classDef {status} {mermaid_style(status)}")
        for status in used:
            chosen = ",".join(n for n, s in statuses.items() if s == status and n not in frames)
            lines.append(f"  class {chosen} {status}")
        for node_id in sorted(frames & set(statuses)):
            lines.append(f"  style {node_id} {mermaid_style(statuses[node_id])}")
    return "\n".join(lines) + "\n"


def members(nodes: list[dict]) -> dict[str | None, list[dict]]:
    """Each container's body nodes (top level under None), in document order."""
    ids = {node["id"] for node in nodes}
    inside: dict[str | None, list[dict]] = {}
    for node in nodes:
        parent = node.get("parent") if node.get("parent") in ids else None
        inside.setdefault(parent, []).append(node)
    return inside


def mermaid_scope(parent: str | None, inside: dict, indent: str) -> list[str]:
    lines = []
    for node in inside.get(parent, []):
        label = node_label(node).replace('"', "#quot;")
        if not inside.get(node["id"]):
            lines.append(f'{indent}{node["id"]}["{label}"]')
            continue
        lines.append(f'{indent}subgraph {node["id"]}["{label}"]')
        lines += mermaid_scope(node["id"], inside, indent + "  ")
        lines.append(f"{indent}end")
    return lines


def mermaid_style(status: str) -> str:
    colour = STATE_COLOURS.get(status, STATE_COLOURS["pending"])
    text = "#ffffff" if status in DARK_STATES else "#0f172a"
    dashed = ",stroke-dasharray:5 5" if status == "skipped" else ""
    return f"fill:{colour},stroke:#334155,color:{text}{dashed}"


def dot(document: dict, statuses: dict[str, str] | None = None) -> str:
    """A Graphviz digraph of the document, each container a `cluster_<id>` subgraph holding
    the container node and its body (nested ones nest); with `statuses`, nodes filled in
    their colours and clusters outlined in theirs."""
    lines = [
        f"digraph {quote(document.get('name') or 'workflow')} {{",
        "  rankdir=LR;",
        '  node [shape=box, style="rounded,filled", fillcolor="#ffffff", fontname="Helvetica"];',
        *dot_scope(None, members(document.get("nodes", [])), statuses, "  "),
    ]
    for edge in document.get("edges", []):
        label = edge_label(edge)
        attrs = f" [label={quote(label)}]" if label else ""
        lines.append(f"  {quote(edge['source'])} -> {quote(edge['target'])}{attrs};")
    lines.append("}")
    return "\n".join(lines) + "\n"


def dot_scope(parent: str | None, inside: dict, statuses: dict | None, indent: str) -> list:
    lines = []
    for node in inside.get(parent, []):
        if not inside.get(node["id"]):
            lines.append(f"{indent}{dot_node(node, statuses)}")
            continue
        status = (statuses or {}).get(node["id"])
        colour = STATE_COLOURS.get(status, "#94a3b8") if status else "#94a3b8"
        lines += [
            f"{indent}subgraph {quote('cluster_' + node['id'])} {{",
            f"{indent}  label={quote(node_label(node))};",
            f'{indent}  style="rounded,dashed"; color="{colour}";',
            f"{indent}  {dot_node(node, statuses)}",
            *dot_scope(node["id"], inside, statuses, indent + "  "),
            f"{indent}}}",
        ]
    return lines


def dot_node(node: dict, statuses: dict | None) -> str:
    attrs = [f"label={quote(node_label(node))}"]
    if statuses:
        status = statuses.get(node["id"], "pending")
        style = "rounded,filled,dashed" if status == "skipped" else "rounded,filled"
        attrs += [f'fillcolor="{STATE_COLOURS.get(status, "#94a3b8")}"', f'style="{style}"']
        if status in DARK_STATES:
            attrs.append('fontcolor="#ffffff"')
        attrs.append(f"tooltip={quote(status)}")
    return f"{quote(node['id'])} [{', '.join(attrs)}];"


def quote(text: str) -> str:
    return '"' + str(text).replace("\\", "\\\\").replace('"', '\\"') + '"'


def layers(nodes: list[dict], edges: list[dict]) -> dict[str, int]:
    """Each node's column: the length of the longest edge path reaching it (among `nodes`)."""
    ids = [node["id"] for node in nodes]
    sources: dict[str, list[str]] = {node_id: [] for node_id in ids}
    for edge in edges:
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


NODE_W, NODE_H = 160, 40
COLUMN_GAP, ROW_GAP = 80, 20  # the gap between columns holds an edge's label
FRAME_PAD, FRAME_TITLE = 12, 22


class Layout:
    """Where each node's box is: top-level nodes in columns by depth, a container's body
    nodes inside its frame, laid out the same way (nested containers nest)."""

    def __init__(self, document: dict) -> None:
        self.nodes = {node["id"]: node for node in document.get("nodes", [])}
        self.edges = document.get("edges", [])
        self.children: dict[str | None, list[dict]] = {}
        for node in self.nodes.values():
            parent = node.get("parent") if node.get("parent") in self.nodes else None
            self.children.setdefault(parent, []).append(node)
        self.box: dict[str, tuple[int, int, int, int]] = {}  # x, y, width, height
        self.sizes: dict[str, tuple[int, int]] = {}  # frames' (width, height), once measured
        self.width, self.height = self._place(None, 10, 10)

    def is_frame(self, node_id: str) -> bool:
        return bool(self.children.get(node_id))

    def _size(self, node_id: str) -> tuple[int, int]:
        """A box's size; a frame's is measured once (placing asks for it again)."""
        if not self.is_frame(node_id):
            return NODE_W, NODE_H
        if node_id not in self.sizes:
            inner_w, inner_h = self._measure(node_id)
            size = max(NODE_W, inner_w + 2 * FRAME_PAD), inner_h + FRAME_TITLE + 2 * FRAME_PAD
            self.sizes[node_id] = size
        return self.sizes[node_id]

    def _columns(self, parent: str | None) -> list[list[dict]]:
        scope = self.children.get(parent, [])
        column = layers(scope, self.edges)
        columns: list[list[dict]] = [[] for _ in range(max(column.values(), default=-1) + 1)]
        for node in scope:
            columns[column[node["id"]]].append(node)
        return columns

    def _measure(self, parent: str | None) -> tuple[int, int]:
        sizes = [[self._size(node["id"]) for node in col] for col in self._columns(parent)]
        width = sum(max(w for w, _ in col) for col in sizes) + COLUMN_GAP * (len(sizes) - 1)
        height = max(
            (sum(h for _, h in col) + ROW_GAP * (len(col) - 1) for col in sizes), default=0
        )
        return max(width, 0), height

    def _place(self, parent: str | None, x0: int, y0: int) -> tuple[int, int]:
        x, bottom = x0, y0
        for col in self._columns(parent):
            y, col_w = y0, 0
            for node in col:
                w, h = self._size(node["id"])
                self.box[node["id"]] = (x, y, w, h)
                if self.is_frame(node["id"]):
                    self._place(node["id"], x + FRAME_PAD, y + FRAME_TITLE + FRAME_PAD)
                y, col_w = y + h + ROW_GAP, max(col_w, w)
            x, bottom = x + col_w + COLUMN_GAP, max(bottom, y - ROW_GAP)
        return x - COLUMN_GAP + 10, bottom + 10


def svg(document: dict, statuses: dict[str, str] | None = None) -> str:
    """An inline SVG of the DAG: columns by depth, containers as frames around their body,
    nodes in their state colours, edge labels drawn last so no box hides them."""
    layout = Layout(document)
    width, height = max(layout.width, NODE_W + 20), max(layout.height, NODE_H + 20)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" class="switchyard-dag" font-family="sans-serif" '
        'font-size="12">',
        '<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="6" '
        'markerHeight="6" orient="auto"><path d="M0,0 L10,5 L0,10 z" fill="#64748b"/>'
        "</marker></defs>",
    ]
    drawn = [e for e in layout.edges if e["source"] in layout.box and e["target"] in layout.box]
    frames = [node for node in layout.nodes.values() if layout.is_frame(node["id"])]
    boxes = [node for node in layout.nodes.values() if not layout.is_frame(node["id"])]
    # frames under the edges (a body's edges run inside its frame), nodes over them, labels last
    for node in frames:
        parts.append(svg_frame(node, layout.box[node["id"]], (statuses or {}).get(node["id"])))
    for edge in drawn:
        parts.append(svg_edge(layout.box[edge["source"]], layout.box[edge["target"]]))
    for node in boxes:
        parts.append(svg_node(node, layout.box[node["id"]], (statuses or {}).get(node["id"])))
    for edge in drawn:
        label = edge_label(edge)
        if label:
            source, target = layout.box[edge["source"]], layout.box[edge["target"]]
            parts.append(svg_edge_label(source, target, label))
    parts.append("</svg>")
    return "".join(parts)


def ends(start: tuple[int, int, int, int], end: tuple[int, int, int, int]) -> tuple[int, ...]:
    return (
        start[0] + start[2],
        start[1] + min(start[3], NODE_H) // 2,
        end[0],
        end[1] + min(end[3], NODE_H) // 2,
    )


def svg_edge(start: tuple[int, int, int, int], end: tuple[int, int, int, int]) -> str:
    x1, y1, x2, y2 = ends(start, end)
    return (
        f'<line x1="{x1}" y1="{y1}" x2="{x2}" y2="{y2}" stroke="#64748b" marker-end="url(#arrow)"/>'
    )


def svg_edge_label(
    start: tuple[int, int, int, int], end: tuple[int, int, int, int], label: str
) -> str:
    """The handle's name on the edge, in the gap after its source's column (edges leaving one
    node to different rows part there), on a white ground, in full."""
    x1, y1, x2, y2 = ends(start, end)
    along = min(COLUMN_GAP // 2, max(x2 - x1, 0) // 2)
    x = x1 + along - 3 * len(label)
    y = y1 + (y2 - y1) * along // max(x2 - x1, 1) + 4
    text = escape(label)
    return (
        f'<g class="edge-label"><rect x="{x - 2}" y="{y - 11}" width="{7 * len(label) + 4}" '
        f'height="14" fill="#ffffff" opacity="0.9"/>'
        f'<text x="{x}" y="{y}" fill="#475569">{text}</text></g>'
    )


def svg_frame(node: dict, box: tuple[int, int, int, int], status: str | None) -> str:
    x, y, w, h = box
    colour = STATE_COLOURS.get(status, "#94a3b8") if status else "#94a3b8"
    title = escape(node["id"] + (f": {status}" if status else ""))
    label = escape(node.get("name") or node["id"])
    kind = escape(node["type"]) + (f" · {escape(status)}" if status else "")
    return (
        f'<g data-node-id="{escape(node["id"])}" data-status="{escape(status or "")}" '
        'class="frame">'
        f"<title>{title}</title>"
        f'<rect x="{x}" y="{y}" width="{w}" height="{h}" rx="8" fill="#f8fafc" stroke="{colour}" '
        f'stroke-width="2" stroke-dasharray="6 3"/>'
        f'<rect x="{x}" y="{y}" width="{w}" height="{FRAME_TITLE}" rx="8" fill="{colour}" '
        'opacity="0.25"/>'
        f'<text x="{x + 8}" y="{y + 15}" fill="#0f172a" font-weight="bold">{label}</text>'
        f'<text x="{x + w - 8}" y="{y + 15}" text-anchor="end" fill="#0f172a" '
        f'font-size="10">{kind}</text></g>'
    )


def svg_node(node: dict, box: tuple[int, int, int, int], status: str | None) -> str:
    x, y, w, h = box
    fill = STATE_COLOURS.get(status, "#f8fafc") if status else "#f8fafc"
    text = "#ffffff" if status in DARK_STATES else "#0f172a"
    dash = ' stroke-dasharray="5 3"' if status == "skipped" else ""
    title = escape(node["id"] + (f": {status}" if status else ""))
    name = node.get("name") or node["id"]
    label = escape(name if len(name) <= 24 else name[:23] + "…")
    return (
        f'<g data-node-id="{escape(node["id"])}" data-status="{escape(status or "")}">'
        f"<title>{title}</title>"
        f'<rect x="{x}" y="{y}" width="{w}" height="{h}" rx="6" fill="{fill}" '
        f'stroke="#334155"{dash}/>'
        f'<text x="{x + w // 2}" y="{y + 17}" text-anchor="middle" fill="{text}">{label}'
        f'</text><text x="{x + w // 2}" y="{y + 32}" text-anchor="middle" fill="{text}" '
        f'font-size="10">{escape(node["type"])}{" · " + escape(status) if status else ""}'
        "</text></g>"
    )
