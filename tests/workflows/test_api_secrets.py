"""Named secrets over the API: write-only (a value is never read back), encrypted at rest,
per user, bounded, rotated by `rotate_secrets`; `secrets_for(owner)` is what runs read."""

from __future__ import annotations

from io import StringIO

import pytest
from cryptography.fernet import Fernet
from django.core.management import call_command

from workflows.models import Secret
from workflows.secrets import secrets_for

pytestmark = pytest.mark.django_db

VALUE = "sk-very-secret-value-123"
KEY = Fernet.generate_key().decode()


@pytest.fixture(autouse=True)
def secrets_key(settings):
    settings.SWITCHYARD_SECRETS_KEY = [KEY]
    settings.SWITCHYARD_SECRETS = {"shared": "from-the-server", "llm_key": "server-default"}


def put(api, name="llm_key", value=VALUE):
    return api.post("/api/secrets/", {"name": name, "value": value}, format="json")


def test_a_secret_is_created_replaced_listed_without_its_value_and_deleted(api, user):
    created = put(api)
    assert created.status_code == 201
    assert created.json()["name"] == "llm_key" and created.json()["value"] == "••••"
    replaced = put(api, value="sk-second-value-456")
    assert replaced.status_code == 200
    listed = api.get("/api/secrets/")
    assert listed.status_code == 200
    assert [(s["name"], s["value"]) for s in listed.json()["secrets"]] == [("llm_key", "••••")]
    for response in (created, replaced, listed):
        assert VALUE not in response.content.decode()
        assert "sk-second-value-456" not in response.content.decode()
    row = Secret.objects.get(owner=user, name="llm_key")
    assert "sk-second" not in row.ciphertext
    assert Fernet(KEY.encode()).decrypt(row.ciphertext.encode()) == b"sk-second-value-456"
    assert api.delete("/api/secrets/llm_key/").status_code == 204
    missing = api.delete("/api/secrets/llm_key/")
    assert missing.status_code == 404
    assert "no secret named 'llm_key'" in missing.json()["errors"][0]["message"]


@pytest.mark.parametrize(
    ("body", "field", "text"),
    [
        ({"name": "has space", "value": "x"}, "name", "letters, digits"),
        ({"name": "", "value": "x"}, "name", "letters, digits"),
        ({"name": "k" * 65, "value": "x"}, "name", "1 to 64"),
        ({"name": "ok", "value": ""}, "value", "non-empty string"),
        ({"name": "ok", "value": 5}, "value", "non-empty string"),
        ({"name": "ok", "value": "v" * 16_385}, "value", "at most 16,384 characters"),
        ({"name": "ok", "value": "v", "owner": 3}, "owner", "unknown field 'owner'"),
    ],
)
def test_bad_secrets_are_refused_naming_the_field(api, body, field, text):
    response = api.post("/api/secrets/", body, format="json")
    assert response.status_code == 400
    (error,) = response.json()["errors"]
    assert error["field"] == field and text in error["message"]
    assert not Secret.objects.exists()


def test_each_user_sees_and_runs_with_their_own_secrets(api, other_api, user, other_user):
    put(api)
    assert other_api.get("/api/secrets/").json() == {"secrets": []}
    assert other_api.delete("/api/secrets/llm_key/").status_code == 404
    assert secrets_for(user.pk) == {"shared": "from-the-server", "llm_key": VALUE}
    assert secrets_for(other_user.pk) == {"shared": "from-the-server", "llm_key": "server-default"}


def test_anonymous_clients_are_refused(client):
    assert client.get("/api/secrets/").status_code in (401, 403)


def test_rotation_re_encrypts_every_secret_with_the_new_key(api, user, settings):
    put(api)
    before = Secret.objects.get(owner=user).ciphertext
    new_key = Fernet.generate_key().decode()
    settings.SWITCHYARD_SECRETS_KEY = [new_key, KEY]
    out = StringIO()
    call_command("rotate_secrets", stdout=out)
    assert out.getvalue().strip() == "re-encrypted 1 secret"
    after = Secret.objects.get(owner=user).ciphertext
    assert after != before
    assert Fernet(new_key.encode()).decrypt(after.encode()).decode() == VALUE
    settings.SWITCHYARD_SECRETS_KEY = [new_key]  # the old key dropped: still readable
    assert secrets_for(user.pk)["llm_key"] == VALUE


def test_without_a_key_in_production_storing_a_secret_says_what_is_missing(api, settings):
    settings.SWITCHYARD_SECRETS_KEY = []
    settings.DEBUG = False
    response = put(api)
    assert response.status_code == 503
    assert "SWITCHYARD_SECRETS_KEY" in response.json()["errors"][0]["message"]


def test_a_run_without_the_key_reads_the_server_s_secrets_only(api, user, settings):
    put(api)
    settings.SWITCHYARD_SECRETS_KEY = []
    settings.DEBUG = False
    assert secrets_for(user.pk) == {"shared": "from-the-server", "llm_key": "server-default"}
