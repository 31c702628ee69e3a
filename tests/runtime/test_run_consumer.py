"""The run websocket replays persisted events after `seq`, then streams live ones: no gap, no
duplicate at the seam, owner only, malformed messages answered without closing."""

import pytest
from asgiref.sync import sync_to_async
from channels.layers import get_channel_layer
from channels.testing import WebsocketCommunicator
from django.utils import timezone

from switchyard.asgi import application
from tests.runtime.conftest import ORIGIN, make_run, session_headers
from workflows import live
from workflows.models import RunEvent

pytestmark = pytest.mark.django_db(transaction=True)


def event(run_id: int, seq: int, node: str = "a") -> dict:
    return {"seq": seq, "type": "node.status", "run": run_id, "node": node, "status": "running"}


@sync_to_async
def persist(run_id: int, seqs) -> None:
    RunEvent.objects.bulk_create(
        RunEvent(
            run_id=run_id,
            seq=seq,
            type="node.status",
            payload={"node": "a", "status": "running"},
            at=timezone.now(),
        )
        for seq in seqs
    )


async def publish(run_id: int, seq: int) -> None:
    await get_channel_layer(live.LAYER).group_send(
        live.run_group(run_id), {"type": "run.events", "events": [event(run_id, seq)]}
    )


async def receive_seqs(communicator, count: int) -> list[int]:
    return [(await communicator.receive_json_from(timeout=5))["seq"] for _ in range(count)]


async def connect(user, run_id: int, after: int = 0) -> WebsocketCommunicator:
    headers = await session_headers(user)
    communicator = WebsocketCommunicator(
        application, f"/ws/runs/{run_id}/?after={after}", headers=headers
    )
    connected, _ = await communicator.connect(timeout=5)
    assert connected
    return communicator


async def test_replays_events_after_seq_then_streams_live(user):
    run = await sync_to_async(make_run)(user)
    await persist(run.pk, [1, 2, 3])
    communicator = await connect(user, run.pk, after=1)
    assert await receive_seqs(communicator, 2) == [2, 3]
    await persist(run.pk, [4])
    await publish(run.pk, 4)
    assert await receive_seqs(communicator, 1) == [4]
    assert await communicator.receive_nothing(timeout=0.2)
    await communicator.disconnect()


async def test_events_produced_during_replay_arrive_once_in_order(user, monkeypatch):
    run = await sync_to_async(make_run)(user)
    await persist(run.pk, [1, 2, 3])
    original = live.events_after
    raced = []

    def events_after_with_concurrent_writer(run_id, after, limit):
        rows = original(run_id, after, limit)
        if not raced:  # the runtime commits and publishes 4..6 while the replay is read
            raced.append(True)
            RunEvent.objects.bulk_create(
                RunEvent(run_id=run_id, seq=s, type="node.status", payload={}, at=timezone.now())
                for s in (4, 5, 6)
            )
        return rows

    monkeypatch.setattr(live, "events_after", events_after_with_concurrent_writer)
    headers = await session_headers(user)
    communicator = WebsocketCommunicator(application, f"/ws/runs/{run.pk}/", headers=headers)
    connected, _ = await communicator.connect(timeout=5)
    assert connected
    for seq in (4, 5, 6):
        await publish(run.pk, seq)
    assert await receive_seqs(communicator, 6) == [1, 2, 3, 4, 5, 6]
    assert await communicator.receive_nothing(timeout=0.3)
    await communicator.disconnect()


async def test_a_dropped_live_message_is_filled_from_the_database(user):
    run = await sync_to_async(make_run)(user)
    communicator = await connect(user, run.pk)
    await persist(run.pk, [1, 2, 3])
    await publish(run.pk, 1)
    await publish(run.pk, 3)  # 2 was lost by the channel layer
    await publish(run.pk, 2)  # ...or arrives late: a duplicate by then
    assert await receive_seqs(communicator, 3) == [1, 2, 3]
    assert await communicator.receive_nothing(timeout=0.3)
    await communicator.disconnect()


async def test_malformed_message_gets_an_error_and_the_socket_stays_open(user):
    run = await sync_to_async(make_run)(user)
    await persist(run.pk, [1])
    communicator = await connect(user, run.pk, after=1)
    await communicator.send_to(text_data="{oops")
    assert (await communicator.receive_json_from(timeout=5))["type"] == "error"
    await communicator.send_json_to(["not", "an", "object"])
    assert (await communicator.receive_json_from(timeout=5))["type"] == "error"
    await communicator.send_json_to({"type": "resync", "after": -3})
    assert "after" in (await communicator.receive_json_from(timeout=5))["message"]
    await communicator.send_json_to({"type": "ping"})
    assert await communicator.receive_json_from(timeout=5) == {"type": "pong", "seq": 1}
    await communicator.send_json_to({"type": "resync", "after": 0})
    assert await receive_seqs(communicator, 1) == [1]
    await communicator.disconnect()


async def test_another_users_run_is_refused(user, other_user):
    run = await sync_to_async(make_run)(other_user)
    headers = await session_headers(user)
    communicator = WebsocketCommunicator(application, f"/ws/runs/{run.pk}/", headers=headers)
    connected, code = await communicator.connect(timeout=5)
    assert not connected
    assert code == 4404


async def test_a_run_of_a_workflow_shared_with_you_can_be_followed(user, other_user):
    run = await sync_to_async(make_run)(other_user)
    await sync_to_async(run.workflow.shared_with.add)(user)
    await persist(run.pk, [1, 2])
    communicator = await connect(user, run.pk)
    assert await receive_seqs(communicator, 2) == [1, 2]
    await communicator.disconnect()


async def test_anonymous_client_is_refused(user):
    run = await sync_to_async(make_run)(user)
    communicator = WebsocketCommunicator(application, f"/ws/runs/{run.pk}/", headers=[ORIGIN])
    connected, code = await communicator.connect(timeout=5)
    assert not connected
    assert code == 4401


async def test_foreign_origin_is_refused(user):
    run = await sync_to_async(make_run)(user)
    headers = [(b"origin", b"http://evil.example"), *(await session_headers(user))[1:]]
    communicator = WebsocketCommunicator(application, f"/ws/runs/{run.pk}/", headers=headers)
    connected, _ = await communicator.connect(timeout=5)
    assert not connected
