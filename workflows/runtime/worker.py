"""The execution worker: claims runs from PostgreSQL, executes them, keeps their leases.

The channel layer only wakes workers up (`workflow-runs` messages may be dropped); PostgreSQL
is the source of truth. A worker claims a run with `SELECT … FOR UPDATE SKIP LOCKED` plus a
compare-and-set of the lease, renews the lease while the run executes, and every batch it
writes is fenced by that lease (`persistence.write_batches`), so a worker that lost its lease can
write nothing more. A periodic sweep picks up queued runs whose message was lost and runs whose
lease expired (their worker died); those continue from their rows.
"""

from __future__ import annotations

import asyncio
import gc
import os
import socket
import time
import uuid
from dataclasses import dataclass

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer

from workflows import conf
from workflows.runtime import unstorable
from workflows.runtime.db import db
from workflows.runtime.drive import drive
from workflows.runtime.leases import LeaseLost, RunUnstorable, claim_runs, keep_lease, release_lease
from workflows.runtime.logs import CURRENT_RUN, runtime_logger
from workflows.runtime.publish import Publisher
from workflows.runtime.recorder import RunRecorder
from workflows.runtime.schedules import schedule_forever
from workflows.runtime.watches import StallWatch

logger = runtime_logger(__name__)


WORKER_CHANNEL = "workflow-runs"


# Runs leased per claim query; a burst of queued runs is spread over the workers in slices
# this size rather than all taken by whichever worker woke first.
CLAIM_BATCH = 8


def new_worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


MAX_BREAKS = 3


BREAK_REST_S = 0.5


BREAKS_KEPT_S = 600.0


class RunWorker:
    """Executes runs on the current event loop until `stop()` (or cancellation)."""

    def __init__(
        self,
        *,
        name: str | None = None,
        max_runs: int | None = None,
        lease_s: float | None = None,
        sweep_s: float | None = None,
        stall_s: float | None = None,
    ) -> None:
        self.name = name or new_worker_name()
        self.max_runs = int(max_runs or conf.value("WORKER_MAX_RUNS"))
        self.lease_s = lease_s or conf.value("LEASE_S")
        self.sweep_s = sweep_s or conf.value("SWEEP_S")
        self.stall_s = stall_s or conf.value("STALL_S")
        self.layer = get_channel_layer()
        self.tasks: dict[int, asyncio.Task] = {}
        self.heartbeats: dict[int, asyncio.Task] = {}
        self.breaks: dict[int, Breaks] = {}  # runs whose drive broke here lately
        self.wake = asyncio.Event()
        self.woken = False  # a wake-up message came while a claim ran
        self.stopping = asyncio.Event()
        self.publisher: Publisher | None = None

    async def serve(self) -> None:
        freeze_startup_objects()
        self.publisher = Publisher()
        # No control channel: a cancel reaches the run through the cancel watch, which reads
        # the cancel requests of all runs here from PostgreSQL every SWITCHYARD_CANCEL_POLL_S
        # (watches.CancelWatch). A group per run to hear cancel messages cost three Redis round
        # trips per run (add, remove) for a cancel a quarter of a second sooner.
        loops = [
            asyncio.create_task(self._listen(WORKER_CHANNEL, self._on_wakeup)),
            asyncio.create_task(self._sweep_forever()),
            asyncio.create_task(schedule_forever(self.stopping)),  # runtime/schedules.py
        ]
        logger.info("worker %s started", self.name)
        try:
            await self.stopping.wait()
        finally:
            for task in loops:
                task.cancel()
            await self._shutdown()
            self.publisher.close()

    def stop(self) -> None:
        self.stopping.set()

    async def _shutdown(self) -> None:
        for task in list(self.tasks.values()):
            task.cancel()
        await asyncio.gather(*self.tasks.values(), return_exceptions=True)
        for run_id in list(self.tasks):
            await db(release_lease, run_id, self.name)

    # ---- messages --------------------------------------------------------------------

    async def _listen(self, channel: str, handle) -> None:
        while True:
            try:
                message = await self.layer.receive(channel)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # Redis restarting: the sweep covers the gap
                logger.warning("worker %s cannot read %s: %s", self.name, channel, exc)
                await asyncio.sleep(1)
                continue
            handle(message)

    def _on_wakeup(self, message: dict) -> None:
        self.woken = True
        self.wake.set()

    # ---- claiming --------------------------------------------------------------------

    async def _sweep_forever(self) -> None:
        failing = False
        while True:
            # A wake-up message that arrives while the claim runs may be for a run committed
            # after its query: it starts another claim. A slot freed meanwhile does not (the
            # claim took what it could; runs finishing during claims made a claim each).
            self.woken = False
            try:
                await self.claim_available()
                failing = False
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                if failing:  # one traceback per outage, then a line per sweep
                    logger.warning("worker %s: sweep failed again: %s", self.name, exc)
                else:
                    logger.exception("worker %s: sweep failed", self.name)
                failing = True
            if not self.woken:
                self.wake.clear()
            try:
                await asyncio.wait_for(self.wake.wait(), timeout=self.sweep_s)
            except TimeoutError:
                pass

    async def claim_available(self) -> list[int]:
        claimed = []
        while (free := self.max_runs - len(self.tasks)) > 0:
            now = time.monotonic()
            for run_id in [r for r, b in self.breaks.items() if b.until < now - BREAKS_KEPT_S]:
                del self.breaks[run_id]  # long ago: ended or continued elsewhere meanwhile
            resting = [run_id for run_id, breaks in self.breaks.items() if breaks.until > now]
            exclude = [*self.tasks, *resting]
            wanted = min(free, CLAIM_BATCH)
            run_ids, more = await db(claim_runs, self.name, self.lease_s, exclude, wanted)
            for run_id in run_ids:
                claimed.append(run_id)
                self.tasks[run_id] = asyncio.create_task(self._execute(run_id))
            if not more:
                break  # nothing more to claim now
        return claimed

    # ---- one run ---------------------------------------------------------------------

    async def _execute(self, run_id: int) -> None:
        CURRENT_RUN.set(run_id)  # this run's own task: what it logs names the run
        try:
            await drive(run_id, self.name, self.publisher, started=self._started(run_id))
            self.breaks.pop(run_id, None)
        except asyncio.CancelledError:
            raise
        except BaseException as exc:
            if lease_was_lost(exc, RunUnstorable):
                logger.debug("worker %s: %s", self.name, exc)  # the writer logged why
            elif lease_was_lost(exc):
                logger.warning("worker %s lost the lease of run %s; stopped", self.name, run_id)
            else:
                await self._broke(run_id, exc)
        finally:
            heartbeat = self.heartbeats.pop(run_id, None)
            if heartbeat is not None:
                heartbeat.cancel()
            self.tasks.pop(run_id, None)
            self.wake.set()  # a slot is free

    async def _broke(self, run_id: int, exc: BaseException) -> None:
        """The drive raised. After a passing database error the run is released for any
        worker to continue from its rows; after other errors too, but this worker keeps away
        from it for a while, and once it broke `MAX_BREAKS` times here it ends failed — never
        a run left `running` with nobody driving it, never one that blocks the queue."""
        breaks = self.breaks.setdefault(run_id, Breaks())
        if not unstorable.transient(exc):
            breaks.count += 1
        breaks.until = time.monotonic() + BREAK_REST_S * 2 ** max(breaks.count - 1, 0)
        if breaks.count >= MAX_BREAKS:
            logger.error(
                "worker %s: run %s broke %d times; ending it failed: %r",
                self.name,
                run_id,
                breaks.count,
                exc,
            )
            try:
                await db(unstorable.end_broken, run_id, self.name, exc)
                self.breaks.pop(run_id, None)
                return
            except Exception as again:
                logger.error("worker %s: run %s could not be ended: %s", self.name, run_id, again)
        else:
            logger.error(
                "worker %s: run %s broke (%r); releasing it",
                self.name,
                run_id,
                exc,
                exc_info=breaks.count == 1,
            )
        try:
            await db(release_lease, run_id, self.name)
        except Exception as again:
            logger.warning(
                "worker %s: run %s not released (%s); its lease expires", self.name, run_id, again
            )

    def _started(self, run_id: int):
        def started(execution, recorder: RunRecorder) -> None:
            self.heartbeats[run_id] = asyncio.create_task(
                self._heartbeat(run_id, execution, recorder)
            )

        return started

    async def _heartbeat(self, run_id: int, execution, recorder: RunRecorder) -> None:
        watch = StallWatch(run_id, self.name, execution, recorder, self.stall_s)
        await keep_lease(
            run_id, self.name, self.lease_s, execution, recorder, on_renewed=watch.check
        )


def freeze_startup_objects() -> None:
    """Move everything alive at startup (Django, the models, the handlers: hundreds of
    thousands of objects) out of the collector's reach: a full collection then walks only
    what the runs allocated since, not the whole process again every time."""
    gc.collect()
    gc.freeze()


def lease_was_lost(exc: BaseException, kind: type = LeaseLost) -> bool:
    if isinstance(exc, BaseExceptionGroup):
        return exc.subgroup(kind) is not None
    return isinstance(exc, kind)


@dataclass
class Breaks:
    """How often a run's drive broke on this worker (not counting passing database errors),
    and until when the worker leaves it to others."""

    count: int = 0
    until: float = 0.0


# At most this many wake-ups wait in the channel: a waiting one is read later by a worker that
# then claims every run queued by then (in batches, while more are found), this run included,
# so a burst of submissions needs a few, not one each. Several, not one: the worker that reads
# one may have no free slot.
WAKEUPS_PENDING = 4


# One round trip instead of channels_redis' four (trim expired, count, add, expire), and no
# add when enough wake-ups wait already. Same key, score and expiry as its `send`, so the
# worker's `receive` reads these messages as any other.
WAKEUP_SCRIPT = """
redis.call('ZREMRANGEBYSCORE', KEYS[1], 0, ARGV[1])
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[2]) then
    return 0
end
redis.call('ZADD', KEYS[1], ARGV[3], ARGV[4])
redis.call('EXPIRE', KEYS[1], ARGV[5])
return 1
"""


def send_wakeup(run_id: int) -> None:
    """Tell some worker a run is queued. Best effort: the sweep finds it anyway."""
    try:
        layer = get_channel_layer()
        script = wakeup_script(layer)
        message = {"type": "run.queued", "run_id": run_id}
        if script is None:  # another layer (in-memory in tests without Redis)
            async_to_sync(layer.send)(WORKER_CHANNEL, message)
            return
        now = time.time()
        script(
            keys=[layer.prefix + WORKER_CHANNEL],
            args=[
                int(now) - int(layer.expiry),
                min(WAKEUPS_PENDING, layer.get_capacity(WORKER_CHANNEL)),
                now,
                layer.serialize(message),
                int(layer.expiry),
            ],
        )
    except Exception as exc:
        logger.warning("wake-up for run %s not sent (%s); the sweep will pick it up", run_id, exc)


_wakeup_scripts: dict[str, object] = {}  # by Redis address


def wakeup_script(layer):
    """The wake-up script on a synchronous Redis client of the layer's one host (thread-safe,
    pooled: a request's thread sends without hopping to the event loop), or None when the
    layer is not a single-host RedisChannelLayer."""
    from channels_redis.core import RedisChannelLayer

    if type(layer) is not RedisChannelLayer or len(layer.hosts) != 1:
        return None
    if "address" not in layer.hosts[0]:
        return None
    address = layer.hosts[0]["address"]
    script = _wakeup_scripts.get(address)
    if script is None:
        import redis

        options = {k: v for k, v in layer.hosts[0].items() if k != "address"}
        client = redis.Redis(connection_pool=redis.ConnectionPool.from_url(address, **options))
        script = _wakeup_scripts[address] = client.register_script(WAKEUP_SCRIPT)
    return script
