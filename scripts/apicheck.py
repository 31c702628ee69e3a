"""`make apicheck`: serve the app on a throw-away PostgreSQL database and run schemathesis over
every operation of /api/schema/ with all checks (stateful links included), so the OpenAPI
description and the API cannot drift apart.

    python scripts/apicheck.py [--max-examples N] [--seed S] [-- extra schemathesis options]

DATABASE_URL names the PostgreSQL server (its database is left alone: a fresh one is created
beside it and dropped afterwards); REDIS_URL, when set, gets a channel prefix of its own.
Exits with schemathesis' exit status (0: no failure).
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import dj_database_url
import psycopg

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_SERVER = "postgres://postgres@127.0.0.1:5432/switchyard"
SETUP = """
import django; django.setup()
from django.contrib.auth import get_user_model
from rest_framework.authtoken.models import Token
from workflows import services
user = get_user_model().objects.create_user(username="apicheck", password="apicheck-pw-1")
services.workflow_create(owner=user, source={"name": "apicheck", "nodes": [], "edges": []})
print(Token.objects.create(user=user).key)
"""


def main(argv: list[str] | None = None) -> int:
    args, extra = parse(argv)
    server = os.environ.get("DATABASE_URL") or DEFAULT_SERVER
    name = f"switchyard_apicheck_{os.getpid()}"
    create_database(server, name)
    try:
        env = app_env(server, name)
        manage(env, "migrate", "--noinput")
        token = python(env, SETUP).strip().splitlines()[-1]
        port = free_port()
        server_proc = serve(env, port)
        try:
            return schemathesis(port, token, args, extra)
        finally:
            server_proc.kill()
            server_proc.wait(10)
    finally:
        drop_database(server, name)


def parse(argv: list[str] | None) -> tuple[argparse.Namespace, list[str]]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max-examples", type=int, default=None, help="schemathesis' default")
    parser.add_argument("--seed", type=int, default=None)
    argv = sys.argv[1:] if argv is None else argv
    if "--" in argv:
        split = argv.index("--")
        return parser.parse_args(argv[:split]), argv[split + 1 :]
    return parser.parse_args(argv), []


def server_dsn(url: str, dbname: str) -> str:
    config = dj_database_url.parse(url)
    parts = {
        "host": config.get("HOST") or "127.0.0.1",
        "port": config.get("PORT") or 5432,
        "user": config.get("USER") or "postgres",
        "dbname": dbname,
    }
    if config.get("PASSWORD"):
        parts["password"] = config["PASSWORD"]
    return " ".join(f"{key}={value}" for key, value in parts.items())


def create_database(server: str, name: str) -> None:
    with psycopg.connect(server_dsn(server, "postgres"), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')


def drop_database(server: str, name: str) -> None:
    with psycopg.connect(server_dsn(server, "postgres"), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def app_env(server: str, name: str) -> dict[str, str]:
    config = dj_database_url.parse(server)
    password = f":{config['PASSWORD']}" if config.get("PASSWORD") else ""
    user = config.get("USER") or "postgres"
    host = config.get("HOST") or "127.0.0.1"
    port = config.get("PORT") or 5432
    env = dict(os.environ)
    env.update(
        DATABASE_URL=f"postgres://{user}{password}@{host}:{port}/{name}",
        SWITCHYARD_CHANNEL_PREFIX=f"switchyard-apicheck-{os.getpid()}",
        PYTHONUNBUFFERED="1",
        DJANGO_SETTINGS_MODULE="switchyard.settings",
    )
    return env


def manage(env: dict[str, str], *command: str) -> None:
    subprocess.run(
        [sys.executable, "manage.py", *command], cwd=ROOT, env=env, check=True, capture_output=True
    )


def python(env: dict[str, str], code: str) -> str:
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, check=True, capture_output=True, text=True
    )
    return done.stdout


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def serve(env: dict[str, str], port: int) -> subprocess.Popen:
    proc = subprocess.Popen(
        [sys.executable, "manage.py", "serve", "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return proc
        except OSError:
            time.sleep(0.1)
    proc.kill()
    raise RuntimeError("manage.py serve did not start listening within 60 s")


def schemathesis(port: int, token: str, args: argparse.Namespace, extra: list[str]) -> int:
    command = [
        str(Path(sys.executable).with_name("schemathesis")),
        "--config-file",
        str(ROOT / "schemathesis.toml"),
        "run",
        f"http://127.0.0.1:{port}/api/schema/",
        "--header",
        f"Authorization: Token {token}",
        "--workers",
        "1",
        "--no-color",
    ]
    if args.max_examples is not None:
        command += ["--max-examples", str(args.max_examples)]
    if args.seed is not None:
        command += ["--seed", str(args.seed)]
    return subprocess.run([*command, *extra], cwd=ROOT).returncode


if __name__ == "__main__":
    sys.exit(main())
