"""A live Switchyard (`manage.py serve`: Daphne + an in-process worker) on the test database,
and Debian's Chromium driven by Playwright."""

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

ROOT = Path(settings.BASE_DIR)
# USD per million tokens: the server prices "priced-model" only, so other tests' runs (of
# "test-model") show no cost
PRICES = {"priced-model": {"prompt": 2.5, "completion": 10}}
ARTIFACTS = ROOT / "tests" / "artifacts"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
PASSWORD = "pw-canvas-123"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_database_url() -> str:
    db = connection.settings_dict
    if db["ENGINE"] != "django.db.backends.postgresql":
        pytest.skip("browser tests share the test database with a server process: PostgreSQL")
    user = db.get("USER") or "postgres"
    auth = f"{user}:{db['PASSWORD']}" if db.get("PASSWORD") else user
    host = f"{db.get('HOST') or '127.0.0.1'}:{db.get('PORT') or 5432}"
    return f"postgres://{auth}@{host}/{db['NAME']}"


def ensure_build() -> None:
    """`make test` builds the canvas; a targeted run builds it when it is missing."""
    if (ROOT / "static" / "index.html").exists():
        return
    frontend = ROOT / "frontend"
    if not (frontend / "node_modules").exists():
        subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=frontend, check=True)
    subprocess.run(["npm", "run", "build"], cwd=frontend, check=True)


def wait_until_up(url: str, process: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + 40
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server exited early:\n{log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(f"{url}/accounts/login/", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise RuntimeError(f"the server did not answer within 40 s:\n{log.read_text()[-3000:]}")


@pytest.fixture(scope="package")
def server_url(django_db_setup, django_db_blocker):
    """The server (and its worker) lives only while these tests run, and talks to no Redis:
    its in-process channel layer carries the runs it starts, so it never picks up runs that
    other test packages queue in the shared test database or channel layer."""
    if not Path(CHROMIUM).exists():
        pytest.skip("Debian's chromium is not installed (make chromium)")
    ensure_build()
    with django_db_blocker.unblock():
        database_url = test_database_url()
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    log = ARTIFACTS / "server.log"
    env = {**os.environ, "DATABASE_URL": database_url, "REDIS_URL": "", "DEBUG": "1"}
    env["SWITCHYARD_HTTP_ALLOW_PRIVATE"] = "1"  # llm nodes talk to the local model server
    env["SWITCHYARD_LLM_PRICES"] = json.dumps(PRICES)  # the cost column (test_llm_cost)
    with log.open("w") as out:
        process = subprocess.Popen(
            [sys.executable, "manage.py", "serve", "--port", str(port)],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        wait_until_up(url, process, log)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()


@pytest.fixture(scope="package")
def browser():
    """Package-scoped: Playwright's event loop must be gone before other packages' tests,
    which start their own loops (asyncio.run refuses to nest in a running one)."""
    from playwright.sync_api import sync_playwright

    # Playwright's sync API keeps an event loop on this thread; the tests' ORM calls are
    # still plain synchronous code, so Django's async-context guard does not apply to them.
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as playwright:
            chromium = playwright.chromium.launch(
                executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
            )
            yield chromium
            chromium.close()
    finally:
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture(autouse=True)
def flush_outwaits_the_server(request):
    """Between tests, Django empties the shared database (TRUNCATE of every table) while the
    server's worker may still read it; a worker query holding one table and waiting for
    another then deadlocks with the TRUNCATE. PostgreSQL aborts the backend whose
    deadlock_timeout runs out first: with 10 s here (1 s by default in the server), that is
    the worker's query, which its worker retries, not the test's teardown."""
    if request.node.get_closest_marker("django_db") is None:
        yield
        return
    request.getfixturevalue("transactional_db")
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SET deadlock_timeout = '10s'")
    yield


@pytest.fixture
def canvas_user(transactional_db, django_user_model):
    return django_user_model.objects.create_user(username="carol", password=PASSWORD)


@contextmanager
def browser_page(browser, server_url, who: str = "the page"):
    """A page in a browser context of its own (its own cookies: its own login); a script
    error on it fails the test."""
    context = browser.new_context(viewport={"width": 1440, "height": 900}, base_url=server_url)
    context.set_default_timeout(15_000)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    yield page
    context.close()
    assert not errors, f"{who} raised: {errors}"


@pytest.fixture
def page(browser, server_url):
    with browser_page(browser, server_url) as page:
        yield page
