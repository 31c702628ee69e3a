"""Writing and publishing: `Publisher` group-commits the batches of every run a process drives,
then sends the committed events to each run's group on the live channel layer (`LiveSender`).

Persistence comes before publication: a channel-layer outage (Redis restarting) loses live
messages, never events; clients re-sync by seq.
"""

from __future__ import annotations

import asyncio

from channels.layers import get_channel_layer
from django.conf import settings

from workflows import live
from workflows.runtime import unstorable
from workflows.runtime.db import db
from workflows.runtime.leases import LeaseLost, RunUnstorable
from workflows.runtime.logs import runtime_logger
from workflows.runtime.persistence import Batch, EventWriter

logger = runtime_logger(__name__)


class LiveSender:
    """Sends each run's events to its group `run-<id>` on the live layer.

    The Redis pub/sub layer sends one PUBLISH at a time and waits for each reply; with many
    runs in flight that queues up. On that layer (one Redis host) all runs' messages of a round
    go out in one pipelined round trip, on the channel names and in the encoding the layer's
    consumers read. Any other layer gets a `group_send` per run, concurrently."""

    def __init__(self, layer) -> None:
        self.layer = layer
        self.redis = None
        config = settings.CHANNEL_LAYERS.get(live.LAYER, {}).get("CONFIG", {})
        hosts = config.get("hosts") or []
        if type(layer).__name__ == "RedisPubSubChannelLayer" and len(hosts) == 1:
            from channels_redis.utils import create_pool
            from redis import asyncio as aioredis

            self.redis = aioredis.Redis(connection_pool=create_pool(hosts[0]))
            self.prefix = config.get("prefix", "asgi")

    async def send(self, events_by_run: dict[int, list[dict]]) -> None:
        messages = {
            live.run_group(run_id): {"type": "run.events", "events": events}
            for run_id, events in events_by_run.items()
        }
        if self.redis is None:
            await asyncio.gather(
                *(self.layer.group_send(group, message) for group, message in messages.items())
            )
            return
        async with self.redis.pipeline(transaction=False) as pipe:
            for group, message in messages.items():
                pipe.publish(f"{self.prefix}__group__{group}", self.layer.serialize(message))
            await pipe.execute()

    async def close(self) -> None:
        if self.redis is not None:
            await self.redis.aclose()
            self.redis = None


WRITE_ATTEMPTS = 8  # with the pauses below, about 5 s of a database that does not answer


WRITE_BACKOFF_S = 0.05


WRITE_BACKOFF_MAX_S = 2.0


class Publisher:
    """Sends committed events to each run's group, off the engine's path.

    A channel-layer outage (Redis restarting) loses live messages, never events: they are in
    PostgreSQL, and clients re-sync by seq."""

    def __init__(self, loop: asyncio.AbstractEventLoop | None = None) -> None:
        self.loop = loop or asyncio.get_running_loop()
        self.queue: asyncio.Queue = asyncio.Queue()
        self.sender = LiveSender(get_channel_layer(live.LAYER))
        self.task = self.loop.create_task(self._send_forever())
        self.waiting: list[tuple[Batch, asyncio.Future]] = []
        self.has_work = asyncio.Event()
        self.events = EventWriter()
        self.writer = self.loop.create_task(self._write_forever())

    async def write(self, batch: Batch) -> None:
        """Persist a run's batch, sharing the transaction with whatever other runs of this
        worker have pending (group commit), then publish it. Raises LeaseLost if fenced."""
        done = self.loop.create_future()
        self.waiting.append((batch, done))
        self.has_work.set()
        await done

    async def _write_forever(self) -> None:
        try:
            await self._write_loop()
        finally:
            await self.events.close()

    async def _write_loop(self) -> None:
        while True:
            await self.has_work.wait()
            self.has_work.clear()
            items, self.waiting = self.waiting, []
            if items:
                await self._write_group(items)

    async def _write_group(self, items: list[tuple[Batch, asyncio.Future]]) -> None:
        """One group commit. A batch the database refuses for good (a value it cannot store)
        takes no other run down: the group is written again one run at a time, and the run
        whose batch is refused alone is ended failed."""
        try:
            fenced = await self._write_retrying([batch for batch, _ in items])
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            if unstorable.transient(exc):
                for _, done in items:
                    if not done.done():
                        done.set_exception(exc)
            elif len(items) > 1:
                for item in items:
                    await self._write_group([item])
            else:
                await self._refused(*items[0], exc)
            return
        for batch, done in items:  # committed: publish, then let the run go on
            if batch.run_id in fenced:
                self.publish(batch.run_id, batch.events)
                if not done.done():
                    done.set_result(None)
            elif not done.done():
                done.set_exception(LeaseLost(f"run {batch.run_id} is no longer owned"))

    async def _write_retrying(self, batches: list[Batch]) -> set[int]:
        """The group write, tried again after a passing database error (connection lost,
        server restarting) with a growing pause, a bounded number of times; one log line per
        failure."""
        attempt = 1
        while True:
            try:
                return await self.events.write(batches)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                if attempt == WRITE_ATTEMPTS or not unstorable.transient(exc):
                    raise
                pause = min(WRITE_BACKOFF_S * 2 ** (attempt - 1), WRITE_BACKOFF_MAX_S)
                logger.warning(
                    "writing the events of %d run(s) failed (%s); trying again in %.2f s",
                    len(batches),
                    unstorable.first_line(exc),
                    pause,
                )
                await asyncio.sleep(pause)
                attempt += 1

    async def _refused(self, batch: Batch, done: asyncio.Future, exc: Exception) -> None:
        """The database refused this run's batch for good: end the run failed (its events
        made storable), publish that, and stop its drive."""
        logger.error(
            "the database refused the events of run %s: %s; ending the run failed",
            batch.run_id,
            unstorable.first_line(exc),
        )
        try:
            written = await db(unstorable.end_unstorable, batch, unstorable.first_line(exc))
        except Exception as again:
            logger.error("run %s could not be ended either: %s", batch.run_id, again)
            if not done.done():
                done.set_exception(again)
            return
        if written is None:  # another worker holds the run now: it is theirs to end
            ended = LeaseLost(f"run {batch.run_id} is no longer owned")
        else:
            self.publish(batch.run_id, written)
            ended = RunUnstorable(f"run {batch.run_id} ended: its events cannot be stored")
        if not done.done():
            done.set_exception(ended)

    def publish(self, run_id: int, events: list[dict]) -> None:
        """Send events that are already committed."""
        self.queue.put_nowait((run_id, events))

    async def _send_forever(self) -> None:
        try:
            await self._send_loop()
        finally:
            await self.sender.close()

    async def _send_loop(self) -> None:
        """Hand committed events to the channel layer. Whatever queued up meanwhile is merged
        into one message per run (in seq order), and all of them go out together."""
        while True:
            items = [await self.queue.get()]
            while not self.queue.empty():
                items.append(self.queue.get_nowait())
            by_run: dict[int, list[dict]] = {}
            for run_id, events in items:
                by_run.setdefault(run_id, []).extend(events)
            try:
                await self.sender.send(by_run)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                logger.warning("live events of runs %s not sent: %s", sorted(by_run), exc)
            finally:
                for _ in items:
                    self.queue.task_done()

    async def drain(self) -> None:
        """Wait (at most 5 s) until everything queued was handed to the channel layer."""
        try:
            async with asyncio.timeout(5):
                await self.queue.join()
        except TimeoutError:
            logger.warning("live events still unsent after 5 s; clients re-sync by seq")

    def close(self) -> None:
        self.task.cancel()
        self.writer.cancel()
