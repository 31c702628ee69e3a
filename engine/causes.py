"""Why a run failed: the first failures that took the others down (its `root_causes`).

A pure function over a run report's node entries (SPEC §7: `nodes`, `iterations`) and the
document's edges. A root cause is an unhandled failure that no other failure explains: the
nodes it took down are the `upstream_failed` chain after it, the nodes its halt cancelled
(on_failure: halt) and, for a failure inside a container's body, the container (and the chain
after that). A failed container whose body failed is explained by its body's failures, never a
root cause itself. The same error (type and message) of the same body node across a map's
items is one cause, with every item listed.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

FAILED = "failed"
UPSTREAM_FAILED = "upstream_failed"
CANCELLED = "cancelled"
HALT_REASON = "cancelled by halt after node {} failed"  # what a halt's cancelled nodes say
CRITICAL_HALT_REASON = "cancelled by halt after critical node {} failed"  # `critical: true`

Entries = Mapping[str, Mapping[str, Any]]


def root_causes(
    edges: Iterable[tuple[str, str]],
    nodes: Entries,
    iterations: Mapping[str, list[Entries]] | None = None,
    run_error: Mapping[str, Any] | None = None,
) -> list[dict[str, Any]]:
    """`[{"node", "iteration"?, "iterations"?, "error", "affected", "failures"}]`, earliest
    first. `iteration` is the path of the (first) failing execution of a body node (`each[2]`,
    nested `outer[1]/inner[0]`) and `iterations` every one grouped in; `affected` the ids of
    the nodes it took down, `failures` how many executions failed this way. When a failed run
    has no node failure to blame (its timeout, say), the run's error is the one cause."""
    successors: dict[str, list[str]] = {}
    for source, target in edges:
        successors.setdefault(source, []).append(target)
    found = Finder(successors, iterations or {})
    found.scope(nodes, None, ())
    causes = found.grouped()
    if not causes and run_error:
        causes = [{"node": None, "error": dict(run_error), "affected": [], "failures": 0}]
    return causes


def halted(node_id: str, entries: Entries) -> list[str]:
    """The nodes cancelled because `node_id`'s failure halted the run (on_failure: halt, or
    the node is `critical`)."""
    reasons = {HALT_REASON.format(node_id), CRITICAL_HALT_REASON.format(node_id)}
    return [
        n for n, e in entries.items() if e.get("status") == CANCELLED and e.get("reason") in reasons
    ]


class Finder:
    """Walks a report's scopes (the top level, then each failed container's iterations)."""

    def __init__(self, successors: dict[str, list[str]], iterations: Mapping[str, list]):
        self.successors = successors
        self.iterations = iterations
        self.causes: dict[tuple, dict[str, Any]] = {}

    def scope(self, entries: Entries, path: str | None, above: tuple[str, ...]) -> None:
        """Every unhandled failure in one scope; `above`: the nodes a failure here takes down
        outside it (the failed containers around it and their chains)."""
        for node_id, entry in entries.items():
            if entry.get("status") != FAILED or entry.get("handled"):
                continue
            taken_down = (*self.chain(node_id, entries), *halted(node_id, entries), *above)
            inner = self.body_failures(node_id, path)
            if inner:
                for inner_path, inner_entries in inner:
                    self.scope(inner_entries, inner_path, (node_id, *taken_down))
            else:
                self.add(node_id, path, entry, taken_down)

    def chain(self, node_id: str, entries: Entries) -> list[str]:
        """The `upstream_failed` nodes after `node_id` in its scope, breadth first."""
        seen: set[str] = {node_id}
        order: list[str] = []
        frontier = [node_id]
        while frontier:
            following = []
            for current in frontier:
                for target in self.successors.get(current, ()):
                    entry = entries.get(target)
                    if target in seen or entry is None or entry.get("status") != UPSTREAM_FAILED:
                        continue
                    seen.add(target)
                    order.append(target)
                    following.append(target)
            frontier = following
        return order

    def body_failures(self, node_id: str, path: str | None) -> list[tuple[str, Entries]]:
        """The iterations of container `node_id` (run at `path`) in which a body node failed."""
        key = node_id if path is None else f"{path}/{node_id}"
        failing = []
        for index, entries in enumerate(self.iterations.get(key) or ()):
            if any(e.get("status") == FAILED and not e.get("handled") for e in entries.values()):
                failing.append((f"{key}[{index}]", entries))
        return failing

    def add(self, node_id: str, path: str | None, entry: Mapping, affected: Iterable[str]) -> None:
        error = entry.get("error") or {"message": "failed", "type": "error"}
        container = None if path is None else path.rpartition("[")[0]
        group = (node_id, container, error.get("type"), error.get("message"))
        cause = self.causes.get(group)
        if cause is None:
            cause = self.causes[group] = {"node": node_id}
            if path is not None:
                cause["iteration"] = path
                cause["iterations"] = []
            cause.update(error=dict(error), affected=[], failures=0)
            cause["at"] = entry.get("finished_at")
        cause["failures"] += 1
        if path is not None:
            cause["iterations"].append(path)
        known = set(cause["affected"])
        cause["affected"].extend(n for n in dict.fromkeys(affected) if n not in known)

    def grouped(self) -> list[dict[str, Any]]:
        """The causes, earliest failure first (a cause that never finished last)."""
        ordered = sorted(self.causes.values(), key=lambda c: (c["at"] is None, c["at"] or ""))
        for cause in ordered:
            del cause["at"]
        return ordered
