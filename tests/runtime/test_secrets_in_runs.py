"""Secrets in real runs (issue 13, defect 9): an http node's header sends the secret to the
server, and nothing a reader of the run can see holds it — not the run's rows in PostgreSQL
(node inputs, outputs, errors, events, the run report) nor the API a user the workflow is
shared with reads. A workflow that reads a secret anywhere else does not run, and a stored
run that skipped validation fails that node without showing the secret."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.forms.models import model_to_dict

from tests.runtime.conftest import logged_in, make_run
from tests.runtime.test_subworkflows import ended
from tests.runtime.test_worker import workers  # noqa: F401 (fixture)
from workflows import dispatch, services
from workflows.errors import NotRunnable
from workflows.models import NodeRun, RunEvent, WorkflowRun

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow, pytest.mark.timeout(120)]

SECRET = "tok-9f8e7d6c5b"


def traces(secret: str = SECRET) -> list[str]:
    """The secret as is and as the masking of exact values used to miss it."""
    return [secret, secret.upper(), secret[::-1], json.dumps(list(secret))[1:-1]]


class EchoServer:
    """A local HTTP server that records the Authorization header and echoes it back."""

    def __init__(self) -> None:
        received = self.received = []

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                auth = self.headers.get("Authorization", "")
                received.append(auth)
                body = json.dumps({"you_sent": auth, "ok": True}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/me"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def echo():
    server = EchoServer()
    yield server
    server.close()


def calling(url: str) -> dict:
    return {
        "version": 1,
        "name": "calls an API",
        "nodes": [
            {
                "id": "call",
                "type": "http",
                "config": {"url": url, "headers": {"Authorization": "Bearer {{ secrets.api }}"}},
            },
            {"id": "out", "type": "output", "config": {"value": "{{ call.body }}"}},
        ],
        "edges": [{"id": "e1", "source": "call", "target": "out"}],
    }


def everything_stored(run_id: int) -> str:
    """The JSON text of every row the run left: the run, its node runs and its events."""
    run = WorkflowRun.objects.get(pk=run_id)
    rows = [model_to_dict(run, exclude=["document"])]
    rows += [model_to_dict(row) for row in NodeRun.objects.filter(run_id=run_id)]
    rows += [row.payload for row in RunEvent.objects.filter(run_id=run_id)]
    return json.dumps(rows, default=str)


def everything_shown(client, run_id: int) -> str:
    """What a user who may read the run gets from the API about it."""
    pages = [f"/api/runs/{run_id}/", f"/api/runs/{run_id}/events/", f"/api/runs/{run_id}/timeline/"]
    pages += [f"/api/runs/{run_id}/nodes/{node}/output/" for node in ("call", "out")]
    texts = []
    for page in pages:
        response = client.get(page)
        assert response.status_code == 200, (page, response.status_code)
        texts.append(response.content.decode())
    return "\n".join(texts)


def test_an_http_header_sends_the_secret_and_no_reader_of_the_run_sees_it(
    user,
    other_user,
    echo,
    workers,  # noqa: F811
):
    workers(SWITCHYARD_SECRETS=json.dumps({"api": SECRET}), SWITCHYARD_HTTP_ALLOW_PRIVATE="1")
    workflow = services.workflow_create(owner=user, source=calling(echo.url))
    assert workflow.valid
    services.workflow_share(user=user, workflow_id=workflow.pk, names=[other_user.username])
    run = ended(services.run_create(user=user, workflow_id=workflow.pk).pk)
    assert run.status == "succeeded", run.error
    assert echo.received == [f"Bearer {SECRET}"]
    # The server echoed the header: the run keeps what it sent masked.
    assert NodeRun.objects.get(run=run, node_id="out").output == {"you_sent": "***", "ok": True}
    stored = everything_stored(run.pk)
    shown = everything_shown(logged_in(other_user), run.pk)
    assert [trace for trace in traces() if trace in stored + shown] == []


TRANSFORM = {
    "version": 1,
    "name": "reads a secret",
    "nodes": [{"id": "leak", "type": "transform", "config": {"output": "{{ secrets.api[::-1] }}"}}],
    "edges": [],
}


def test_a_workflow_reading_a_secret_outside_the_headers_does_not_run(user):
    workflow = services.workflow_create(owner=user, source=TRANSFORM)
    assert not workflow.valid
    with pytest.raises(NotRunnable) as refused:
        services.run_create(user=user, workflow_id=workflow.pk)
    (problem,) = refused.value.errors
    assert problem["code"] == "bad_reference" and problem["field"] == "config.output"
    assert "secrets may only be used in config.headers of http nodes" in problem["message"]
    response = logged_in(user).post(f"/api/workflows/{workflow.pk}/runs/", {}, "application/json")
    assert response.status_code == 400
    assert "secrets may only be used" in response.json()["errors"][0]["message"]
    assert not WorkflowRun.objects.filter(workflow=workflow).exists()


def test_a_stored_run_that_skipped_validation_fails_the_node_without_the_secret(
    user,
    workers,  # noqa: F811
):
    workers(SWITCHYARD_SECRETS=json.dumps({"api": SECRET}))
    run = make_run(user, TRANSFORM)
    dispatch.run_queued(run.pk)
    run = ended(run.pk)
    assert run.status == "failed"
    leak = NodeRun.objects.get(run=run, node_id="leak")
    assert leak.status == "failed" and leak.error["type"] == "expression"
    assert leak.error["message"].startswith("secrets may only be used in the config fields")
    assert [trace for trace in traces() if trace in everything_stored(run.pk)] == []
