"""Two runs of one workflow side by side (SPEC §8 "Run diff"): per node, whether its definition
was added, removed or changed between the documents the runs ran, and its status, duration and
output in each run, with a bounded JSON diff of outputs that differ.

A node's definition is everything but where it sits on the canvas (`position`, `size`) and its
display `name`, plus the edges into it (source, handles): a node fed from elsewhere is changed.
A body node (in a loop or map) reads as its executions together: failed if any iteration
failed, else the latest iteration's state; its duration is their sum; its output the list of
every iteration's output, in order.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from workflows import selectors
from workflows.errors import SwitchyardError, problem
from workflows.models import NodeRun, WorkflowRun

CHANGES_SHOWN = 20  # JSON changes listed per node in a diff of two runs
CHANGES_BUDGET = 2_000  # ...and in all, so a diff of two 10,000-node runs stays a few MB
CHANGES_MAX = 10_000  # ...and for one node asked for in full
VALUE_PREVIEW_CHARS = 200  # a value in a change, as JSON text, cut beyond this
LAYOUT_FIELDS = frozenset({"position", "size", "name"})


class DifferentWorkflows(SwitchyardError):
    """Two runs of different workflows have nothing to compare node by node (400)."""


class NodeNotInRuns(SwitchyardError):
    status_code = 404


def runs_to_diff(*, user, a: int, b: int) -> tuple[WorkflowRun, WorkflowRun]:
    """Runs `a` and `b`, when the user may read both (else 404, as a run read) and they are
    runs of one workflow (else 400)."""
    run_a = selectors.run_get(user=user, run_id=a)
    run_b = selectors.run_get(user=user, run_id=b)
    same_workflow(run_a, run_b)
    return run_a, run_b


def same_workflow(a: WorkflowRun, b: WorkflowRun) -> None:
    if a.workflow_id != b.workflow_id:
        message = (
            f"run {a.pk} is of workflow {a.workflow_id} and run {b.pk} of workflow "
            f"{b.workflow_id}: only runs of the same workflow can be compared"
        )
        raise DifferentWorkflows([problem("different_workflows", message)])


def run_diff(a: WorkflowRun, b: WorkflowRun, *, node: str | None = None) -> dict[str, Any]:
    """`{"a", "b", "workflow", "revisions", "summary", "nodes": {id: {"change", "status":
    [a, b], "duration_ms": [a, b], "output_changed", "output_diff"?}}}` in document order (b's,
    then nodes only a had). With `node`, only that node, its output diff in full (up to
    `CHANGES_MAX` changes, values uncut). At most `CHANGES_BUDGET` changes are listed in all:
    past that, an `output_diff` counts its changes (`total`) and lists none."""
    doc_a, doc_b = definitions(a.ran_document), definitions(b.ran_document)
    ids = list(doc_b) + [node_id for node_id in doc_a if node_id not in doc_b]
    if node is not None:
        if node not in doc_a and node not in doc_b:
            message = f"node {node} is in neither run {a.pk} nor run {b.pk}"
            raise NodeNotInRuns([problem("not_found", message, node=node)])
        ids = [node]
    facts_a, facts_b = node_facts(a, ids), node_facts(b, ids)
    nodes = {}
    budget = CHANGES_MAX if node is not None else CHANGES_BUDGET
    for node_id in ids:
        entry = compare(node_id, doc_a, doc_b, facts_a.get(node_id), facts_b.get(node_id))
        if entry["output_changed"]:
            left, right = outputs_of(facts_a, facts_b, node_id)
            full = node is not None
            entry["output_diff"] = found = json_diff(
                left,
                right,
                limit=budget if full else min(CHANGES_SHOWN, budget),
                preview=None if full else VALUE_PREVIEW_CHARS,
            )
            budget -= len(found["changes"])
        nodes[node_id] = entry
    return {
        "a": a.pk,
        "b": b.pk,
        "workflow": a.workflow_id,
        "revisions": [a.revision, b.revision],
        "summary": summary(nodes),
        "nodes": nodes,
    }


def definitions(document: dict) -> dict[str, dict[str, Any]]:
    """Each node's definition as the diff compares it (see the module's docstring)."""
    inputs: dict[str, list] = {}
    for edge in document.get("edges") or ():
        inputs.setdefault(edge["target"], []).append(
            (
                edge["source"],
                edge.get("source_handle") or "out",
                edge.get("target_handle") or "in",
            )
        )
    result = {}
    for node in document.get("nodes") or ():
        definition = {k: v for k, v in node.items() if k not in LAYOUT_FIELDS}
        definition["inputs"] = sorted(inputs.get(node["id"], ()))
        result[node["id"]] = definition
    return result


def node_facts(run: WorkflowRun, ids: list[str]) -> dict[str, dict[str, Any]]:
    """Each node's state, duration and output in `run` (latest attempt per execution)."""
    rows = NodeRun.objects.filter(run=run)
    if len(ids) == 1:
        rows = rows.filter(node_id=ids[0])
    columns = ("node_id", "iteration", "attempt", "status", "duration_ms", "output")
    latest: dict[tuple[str, str], tuple] = {}
    for row in rows.order_by("attempt").values_list(*columns):
        latest[(row[0], row[1])] = row
    top: dict[str, dict[str, Any]] = {}
    body: dict[str, list[tuple]] = {}
    for (node_id, iteration), row in latest.items():
        if iteration:
            body.setdefault(node_id, []).append(row)
        else:
            top[node_id] = {"status": row[3], "duration_ms": row[4], "output": row[5]}
    for node_id, executions in body.items():
        top.setdefault(node_id, iterations_together(executions))
    return top


def iterations_together(rows: list[tuple]) -> dict[str, Any]:
    rows.sort(key=lambda row: iteration_order(row[1]))
    statuses = [row[3] for row in rows]
    durations = [row[4] for row in rows if row[4] is not None]
    return {
        "status": "failed" if "failed" in statuses else statuses[-1],
        "duration_ms": sum(durations) if durations else None,
        "output": [row[5] for row in rows],
    }


def iteration_order(path: str) -> tuple:
    """`outer[2]/each[10]` sorts after `outer[2]/each[9]`."""
    parts = []
    for step in path.split("/"):
        name, _, index = step.rpartition("[")
        index = index.rstrip("]")
        parts.append((name, int(index) if index.isdigit() else 0))
    return tuple(parts)


def compare(node_id: str, doc_a: dict, doc_b: dict, fa: dict | None, fb: dict | None) -> dict:
    if node_id not in doc_a:
        change = "added"
    elif node_id not in doc_b:
        change = "removed"
    else:
        change = "same" if doc_a[node_id] == doc_b[node_id] else "changed"
    status = [fact_of(fa, doc_a, node_id, "status"), fact_of(fb, doc_b, node_id, "status")]
    output_a = fa["output"] if fa else None
    output_b = fb["output"] if fb else None
    return {
        "change": change,
        "status": status,
        "duration_ms": [fa and fa["duration_ms"], fb and fb["duration_ms"]],
        "output_changed": (fa is not None or fb is not None) and output_a != output_b,
    }


def fact_of(facts: dict | None, document: dict, node_id: str, name: str) -> Any:
    """A node's state in a run: its row's, `pending` if the run's document has it but it never
    started, null when the run's document does not have it."""
    if facts is not None:
        return facts[name]
    return "pending" if node_id in document else None


def outputs_of(facts_a: dict, facts_b: dict, node_id: str) -> tuple[Any, Any]:
    fa, fb = facts_a.get(node_id), facts_b.get(node_id)
    return (fa["output"] if fa else None), (fb["output"] if fb else None)


def summary(nodes: dict[str, dict]) -> dict[str, int]:
    counts = dict.fromkeys(("added", "removed", "changed", "same"), 0)
    status_changed = output_changed = 0
    for entry in nodes.values():
        counts[entry["change"]] += 1
        status_changed += entry["status"][0] != entry["status"][1]
        output_changed += entry["output_changed"]
    return {**counts, "status_changed": status_changed, "output_changed": output_changed}


# --- the JSON diff of two values ---------------------------------------------------------------


def json_diff(a: Any, b: Any, *, limit: int, preview: int | None) -> dict[str, Any]:
    """`{"changes": [{"path", "op": "changed"|"added"|"removed", "a"?, "b"?}], "total",
    "truncated"}`: where `b` differs from `a`, by JSON path (`$.items[2].name`), the first
    `limit` changes listed and all counted; with `preview`, each value longer than that as JSON
    is cut to a string of that many characters ending in `…`."""
    changes = []
    total = 0
    for change in differences(a, b, "$"):
        total += 1
        if len(changes) < limit:
            changes.append(shortened(change, preview) if preview else change)
    return {"changes": changes, "total": total, "truncated": total > len(changes)}


def differences(a: Any, b: Any, path: str) -> Iterator[dict[str, Any]]:
    if isinstance(a, dict) and isinstance(b, dict):
        for key in ordered_keys(a, b):
            where = f"{path}.{key}" if str(key).isidentifier() else f"{path}[{json.dumps(key)}]"
            if key not in b:
                yield {"path": where, "op": "removed", "a": a[key]}
            elif key not in a:
                yield {"path": where, "op": "added", "b": b[key]}
            elif a[key] != b[key]:
                yield from differences(a[key], b[key], where)
    elif isinstance(a, list) and isinstance(b, list):
        for index in range(max(len(a), len(b))):
            where = f"{path}[{index}]"
            if index >= len(b):
                yield {"path": where, "op": "removed", "a": a[index]}
            elif index >= len(a):
                yield {"path": where, "op": "added", "b": b[index]}
            elif a[index] != b[index]:
                yield from differences(a[index], b[index], where)
    elif a != b:
        yield {"path": path, "op": "changed", "a": a, "b": b}


def ordered_keys(a: dict, b: dict) -> list:
    return list(a) + [key for key in b if key not in a]


def shortened(change: dict[str, Any], preview: int) -> dict[str, Any]:
    result = dict(change)
    for side in ("a", "b"):
        if side in result and isinstance(result[side], dict | list | str):
            text = json.dumps(result[side], ensure_ascii=False, default=str)
            if len(text) > preview:
                result[side] = text[: preview - 1] + "…"
    return result
