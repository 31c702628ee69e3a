"""Parked nodes and their resume: a node waits (approval, durable delay, breakpoint,
on_failure=pause, a container whose iteration parked), wakes by itself when its time comes, or
is decided by the user (`retry_node`, `skip_node`, `approve_node`, `continue_node`), at top
level or inside a parked container's iteration."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from engine.events import NODE_LOG, iso_us
from engine.handlers.base import Wait
from engine.planner import RUN
from engine.report import NodeRecord
from engine.states import NODE_TERMINAL, RUN_TERMINAL, NodeState, RunState

if TYPE_CHECKING:
    from engine.execution.execution import Execution

WAITING = NodeState.WAITING
SUCCEEDED = NodeState.SUCCEEDED
SKIPPED = NodeState.SKIPPED
FAILED = NodeState.FAILED


class Parking:
    """Part of `Execution`: what waits, until when, and deciding it."""

    def retry_node(self, node_id: str, config: dict | None = None, iteration: str = "") -> None:
        """Resume a node parked `waiting` by on_failure=pause: run it again (a new attempt),
        optionally with an edited config. Call before `run()` on a restored execution."""
        if iteration:
            return self.act_in_iteration(iteration, lambda child: child.retry_node(node_id, config))
        i = self._waiting_node(node_id)
        if config is not None:
            self._config_override[i] = config
        self._passed_breakpoints.add(i)
        record = self.records[i]
        record.wait = None
        record.error = None  # the parked attempt's; the new attempt has its own outcome
        self._resumed.append((i, RUN))

    def continue_node(self, node_id: str, iteration: str = "") -> None:
        """Resume a node its handler parked (`Wait`) on something outside the run that has
        now happened — a sub-workflow's child run ended: the handler runs again within the
        same attempt and finds the outcome there. Call before `run()` on a restored execution."""
        if iteration:
            return self.act_in_iteration(iteration, lambda child: child.continue_node(node_id))
        i = self._waiting_node(node_id)
        record = self.records[i]
        if record.attempts < 1 or record.error is not None:
            raise ValueError(f"node {node_id!r} did not park in its handler: retry it instead")
        record.wait = None
        self._continuing.add(i)
        self._resumed.append((i, RUN))

    def approve_node(
        self, node_id: str, approved: bool, data: Any = None, by: Any = None, iteration: str = ""
    ) -> dict[str, Any]:
        """Decide an `approval` node parked `waiting` (at top level, or in the iteration
        `iteration` of a parked container, e.g. `M[2]`): it succeeds with output `{"approved",
        "data", "by", "at"}` and follows its `approved` or `rejected` handle. Call before
        `run()` on a restored execution; returns the output."""
        if iteration:
            return self.act_in_iteration(
                iteration, lambda child: child.approve_node(node_id, approved, data, by)
            )
        i = self._waiting_node(node_id)
        wait = self.records[i].wait or {}
        if wait.get("kind") != "approval":
            raise ValueError(f"node {node_id!r} is not waiting for an approval")
        return self._decide_approval(i, bool(approved), data, by)

    def skip_node(self, node_id: str, iteration: str = "") -> None:
        """Resume a node parked `waiting` by marking it skipped (its edges are skipped)."""
        if iteration:
            return self.act_in_iteration(iteration, lambda child: child.skip_node(node_id))
        i = self._waiting_node(node_id)
        record = self.records[i]
        self.running_again()
        now = self._now()
        self._set(i, record, SKIPPED, now)
        record.finished = now
        record.reason = "skipped by the user"
        self._resumed.extend(self._planner.settle(i, SKIPPED, ()))

    def decide_now(self, act: Callable[[Execution], Any]) -> Any:
        """Apply a decision on a top-level waiting node (`lambda e: e.approve_node(…)`)
        while the run runs: what it decides starts at once, beside the branches still
        running. ValueError when the run is not running (it parks or ended: decide on the
        parked run instead); nothing changes when `act` raises."""
        if self.status is not RunState.RUNNING or self._loop is None or self._live <= 0:
            raise ValueError(f"run is {self.status}, not running")
        if self._stop_status is not None:
            raise ValueError("run is stopping")
        result = act(self)
        decisions, self._resumed = self._resumed, []
        self._live += 1
        task = self._loop.create_task(self._apply_decided(decisions))
        task.add_done_callback(self._task_done)
        return result

    async def _apply_decided(self, decisions: list) -> None:
        try:
            await self._apply(decisions)
        except asyncio.CancelledError:
            raise
        except BaseException as exc:  # a bug in the engine or the store: end the run with it
            if self._crash is None:
                self._crash = exc
            self._stop(RunState.FAILED, f"engine error: {exc!r}", None)

    def pause(self, by: Any = None) -> bool:
        """Pause on demand: the running nodes finish (retries included), nothing new starts,
        and the run parks `paused` once nothing runs; the snapshot keeps the pause, so a
        decision applied meanwhile (an approval) starts nothing either, until `unpause`.
        Recorded as a run-level `node.log` event. False when the run has ended or stops."""
        if self.status in RUN_TERMINAL or self._stop_status is not None:
            return False
        if not self._pausing:
            self._pausing = True
            who = f" by {by}" if by else ""
            data = {"message": f"pause requested{who}: running nodes finish, nothing new starts"}
            self._recorder.emit(NODE_LOG, self._now(), None, None, None, data=data)
        return True

    def unpause(self) -> None:
        """Resume a run paused on demand: what was decided meanwhile starts when it runs,
        and the container iterations the pause held back go on. Call before `run()` on a
        restored execution."""
        if self._pausing:
            self.release()
            self.running_again()

    def hold(self) -> None:
        """A container iteration that was to start while the run is paused on demand: it
        starts nothing and parks (so does its container, and the run), until `unpause`."""
        self._pausing = True

    @property
    def paused_on_demand(self) -> bool:
        """This execution, or the one it runs inside, is paused on demand."""
        return self._pausing or (self._seat is not None and self._seat.parent.paused_on_demand)

    def release(self) -> bool:
        """Let go what a pause on demand holds here: its own pause, and the held iterations
        of its parked containers (at any depth), whose containers go on. True when anything
        was held."""
        released, self._pausing = self._pausing, False
        for c, record in enumerate(self.records):
            if record.status is not WAITING or (record.wait or {}).get("kind") != "body":
                continue
            went_on = False
            for k in sorted(self.iterations.parked(c)):
                child = self.iterations.prepare(c, k)
                if child.release():
                    self.iterations.keep(c, k, child)
                    went_on = True
            if went_on:
                self._continue_container(c)
                released = True
        return released

    @property
    def pausing(self) -> bool:
        """Paused (or pausing) on demand."""
        return self._pausing

    def running_again(self) -> None:
        """A decision on a paused run (approve, skip), once checked, runs it again: its
        run.status comes before the decided node's (an iteration's decision asks the top
        execution), and `run()` does not say it twice."""
        if self._seat is not None:
            self._seat.parent.running_again()
        elif self.status is RunState.PAUSED:
            self._set_run_status(RunState.RUNNING, self._now())
            self._said_running = True

    def _decide_approval(self, i: int, approved: bool, data: Any, by: Any) -> dict[str, Any]:
        record = self.records[i]
        self.running_again()
        now = self._now()
        output = {"approved": approved, "data": data, "by": by, "at": iso_us(now)}
        record.handles = ("approved",) if approved else ("rejected",)
        self._wake(i, record, output, now)
        return output

    def act_in_iteration(self, path: str, act: Callable[[Execution], Any]) -> Any:
        """Decide inside the iteration `path` (`M[2]`, nested `M[2]/L[1]`) of a parked
        container: `act` on that iteration's execution, then the container continues (the
        same attempt) once the run runs. Nothing changes when `act` raises."""
        step, _, rest = path.partition("/")
        name, _, index = step.rpartition("[")
        c = self.graph.index.get(name)
        if c is None or not index.endswith("]") or not index[:-1].isdigit():
            raise KeyError(f"no iteration {step!r} in this workflow")
        record = self.records[c]
        parked = c in self._continuing or (record.wait or {}).get("kind") == "body"
        if record.status is not WAITING or not parked:
            raise ValueError(f"{name} is {record.status}, not waiting for an iteration")
        k = int(index[:-1])
        child = self.iterations.prepare(c, k)
        result = child.act_in_iteration(rest, act) if rest else act(child)
        self.iterations.keep(c, k, child)
        self._continue_container(c)
        return result

    def _continue_container(self, c: int) -> None:
        """A parked container goes on within its attempt: its iterations (finished ones too)
        come back from their snapshots or prepared executions."""
        if c in self._continuing:
            return
        self.iterations.go_on(c)
        self.records[c].wait = None
        self._continuing.add(c)
        self._resumed.append((c, RUN))

    def _wake(self, i: int, record: NodeRecord, output: Any, now: float) -> None:
        record.wait = None
        if record.attempts == 0:
            record.attempts = 1
        self._succeeded(i, record, output)
        self._resumed.extend(self._planner.settle(i, SUCCEEDED, record.handles))

    def _wake_due(self) -> None:
        """Parked nodes whose time has come: a durable delay fires, an approval past its
        `timeout_s` is rejected."""
        now = self._now()
        for i, record in enumerate(self.records):
            wait = record.wait
            if record.status is not WAITING or not wait:
                continue
            if wait.get("kind") == "body":
                wake = self.iterations.wake_at(i)
                if wake is not None and wake <= now:
                    self._continue_container(i)  # the iteration wakes when it runs
                continue
            if wait.get("wake_at") is None:
                continue
            if now < wait["wake_at"]:
                self._wake_later(i, wait)  # the run may still be running then
                continue
            self._wake_one(i, record, wait, now)

    def _wake_one(self, i: int, record: NodeRecord, wait: dict, now: float) -> None:
        if wait["kind"] == "approval":
            self._time_out_approval(i, record, wait)
        else:
            record.handles = ("out",)
            self._wake(i, record, (wait.get("data") or {}).get("output"), now)

    def _wake_later(self, i: int, wait: dict) -> None:
        """A node parked with a time to wake (durable delay, approval deadline) while other
        branches run: the run does not wait to park to wake it (see `_wake_in_run`)."""
        if self._loop is None or wait.get("wake_at") is None or wait.get("kind") == "body":
            return
        delay = max(0.0, float(wait["wake_at"]) - self._now())
        self._wake_timers.append(self._loop.call_later(delay, self._wake_in_run, i))

    def _wake_in_run(self, i: int) -> None:
        record = self.records[i]
        wait = record.wait
        if record.status is not WAITING or not wait or self._live <= 0:
            return  # decided meanwhile, or the run parks: the resume wakes it
        try:
            self.decide_now(lambda execution: self._wake_one(i, record, wait, self._now()))
        except ValueError:
            pass  # not running any more: the parked run wakes it

    def _time_out_approval(self, i: int, record: NodeRecord, wait: dict) -> None:
        """An approval nobody decided within its `timeout_s` does its `timeout_action`:
        rejected (the default), approved (both by "timeout"), or failed (type `timeout`;
        error edges and on_failure apply, except that it does not park again)."""
        action = (wait.get("data") or {}).get("timeout_action") or "reject"
        if action != "fail":
            self._decide_approval(i, action == "approve", None, "timeout")
            return
        self.running_again()
        record.wait = None
        if record.attempts == 0:
            record.attempts = 1
        self._failed(i, record, {"message": "approval timed out", "type": "timeout"}, pause=False)
        self._resumed.extend(self._planner.settle(i, FAILED, ()))

    @property
    def wake_at(self) -> float | None:
        """When a parked run must be resumed by itself (the earliest durable delay or
        approval deadline), epoch seconds; None when only a person can resume it."""
        times = []
        for i, record in enumerate(self.records):
            wait = record.wait
            if record.status is not WAITING or not wait:
                continue
            wake = self.iterations.wake_at(i) if wait.get("kind") == "body" else wait.get("wake_at")
            if wake is not None:
                times.append(wake)
        return min(times) if times else None

    def record_of(self, node_id: str, iteration: str = "") -> NodeRecord | None:
        """A node's record at top level (`""`) or in an iteration (`"M[2]/L[1]"`)."""
        execution: Execution | None = self
        for step in filter(None, iteration.split("/")):
            container, _, index = step.rpartition("[")
            c = execution.graph.index.get(container)
            if c is None or not index.endswith("]") or not index[:-1].isdigit():
                return None
            execution = execution.iterations.find(c, int(index[:-1]))
            if execution is None:
                return None
        i = execution.graph.index.get(node_id)
        return None if i is None else execution.records[i]

    def _at_breakpoint(self, i: int, record: NodeRecord) -> bool:
        return (
            self._options.debug
            and self.graph.nodes[i]["breakpoint"]
            and record.attempts == 0
            and i not in self._passed_breakpoints
        )

    def _park(self, i: int, record: NodeRecord, wait: Wait) -> None:
        """A node waits (approval, durable delay, breakpoint) alone: what does not depend on
        it goes on, the run pauses once nothing else can run, and its snapshot says when it
        wakes by itself."""
        record.wait = {"kind": wait.kind, "wake_at": wait.wake_at, "data": wait.data}
        self._set(i, record, WAITING, self._now())
        self._wake_later(i, record.wait)

    def cancel_unfinished(self, reason: str) -> None:
        """A body whose container stopped: what had not ended is cancelled."""
        for i, record in enumerate(self.records):
            if record.status not in NODE_TERMINAL and self.graph.parents[i] < 0:
                self._cancelled(i, record, reason)
        self.iterations.cancel_unfinished(reason)

    def _waiting_node(self, node_id: str) -> int:
        i = self.graph.index.get(node_id)
        if i is None:
            raise KeyError(f"no node {node_id!r} in this workflow")
        if self.records[i].status is not WAITING:
            raise ValueError(f"node {node_id!r} is {self.records[i].status}, not waiting")
        return i
