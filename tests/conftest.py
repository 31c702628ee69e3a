"""Shared fixtures. The suite runs against the real PostgreSQL and Redis under `make test`."""

import os

import pytest

ORIGIN = (b"origin", b"http://localhost")


@pytest.fixture
def user(django_user_model):
    return django_user_model.objects.create_user(username="alice", password="pw-alice-123")


@pytest.fixture
def other_user(django_user_model):
    return django_user_model.objects.create_user(username="bob", password="pw-bob-123")


@pytest.fixture(scope="session")
def django_db_modify_db_settings(django_db_modify_db_settings_parallel_suffix):
    """A test database and a Redis channel prefix of this session's own, so suites running at
    the same time on one machine (two checkouts, CI beside a developer) never share rows or
    messages. Worker subprocesses inherit both through the environment."""
    from channels.layers import channel_layers
    from django.conf import settings
    from pytest_django.fixtures import _set_suffix_to_test_databases

    _set_suffix_to_test_databases(suffix=str(os.getpid()))
    prefix = f"switchyard-test-{os.getpid()}"
    os.environ["SWITCHYARD_CHANNEL_PREFIX"] = prefix
    layer = settings.CHANNEL_LAYERS["default"]
    if "CONFIG" in layer:
        layer["CONFIG"]["prefix"] = prefix
    channel_layers.backends.clear()


@pytest.fixture(scope="session", autouse=True)
def close_connection_pools(django_db_setup, django_db_blocker):
    """Runtime threads hand their connections back to the pool, which keeps them open: close
    the pools before the test database is dropped."""
    yield
    from django.db import connections

    with django_db_blocker.unblock():
        for connection in connections.all():
            if getattr(connection, "pool", None) is not None:
                connection.close_pool()
