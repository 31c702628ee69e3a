"""The admin shows the tokens of each llm attempt and of the run (with their cost when a price
table is set), and lists stored secrets by name without ever showing a value."""

import pytest
from cryptography.fernet import Fernet

from tests.observability.conftest import build_diamond_run
from tests.observability.test_admin import admin_client  # noqa: F401 (fixture)
from workflows.models import NodeRun, Secret

pytestmark = pytest.mark.django_db


def test_the_run_page_shows_tokens_per_attempt_and_in_total(admin_client, user, settings):  # noqa: F811
    settings.SWITCHYARD_LLM_PRICES = {"m": {"prompt": 1.0, "completion": 2.0}}
    run = build_diamond_run(user)
    NodeRun.objects.filter(run=run, node_id="a").update(
        usage={"prompt_tokens": 1200, "completion_tokens": 300, "model": "m"}
    )
    NodeRun.objects.filter(run=run, node_id="b").update(
        usage={"prompt_tokens": 800, "completion_tokens": 700, "model": "m"}
    )
    page = admin_client.get(f"/admin/workflows/workflowrun/{run.pk}/change/").content.decode()
    assert "1,200 + 300 ($0.0018)" in page
    assert "2,000 + 1,000 ($0.0040)" in page


def test_tokens_counted_locally_are_marked_estimated(admin_client, user, settings):  # noqa: F811
    settings.SWITCHYARD_LLM_PRICES = {"m": {"prompt": 1.0, "completion": 2.0}}
    run = build_diamond_run(user)
    NodeRun.objects.filter(run=run, node_id="a").update(
        usage={"prompt_tokens": 1200, "completion_tokens": 300, "model": "m", "estimated": True}
    )
    page = admin_client.get(f"/admin/workflows/workflowrun/{run.pk}/change/").content.decode()
    assert "~1,200 + 300 ($0.0018)" in page


def test_secrets_are_listed_by_name_and_never_shown(admin_client, user, settings):  # noqa: F811
    key = Fernet.generate_key()
    token = Fernet(key).encrypt(b"sk-admin-never-sees").decode()
    secret = Secret.objects.create(owner=user, name="llm_key", ciphertext=token)
    listing = admin_client.get("/admin/workflows/secret/").content.decode()
    page = admin_client.get(f"/admin/workflows/secret/{secret.pk}/change/").content.decode()
    assert "llm_key" in listing and "llm_key" in page and "••••" in page
    for text in (listing, page):
        assert "sk-admin-never-sees" not in text and token not in text
