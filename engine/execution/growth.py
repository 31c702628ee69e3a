"""Dynamic growth (SPEC §4): a handler's `grow(node, output)` adds nodes and edges to the
running graph. Additions are validated (unique ids, no dangling edge, no cycle, edges only
from the growing node or added nodes into added nodes, so nothing already decided changes)
and give a new graph and a planner that keeps every decision made so far; the execution
extends its per-node state to match. A restore grows again from the recorded outputs, so the
snapshot needs nothing extra."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from engine.document import load_document
from engine.graph import Graph
from engine.handlers.base import Registry
from engine.handlers.builtin import register_builtins
from engine.planner import Planner
from engine.validation import errors_only, validate_document


class GrowthError(ValueError):
    """Additions that would break the graph; the message names every problem."""


@dataclass(frozen=True, slots=True)
class Grown:
    """The graph after growing, its planner, and what was added (`{"nodes", "edges"}`)."""

    graph: Graph
    planner: Planner
    added: dict


def known_types(handlers: tuple) -> Registry:
    """The running graph's own types plus the built-ins (what added nodes may use)."""
    registry = Registry()
    for handler in handlers:
        if handler is not None and handler.type not in registry:
            registry.register(type(handler))
    register_builtins(registry)
    return registry


def grown_document(
    graph: Graph, source: str, additions: dict[str, Any], registry: Registry
) -> dict:
    nodes, edges = list(additions.get("nodes") or ()), list(additions.get("edges") or ())
    added = {node.get("id") for node in nodes}
    problems = []
    for edge in edges:
        if edge.get("source") not in added | {source} or edge.get("target") not in added:
            problems.append(
                f"edge {edge.get('id')}: {edge.get('source')} -> {edge.get('target')} must go "
                f"from {source} or an added node into an added node"
            )
    clash = sorted(str(node_id) for node_id in added if node_id in graph.index)
    if clash:
        problems.append(f"ids already in the graph: {', '.join(clash)}")
    document = load_document(
        {**graph.document, "nodes": [*graph.nodes, *nodes], "edges": [*graph.edges, *edges]}
    )
    problems += [p.message for p in errors_only(validate_document(document, registry=registry))]
    if problems:
        raise GrowthError(f"node {source} cannot grow the graph: " + "; ".join(problems))
    return document


def grow(
    old: Graph, handlers: tuple, previous: Planner, i: int, additions: dict[str, Any]
) -> Grown:
    """`old` (run by `handlers`, planned so far by `previous`) with node `i`'s additions."""
    registry = known_types(handlers)
    document = grown_document(old, old.ids[i], additions, registry)
    extra = [registry.get(node["type"]) for node in document["nodes"][len(old) :]]
    graph = Graph(document, [*handlers, *extra])
    n_old, e_old = len(old), len(old.edges)
    planner = Planner(graph)
    planner.edge_states[:e_old] = previous.edge_states
    for name in ("taken", "failed", "skipped"):
        getattr(planner, name)[:n_old] = getattr(previous, name)
    planner.decided[:n_old] = previous.decided
    added = {"nodes": list(graph.nodes[n_old:]), "edges": list(graph.edges[e_old:])}
    return Grown(graph, planner, added)
