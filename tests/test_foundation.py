"""The project boots: ASGI serves pages, websockets cross the real channel layer, settings
come from the environment."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from channels.layers import get_channel_layer
from channels.testing import HttpCommunicator, WebsocketCommunicator
from django.conf import settings
from django.db import connection

from switchyard.asgi import application
from tests.conftest import ORIGIN

ROOT = Path(__file__).resolve().parent.parent
HOST = [(b"host", b"localhost")]


@pytest.mark.django_db(transaction=True)
async def test_asgi_serves_admin_login_page():
    response = await HttpCommunicator(
        application, "GET", "/admin/login/", headers=HOST
    ).get_response()
    assert response["status"] == 200
    assert b"Django administration" in response["body"] or b"Log in" in response["body"]


@pytest.mark.django_db(transaction=True)
async def test_asgi_root_sends_anonymous_visitor_to_login():
    response = await HttpCommunicator(application, "GET", "/", headers=HOST).get_response()
    assert response["status"] == 302
    location = dict(response["headers"])[b"Location"].decode()
    assert location.startswith("/accounts/login/")


@pytest.mark.django_db
def test_root_serves_the_app_to_a_logged_in_user(client, user):
    client.force_login(user)
    response = client.get("/")
    assert response.status_code == 200
    assert b"Switchyard" in response.content


@pytest.mark.django_db(transaction=True)
async def test_websocket_round_trip_through_channel_layer():
    communicator = WebsocketCommunicator(application, "/ws/health/", headers=[ORIGIN])
    connected, _ = await communicator.connect()
    assert connected
    await communicator.send_json_to({"type": "ping", "data": {"n": 7}})
    assert await communicator.receive_json_from(timeout=5) == {"type": "pong", "data": {"n": 7}}
    await communicator.send_to(text_data="{not json")
    reply = await communicator.receive_json_from(timeout=5)
    assert reply["type"] == "error"
    await communicator.send_json_to({"type": "ping", "data": 1})
    assert (await communicator.receive_json_from(timeout=5))["data"] == 1
    await communicator.disconnect()


@pytest.mark.django_db(transaction=True)
async def test_websocket_from_foreign_origin_is_refused():
    communicator = WebsocketCommunicator(
        application, "/ws/health/", headers=[(b"origin", b"http://evil.example")]
    )
    connected, _ = await communicator.connect()
    assert not connected


def test_channel_layer_follows_redis_url():
    layer = get_channel_layer()
    if os.environ.get("REDIS_URL"):
        assert type(layer).__name__ == "RedisChannelLayer"
    else:
        assert type(layer).__name__ == "InMemoryChannelLayer"


@pytest.mark.django_db
def test_database_follows_database_url():
    url = os.environ.get("DATABASE_URL", "")
    expected = "postgresql" if url.startswith(("postgres", "postgresql")) else "sqlite"
    assert connection.vendor == expected
    if expected == "postgresql":
        assert settings.DATABASES["default"]["OPTIONS"]["pool"]
        assert settings.DATABASES["default"]["CONN_MAX_AGE"] == 0


@pytest.mark.skipif(not os.environ.get("CI"), reason="CI runs the suite on the real services")
@pytest.mark.django_db
def test_ci_runs_on_postgresql_and_redis():
    assert connection.vendor == "postgresql"
    assert type(get_channel_layer()).__name__ == "RedisChannelLayer"
    assert type(get_channel_layer("live")).__name__ == "RedisPubSubChannelLayer"


def test_settings_defaults_without_environment():
    """With no DATABASE_URL/REDIS_URL the app starts anywhere: SQLite and in-memory layer."""
    code = (
        "import django, os; os.environ['DJANGO_SETTINGS_MODULE']='switchyard.settings';"
        "from django.conf import settings;"
        "print(settings.DATABASES['default']['ENGINE']);"
        "print(settings.CHANNEL_LAYERS['default']['BACKEND']);"
        "print(settings.INSTALLED_APPS[0])"
    )
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL"}}
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=True
    ).stdout.split()
    assert out == [
        "django.db.backends.sqlite3",
        "channels.layers.InMemoryChannelLayer",
        "daphne",
    ]
