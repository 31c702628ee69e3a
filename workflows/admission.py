"""Admission control for the web process: shed load with 503 + Retry-After instead of 500s.

Django serves each request in a thread of its own that holds a pooled database connection until
the answer is sent. A burst of a thousand requests used to start a thousand threads fighting
over twenty connections: those that waited past the pool's timeout answered 500, and the rest
of the burst timed out. `AdmissionGate` wraps the HTTP application: at most `limit` requests are
inside Django at once (no more than the pool can serve), up to `queue` more wait for a turn for
at most `wait_s` seconds, and every other request is answered at once with 503, a
`Retry-After` header and the SPEC error body (code `overloaded`). A refused request never
reaches Django, so it created nothing; an admitted one runs to its end.
"""

from __future__ import annotations

import asyncio
import json

from workflows.errors import RETRY_AFTER_S, overloaded_body


class AdmissionGate:
    """An ASGI wrapper admitting at most `limit` HTTP requests at once (websockets pass)."""

    def __init__(self, app, *, limit: int, queue: int, wait_s: float) -> None:
        self.app = app
        self.limit = max(1, limit)
        self.queue = max(0, queue)
        self.wait_s = wait_s
        self.waiting = 0
        self._slots: asyncio.Semaphore | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if not await self.admit():
            await self.turn_away(send)
            return
        try:
            await self.app(scope, receive, send)
        finally:
            self.slots.release()

    @property
    def slots(self) -> asyncio.Semaphore:
        """The slots of the running event loop (a server has one; tests start several)."""
        loop = asyncio.get_running_loop()
        if self._slots is None or self._loop is not loop:
            self._slots, self._loop = asyncio.Semaphore(self.limit), loop
        return self._slots

    async def admit(self) -> bool:
        """Take a slot now, or wait in the queue for one if the queue has room and a slot
        frees up within `wait_s`."""
        if not self.slots.locked():
            await self.slots.acquire()
            return True
        if self.waiting >= self.queue:
            return False
        self.waiting += 1
        try:
            async with asyncio.timeout(self.wait_s):
                await self.slots.acquire()
            return True
        except TimeoutError:
            return False
        finally:
            self.waiting -= 1

    async def turn_away(self, send) -> None:
        message = (
            f"the server is busy ({self.limit} requests in progress, {self.waiting} waiting); "
            f"nothing was done: try again in {RETRY_AFTER_S} s"
        )
        body = json.dumps(overloaded_body(message)).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 503,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                    (b"retry-after", str(RETRY_AFTER_S).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})
