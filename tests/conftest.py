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
def django_db_modify_db_settings(django_db_modify_db_settings_parallel_suffix, django_db_blocker):
    """A test database and a Redis channel prefix of this session's own, so suites running at
    the same time on one machine (two checkouts, CI beside a developer) never share rows or
    messages. Worker subprocesses inherit both through the environment."""
    from channels.layers import channel_layers
    from django.conf import settings
    from pytest_django.fixtures import _set_suffix_to_test_databases

    with django_db_blocker.unblock():
        _drop_test_databases_of_dead_sessions()
    _set_suffix_to_test_databases(suffix=str(os.getpid()))
    prefix = f"switchyard-test-{os.getpid()}"
    os.environ["SWITCHYARD_CHANNEL_PREFIX"] = prefix
    for layer in settings.CHANNEL_LAYERS.values():
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
            if connection.vendor == "postgresql":
                # Worker subprocesses killed by tests may leave sessions behind.
                with connection.cursor() as cursor:
                    cursor.execute(
                        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                        "WHERE datname = current_database() AND pid <> pg_backend_pid()"
                    )
                connection.close()


def _drop_test_databases_of_dead_sessions() -> None:
    """A session killed before its teardown leaves `test_<name>_<pid>` behind: drop those
    whose process is gone (PostgreSQL only; best effort)."""
    import re

    from django.db import connection

    if connection.vendor != "postgresql":
        return
    pattern = re.compile(rf"^test_{re.escape(connection.settings_dict['NAME'])}_(\d+)$")
    with connection._nodb_cursor() as cursor:
        cursor.execute("SELECT datname FROM pg_database")
        for (name,) in cursor.fetchall():
            match = pattern.match(name)
            if match and not _alive(int(match.group(1))):
                cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
