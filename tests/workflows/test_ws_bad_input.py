"""A malformed websocket message gets an error message back and the socket stays open (SPEC §5),
however deep, large or strange it is (issue 13, defect 7)."""

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator

from switchyard.asgi import application
from tests.runtime.conftest import make_run, session_headers

pytestmark = pytest.mark.django_db(transaction=True)


async def connect(user, run_id: int, query: str = "after=0") -> WebsocketCommunicator:
    headers = await session_headers(user)
    communicator = WebsocketCommunicator(
        application, f"/ws/runs/{run_id}/?{query}", headers=headers
    )
    connected, _ = await communicator.connect(timeout=5)
    assert connected
    return communicator


@pytest.mark.parametrize(
    ("message", "code"),
    [
        ("[" * 2000 + "]" * 2000, "too_deep"),
        ('{"type": "ping", "data": ' + '{"a":' * 2000 + "1" + "}" * 2000 + "}", "too_deep"),
        ('{"type": "resync", "after": NaN}', "bad_number"),
        ('{"type": "ping\\u0000"}', "bad_text"),
        ('{"type": "\\ud800"}', "bad_text"),
        ('{"type": "resync", "after": ' + "9" * 5000 + "}", "bad_number"),
        ("not json", "malformed_json"),
    ],
)
async def test_a_malformed_message_is_answered_and_the_socket_stays_open(user, message, code):
    run = await sync_to_async(make_run)(user)
    communicator = await connect(user, run.pk)
    await communicator.send_to(text_data=message)
    answer = await communicator.receive_json_from(timeout=5)
    assert answer["type"] == "error" and answer["code"] == code, answer
    await communicator.send_json_to({"type": "ping"})
    assert (await communicator.receive_json_from(timeout=5))["type"] == "pong"
    await communicator.disconnect()


async def test_resync_beyond_any_seq_is_answered(user):
    run = await sync_to_async(make_run)(user)
    communicator = await connect(user, run.pk)
    await communicator.send_json_to({"type": "resync", "after": 2**40})
    answer = await communicator.receive_json_from(timeout=5)
    assert answer["type"] == "error" and "after" in answer["message"]
    await communicator.disconnect()


@pytest.mark.parametrize("query", ["after=%C2%B2", "after=%D9%A3", "after=99999999999999999999"])
async def test_after_must_be_ascii_digits_within_bounds(user, query):
    run = await sync_to_async(make_run)(user)
    headers = await session_headers(user)
    communicator = WebsocketCommunicator(
        application, f"/ws/runs/{run.pk}/?{query}", headers=headers
    )
    connected, code = await communicator.connect(timeout=5)
    assert not connected and code == 4400


async def test_a_nul_character_in_the_session_cookie_is_refused_without_an_error(user):
    run = await sync_to_async(make_run)(user)
    headers = [(b"origin", b"http://localhost"), (b"cookie", b'sessionid="abcdefgh\\000ij"')]
    communicator = WebsocketCommunicator(application, f"/ws/runs/{run.pk}/", headers=headers)
    connected, code = await communicator.connect(timeout=5)
    assert not connected and code in (4400, 4401)
