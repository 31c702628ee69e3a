"""Container bodies: each iteration of a `loop` or `map` is a child `Execution` of the body
sub-graph, so joins, retries, error edges and nested containers work inside a body exactly as
at top level.

A child forwards its events to the parent with the iteration path (`L[0]`, nested
`M[2]/L[1]`) and the parent's `seq`; its snapshot nests in the parent's (`iterations`), so a
restored run finishes an iteration from where it was and never re-runs a finished one.

An iteration that pauses (an approval, a breakpoint, a sub-workflow parked on its child)
parks its container: a map lets its other items run on, then the container node is `waiting`
(`wait.kind` `body`, `data.iterations` the parked paths) and the run pauses with every
iteration in its snapshot. Deciding the node inside (`approve_node(..., iteration="M[2]")`)
prepares that iteration's execution from its snapshot and continues the container within the
same attempt: finished iterations come back from their snapshots, the decided one goes on.
"""

from __future__ import annotations

import asyncio
from collections import ChainMap
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from engine.events import NODE_PROGRESS, RUN_STATUS, Event, new_event
from engine.expressions import ExpressionError, evaluate
from engine.graph import Graph
from engine.handlers.base import IterationParked, NodeError
from engine.scope import Scope
from engine.states import NODE_TERMINAL, NodeState, RunState

if TYPE_CHECKING:
    from engine.executor import Execution


def body_graph(execution: Execution, container: int) -> Graph:
    """The body of a container as a graph of its own (built once per container)."""
    cache = execution._body_graphs
    graph = cache.get(container)
    if graph is not None:
        return graph
    parent = execution.graph
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
    handlers = [execution._handlers[j] for j in members]
    graph = cache[container] = Graph(document, handlers)
    return graph


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


def sink_ids(graph: Graph) -> list[int]:
    """Top-level body nodes without successors: they give the iteration's result."""
    return [i for i in range(len(graph)) if graph.parents[i] < 0 and not graph.out_pairs[i]]


class Body:
    """What a container handler sees as `ctx.body`: run one iteration, evaluate a loop
    condition, report progress."""

    def __init__(self, execution: Execution, container: int, attempt: int, value: Any) -> None:
        self.execution = execution
        self.container = container
        self.node_id = execution.graph.ids[container]
        self.attempt = attempt
        self.value = value
        self.graph = body_graph(execution, container)
        self.last: Execution | None = None
        self.parked: list[Execution] = []
        execution._iterations[container] = {}  # each attempt runs its iterations afresh

    async def iteration(self, index: int, loop: dict, root_input: Any) -> Any:
        """Run iteration `index` (or finish it, after a restore); its result, or NodeError."""
        child = self._child(index, loop, root_input)
        self.last = child
        try:
            await child.run()
        except asyncio.CancelledError:
            if not self.execution._root._tearing_down:
                child._cancel_unfinished(f"cancelled: {self.node_id} stopped")
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
            child._cancel_unfinished(reason)

    def _child(self, index: int, loop: dict, root_input: Any) -> Execution:
        parent = self.execution
        restored = parent._restored_iterations.get(self.container, {}).pop(index, None)
        prepared = parent._prepared.get(self.container, {}).pop(index, None)
        if prepared is not None:  # decided inside while parked: it goes on from there
            prepared._loop_vars = loop
            prepared._root_input = root_input
            child = prepared
        else:
            child = new_child(parent, self.container, index, loop, root_input, restored)
        parent._iterations[self.container][index] = child
        return child

    def condition(self, expression: str, loop: dict) -> bool:
        """A while / do_while condition: it reads `loop`, the container's input and the
        outputs of the latest iteration's body nodes."""
        parent = self.execution
        outputs = parent._results
        if self.last is not None:
            outputs = ChainMap(self.last._results.maps[0], parent._results)
        scope = Scope(parent._fixed, outputs, self.node_id, self.attempt, self.value, loop)
        try:
            return bool(evaluate(expression, scope))
        except ExpressionError as exc:
            raise NodeError(f"config.condition: {exc.message}", "expression") from None

    def progress(self, done: int, total: int | None) -> None:
        parent = self.execution
        parent._emit(
            NODE_PROGRESS,
            parent._now(),
            self.node_id,
            None,
            self.attempt,
            data={"done": done, "total": total},
        )


def new_child(
    parent: Execution,
    container: int,
    index: int,
    loop: dict | None,
    root_input: Any,
    snapshot: dict | None,
) -> Execution:
    """The execution of one iteration (fresh, or restored from its snapshot)."""
    from engine.executor import Execution

    path = f"{parent.graph.ids[container]}[{index}]"
    return Execution(
        body_graph(parent, container),
        inputs=parent.inputs,
        run_id=parent.run_id,
        sink=Forward(parent, path).sink,
        store=parent._store,
        snapshot=snapshot,
        options={
            **parent._options,
            "run_subworkflow": in_iteration(parent._options.get("run_subworkflow"), path),
            "body": {"parent": parent, "loop": loop, "root_input": root_input, "path": path},
        },
    )


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
    for record in child.records:
        if record.status is not NodeState.WAITING:
            continue
        wait = record.wait or {}
        if wait.get("kind") == "body":
            paths.extend(f"{child._path}/{p}" for p in wait["data"]["iterations"])
        elif child._path not in paths:
            paths.append(child._path)
    return paths or [child._path]


def iteration_result(child: Execution) -> Any:
    """The body node without successors gives the result; several: a dict by node id."""
    sinks = sink_ids(child.graph)
    if len(sinks) == 1:
        return child.records[sinks[0]].output
    return {child.graph.ids[i]: child.records[i].output for i in sinks}


class Forward:
    """A child's sink: its events go out through the parent, renumbered, with the path."""

    __slots__ = ("parent", "path")

    def __init__(self, parent: Execution, path: str) -> None:
        self.parent = parent
        self.path = path

    def sink(self, event: Event) -> None:
        if event.type == RUN_STATUS:
            return
        parent = self.parent
        parent._seq += 1
        if parent._sink is None:
            return
        inner = event.iteration
        parent._sink(
            new_event(
                parent._seq,
                event.type,
                parent.run_id,
                event.ts,
                event.node,
                event.status,
                event.attempt,
                event.error,
                event.duration_ms,
                self.path if inner is None else f"{self.path}/{inner}",
                event.data,
            )
        )


def iteration_reports(execution: Execution) -> dict[str, list]:
    """The run report's `iterations`: per container, one object per iteration in order;
    nested containers under `outer[i]/inner`."""
    result: dict[str, list] = {}
    ids = execution.graph.ids
    for container, children in execution._iterations.items():
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
            for key, nested in iteration_reports(child).items():
                result[f"{node_id}[{index}]/{key}"] = nested
        result[node_id] = rows
    return result


def iteration_snapshots(execution: Execution) -> dict[str, dict]:
    """Every container's iterations as child snapshots, by container id and index (those
    restored or prepared but not yet taken up by their container included)."""
    ids = execution.graph.ids
    result: dict[str, dict] = {}
    for container, saved in execution._restored_iterations.items():
        result.setdefault(ids[container], {}).update(
            {str(index): snapshot for index, snapshot in saved.items()}
        )
    for source in (execution._iterations, execution._prepared):
        for container, children in source.items():
            result.setdefault(ids[container], {}).update(
                {str(index): child.snapshot() for index, child in children.items()}
            )
    return result


def parked_children(execution: Execution, container: int) -> dict[int, Any]:
    """A parked container's iterations, each an Execution (live or prepared) or a snapshot."""
    children: dict[int, Any] = dict(execution._restored_iterations.get(container, {}))
    children.update(execution._iterations.get(container, {}))
    children.update(execution._prepared.get(container, {}))
    return children


def nested_wake_at(execution: Execution, container: int) -> float | None:
    """The earliest time something inside a parked container wakes by itself."""
    times = []
    for child in parked_children(execution, container).values():
        wake = child.get("wake_at") if isinstance(child, dict) else child.wake_at
        if wake is not None:
            times.append(wake)
    return min(times) if times else None


def prepare_iteration(execution: Execution, container: int, index: int) -> Execution:
    """The execution of a parked container's iteration, built from its snapshot (or the one
    already prepared), ready to be decided in before the container continues."""
    prepared = execution._prepared.get(container, {}).get(index)
    if prepared is not None:
        return prepared
    child = parked_children(execution, container).get(index)
    if child is None:
        node_id = execution.graph.ids[container]
        raise KeyError(f"{node_id} has no iteration {index}")
    snapshot = child if isinstance(child, dict) else child.snapshot()
    return new_child(execution, container, index, None, None, snapshot)


def restore_iterations(execution: Execution, saved: dict[str, dict]) -> None:
    index = execution.graph.index
    unknown = sorted(set(saved) - set(index))
    if unknown:
        raise ValueError(f"snapshot names containers not in the graph: {', '.join(unknown)}")
    for node_id, children in saved.items():
        container = index[node_id]
        by_index = {int(k): snapshot for k, snapshot in children.items()}
        if execution.records[container].status in NODE_TERMINAL:
            # Finished: kept for the report and the iteration rows, never run again.
            execution._iterations[container] = {
                k: new_child(execution, container, k, None, None, snapshot)
                for k, snapshot in sorted(by_index.items())
            }
        else:
            execution._restored_iterations[container] = by_index


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
