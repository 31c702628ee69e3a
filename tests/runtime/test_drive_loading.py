"""What a worker reads to start a run (runtime/drive.py `load_for_execution`): the run with its
workflow in one query. Its owner's stored secrets are read and decrypted only for a document
that may use them, and the tokens used so far only for a run that ran before (issue 13's
throughput: both were two more queries and a decryption for every run)."""

from __future__ import annotations

import pytest
from cryptography.fernet import Fernet

from tests.runtime.conftest import make_run
from workflows.models import NodeRun
from workflows.runtime.drive import load_for_execution
from workflows.secrets import secret_put

pytestmark = pytest.mark.django_db

PLAIN = {
    "version": 1,
    "name": "plain",
    "nodes": [{"id": "t", "type": "transform", "config": {"output": "{{ inputs }}"}}],
    "edges": [],
}
HEADERS = {"Authorization": "Bearer {{ secrets.api }}"}
READS = {
    "version": 1,
    "name": "reads",
    "nodes": [{"id": "h", "type": "http", "config": {"url": "http://x.test/", "headers": HEADERS}}],
    "edges": [],
}


@pytest.fixture
def stored(settings, user):
    settings.SWITCHYARD_SECRETS_KEY = [Fernet.generate_key().decode()]
    secret_put(owner=user, name="api", value="tok-123")


def test_a_fresh_run_that_names_no_secret_is_loaded_in_one_query(
    user, stored, django_assert_num_queries
):
    run = make_run(user, PLAIN)
    with django_assert_num_queries(1):
        loaded, state = load_for_execution(run.pk)
    assert (loaded.pk, state, loaded.tokens_used) == (run.pk, None, None)
    assert loaded.run_secrets is None  # the server's SWITCHYARD_SECRETS are still there


def test_a_run_whose_document_reads_a_secret_gets_its_owner_s_stored_value(user, stored):
    loaded, _ = load_for_execution(make_run(user, READS).pk)
    assert loaded.run_secrets["api"] == "tok-123"


def test_a_run_that_ran_before_starts_its_budget_from_the_tokens_it_used(user, stored):
    run = make_run(user, PLAIN, status="paused", state={"nodes": {}})
    usage = {"prompt_tokens": 30, "completion_tokens": 12, "calls": 1}
    NodeRun.objects.create(run=run, node_id="t", attempt=1, status="succeeded", usage=usage)
    loaded, _ = load_for_execution(run.pk)
    assert loaded.tokens_used is not None and loaded.tokens_used["prompt_tokens"] == 30


def test_the_loaded_run_is_the_orm_s_run_and_reads_only_the_workflow_s_owner(
    user, django_assert_num_queries
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from workflows.models import Workflow, WorkflowRun

    run = make_run(
        user,
        READS,
        status="paused",
        state={"nodes": {"h": {"status": "waiting"}}, "wake_at": None},
        inputs={"n": 1.5, "s": "é"},
        error={"message": "e"},
        pause_request={"by": "carol"},
        trigger_data={"body": [1, None]},
    )
    Workflow.objects.filter(pk=run.workflow_id).update(notes=[{"id": "n1", "text": "x" * 4000}])
    with CaptureQueriesContext(connection) as queries:
        loaded, _ = load_for_execution(run.pk)
    by_orm = WorkflowRun.objects.get(pk=run.pk)
    for field in WorkflowRun._meta.concrete_fields:
        assert getattr(loaded, field.attname) == getattr(by_orm, field.attname), field.name
    assert loaded.workflow.owner_id == user.pk and loaded.workflow.pk == run.workflow_id
    if connection.vendor == "postgresql":
        read = queries.captured_queries[0]["sql"]
        assert "workflows_workflowrun" in read and "owner_id" in read
        assert "notes" not in read and "metadata" not in read, read
    with django_assert_num_queries(1):  # a column of the workflow not read: read when asked
        assert loaded.workflow.name == "reads"


def test_a_run_that_is_gone_is_not_loaded(user):
    from workflows.models import WorkflowRun

    run = make_run(user, PLAIN)
    run.delete()
    with pytest.raises(WorkflowRun.DoesNotExist):
        load_for_execution(run.pk)
