"""Container bodies: each iteration of a `loop` or `map` is a child `Execution` of the body
sub-graph, so joins, retries, error edges and nested containers work inside a body exactly as
at top level.

A child forwards its events to the parent with the iteration path (`L[0]`, nested
`M[2]/L[1]`) and the parent's `seq`; its snapshot nests in the parent's (`iterations`), so a
restored run finishes an iteration from where it was and never re-runs a finished one.

An iteration that pauses (an approval, a breakpoint, a sub-workflow parked on its child, or
one that was to start while the run is paused on demand: it is held, see Parking.hold)
parks its container: a map lets its other items run on, then the container node is `waiting`
(`wait.kind` `body`, `data.iterations` the parked paths) and the run pauses with every
iteration in its snapshot. Deciding the node inside (`approve_node(..., iteration="M[2]")`)
prepares that iteration's execution from its snapshot and continues the container within the
same attempt: finished iterations come back from their snapshots, the decided one goes on.

Bodies talk to the execution that runs their container only through `Host` (below): they
never import it, and it hands them children through `Host.child`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from engine.expressions import ExpressionError, evaluate
from engine.graph import Graph
from engine.handlers.base import IterationParked, NodeError
from engine.scope import Scope
from engine.states import NodeState, RunState

PENDING = NodeState.PENDING

if TYPE_CHECKING:
    from engine.execution.execution import Execution


@runtime_checkable
class Host(Protocol):
    """What the bodies of an execution's containers need from that execution."""

    graph: Graph
    handlers: tuple

    @property
    def tearing_down(self) -> bool:
        """The task running the whole run was cancelled (nothing is recorded then)."""

    def child(
        self, container: int, index: int, loop: dict | None, root_input: Any, snapshot: Any
    ) -> Execution:
        """A new execution of the iteration `index` of `container` (from its snapshot)."""

    def scope(self, node_id: str, attempt: int, value: Any, loop: dict, inner: Any) -> Scope:
        """The scope expressions see at `node_id`, with `inner` outputs in front."""

    def progress(self, node_id: str, attempt: int, done: int, total: int | None) -> None:
        """Emit a container's progress."""

    def running_again(self) -> None:
        """A decision inside an iteration runs the paused run again (see Parking)."""

    @property
    def paused_on_demand(self) -> bool:
        """The run is paused on demand: no new iteration starts (see Parking.hold)."""


@dataclass(frozen=True, slots=True)
class Seat:
    """Where a child execution runs: its container's execution (`parent`), its iteration
    path, the loop variables and the input its roots read, and the node outputs its
    expressions read behind its own (the parent's)."""

    parent: Host
    path: str
    loop: dict | None
    root_input: Any
    results: Mapping[str, Any]


def descendants(graph: Graph, container: int) -> list[int]:
    """Every node inside `container`, at any depth, in document order."""
    parents, n = graph.parents, len(graph)
    result = []
    for j in range(n):
        parent, depth = parents[j], 0
        while parent >= 0 and parent != container and depth < n:
            parent, depth = parents[parent], depth + 1
        if parent == container:
            result.append(j)
    return result


def body_graph(parent: Graph, handlers: tuple, container: int) -> Graph:
    """The body of a container as a graph of its own."""
    members = descendants(parent, container)
    inside = set(members)
    nodes = []
    for j in members:
        node = parent.nodes[j]
        nodes.append({**node, "parent": None} if parent.parents[j] == container else node)
    edges = [
        edge
        for e, edge in enumerate(parent.edges)
        if parent.edge_source[e] in inside and parent.edge_target[e] in inside
    ]
    settings = dict(parent.settings)
    settings["timeout_s"] = None  # the run's timeout is the parent's
    if settings.get("on_failure") == "pause":
        settings["on_failure"] = "continue"  # a body failure fails its iteration instead
    document = {**parent.document, "nodes": nodes, "edges": edges, "settings": settings}
    return Graph(document, [handlers[j] for j in members])


def sink_ids(graph: Graph) -> list[int]:
    """Top-level body nodes without successors: they give the iteration's result."""
    return [i for i in range(len(graph)) if graph.parents[i] < 0 and not graph.out_pairs[i]]


class Iterations:
    """One execution's container iterations, by container and index: `live` (the current
    attempt's), `restored` (snapshots not yet taken up by their container) and `prepared`
    (built from a snapshot to be decided in while the container is parked)."""

    __slots__ = ("graphs", "host", "live", "prepared", "restored")

    def __init__(self, host: Host) -> None:
        self.host = host
        self.live: dict[int, dict[int, Execution]] = {}
        self.restored: dict[int, dict[int, dict]] = {}
        self.prepared: dict[int, dict[int, Execution]] = {}
        self.graphs: dict[int, Graph] = {}

    def body_graph(self, container: int) -> Graph:
        """The container's body graph (built once per container)."""
        graph = self.graphs.get(container)
        if graph is None:
            host = self.host
            graph = self.graphs[container] = body_graph(host.graph, host.handlers, container)
        return graph

    def take(self, container: int, index: int, loop: dict, root_input: Any) -> Execution:
        """The execution of iteration `index` for the container's attempt: the prepared one
        (decided in while parked) goes on, else a fresh or restored one."""
        restored = self.restored.get(container, {}).pop(index, None)
        child = self.prepared.get(container, {}).pop(index, None)
        if child is not None:
            child.take_up(loop, root_input)
        else:
            child = self.host.child(container, index, loop, root_input, restored)
        self.live[container][index] = child
        return child

    def parked(self, container: int) -> dict[int, Any]:
        """A parked container's iterations, each an Execution (live or prepared) or a
        snapshot."""
        children: dict[int, Any] = dict(self.restored.get(container, {}))
        children.update(self.live.get(container, {}))
        children.update(self.prepared.get(container, {}))
        return children

    def wake_at(self, container: int) -> float | None:
        """The earliest time something inside a parked container wakes by itself."""
        times = []
        for child in self.parked(container).values():
            wake = child.get("wake_at") if isinstance(child, dict) else child.wake_at
            if wake is not None:
                times.append(wake)
        return min(times) if times else None

    def prepare(self, container: int, index: int) -> Execution:
        """The execution of a parked container's iteration, built from its snapshot (or the
        one already prepared), ready to be decided in; `keep` it once decided."""
        prepared = self.prepared.get(container, {}).get(index)
        if prepared is not None:
            return prepared
        child = self.parked(container).get(index)
        if child is None:
            raise KeyError(f"{self.host.graph.ids[container]} has no iteration {index}")
        snapshot = child if isinstance(child, dict) else child.snapshot()
        return self.host.child(container, index, None, None, snapshot)

    def keep(self, container: int, index: int, child: Execution) -> None:
        self.prepared.setdefault(container, {})[index] = child

    def go_on(self, container: int) -> None:
        """A parked container goes on within its attempt: its live iterations (finished ones
        too) come back from their snapshots."""
        restored = self.restored.setdefault(container, {})
        for index, child in self.live.pop(container, {}).items():
            restored.setdefault(index, child.snapshot())

    def find(self, container: int, index: int) -> Execution | None:
        """A live or prepared iteration's execution."""
        found = self.live.get(container, {}).get(index)
        return found or self.prepared.get(container, {}).get(index)

    def cancel(self, container: int, reason: str) -> None:
        """A container is cancelled: what waits (a parked iteration) or was undecided inside
        ends `cancelled` too (events and rows say so), kept in the report and snapshot."""
        children = self.parked(container)
        self.restored.pop(container, None)
        self.prepared.pop(container, None)
        kept = self.live[container] = {}
        for index in sorted(children):
            child = children[index]
            if isinstance(child, dict):
                child = self.host.child(container, index, None, None, child)
            child.cancel_unfinished(reason)
            kept[index] = child

    def cancel_unfinished(self, reason: str) -> None:
        for children in self.live.values():
            for child in children.values():
                child.cancel_unfinished(reason)

    def restore(self, saved: dict[str, dict], finished: Callable[[int], bool]) -> None:
        """Take up a snapshot's `iterations`; those of a `finished` container are kept for
        the report and the iteration rows, never run again."""
        index = self.host.graph.index
        unknown = sorted(set(saved) - set(index))
        if unknown:
            raise ValueError(f"snapshot names containers not in the graph: {', '.join(unknown)}")
        for node_id, children in saved.items():
            container = index[node_id]
            by_index = {int(k): snapshot for k, snapshot in children.items()}
            if finished(container):
                self.live[container] = {
                    k: self.host.child(container, k, None, None, snapshot)
                    for k, snapshot in sorted(by_index.items())
                }
            else:
                self.restored[container] = by_index

    def reports(self) -> dict[str, list]:
        """The run report's `iterations`: per container, one object per iteration in order;
        nested containers under `outer[i]/inner`."""
        result: dict[str, list] = {}
        ids = self.host.graph.ids
        for container, children in self.live.items():
            node_id = ids[container]
            rows = []
            for index in sorted(children):
                child = children[index]
                graph = child.graph
                rows.append(
                    {
                        graph.ids[i]: record.to_dict()
                        for i, record in enumerate(child.records)
                        if graph.parents[i] < 0
                    }
                )
                for key, nested in child.iterations.reports().items():
                    result[f"{node_id}[{index}]/{key}"] = nested
            result[node_id] = rows
        return result

    def snapshots(self) -> dict[str, dict]:
        """Every container's iterations as child snapshots, by container id and index (those
        restored or prepared but not yet taken up by their container included)."""
        ids = self.host.graph.ids
        result: dict[str, dict] = {}
        for container, saved in self.restored.items():
            result.setdefault(ids[container], {}).update(
                {str(index): snapshot for index, snapshot in saved.items()}
            )
        for source in (self.live, self.prepared):
            for container, children in source.items():
                result.setdefault(ids[container], {}).update(
                    {str(index): child.snapshot() for index, child in children.items()}
                )
        return result


class Body:
    """What a container handler sees as `ctx.body`: run one iteration, evaluate a loop
    condition, report progress."""

    def __init__(
        self, host: Host, iterations: Iterations, container: int, attempt: int, value: Any
    ) -> None:
        self.host = host
        self.iterations = iterations
        self.container = container
        self.node_id = host.graph.ids[container]
        self.attempt = attempt
        self.value = value
        self.last: Execution | None = None
        self.parked: list[Execution] = []
        iterations.live[container] = {}  # each attempt runs its iterations afresh

    async def iteration(self, index: int, loop: dict, root_input: Any) -> Any:
        """Run iteration `index` (or finish it, after a restore); its result, or NodeError."""
        child = self.iterations.take(self.container, index, loop, root_input)
        self.last = child
        if self.host.paused_on_demand and all(r.status is PENDING for r in child.records):
            child.hold()  # paused on demand: it starts nothing and parks until the resume
        try:
            await child.run()
        except asyncio.CancelledError:
            if not self.host.tearing_down:
                child.cancel_unfinished(f"cancelled: {self.node_id} stopped")
            raise
        if child.status is RunState.SUCCEEDED:
            return iteration_result(child)
        if child.status is RunState.PAUSED:
            self.parked.append(child)
            raise IterationParked(waiting_paths(child))
        error = child.error or {"message": "failed", "type": "error"}
        raise NodeError(f"iteration {index} failed: {error['message']}", error["type"])

    def cancel_parked(self, reason: str) -> None:
        """The container ends (another item failed): parked iterations are cancelled."""
        for child in self.parked:
            child.cancel_unfinished(reason)

    def condition(self, expression: str, loop: dict) -> bool:
        """A while / do_while condition: it reads `loop`, the container's input and the
        outputs of the latest iteration's body nodes."""
        inner = None if self.last is None else self.last.own_outputs
        scope = self.host.scope(self.node_id, self.attempt, self.value, loop, inner)
        try:
            return bool(evaluate(expression, scope))
        except ExpressionError as exc:
            raise NodeError(
                f"config.condition: {exc.message}", "expression", retryable=False
            ) from None

    def progress(self, done: int, total: int | None) -> None:
        self.host.progress(self.node_id, self.attempt, done, total)


def in_iteration(runner: Callable | None, path: str) -> Callable | None:
    """The sub-workflow runner as a body sees it: calls carry `iteration`, the path of the
    iteration they come from (`M[2]`, nested `M[2]/L[1]`), so the runtime can tell apart the
    children that one node starts in different iterations."""
    if runner is None:
        return None

    async def run_subworkflow(*args: Any, iteration: str | None = None, **kwargs: Any) -> Any:
        inner = path if iteration is None else f"{path}/{iteration}"
        return await runner(*args, iteration=inner, **kwargs)

    return run_subworkflow


def waiting_paths(child: Execution) -> list[str]:
    """Where a paused iteration waits: its own path, or (a container inside it parked) the
    paths of the iterations that container waits for, below it."""
    paths: list[str] = []
    path = child.path
    for record in child.records:
        if record.status is not NodeState.WAITING:
            continue
        wait = record.wait or {}
        if wait.get("kind") == "body":
            paths.extend(f"{path}/{p}" for p in wait["data"]["iterations"])
        elif path not in paths:
            paths.append(path)
    return paths or [path]


def iteration_result(child: Execution) -> Any:
    """The body node without successors gives the result; several: a dict by node id."""
    sinks = sink_ids(child.graph)
    if len(sinks) == 1:
        return child.records[sinks[0]].output
    return {child.graph.ids[i]: child.records[i].output for i in sinks}


def waiting_leaves(snapshot: dict, prefix: str = "") -> list[tuple[str, str, dict]]:
    """Where a parked run waits, read from its snapshot: `(node id, iteration path, node
    state)` for every waiting node, looking inside parked containers (`kind: body`) instead of
    naming them. The path is "" at top level, `M[2]` or `M[2]/L[1]` inside bodies."""
    found: list[tuple[str, str, dict]] = []
    iterations = snapshot.get("iterations") or {}
    for node_id, state in (snapshot.get("nodes") or {}).items():
        if state.get("status") != NodeState.WAITING:
            continue
        if (state.get("wait") or {}).get("kind") != "body":
            found.append((node_id, prefix, state))
            continue
        children = iterations.get(node_id) or {}
        for index in sorted(children, key=int):
            path = f"{prefix}/{node_id}[{index}]" if prefix else f"{node_id}[{index}]"
            found.extend(waiting_leaves(children[index], path))
    return found
