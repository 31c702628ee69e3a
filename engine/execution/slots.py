"""Concurrency slots: the run's `max_parallel` counter with its ready queue (nodes waiting
to start, and nodes back from a retry's backoff waiting for a slot again), and the worker-wide
`node_slots` semaphore an attempt runs within."""

from __future__ import annotations

import asyncio
from typing import Any

from engine.report import NodeRecord
from engine.states import NodeState

QUEUED = NodeState.QUEUED


class Slots:
    """Part of `Execution`: who may run now. `_active` counts the slots held; `_waiting` queues
    node indexes (not started yet) and futures (a retry back from its backoff)."""

    def _ready(self, i: int) -> None:
        if self._active < self._max_parallel:
            self._active += 1
            self._spawn(i)
        else:
            self._set(i, self.records[i], QUEUED, self._now())
            self._waiting.append(i)

    def _spawn(self, i: int) -> None:
        self._live += 1
        task = self._tasks[i] = self._loop.create_task(self._execute(i))
        # A callback, not a `finally`: a task cancelled before its first step never runs
        # its body, and it must still count as done.
        task.add_done_callback(self._task_done)

    def _task_done(self, task: asyncio.Task | None = None) -> None:
        self._live -= 1
        if not self._live and not self._idle.done():
            self._idle.set_result(None)

    def _release(self) -> None:
        self._active -= 1
        waiting = self._waiting
        while waiting and self._active < self._max_parallel and self._stop_status is None:
            if self._pausing and isinstance(waiting[0], int):
                break  # paused on demand: queued nodes wait for the resume
            item = waiting.popleft()
            self._active += 1
            if isinstance(item, int):
                self._spawn(item)
            elif not item.done():
                item.set_result(None)  # hand the slot to a node back from its backoff
            else:
                self._active -= 1

    async def _acquire(self, i: int, record: NodeRecord) -> None:
        if self._active < self._max_parallel:
            self._active += 1
            return
        future = self._loop.create_future()
        self._set(i, record, QUEUED, self._now())
        self._waiting.append(future)
        try:
            await future
        except asyncio.CancelledError:
            if future.done() and not future.cancelled():
                self._release()  # a slot was handed over just before the cancellation
            raise

    def _attempt_in_slot(self, i: int, record: NodeRecord):
        """The attempt, within one of the process's node slots when the runtime caps them
        (`options["node_slots"]`, a semaphore shared by every run of a worker). Containers and
        sub-workflow nodes take none: what they wait for (their body, the child's nodes) does."""
        gate = self._options.node_slots
        if gate is None:
            return self._attempt(i, record)
        handler = self.handlers[i]
        if handler is None or handler.container or handler.type == "subworkflow":
            return self._attempt(i, record)
        return self._slotted_attempt(gate, i, record)

    async def _slotted_attempt(
        self, gate: asyncio.Semaphore, i: int, record: NodeRecord
    ) -> tuple[Any, dict | None]:
        if gate.locked() and record.status is not QUEUED:
            self._set(i, record, QUEUED, self._now())  # waits for a slot of the worker
        async with gate:
            return await self._attempt(i, record)
