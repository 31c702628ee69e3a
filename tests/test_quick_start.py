"""The README's quick start: `make run` is one process that migrates, adds the demo and serves,
ending with what to open and how to log in; a second `make run` builds nothing again."""

import os
import re
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.runtime.workers import free_port

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_serve_demo_migrates_seeds_and_says_how_to_log_in_on_a_fresh_sqlite_file(tmp_path):
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'quick.sqlite3'}",  # the quick start's default
        "REDIS_URL": "",  # the in-process channel layer
        "PYTHONUNBUFFERED": "1",
    }
    out = tmp_path / "serve.log"
    with out.open("w") as log:
        proc = subprocess.Popen(
            [sys.executable, "manage.py", "serve", "--demo", "--port", str(port)],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            wait_port(port, proc, out)
            base = f"http://127.0.0.1:{port}"
            assert httpx.get(f"{base}/", timeout=10).status_code in (200, 302)
            login = {"username": "demo", "password": "switchyard"}
            token = httpx.post(f"{base}/api/auth/token/", json=login, timeout=10).json()["token"]
            listed = httpx.get(
                f"{base}/api/workflows/", headers={"Authorization": f"Token {token}"}, timeout=10
            ).json()
            names = [w["name"] for w in listed["results"]] if "results" in listed else listed
            assert len(names) >= 6
        finally:
            proc.kill()
            proc.wait(10)
    printed = out.read_text()
    assert f"Switchyard listening on http://127.0.0.1:{port}/" in printed
    assert re.search(rf"Open http://127\.0\.0\.1:{port}/ and log in as 'demo'", printed)


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
def test_a_second_make_run_neither_installs_nor_builds_the_canvas_again():
    if subprocess.run(["make", "-q", "frontend"], cwd=ROOT).returncode != 0:
        subprocess.run(["make", "frontend"], cwd=ROOT, check=True, capture_output=True)
    assert subprocess.run(["make", "-q", "frontend"], cwd=ROOT).returncode == 0
    planned = subprocess.run(
        ["make", "-n", "run"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout
    assert "npm" not in planned
    assert "manage.py serve --demo" in planned


def wait_port(port: int, proc: subprocess.Popen, log: Path, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(log.read_text())
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.1)
    raise AssertionError(log.read_text())
