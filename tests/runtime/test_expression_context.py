"""`env` and `secrets` in real runs (SPEC §2): a worker started with an allow-list gives a
workflow the variables its settings.env names (only those the server allows); named secrets
come from a JSON object (their use by http headers: test_secrets_in_runs.py)."""

from __future__ import annotations

import pytest
from django.core.exceptions import ImproperlyConfigured

from switchyard.settings import named_secrets
from tests.runtime.test_subworkflows import ended
from tests.runtime.test_worker import start_run, workers  # noqa: F401 (fixture)
from workflows.models import NodeRun, RunEvent

DOCUMENT = {
    "version": 1,
    "name": "context",
    "settings": {"env": ["SY_REGION", "SY_HIDDEN"]},
    "nodes": [
        {"id": "region", "type": "transform", "config": {"output": "{{ env.SY_REGION }}"}},
    ],
    "edges": [],
}


@pytest.mark.django_db(transaction=True)
@pytest.mark.slow
@pytest.mark.timeout(120)
def test_a_worker_gives_runs_the_allowed_env_only(user, workers):  # noqa: F811
    workers(
        SWITCHYARD_ENV_ALLOW="SY_REGION",
        SY_REGION="eu-west",
        SY_HIDDEN="not for workflows",  # set, but not allow-listed on the server
    )
    run = ended(start_run(user, DOCUMENT).pk)
    assert run.status == "succeeded", run.error
    assert NodeRun.objects.get(run=run, node_id="region").output == "eu-west"
    events = list(RunEvent.objects.filter(run=run).order_by("seq"))
    warnings = [e.payload["message"] for e in events if e.payload.get("level") == "warning"]
    assert len(warnings) == 1 and warnings[0].startswith("settings.env names SY_HIDDEN, which")


def test_secrets_come_from_a_json_object_inline_or_in_a_file(tmp_path):
    assert named_secrets('{"a": "1"}', "") == {"a": "1"}
    assert named_secrets("", "") == {}
    path = tmp_path / "secrets.json"
    path.write_text('{"token": "x"}')
    assert named_secrets("ignored", str(path)) == {"token": "x"}
    with pytest.raises(ImproperlyConfigured, match="SWITCHYARD_SECRETS is not JSON"):
        named_secrets("{token: x}", "")
    with pytest.raises(ImproperlyConfigured, match="must be a JSON object of names to strings"):
        named_secrets('{"n": 1}', "")
    with pytest.raises(ImproperlyConfigured, match="cannot read it: No such file"):
        named_secrets("", str(tmp_path / "missing.json"))
