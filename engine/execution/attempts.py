"""One node: its attempts (render the config, call the handler within its timeout, check the
output can be stored), retries with backoff, and what the outcome decides downstream."""

from __future__ import annotations

import asyncio
import traceback
from collections.abc import Callable
from functools import partial
from typing import Any

from engine.backoff import retry_delay, should_retry
from engine.budget import TOO_BIG, in_thread, inline, off_loop
from engine.config import render_node_config
from engine.events import NODE_LOG, NODE_STREAM
from engine.execution.bodies import Body
from engine.execution.reuse import reuse
from engine.handlers.base import (
    ERROR_HANDLE,
    HandlerContext,
    HandlerResult,
    IterationParked,
    NodeError,
    Wait,
)
from engine.handlers.triggers import fired_node
from engine.logcontext import CURRENT_NODE, node_label
from engine.memory import NodeMemory
from engine.output_schema import fabricate, output_mismatch
from engine.pinning import PINNED_REASON, pinned_result
from engine.report import DRY_RUN_OUTPUT, DRY_RUN_REASON, NodeRecord
from engine.scope import Scope
from engine.states import NodeState, RunState
from engine.storable import NOT_SMALL, output_problem, small_output_problem, storable_text
from engine.usage import Coalescer, Meter

RUNNING = NodeState.RUNNING
RETRYING = NodeState.RETRYING
SUCCEEDED = NodeState.SUCCEEDED
FAILED = NodeState.FAILED
MAX_TRACEBACK_CHARS = 16_000


def failure_of(exc: NodeError) -> dict[str, Any]:
    """A handler's `NodeError` as the attempt's error: `{"message", "type"}`, plus what
    decides the retry (`retryable` when false, `retry_after_s`), which only the retry reads."""
    error: dict[str, Any] = {"message": exc.message, "type": exc.type}
    if not exc.retryable:
        error["retryable"] = False
    if exc.retry_after_s is not None:
        error["retry_after_s"] = exc.retry_after_s
    return error


class Attempts:
    """Part of `Execution`: running node `i` from its first attempt to its outcome."""

    async def _execute(self, i: int) -> None:
        """Run node `i` (every attempt), record how it ended, then decide its successors."""
        CURRENT_NODE.set(node_label(self.graph.ids[i], self.path))  # this node's task only
        record = self.records[i]
        try:
            try:
                if self._at_breakpoint(i, record):
                    output, error = Wait("breakpoint"), None
                else:
                    output, error = await self._attempt_in_slot(i, record)
                if error is not None and self._retries(i, record, error):
                    output, error = await self._retry(i, record, error)
                if error is not None:
                    await self._recover(i, record, error)  # engine/execution/recovery.py
            except asyncio.CancelledError:
                self._release()
                self._tasks.pop(i, None)
                if self._stop_status is None:
                    raise  # the run is being torn down: the snapshot keeps the node in flight
                self._cancelled(i, record, self._stop_reason)
                return
            self._tasks.pop(i, None)
            if isinstance(output, Wait):
                self._park(i, record, output)
                status = None
            elif error is None and (error := self._grow(i, output)) is None:
                self._succeeded(i, record, output)
                status = SUCCEEDED
            elif self._failed(i, record, error):
                status = FAILED
            else:
                status = None  # parked (on_failure=pause): nothing downstream is decided
            self._release()  # after the outcome, so a halt starts nothing from the queue
            if status is None:
                return
            if self._store is None:
                self._apply_now(self._planner.settle(i, status, record.handles))
            else:
                await self._store.node_settled(self, self.graph.ids[i], record)
                await self._apply(self._planner.settle(i, status, record.handles))
        except asyncio.CancelledError:
            raise
        except BaseException as exc:  # a bug in the engine or the store: end the run with it
            if self._crash is None:
                self._crash = exc
            self._stop(RunState.FAILED, f"engine error: {exc!r}", None)

    async def _retry(self, i: int, record: NodeRecord, error: dict) -> tuple[Any, dict | None]:
        """Back off and try again until an attempt succeeds or none are left. The slot is
        released while the node waits out its backoff."""
        retry = self.graph.nodes[i]["retry"]
        output = None
        while error is not None and self._retries(i, record, error):
            self._release()
            after = error.pop("retry_after_s", None)
            error.pop("retryable", None)
            self._set(i, record, RETRYING, self._now(), error=error)
            try:
                await self._options.clock.sleep(
                    retry_delay(retry, record.attempts, retry_after_s=after)
                )
                await self._acquire(i, record)
            except asyncio.CancelledError:
                self._active += 1  # _execute releases the slot it believes it holds
                raise
            output, error = await self._attempt_in_slot(i, record)
        return output, error

    def _retries(self, i: int, record: NodeRecord, error: dict) -> bool:
        """Another attempt follows this failure: attempts are left and the error is one to
        retry (its handler's `retryable`, or `retry.on`, see engine.backoff.should_retry)."""
        if record.attempts >= self._max_attempts[i]:
            return False
        return should_retry(self.graph.nodes[i]["retry"], error)

    async def _attempt(self, i: int, record: NodeRecord) -> tuple[Any, dict | None]:
        """Run one attempt (or continue a parked one): (output, None) on success, (None,
        error) on failure."""
        if i in self._continuing:
            self._continuing.discard(i)
        else:
            record.attempts += 1
        now = self._now()
        if record.started is None:
            record.started = now
        record.attempt_started = now
        self._set(i, record, RUNNING, now)
        graph = self.graph
        node = graph.nodes[i]
        handler = self.handlers[i]
        sources = self._sources(i) if graph.n_sources[i] else {}
        if not sources:
            value = None if graph.n_sources[i] else self._root_input
        elif len(sources) == 1:
            (value,) = sources.values()
        else:
            value = sources
        record.input = self._recorder.redact_value(value)  # stored: a root's may hold a secret
        if (stand_in := self._without_running(i, record, node, handler, value)) is not None:
            return stand_in
        try:
            timeout = node["timeout_s"]
            work = self._perform(i, record, node, handler, value, sources)
            result = await (work if not timeout else self._within(timeout, work))
        except NodeError as exc:
            return None, failure_of(exc)
        except IterationParked as parked:
            return Wait("body", None, {"iterations": parked.paths}), None
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            return None, self._unexpected(record, exc)
        if isinstance(result, HandlerResult):
            record.handles = result.handles
            result = result.output
        elif isinstance(result, Wait):
            problem = await self._unstorable(result.data, "wait")
            return (None, problem) if problem else (result, None)
        else:
            record.handles = ("out",)
        problem = await self._output_problem(record, node, result)
        return (None, problem) if problem else (result, None)

    async def _output_problem(self, record: NodeRecord, node: dict, output: Any) -> dict | None:
        """Why the output cannot be the node's: it cannot be stored, or it does not match
        the node's `output_schema`."""
        problem = small_output_problem(output, self._options.max_output_bytes)  # the usual: inline
        if problem is NOT_SMALL:
            problem = await self._unstorable(output, "output", self._options.max_output_bytes)
        if problem is None and node.get("output_schema") is not None:
            problem = await self._mistyped(record, node["output_schema"], output)
        return problem

    @staticmethod
    async def _mistyped(record: NodeRecord, schema: dict, output: Any) -> dict | None:
        """`invalid_output` when the output does not match the node's `output_schema` (a dry
        run's stand-in was made from it); a large output is checked in a thread."""
        if record.reason == DRY_RUN_REASON:
            return None
        if small_output_problem(output) is NOT_SMALL:
            return await in_thread(partial(output_mismatch, schema, output))
        return output_mismatch(schema, output)

    def _without_running(
        self, i: int, record: NodeRecord, node: dict, handler: Any, value: Any
    ) -> tuple[Any, None] | None:
        """The outcome of a node that does not run: a disabled one passes its input through,
        a pinned one (in a run that uses pins) ends `reused` with the document's output."""
        if node["disabled"]:
            record.handles = self._passthrough_handles(i)
            return value, None
        fired = fired_node(self._handler_settings)  # the trigger that fired has its real data
        if node["id"] != fired and (
            pinned := pinned_result(self._options.use_pinned, node, handler)
        ):
            record.reason = PINNED_REASON
            output, record.handles = pinned
            return output, None
        return None

    async def _perform(
        self, i: int, record: NodeRecord, node: dict, handler: Any, value: Any, sources: dict
    ) -> Any:
        """Render the node's config and run its handler: what the node's `timeout_s` bounds."""
        graph = self.graph
        node_id = graph.ids[i]
        scope = Scope(self._fixed, self._results, node_id, record.attempts, value, self._loop_vars)
        raw = config = self._config_override.get(i, node["config"])
        if graph.render_config[i] or i in self._config_override:
            config = self._render(partial(render_node_config, raw, scope, handler))
            if config is TOO_BIG:
                config = await self._render_in_thread(raw, scope, handler)
        if self._options.dry_run and handler.side_effects:
            record.reason = DRY_RUN_REASON
            schema = node.get("output_schema")  # typed: a stand-in of the declared shape
            return HandlerResult(DRY_RUN_OUTPUT if schema is None else fabricate(schema))
        if node.get("cache") and (
            reused := await reuse(self._options, record, node, handler, config, value)
        ):
            return reused  # an earlier attempt's result (engine.caching): ends `reused`
        ctx = HandlerContext(
            node_id,
            config,
            value,
            record.attempts,
            sources,
            scope,
            partial(self._log, i),
            self._handler_settings,
            raw,
            Body(self, self.iterations, i, record.attempts, value) if handler.container else None,
            stream := Coalescer(partial(self._stream, i, record.attempts)),
            Meter(self._options.usage, record),
            NodeMemory(self._options.memory, node_id, record, self._recorder.redact_value),
        )
        try:
            result = await handler.run(ctx)
        except asyncio.CancelledError:
            stream.discard()  # nothing is sent for a node once it is stopped
            raise
        except BaseException:
            stream.flush()  # what streamed before the failure is shown with it
            raise
        stream.flush()
        return result

    async def _unstorable(self, value: Any, root: str, max_bytes: int = 0) -> dict | None:
        """Why a value cannot leave the engine (an output PostgreSQL refuses, or one over the
        size limit), or None. Checked here, once, for every handler's output: nothing
        unstorable reaches an event, a record or the run's outputs."""
        if value is None or type(value) is bool:
            return None
        problem = small_output_problem(value, max_bytes, root)  # a few steps, inline
        if problem is NOT_SMALL:
            problem = await off_loop(partial(output_problem, value, max_bytes, root))
        return problem

    @staticmethod
    async def _within(seconds: float, work: Any) -> Any:
        """`work` within the node's `timeout_s`: a CPU-bound evaluation in a thread is
        cancelled with it (see engine.budget)."""
        deadline = asyncio.timeout(seconds)
        try:
            async with deadline:
                return await work
        except TimeoutError:
            if not deadline.expired():
                raise  # the handler's own TimeoutError: an ordinary failure
            raise NodeError(f"timed out after {seconds:g} s", "timeout") from None

    def _passthrough_handles(self, i: int) -> tuple[str, ...]:
        """A disabled node passes its input through its first output handle."""
        handler = self.handlers[i]
        outs = handler.output_handles(self.graph.nodes[i]["config"]) if handler else ("out",)
        return tuple(h for h in outs if h != ERROR_HANDLE)[:1] or ("out",)

    @staticmethod
    def _render(work: Callable[[], dict]) -> Any:
        """The rendered config, inline; `TOO_BIG` when it must go on in a thread."""
        from engine.expressions import ExpressionError

        try:
            return inline(work)
        except ExpressionError as exc:
            raise NodeError(exc.message, "expression", retryable=False) from None

    @staticmethod
    async def _render_in_thread(config: dict, scope: Scope, handler: Any) -> dict:
        from engine.expressions import ExpressionError

        try:
            return await in_thread(partial(render_node_config, config, scope, handler))
        except ExpressionError as exc:
            raise NodeError(exc.message, "expression", retryable=False) from None

    def _unexpected(self, record: NodeRecord, exc: Exception) -> dict[str, Any]:
        """A handler's unexpected exception (a bug, not a NodeError): the attempt's error, and
        its traceback as Python prints it (secrets as `***`, the last MAX_TRACEBACK_CHARS
        characters) kept for the node's owner (the attempt's row), never in an event."""
        text = "".join(traceback.format_exception(exc))
        tail = storable_text(self._recorder.redact(text))[-MAX_TRACEBACK_CHARS:]
        record.tracebacks[record.attempts] = tail
        return {"message": f"{type(exc).__name__}: {exc}", "type": "exception"}

    def _log(self, i: int, message: Any) -> None:
        text = storable_text(self._recorder.redact(str(message)))
        record = self.records[i]
        self._recorder.emit(
            NODE_LOG, self._now(), self.graph.ids[i], None, record.attempts, data={"message": text}
        )

    def _stream(self, i: int, attempt: int, text: str) -> None:
        """A `node.stream` event: the next piece of the attempt's streamed answer."""
        data = {"text": self._recorder.redact(text)}
        self._recorder.emit(NODE_STREAM, self._now(), self.graph.ids[i], None, attempt, data=data)
