"""A 2,000-token stream reaches a websocket client through a worker whole and in order.
`python -m bench llm` runs this with its figures printed (the provider's time, the client's,
the overhead and the number of `node.stream` events; targets +5 %, 200 events): timings are
the benchmark's to report, not a test's to assert."""

from __future__ import annotations

import time

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator

from switchyard.asgi import application
from tests.llm_server import LLMServer, Reply
from tests.runtime.conftest import session_headers
from tests.runtime.test_llm_runs import KEY, asking, store_secret
from tests.runtime.test_worker import workers  # noqa: F401 (fixture)
from workflows import services

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow, pytest.mark.timeout(120)]

TOKENS = [f" tok{i}" for i in range(2000)]


async def test_a_2000_token_stream_reaches_a_websocket_whole_and_in_order(
    user,
    settings,
    workers,  # noqa: F811
):
    settings.SWITCHYARD_SECRETS_KEY = [KEY]
    with LLMServer() as server:
        server.reply(Reply(chunks=TOKENS, delay_s=0.002, usage=(10, 2000)))
        await sync_to_async(workers)(SWITCHYARD_HTTP_ALLOW_PRIVATE="1", SWITCHYARD_SECRETS_KEY=KEY)
        await sync_to_async(store_secret)(user, "llm_key", "sk-bench-key")
        source = asking(server)
        workflow = await sync_to_async(services.workflow_create)(owner=user, source=source)
        run = await sync_to_async(services.run_create)(user=user, workflow_id=workflow.pk)
        socket = WebsocketCommunicator(
            application, f"/ws/runs/{run.pk}/", headers=await session_headers(user)
        )
        assert (await socket.connect(timeout=5))[0]
        text, pieces, done_at = "", 0, None
        while done_at is None:
            event = await socket.receive_json_from(timeout=30)
            if event["type"] == "node.stream":
                text, pieces = text + event["text"], pieces + 1
            elif (event["type"], event["node"], event["status"]) == (
                "node.status",
                "ask",
                "succeeded",
            ):
                done_at = time.monotonic()
        await socket.disconnect()
    request = server.requests[0]
    provider_s = request["answered_at"] - request["received_at"]
    seen_s = done_at - request["received_at"]
    overhead = seen_s / provider_s - 1
    print(
        f"BENCH provider {provider_s:.3f} s, websocket {seen_s:.3f} s, +{overhead:.1%}, "
        f"{pieces} events"
    )
    assert text == "".join(TOKENS)
    assert 0 < pieces < len(TOKENS)  # coalesced, not one event per token
