"""Wake-ups: one Redis round trip each, and no more than a few waiting in the channel however
many runs a burst queues (a waiting one's worker claims every run queued by then)."""

from __future__ import annotations

import pytest
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.conf import settings

from workflows.runtime import worker

pytestmark = pytest.mark.skipif(
    "RedisChannelLayer" not in settings.CHANNEL_LAYERS["default"]["BACKEND"],
    reason="the wake-up script is for the Redis channel layer",
)


def waiting_wakeups() -> list[dict]:
    layer = get_channel_layer()

    async def drain() -> list[dict]:
        import asyncio

        messages = []
        while True:
            try:
                async with asyncio.timeout(0.5):
                    messages.append(await layer.receive(worker.WORKER_CHANNEL))
            except TimeoutError:
                return messages

    return async_to_sync(drain)()


def test_a_burst_of_wakeups_leaves_a_few_waiting_that_workers_read():
    waiting_wakeups()  # nothing left from another test
    for run_id in range(1, 21):
        worker.send_wakeup(run_id)

    messages = waiting_wakeups()

    assert len(messages) == worker.WAKEUPS_PENDING
    assert [m["run_id"] for m in messages] == [1, 2, 3, 4]
    assert all(m["type"] == "run.queued" for m in messages)
    worker.send_wakeup(21)  # read: the next run's wake-up goes out again
    assert [m["run_id"] for m in waiting_wakeups()] == [21]
