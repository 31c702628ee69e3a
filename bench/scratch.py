"""Scratch PostgreSQL databases for benchmarks, next to the one DATABASE_URL names.

`scratch_database(name)` gives a Django process a fresh migrated database for the length of a
`with` block and drops it after (the admin and diff benches); `scratch_database_url` and
`ensure_database` name and create one that server processes started by the bench share (the
runtime, triggers and soak benches)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import urlparse, urlunparse


def scratch_database_url(name: str) -> str | None:
    """DATABASE_URL with its database replaced by `name`; None unless it is PostgreSQL."""
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgres"):
        return None
    return urlunparse(urlparse(url)._replace(path=f"/{name}"))


def admin_url(url: str) -> str:
    """The same server's `postgres` database, from which databases are created and dropped."""
    return urlunparse(urlparse(url)._replace(path="/postgres"))


def ensure_database(url: str) -> None:
    """Create the database `url` names unless it exists."""
    import psycopg

    name = urlparse(url).path.lstrip("/")
    with psycopg.connect(admin_url(url), autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{name}"')


def recreate_database(url: str, name: str, *, drop_only: bool = False) -> None:
    """Drop the database `name` on `url`'s server (its sessions too) and create it again."""
    import psycopg

    with psycopg.connect(admin_url(url), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        if not drop_only:
            conn.execute(f'CREATE DATABASE "{name}"')


def use_database(name: str) -> str:
    """Point Django's default connection at `name`; the name it used before."""
    from django.conf import settings
    from django.db import connection

    connection.close()
    connection.close_pool()
    old = connection.settings_dict["NAME"]
    settings.DATABASES["default"]["NAME"] = name
    connection.settings_dict["NAME"] = name
    return old


@contextmanager
def scratch_database(url: str, name: str) -> Iterator[None]:
    """A fresh database `name`, migrated, as Django's default for the block (in Django's test
    environment: fast password hashing, no e-mail); dropped afterwards."""
    from django.conf import settings
    from django.core.management import call_command
    from django.test.utils import setup_test_environment, teardown_test_environment

    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    recreate_database(url, name)
    old_name = use_database(name)
    setup_test_environment()
    try:
        call_command("migrate", verbosity=0)
        yield
    finally:
        teardown_test_environment()
        use_database(old_name)
        recreate_database(url, name, drop_only=True)
