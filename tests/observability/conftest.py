"""Hand-built runs with known timings, clients logged in as their owner, and a local HTTP
server that records the requests http nodes make."""

import threading
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
from django.db import connections
from rest_framework.test import APIClient

from tests.factories import workflow_for
from workflows import selectors
from workflows.models import NodeRun, RunEvent, WorkflowRun

T0 = datetime(2026, 11, 22, 10, 0, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def api(user) -> APIClient:
    client = APIClient()
    client.force_login(user)
    return client


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


# a -> b -> d and a -> c -> d, plus a condition `gate` whose `false` branch `never` was skipped.
DIAMOND = {
    "version": 1,
    "name": "diamond",
    "nodes": [
        {"id": "a", "type": "transform", "name": "Load", "config": {"output": 1}},
        {"id": "b", "type": "transform", "config": {"output": 2}},
        {"id": "c", "type": "transform", "config": {"output": 3}},
        {"id": "d", "type": "merge", "config": {"mode": "object"}},
        {"id": "gate", "type": "condition", "config": {"expression": "True"}},
        {"id": "never", "type": "transform", "config": {"output": 0}},
    ],
    "edges": [
        {"id": "e1", "source": "a", "target": "b"},
        {"id": "e2", "source": "a", "target": "c"},
        {"id": "e3", "source": "b", "target": "d"},
        {"id": "e4", "source": "c", "target": "d"},
        {"id": "e5", "source": "d", "target": "gate"},
        {"id": "e6", "source": "gate", "source_handle": "false", "target": "never"},
    ],
}


def build_diamond_run(owner) -> WorkflowRun:
    """a 0-2 s, b 2-5 s, c 2-3 s, d 5-6 s, gate 6-6.5 s (true), never skipped.

    busy = 2 + 3 + 1 + 1 + 0.5 = 7.5 s, wall = 6.5 s, at most 2 at once:
    efficiency = 7.5 / (6.5 * 2) = 0.5769; critical path a → b → d → gate (6.5 s)."""
    workflow = workflow_for(owner, DIAMOND)
    document = selectors.workflow_document(workflow=workflow)
    run = WorkflowRun.objects.create(
        workflow=workflow,
        document=document,
        revision=workflow.revision,
        status="succeeded",
        started_at=at(0),
        finished_at=at(6.5),
        created_by=owner,
    )
    rows = [
        ("a", 0, 2, ["out"], {"n": 1}),
        ("b", 2, 5, ["out"], 2),
        ("c", 2, 3, ["out"], 3),
        ("d", 5, 6, ["out"], {"b": 2, "c": 3}),
        ("gate", 6, 6.5, ["true"], {"b": 2, "c": 3}),
    ]
    for node_id, start, end, handles, output in rows:
        NodeRun.objects.create(
            run=run,
            node_id=node_id,
            status="succeeded",
            started_at=at(start),
            finished_at=at(end),
            duration_ms=int((end - start) * 1000),
            handles=handles,
            output=output,
        )
    NodeRun.objects.create(
        run=run, node_id="never", attempt=0, status="skipped", reason="branch gate.false not taken"
    )
    for seq, (node, status) in enumerate([("a", "running"), ("a", "succeeded")], start=1):
        RunEvent.objects.create(
            run=run,
            seq=seq,
            type="node.status",
            at=at(seq),
            payload={"node": node, "status": status},
        )
    return run


@pytest.fixture
def diamond_run(user) -> WorkflowRun:
    return build_diamond_run(user)


@pytest.fixture(autouse=True, scope="module")
def close_runtime_connections():
    """Runs executed in-process leave a connection open on each runtime database thread; close
    them so the test database can be dropped at the end."""
    yield
    from workflows.runtime import db

    executor = db._db_executor
    if executor is None:
        return
    size = executor._max_workers
    barrier = threading.Barrier(size)

    def close() -> None:
        barrier.wait(timeout=5)  # one task per thread: each closes its own connection
        connections.close_all()

    for future in [executor.submit(close) for _ in range(size)]:
        future.result(timeout=10)


class Recorder(BaseHTTPRequestHandler):
    """Answers every GET with `{"ok": true}` and records its path: the handler calls a run
    made (or did not)."""

    hits: list[str] = []

    def do_GET(self) -> None:
        Recorder.hits.append(self.path)
        body = b'{"ok": true}'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def server(settings):
    settings.SWITCHYARD_HTTP_ALLOW_PRIVATE = True  # so only the run itself can keep a request away
    Recorder.hits = []
    httpd = HTTPServer(("127.0.0.1", 0), Recorder)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield httpd
    httpd.shutdown()
    httpd.server_close()
