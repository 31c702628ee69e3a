"""Pictures of a workflow's DAG (mermaid, Graphviz dot, inline SVG), nodes in the SPEC §4 state
colours when a run's statuses are given."""

from __future__ import annotations

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
    """Each top-level node's final state in the run (`pending` if it has no row)."""
    rows = NodeRun.objects.filter(run=run, iteration="").order_by("node_id", "attempt")
    statuses = {node["id"]: "pending" for node in run.ran_document.get("nodes", [])}
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
