"""The dagger-style document form, translated into the native one (SPEC §1) on load.

Tools in the dagger family describe a DAG node by node: each node lists the ids it waits for
(`dependencies`) and how many times it may run (`try_count`), and the file carries its own
top-level facts (`author`, `signature`, …). Here that becomes one edge `dependency → node`
(handle `out` to `in`) per dependency, `retry.max_attempts`, and the document's `metadata`.
Malformed input is refused with every problem, each naming its field (`nodes[1].dependencies`),
before the native validation runs: a dependency on a node that is not there, a cycle, a
`try_count` that is not an integer between 1 and MAX_ATTEMPTS.
"""

from __future__ import annotations

from graphlib import CycleError, TopologicalSorter
from typing import Any

from engine.limits import MAX_ATTEMPTS
from engine.schema import DOCUMENT_SCHEMA

DAGGER_NODE_FIELDS = ("dependencies", "try_count")
NATIVE_FIELDS = frozenset(DOCUMENT_SCHEMA["properties"])


def is_dagger(data: dict) -> bool:
    """A document in the dagger form: some node names `dependencies` or a `try_count`."""
    nodes = data.get("nodes")
    if not isinstance(nodes, list):
        return False
    return any(
        isinstance(node, dict) and any(key in node for key in DAGGER_NODE_FIELDS) for node in nodes
    )


def from_dagger(data: dict) -> tuple[dict, list[tuple[str, str, str | None, str]]]:
    """The native document, and the problems `(code, message, node, field)` that refuse it."""
    nodes = data["nodes"]
    problems: list[tuple[str, str, str | None, str]] = []
    ids = {node.get("id") for node in nodes if isinstance(node, dict)}
    upstream: dict[str, list[str]] = {}
    native_nodes = []
    for index, node in enumerate(nodes):
        if not isinstance(node, dict):
            native_nodes.append(node)
            continue
        node = dict(node)
        node_id = node.get("id") if isinstance(node.get("id"), str) else None
        where = f"nodes[{index}]"
        found = dependencies_of(node.pop("dependencies", None), ids, node_id, where, problems)
        if node_id is not None:
            upstream[node_id] = found
        try_count = node.pop("try_count", None)
        if try_count is not None:
            attempts_of(node, try_count, node_id, where, problems)
        native_nodes.append(node)
    problems.extend(cycle_problems(upstream, nodes))
    edges = list(data.get("edges") or [])
    for node_id, found in upstream.items():
        edges.extend({"source": dependency, "target": node_id} for dependency in found)
    document = {key: value for key, value in data.items() if key in NATIVE_FIELDS}
    extra = {key: value for key, value in data.items() if key not in NATIVE_FIELDS}
    if extra:
        kept = data.get("metadata")
        document["metadata"] = {**(kept if isinstance(kept, dict) else {}), **extra}
    document["nodes"], document["edges"] = native_nodes, edges
    return document, problems


def dependencies_of(value: Any, ids: set, node_id: str | None, where: str, problems: list) -> list:
    field = f"{where}.dependencies"
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        message = f"{field}: must be a list of node ids, got {type(value).__name__}"
        problems.append(("bad_dependencies", message, node_id, field))
        return []
    missing = [item for item in value if item not in ids]
    for item in missing:
        message = f"{field}: no node {item!r} in this workflow"
        problems.append(("missing_node", message, node_id, field))
    return list(dict.fromkeys(item for item in value if item not in missing))


def attempts_of(node: dict, value: Any, node_id: str | None, where: str, problems: list) -> None:
    field = f"{where}.try_count"
    if node.get("retry") is not None:
        message = f"{field}: give either try_count or retry, not both"
        problems.append(("bad_try_count", message, node_id, field))
    elif isinstance(value, bool) or not isinstance(value, int):
        message = f"{field}: must be an integer between 1 and {MAX_ATTEMPTS}, got {value!r}"
        problems.append(("bad_try_count", message, node_id, field))
    elif not 1 <= value <= MAX_ATTEMPTS:
        message = f"{field}: must be between 1 and {MAX_ATTEMPTS}, got {value}"
        problems.append(("bad_try_count", message, node_id, field))
    else:
        node["retry"] = {"max_attempts": value}


def cycle_problems(upstream: dict[str, list[str]], nodes: list) -> list:
    """The cycle the dependencies make, named as in SPEC §1 (`a -> b -> a`), on the field of
    its node met first in the document."""
    try:
        TopologicalSorter(upstream).prepare()
    except CycleError as exc:
        # each node of graphlib's cycle comes right before the next; it starts at the node
        # met first in the document, to name the same cycle whatever graphlib walked first
        ring = list(exc.args[1][:-1])
        order = {node.get("id"): i for i, node in enumerate(nodes) if isinstance(node, dict)}
        first = min(range(len(ring)), key=lambda k: order.get(ring[k], len(nodes)))
        cycle = [*ring[first:], *ring[:first], ring[first]]
        field = f"nodes[{order[cycle[0]]}].dependencies"
        message = f"{field}: the dependencies make a cycle: {' -> '.join(cycle)}"
        return [("cycle", message, cycle[0], field)]
    return []
