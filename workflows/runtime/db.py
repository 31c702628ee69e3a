"""Database access for the runtime: its own threads for blocking ORM work, the connection
settings for its own asyncio connection, and conversions between engine timestamps and rows."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

from asgiref.sync import sync_to_async
from django.db import DatabaseError, InterfaceError, connection

from workflows import conf

_db_executor: ThreadPoolExecutor | None = None


def db_executor() -> ThreadPoolExecutor:
    """Threads for the worker's database work, apart from the threads serving requests."""
    global _db_executor
    if _db_executor is None:
        threads = conf.value("DB_THREADS")
        if connection.vendor == "sqlite":
            threads = 1  # SQLite has one writer at a time anyway
        _db_executor = ThreadPoolExecutor(
            max_workers=threads,
            thread_name_prefix="switchyard-db",
        )
    return _db_executor


async def db(func: Callable, *args, **kwargs) -> Any:
    """Run blocking ORM code off the event loop, on the worker's database threads."""
    return await sync_to_async(
        _with_connection(func), thread_sensitive=False, executor=db_executor()
    )(*args, **kwargs)


def _with_connection(func: Callable) -> Callable:
    """Keep the thread's connection between calls (a worker writes often), but never reuse
    one that broke: after a database error it is closed, and the next call reconnects."""

    def call(*args, **kwargs):
        try:
            return func(*args, **kwargs)
        except (DatabaseError, InterfaceError):
            connection.close()
            raise

    return call


def synchronous_commit() -> str:
    """`synchronous_commit` of the runtime's own writes on PostgreSQL: event batches, claims and
    a run's end commit without waiting for the WAL flush (persistence.py says why), unless
    SWITCHYARD_SYNCHRONOUS_EVENT_COMMIT. A run's creation always waits: its 201 is a promise."""
    return "on" if conf.value("SYNCHRONOUS_EVENT_COMMIT") else "off"


# The first CTE of a runtime statement that commits as `synchronous_commit()` says (its
# `%(sync)s` parameter); the statement must read `cfg` for PostgreSQL to evaluate it.
RELAXED_COMMIT_CTE = "cfg AS (SELECT set_config('synchronous_commit', %(sync)s, true) AS v)"


def conninfo() -> dict[str, Any]:
    db = connection.settings_dict
    info = {
        "dbname": db["NAME"],
        "user": db.get("USER") or None,
        "password": db.get("PASSWORD") or None,
        "host": db.get("HOST") or None,
        "port": db.get("PORT") or None,
    }
    options = db.get("OPTIONS", {})
    for key in ("sslmode", "sslrootcert", "sslcert", "sslkey", "application_name"):
        if key in options:
            info[key] = options[key]
    return {key: value for key, value in info.items() if value is not None}


# The latest instant a row holds: a wait of a run stored before documents had maxima (an
# approval's `timeout_s: 1e300`) wakes "never" instead of overflowing every drive of the run.
LATEST_TS = datetime(9999, 1, 1, tzinfo=UTC).timestamp()


def dt(ts: float | None) -> datetime | None:
    return None if ts is None else datetime.fromtimestamp(min(ts, LATEST_TS), UTC)


def ts(value: datetime | None) -> float | None:
    return None if value is None else value.timestamp()
