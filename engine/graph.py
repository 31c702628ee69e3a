"""The immutable graph the planner and executor work on, built once from a validated document.

Nodes are addressed by integer index; everything the hot path needs (edges grouped per
source/target pair, the number of distinct sources, the join rule, whether a config needs
rendering) is precomputed here so that running a node allocates as little as possible.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from engine.config import needs_render
from engine.handlers.base import ERROR_HANDLE, Handler, Registry


class Graph:
    """A workflow's nodes and edges by index. Build it with `Graph.from_document`."""

    __slots__ = (
        "children",
        "document",
        "edge_ids",
        "edge_source",
        "edge_source_handle",
        "edge_target",
        "edges",
        "handlers",
        "has_error_edges",
        "ids",
        "in_pairs",
        "index",
        "joins",
        "n_sources",
        "nodes",
        "out_pairs",
        "parents",
        "render_config",
        "roots",
        "settings",
        "topo_order",
    )

    def __init__(self, document: dict, handlers: list[Handler | None]) -> None:
        self.document = document
        self.settings: Mapping[str, Any] = document["settings"]
        self.nodes: tuple[dict, ...] = tuple(document["nodes"])
        self.ids: tuple[str, ...] = tuple(node["id"] for node in self.nodes)
        self.index: dict[str, int] = {node_id: i for i, node_id in enumerate(self.ids)}
        self.handlers: tuple[Handler | None, ...] = tuple(handlers)
        self.edges: tuple[dict, ...] = tuple(document["edges"])
        self.edge_ids = tuple(edge["id"] for edge in self.edges)
        self.edge_source = tuple(self.index[edge["source"]] for edge in self.edges)
        self.edge_target = tuple(self.index[edge["target"]] for edge in self.edges)
        self.edge_source_handle = tuple(edge["source_handle"] for edge in self.edges)
        self._build_adjacency()
        self.parents = tuple(
            self.index[node["parent"]] if node.get("parent") else -1 for node in self.nodes
        )
        children: list[list[int]] = [[] for _ in self.nodes]
        for i, parent in enumerate(self.parents):
            if parent >= 0:
                children[parent].append(i)
        self.children = tuple(tuple(c) for c in children)
        self.roots = tuple(
            i for i in range(len(self.nodes)) if not self.n_sources[i] and self.parents[i] < 0
        )
        self.joins = tuple(node["join"] for node in self.nodes)
        self.render_config = tuple(
            handler is not None and needs_render(node["config"], handler.expression_fields)
            for node, handler in zip(self.nodes, self.handlers, strict=True)
        )
        self.topo_order = self._topological_order()

    def _build_adjacency(self) -> None:
        n = len(self.nodes)
        out: list[dict[int, list[tuple[int, str]]]] = [{} for _ in range(n)]
        into: list[dict[int, list[int]]] = [{} for _ in range(n)]
        error_edges = [False] * n
        for e, (s, t, handle) in enumerate(
            zip(self.edge_source, self.edge_target, self.edge_source_handle, strict=True)
        ):
            out[s].setdefault(t, []).append((e, handle))
            into[t].setdefault(s, []).append(e)
            if handle == ERROR_HANDLE:
                error_edges[s] = True
        self.out_pairs = tuple(
            tuple((t, tuple(edges)) for t, edges in targets.items()) for targets in out
        )
        self.in_pairs = tuple(
            tuple((s, tuple(edges)) for s, edges in sources.items()) for sources in into
        )
        self.n_sources = tuple(len(sources) for sources in into)
        self.has_error_edges = tuple(error_edges)

    def _topological_order(self) -> tuple[int, ...]:
        remaining = list(self.n_sources)
        ready = [i for i in range(len(self.nodes)) if not remaining[i]]
        order: list[int] = []
        while ready:
            i = ready.pop()
            order.append(i)
            for t, _ in self.out_pairs[i]:
                remaining[t] -= 1
                if not remaining[t]:
                    ready.append(t)
        if len(order) != len(self.nodes):
            raise ValueError("the graph has a cycle: validate the document before building it")
        return tuple(order)

    @classmethod
    def from_document(cls, document: dict, registry: Registry | None = None) -> Graph:
        """Build the graph of a document that `validate_document` accepted."""
        registry = default_registry() if registry is None else registry
        handlers = [registry.get(node["type"]) for node in document["nodes"]]
        return cls(document, handlers)

    def __len__(self) -> int:
        return len(self.nodes)


def default_registry() -> Registry:
    """The registry of built-in node types."""
    from engine.handlers import registry

    return registry
