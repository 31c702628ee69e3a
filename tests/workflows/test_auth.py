"""Login, tokens, CSRF and ownership: every endpoint needs a user, who sees only their own."""

import pytest
import yaml
from django.test import Client
from rest_framework.test import APIClient

from tests.factories import RunFactory, workflow_for

pytestmark = pytest.mark.django_db

ENDPOINTS = [
    ("get", "/api/workflows/"),
    ("post", "/api/workflows/"),
    ("get", "/api/workflows/1/"),
    ("put", "/api/workflows/1/"),
    ("delete", "/api/workflows/1/"),
    ("post", "/api/workflows/1/validate/"),
    ("get", "/api/workflows/1/export/"),
    ("post", "/api/workflows/import/"),
    ("post", "/api/workflows/1/runs/"),
    ("get", "/api/node-types/"),
    ("get", "/api/runs/"),
    ("get", "/api/runs/1/"),
    ("get", "/api/runs/1/events/"),
    ("get", "/api/schema/"),
]


@pytest.mark.parametrize(("method", "path"), ENDPOINTS)
def test_every_endpoint_requires_login(method, path):
    response = getattr(APIClient(), method)(path, {}, format="json")
    assert response.status_code == 401
    body = yaml.safe_load(response.content)  # the schema view answers YAML, the rest JSON
    assert body["errors"][0]["code"] == "not_authenticated"


def test_a_token_is_obtained_with_username_and_password_and_used_for_the_api(user):
    client = APIClient()
    response = client.post(
        "/api/auth/token/", {"username": "alice", "password": "pw-alice-123"}, format="json"
    )
    assert response.status_code == 200
    client.credentials(HTTP_AUTHORIZATION=f"Token {response.json()['token']}")
    assert client.get("/api/workflows/").status_code == 200
    created = client.post("/api/workflows/", {"name": "by token"}, format="json")
    assert created.status_code == 201


def test_wrong_password_gets_no_token(user):
    response = APIClient().post(
        "/api/auth/token/", {"username": "alice", "password": "wrong"}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["errors"][0]["code"] == "bad_credentials"


def test_a_bad_token_is_refused():
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Token not-a-real-token")
    response = client.get("/api/workflows/")
    assert response.status_code == 401
    assert response.json()["errors"][0]["code"] == "authentication_failed"


def test_session_writes_need_the_csrf_token(user):
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    body = '{"name": "from the canvas"}'
    refused = client.post("/api/workflows/", body, content_type="application/json")
    assert refused.status_code == 403
    assert refused.json()["errors"][0]["code"] == "csrf_failed"
    client.get("/accounts/login/")  # sets the csrftoken cookie
    token = client.cookies["csrftoken"].value
    accepted = client.post(
        "/api/workflows/", body, content_type="application/json", HTTP_X_CSRFTOKEN=token
    )
    assert accepted.status_code == 201


def test_session_reads_need_no_csrf_token(user):
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    assert client.get("/api/workflows/").status_code == 200


@pytest.mark.parametrize(
    ("method", "suffix", "body"),
    [
        ("get", "", None),
        ("put", "", {"revision": 1, "nodes": [], "edges": []}),
        ("patch", "", {"name": "mine now"}),
        ("delete", "", None),
        ("post", "validate/", {}),
        ("get", "export/", None),
        ("post", "runs/", {}),
    ],
)
def test_another_users_workflow_is_not_found(other_api, user, method, suffix, body):
    workflow = workflow_for(user)
    response = getattr(other_api, method)(
        f"/api/workflows/{workflow.pk}/{suffix}", body, format="json"
    )
    assert response.status_code == 404
    assert response.json()["errors"][0]["code"] == "not_found"
    workflow.refresh_from_db()
    assert (workflow.name, workflow.revision) == ("chain", 1)
    assert not workflow.runs.exists()


def test_another_users_run_is_not_found(other_api, user):
    run = RunFactory(workflow=workflow_for(user))
    assert other_api.get(f"/api/runs/{run.pk}/").status_code == 404


def test_unknown_api_path_answers_the_error_body(api):
    response = api.get("/api/no-such-thing/")
    assert response.status_code == 404
    assert response.json()["errors"][0]["code"] == "not_found"
