"""The engine graphs of the runs a process drives, built once per workflow revision.

Building a `Graph` (defaults, adjacency, topological order) costs about as much as running a
few of its nodes; the runs of one revision share it. A `Graph` is immutable (growth builds a
new one, `engine.execution.growth`), so sharing it between runs is safe. A run's document is
compared with the cached one, so a run whose document differs from its revision's (edited by
hand, a future run kind) gets a graph of its own document.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Any

from engine import Graph, load_document

GRAPHS_KEPT = 64  # revisions; the least recently used is dropped first

_graphs: OrderedDict[tuple[Any, Any], tuple[dict, Graph]] = OrderedDict()


def graph_of(workflow_id: Any, revision: Any, document: dict) -> Graph:
    """The graph of `document`, a run's document of this workflow revision."""
    key = (workflow_id, revision)
    cached = _graphs.get(key)
    if cached is not None and cached[0] == document:
        _graphs.move_to_end(key)
        return cached[1]
    graph = Graph.from_document(load_document(document))
    _graphs[key] = (document, graph)
    _graphs.move_to_end(key)
    while len(_graphs) > GRAPHS_KEPT:
        _graphs.popitem(last=False)
    return graph
