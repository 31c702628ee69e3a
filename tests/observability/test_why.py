"""Every node that did not run says why, in its NodeRun, and the admin, the API and `inspect`
show it: the three reasons of issue 8, from real runs."""

from io import StringIO

import pytest
from django.core.management import call_command
from django.test import Client
from rest_framework.test import APIClient

from tests.factories import workflow_for
from tests.observability.drive import execute
from workflows.models import NodeRun

pytestmark = pytest.mark.django_db(transaction=True)

# c takes its true branch, so `alert` (on false) does not run; `fetch` fails, so `parse` does not.
BRANCHES = {
    "version": 1,
    "name": "why",
    "nodes": [
        {"id": "start", "type": "transform", "config": {"output": 1}},
        {"id": "c", "type": "condition", "config": {"expression": "True"}},
        {"id": "alert", "type": "transform", "config": {"output": "alert"}},
        {"id": "fetch", "type": "error", "config": {"message": "HTTP 503 from orders"}},
        {"id": "parse", "type": "transform", "config": {"output": "parsed"}},
    ],
    "edges": [
        {"id": "e1", "source": "start", "target": "c"},
        {"id": "e2", "source": "c", "source_handle": "false", "target": "alert"},
        {"id": "e3", "source": "c", "source_handle": "true", "target": "fetch"},
        {"id": "e4", "source": "fetch", "target": "parse"},
    ],
}

# With on_failure=halt, x failing cancels `slow` while it waits.
HALT = {
    "version": 1,
    "name": "halting",
    "settings": {"on_failure": "halt"},
    "nodes": [
        {"id": "x", "type": "error", "config": {"message": "boom"}},
        {"id": "slow", "type": "delay", "config": {"seconds": 20}},
    ],
    "edges": [],
}

EXPECTED = {
    "alert": ("skipped", "branch c.false not taken"),
    "parse": ("upstream_failed", "upstream fetch failed"),
    "slow": ("cancelled", "cancelled by halt after node x failed"),
}


@pytest.fixture
def api(user, settings) -> APIClient:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    client = APIClient()
    client.force_login(user)
    return client


@pytest.fixture
def runs(api, user) -> dict[str, int]:
    """Each example node's run id, after both runs ended."""
    ids = {}
    for document, nodes in ((BRANCHES, ("alert", "parse")), (HALT, ("slow",))):
        workflow = workflow_for(user, document)
        response = api.post(f"/api/workflows/{workflow.pk}/runs/", {}, format="json")
        assert response.status_code == 201, response.json()
        run = execute(response.json()["id"])
        assert run.status in ("failed", "cancelled"), run.status
        ids.update(dict.fromkeys(nodes, run.pk))
    return ids


def test_each_node_that_did_not_run_has_its_reason_in_its_node_run(runs):
    for node, (status, reason) in EXPECTED.items():
        row = NodeRun.objects.filter(run_id=runs[node], node_id=node).latest("attempt")
        assert (row.status, row.reason) == (status, reason)


def test_the_api_report_gives_the_reason(api, runs):
    for node, (status, reason) in EXPECTED.items():
        body = api.get(f"/api/runs/{runs[node]}/").json()
        assert body["nodes"][node]["status"] == status
        assert body["nodes"][node]["reason"] == reason
        rows = [r for r in body["node_runs"] if r["node_id"] == node]
        assert rows and rows[-1]["reason"] == reason


def test_the_admin_run_page_shows_the_reason(runs, django_user_model):
    admin = django_user_model.objects.create_superuser("root", "root@example.com", "pw-root-1")
    client = Client()
    client.force_login(admin)

    for node, (_, reason) in EXPECTED.items():
        html = client.get(f"/admin/workflows/workflowrun/{runs[node]}/change/").content.decode()
        assert f'<td class="field-reason"> <p>{reason}</p> </td>' in " ".join(html.split())


def test_inspect_shows_the_reason_for_the_run_and_for_the_node(runs):
    for node, (status, reason) in EXPECTED.items():
        run_view, node_view = StringIO(), StringIO()
        call_command("inspect", str(runs[node]), stdout=run_view)
        call_command("inspect", str(runs[node]), node, stdout=node_view)

        line = next(li for li in run_view.getvalue().splitlines() if li.split()[0] == node)
        assert status in line and line.endswith(reason)
        assert f"Reason: {reason}" in node_view.getvalue()
