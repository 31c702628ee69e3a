"""The admission gate in front of Django: a few requests at once, a bounded queue with a bounded
wait, 503 + Retry-After in the SPEC error body for the rest (issue 13, defect 8)."""

import asyncio
import json

from workflows.admission import AdmissionGate


class SlowApp:
    """An HTTP app that answers 200 once `release` is set; counts who got in."""

    def __init__(self) -> None:
        self.release = asyncio.Event()
        self.inside = 0
        self.most_inside = 0

    async def __call__(self, scope, receive, send) -> None:
        self.inside += 1
        self.most_inside = max(self.most_inside, self.inside)
        try:
            await self.release.wait()
            await send({"type": "http.response.start", "status": 200, "headers": []})
            await send({"type": "http.response.body", "body": b"ok"})
        finally:
            self.inside -= 1


async def request(gate) -> dict:
    sent = []

    async def send(message) -> None:
        sent.append(message)

    await gate({"type": "http", "path": "/api/runs/"}, None, send)
    start = sent[0]
    return {
        "status": start["status"],
        "headers": dict(start["headers"]),
        "body": sent[1]["body"],
    }


async def test_requests_beyond_the_slots_and_the_queue_are_answered_503_at_once():
    app = SlowApp()
    gate = AdmissionGate(app, limit=2, queue=3, wait_s=5)
    tasks = [asyncio.create_task(request(gate)) for _ in range(10)]
    await asyncio.sleep(0.05)
    turned_away = [task for task in tasks if task.done()]
    assert len(turned_away) == 5  # 2 inside, 3 waiting
    answer = turned_away[0].result()
    assert answer["status"] == 503
    assert answer["headers"][b"retry-after"] == b"2"
    assert json.loads(answer["body"])["errors"][0]["code"] == "overloaded"
    app.release.set()
    answers = await asyncio.gather(*tasks)
    assert sorted(answer["status"] for answer in answers) == [200] * 5 + [503] * 5
    assert app.most_inside == 2


async def test_a_queued_request_that_waits_too_long_is_answered_503():
    app = SlowApp()
    gate = AdmissionGate(app, limit=1, queue=10, wait_s=0.1)
    first = asyncio.create_task(request(gate))
    await asyncio.sleep(0)
    second = await request(gate)
    assert second["status"] == 503
    app.release.set()
    assert (await first)["status"] == 200
    assert gate.waiting == 0
    assert (await request(gate))["status"] == 200  # the slot was given back


async def test_websockets_pass_the_gate():
    seen = []

    async def app(scope, receive, send) -> None:
        seen.append(scope["type"])

    gate = AdmissionGate(app, limit=1, queue=0, wait_s=0)
    await gate({"type": "websocket"}, None, None)
    assert seen == ["websocket"]
