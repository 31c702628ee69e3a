"""The settings an `Execution` runs with, gathered from its `options` mapping once."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from engine.events import DEFAULT_PREVIEW_BYTES

DEFAULT_DURABLE_DELAY_S = 60.0
DEFAULT_MAX_DEPTH = 5
DEFAULT_MAX_OUTPUT_BYTES = 16 << 20


class SystemClock:
    """Wall time and sleeping; tests pass a fake with the same two methods."""

    time = staticmethod(time.time)
    sleep = staticmethod(asyncio.sleep)


@dataclass(frozen=True, slots=True)
class ExecutionOptions:
    """`http_allow_private`; `env` (values for the names allow-listed in settings.env);
    `secrets`; `max_output_preview` (bytes); `max_output_bytes` (one node's output as JSON;
    there is always a limit, so no huge output ever reaches `preview` or a sink); `clock` (an
    object with `time()` and `async sleep(s)`); `dry_run`; `debug` (breakpoints pause);
    `durable_delay_threshold_s` (a longer `delay` parks the run; None: never);
    `run_subworkflow` (async `(workflow, inputs, depth, node_id) -> outputs`, or a `Wait` to
    park the node until `continue_node`); `depth` and `max_depth` (sub-workflow nesting);
    `node_slots` (an asyncio.Semaphore capping the handlers executing at once across every
    run that shares it: a worker's global cap); `cache` (an `engine.caching.NodeCache`: where
    nodes with `cache` look up earlier results; None: nothing is reused); `trigger`
    (`{"node", "data"}`: the trigger node that started the run and what it received; the
    other trigger nodes are skipped); `use_pinned` (nodes with `pinned` data end `reused`
    with it instead of running: runs a person starts, never a trigger's, engine.pinning)."""

    http_allow_private: bool = False
    env: Mapping[str, Any] = field(default_factory=dict)
    secrets: dict[str, Any] = field(default_factory=dict)
    max_output_preview: int = DEFAULT_PREVIEW_BYTES
    max_output_bytes: int = DEFAULT_MAX_OUTPUT_BYTES
    clock: Any = field(default_factory=SystemClock)
    dry_run: bool = False
    debug: bool = False
    durable_delay_threshold_s: float | None = DEFAULT_DURABLE_DELAY_S
    run_subworkflow: Callable | None = None
    depth: int = 0
    max_depth: int = DEFAULT_MAX_DEPTH
    node_slots: asyncio.Semaphore | None = None
    cache: Any = None
    trigger: Mapping[str, Any] | None = None  # {"node", "data"}: the trigger that started it
    usage: Any = None  # the run's engine.usage.RunUsage (None: the execution makes one)
    memory: Any = None  # llm nodes' conversation memory, by node id, shared with the bodies
    use_pinned: bool = False

    @classmethod
    def from_mapping(cls, options: Mapping[str, Any] | None) -> ExecutionOptions:
        """The `options` an `Execution` is given; a missing or empty value is the default
        (`durable_delay_threshold_s: None` too means never)."""
        options = options or {}
        threshold = options.get("durable_delay_threshold_s", DEFAULT_DURABLE_DELAY_S)
        return cls(
            http_allow_private=bool(options.get("http_allow_private")),
            env=options.get("env") or {},
            secrets=dict(options.get("secrets") or {}),
            max_output_preview=int(options.get("max_output_preview") or DEFAULT_PREVIEW_BYTES),
            max_output_bytes=int(options.get("max_output_bytes") or DEFAULT_MAX_OUTPUT_BYTES),
            clock=options.get("clock") or SystemClock(),
            dry_run=bool(options.get("dry_run")),
            debug=bool(options.get("debug")),
            durable_delay_threshold_s=None if threshold is None else float(threshold),
            run_subworkflow=options.get("run_subworkflow"),
            depth=int(options.get("depth") or 0),
            max_depth=int(options.get("max_depth") or DEFAULT_MAX_DEPTH),
            node_slots=options.get("node_slots"),
            cache=options.get("cache"),
            trigger=options.get("trigger") or None,
            usage=options.get("usage"),
            use_pinned=bool(options.get("use_pinned")),
        )

    def handler_settings(self) -> dict[str, Any]:
        """What handlers read as `ctx.settings`."""
        return {
            "http_allow_private": self.http_allow_private,
            "dry_run": self.dry_run,
            "clock": self.clock,
            "run_subworkflow": self.run_subworkflow,
            "depth": self.depth,
            "max_depth": self.max_depth,
            "durable_delay_threshold_s": self.durable_delay_threshold_s,
            "trigger": self.trigger,
            "memory": self.memory,
        }
