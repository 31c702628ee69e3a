"""`make apicheck`: serve the app on a throw-away PostgreSQL database and run schemathesis over
every operation of /api/schema/ with all checks (stateful links included), so the OpenAPI
description and the API cannot drift apart. Runs that wait at an approval and a failed run are
seeded first (schemathesis.toml names them `"${APICHECK_…}"`; their ids are written in as integers,
the path parameters' type, into the copy schemathesis reads), so the node-level control
operations reach more than a 404.

    python scripts/apicheck.py [--max-examples N] [--seed S] [-- extra schemathesis options]

DATABASE_URL names the PostgreSQL server (its database is left alone: a fresh one is created
beside it and dropped afterwards); REDIS_URL, when set, gets a channel prefix of its own.
Exits with schemathesis' exit status (0: no failure).
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import dj_database_url
import psycopg

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_SERVER = "postgres://postgres@127.0.0.1:5432/switchyard"


def main(argv: list[str] | None = None) -> int:
    args, extra = parse(argv)
    server = os.environ.get("DATABASE_URL") or DEFAULT_SERVER
    name = f"switchyard_apicheck_{os.getpid()}"
    create_database(server, name)
    try:
        env = app_env(server, name)
        manage(env, "migrate", "--noinput")
        seeded = json.loads(
            python(env, ROOT / "scripts" / "apicheck_seed.py").strip().splitlines()[-1]
        )
        token = seeded.pop("token")
        port = free_port()
        server_proc = serve(env, port)
        try:
            return schemathesis(port, token, args, extra, config_with(seeded, name))
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


def python(env: dict[str, str], script: Path) -> str:
    done = subprocess.run(
        [sys.executable, str(script)], cwd=ROOT, env=env, check=True, capture_output=True, text=True
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


def config_with(seeded: dict[str, int | str], name: str) -> Path:
    """schemathesis.toml with each `"${NAME}"` replaced by what was seeded (a run's id as an
    integer, a webhook's token as a string)."""
    text = (ROOT / "schemathesis.toml").read_text()
    for key, value in seeded.items():
        literal = str(value) if isinstance(value, int) else json.dumps(value)
        text = text.replace(f'"${{{key}}}"', literal)
    path = Path(tempfile.gettempdir()) / f"{name}.toml"
    path.write_text(text)
    return path


def schemathesis(
    port: int, token: str, args: argparse.Namespace, extra: list[str], config: Path
) -> int:
    command = [
        str(Path(sys.executable).with_name("schemathesis")),
        "--config-file",
        str(config),
        "run",
        f"http://127.0.0.1:{port}/api/schema/",
        "--checks",
        "all",
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
