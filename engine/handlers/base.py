"""The handler interface, the registry of node types and what node types share.

A node type is one registered `Handler` subclass: metadata (served to the canvas palette at
`GET /api/node-types/`), a JSON Schema for its config, and `async run(ctx)`. The built-in ones
are listed in `builtin.py`.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from typing import Any, ClassVar

from engine.budget import off_loop
from engine.expressions import ExpressionError, evaluate

ERROR_HANDLE = "error"


class NodeError(Exception):
    """A handler's failure, reported to the user as `{"message", "type"}`. `retryable` says
    whether another attempt could go differently (a timeout, a connection error, a 5xx) or not
    (a blocked address, a division by zero, a bad config: retries would fail the same way);
    `retry_after_s` is the least the next attempt should wait (an HTTP `Retry-After`)."""

    def __init__(
        self,
        message: str,
        type: str = "error",
        retryable: bool = True,
        retry_after_s: float | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.type = type
        self.retryable = retryable
        self.retry_after_s = retry_after_s


@dataclass
class HandlerContext:
    """What a handler sees while it runs one attempt of one node."""

    node_id: str
    config: dict[str, Any]  # already rendered: every `{{ }}` evaluated
    input: Any
    attempt: int
    sources: dict[str, Any]  # outputs of the taken incoming sources, by source id, edge order
    scope: dict[str, Any]  # the expression scope (inputs, vars, upstream outputs, input, loop…)
    log: Callable[[str], None]  # each line becomes a `node.log` event
    settings: dict[str, Any] = field(default_factory=dict)  # engine options (e.g. http policy)
    raw_config: dict[str, Any] = field(default_factory=dict)  # config before rendering
    body: Any = None  # containers: runs one iteration of the body (engine.execution.bodies.Body)
    # the next piece of a streamed answer, shown live as `node.stream` events (coalesced)
    stream: Callable[[str], None] = lambda text: None
    meter: Any = None  # token usage and budget of this attempt (engine.usage.Meter)
    memory: Any = None  # an llm node's conversation memory in this run (engine.memory)

    def evaluate(self, expression: str) -> Any:
        """Evaluate an expression in this node's scope (condition, router cases)."""
        return evaluate(expression, self.scope)


@dataclass(frozen=True)
class HandlerResult:
    """A handler's output and the output handle(s) it chose (edges from them are taken)."""

    output: Any
    handles: tuple[str, ...] = ("out",)


@dataclass(frozen=True)
class Wait:
    """A handler's answer that parks the node `waiting` and the run `paused` (approval,
    durable delay). `wake_at` (epoch seconds) is when the engine resumes it by itself; `data`
    is kept in the snapshot."""

    kind: str
    wake_at: float | None = None
    data: dict[str, Any] = field(default_factory=dict)


class IterationParked(Exception):
    """An iteration of a container's body paused (an approval inside, say): the container
    parks; the executor turns this into `Wait("body", data={"iterations": paths})`."""

    def __init__(self, paths: list[str]) -> None:
        super().__init__(f"iterations {', '.join(paths)} wait")
        self.paths = paths


class Handler(ABC):
    """Base class of node types. Subclasses set the metadata and implement `run`."""

    type: ClassVar[str]
    label: ClassVar[str]
    category: ClassVar[str] = "Core"
    description: ClassVar[str] = ""
    icon: ClassVar[str] = "box"
    color: ClassVar[str] = "#64748b"
    inputs: ClassVar[tuple[str, ...]] = ("in",)
    outputs: ClassVar[tuple[str, ...]] = ("out",)
    config_schema: ClassVar[dict[str, Any]] = {"type": "object"}
    # Config keys whose strings are expressions without `{{ }}` (e.g. condition.expression):
    # they are not rendered before run() and validation reads their names statically.
    expression_fields: ClassVar[tuple[str, ...]] = ()
    # Config paths whose templates may read `secrets` (http: `headers`), in the syntax of
    # `expression_fields`: the only fields that send a secret somewhere. Validation refuses
    # `secrets` anywhere else, and only these fields are rendered with a scope that has them.
    secret_fields: ClassVar[tuple[str, ...]] = ()
    side_effects: ClassVar[bool] = False  # dry runs replace these with a placeholder
    # Part of a cached node's key (engine.caching): bump it when the same config and input
    # would give another output, so results of the older version are not reused.
    version: ClassVar[int] = 1
    # Running it again changes nothing outside the run (no I/O, no clock that matters): a
    # runtime may start such nodes before what precedes them is durable, since after a crash
    # they are simply run again. Anything that talks to the world leaves it False.
    replayable: ClassVar[bool] = False
    container: ClassVar[bool] = False

    def output_handles(self, config: dict[str, Any]) -> tuple[str, ...]:
        """The handles this node has with this config (router: its cases and default)."""
        return self.outputs

    def grow(self, node: dict[str, Any], output: Any) -> dict[str, list] | None:
        """Dynamic growth: the nodes and edges a successful result adds to the running graph
        (`{"nodes", "edges"}`), or None. Must be a pure function of the node and its output,
        since a restored run calls it again with the recorded output."""
        return None

    @abstractmethod
    async def run(self, ctx: HandlerContext) -> HandlerResult:
        """Run one attempt; raise `NodeError` to fail it with a message and a type."""

    @classmethod
    def describe(cls) -> dict[str, Any]:
        return {
            "type": cls.type,
            "label": cls.label,
            "category": cls.category,
            "description": cls.description,
            "icon": cls.icon,
            "color": cls.color,
            "inputs": list(cls.inputs),
            "outputs": list(cls.outputs),
            "error_handle": ERROR_HANDLE,
            "config_schema": cls.config_schema,
            "expression_fields": list(cls.expression_fields),
            "secret_fields": list(cls.secret_fields),
            "side_effects": cls.side_effects,
            "container": cls.container,
        }


class Registry:
    """Node types by name. The engine holds no global state: a default instance is provided
    for convenience, and tests can build their own."""

    def __init__(self) -> None:
        self._types: dict[str, Handler] = {}

    def register(self, cls: type[Handler]) -> type[Handler]:
        if cls.type in self._types:
            raise ValueError(f"node type {cls.type!r} is already registered")
        self._types[cls.type] = cls()
        return cls

    def get(self, type_name: str) -> Handler | None:
        return self._types.get(type_name)

    def __contains__(self, type_name: str) -> bool:
        return type_name in self._types

    def names(self) -> list[str]:
        return sorted(self._types)

    def describe(self) -> list[dict[str, Any]]:
        return [self._types[name].describe() for name in self.names()]


# --- what node types share -------------------------------------------------------------------


def object_schema(properties: dict[str, Any], required: tuple[str, ...] = ()) -> dict[str, Any]:
    """A node type's `config_schema`: an object of these properties and no others."""
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "type": "object",
        "properties": properties,
        "required": list(required),
        "additionalProperties": False,
    }


async def evaluate_field(ctx: HandlerContext, expression: Any, field: str) -> Any:
    """Evaluate a config expression field (off the event loop when it is long, see
    engine.budget); its failures are the node's (`expression`)."""
    if not isinstance(expression, str):
        raise NodeError(
            f"config.{field} must be an expression string", "bad_config", retryable=False
        )
    try:
        return await off_loop(partial(ctx.evaluate, expression))
    except ExpressionError as exc:
        raise NodeError(f"config.{field}: {exc.message}", "expression", retryable=False) from None


def items_list(value: Any) -> list:
    """`config.items` (map, for_each loop, fan_out): a list, else the node fails `bad_config`."""
    if not isinstance(value, list):
        kind = type(value).__name__
        raise NodeError(f"config.items must be a list, got {kind}", "bad_config", retryable=False)
    return value
