"""The graph's own rules: containers, edges and their handles, cycles, ancestors and
reachability."""

from __future__ import annotations

from engine.handlers.base import ERROR_HANDLE
from engine.handlers.triggers import TRIGGER_TYPES


class GraphChecks:
    """Parents, edges, cycles and what reaches what."""

    def check_parents(self) -> None:
        for node_id, node in self.nodes.items():
            parent = node.get("parent")
            if parent is None:
                continue
            if parent not in self.nodes:
                self.add(
                    "missing_node",
                    f"node {node_id}: parent {parent!r} does not exist",
                    node=node_id,
                    field="parent",
                )
                continue
            if node.get("type") in TRIGGER_TYPES:
                self.add(
                    "bad_config",
                    f"node {node_id}: a {node['type']} node begins a run and cannot be inside "
                    f"container {parent!r}",
                    node=node_id,
                    field="parent",
                )
            handler = self.handlers.get(parent)
            if handler is not None and not handler.container:
                self.add(
                    "bad_config",
                    f"node {node_id}: parent {parent!r} is a {handler.type}, not a container",
                    node=node_id,
                    field="parent",
                )
        for node_id in self.nodes:
            chain = [node_id]
            parent = self.parent_of(node_id)
            while parent is not None:
                if parent in chain:
                    loop = " -> ".join([*chain[chain.index(parent) :], parent])
                    self.add(
                        "cycle", f"containers nest in a cycle: {loop}", node=node_id, field="parent"
                    )
                    break
                chain.append(parent)
                parent = self.parent_of(parent)

    def parent_of(self, node_id: str) -> str | None:
        parent = self.nodes[node_id].get("parent")
        return parent if parent in self.nodes else None

    def check_edges(self) -> None:
        edges = self.document.get("edges")
        if not isinstance(edges, list):
            return
        seen: set = set()
        for index, edge in enumerate(edges):
            if not isinstance(edge, dict):
                self.add(
                    "bad_document", f"edges[{index}] must be an object", field=f"edges[{index}]"
                )
                continue
            edge_id = edge.get("id")
            if edge_id in seen:
                self.add(
                    "duplicate_id", f"edge id {edge_id!r} is used more than once", edge=edge_id
                )
            seen.add(edge_id)
            source, target = edge.get("source"), edge.get("target")
            ok = True
            for end, name in (("source", source), ("target", target)):
                if not isinstance(name, str) or name not in self.nodes:
                    self.add(
                        "missing_node",
                        f"edge {edge_id}: {end} node {name!r} does not exist",
                        edge=edge_id,
                        field=end,
                    )
                    ok = False
            if not ok:
                continue
            self.check_handles(edge_id, edge, source, target)
            if self.parent_of(source) != self.parent_of(target):
                self.add(
                    "container_edge",
                    f"edge {edge_id}: {source} -> {target} crosses a container boundary",
                    edge=edge_id,
                )
            self.preds[target].append(source)
            self.succs[source].append(target)

    def check_handles(self, edge_id: str, edge: dict, source: str, target: str) -> None:
        handler = self.handlers.get(source)
        handle = edge.get("source_handle")
        if handler is not None:
            config = self.nodes[source].get("config")
            outs = handler.output_handles(config if isinstance(config, dict) else {})
            if handle != ERROR_HANDLE and handle not in outs:
                names = ", ".join([*outs, ERROR_HANDLE])
                self.add(
                    "unknown_handle",
                    f"edge {edge_id}: {source} ({handler.type}) has no output {handle!r}; "
                    f"it has {names}",
                    edge=edge_id,
                    node=source,
                    field="source_handle",
                )
        handler = self.handlers.get(target)
        handle = edge.get("target_handle")
        if handler is not None and not handler.inputs:
            self.add(
                "unknown_handle",
                f"edge {edge_id}: {target} ({handler.type}) is where a run begins and has no "
                f"input: no edge may lead into it",
                edge=edge_id,
                node=target,
                field="target",
            )
        elif handler is not None and handle not in handler.inputs:
            self.add(
                "unknown_handle",
                f"edge {edge_id}: {target} ({handler.type}) has no input {handle!r}; "
                f"it has {', '.join(handler.inputs)}",
                edge=edge_id,
                node=target,
                field="target_handle",
            )

    def check_cycles(self) -> list[list[str]]:
        """Report each cycle once, named in edge order: `a -> b -> c -> a`."""
        color = dict.fromkeys(self.nodes, 0)  # 0 new, 1 on the stack, 2 done
        found: list[list[str]] = []
        seen: set = set()
        for start in self.nodes:
            if color[start]:
                continue
            path = [start]
            color[start] = 1
            stack = [iter(self.succs[start])]
            while stack:
                nxt = next(stack[-1], None)
                if nxt is None:
                    stack.pop()
                    color[path.pop()] = 2
                elif color[nxt] == 1:
                    cycle = [*path[path.index(nxt) :], nxt]
                    key = frozenset(cycle)
                    if key not in seen:
                        seen.add(key)
                        found.append(cycle)
                elif color[nxt] == 0:
                    color[nxt] = 1
                    path.append(nxt)
                    stack.append(iter(self.succs[nxt]))
        for cycle in found:
            self.add("cycle", f"the graph has a cycle: {' -> '.join(cycle)}", node=cycle[0])
        return found

    def ancestors(self, cyclic: bool) -> dict[str, int]:
        """Each node's upstream ancestors as a bit set (bit = position in `self.nodes`),
        including, for a container body node, the ancestors of its containers."""
        ids = list(self.nodes)
        bit = {node_id: 1 << i for i, node_id in enumerate(ids)}
        result: dict[str, int] = {}
        if cyclic:
            for node_id in ids:
                result[node_id] = self.reach_back(node_id, bit)
        else:
            remaining = {node_id: len(self.preds[node_id]) for node_id in ids}
            ready = [node_id for node_id in ids if not remaining[node_id]]
            while ready:
                node_id = ready.pop()
                mask = 0
                for p in self.preds[node_id]:
                    mask |= result[p] | bit[p]
                result[node_id] = mask
                for s in self.succs[node_id]:
                    remaining[s] -= 1
                    if not remaining[s]:
                        ready.append(s)
        for node_id in ids:
            parent, depth = self.parent_of(node_id), 0
            while parent is not None and depth < len(ids):
                result[node_id] |= result.get(parent, 0)
                parent, depth = self.parent_of(parent), depth + 1
        self.bits = bit
        return result

    def reach_back(self, node_id: str, bit: dict[str, int]) -> int:
        mask, todo = 0, list(self.preds[node_id])
        while todo:
            p = todo.pop()
            if not mask & bit[p]:
                mask |= bit[p]
                todo.extend(self.preds[p])
        return mask

    def check_reachable(self) -> None:
        """Warn about nodes no root reaches (only in a cycle), and, when the workflow has a
        `start` node, about top-level nodes it does not reach (they run as roots anyway)."""
        top = [n for n in self.nodes if self.nodes[n].get("parent") is None]
        roots = [n for n in top if not self.preds[n]]
        starts = [n for n in top if self.nodes[n].get("type") == "start"]
        reached = self.reach(roots)
        from_start = self.reach(starts) if starts else None
        for node_id in top:
            if node_id not in reached:
                message = f"node {node_id} is unreachable: no root leads to it"
            elif from_start is not None and node_id not in from_start:
                message = f"node {node_id} is not connected to a start node; it runs as a root"
            else:
                continue
            self.add("unreachable", message, node=node_id, severity="warning")

    def reach(self, roots: list[str]) -> set[str]:
        seen, todo = set(roots), list(roots)
        while todo:
            for s in self.succs[todo.pop()]:
                if s not in seen:
                    seen.add(s)
                    todo.append(s)
        return seen
