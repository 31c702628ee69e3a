"""A workflow run before in this process is run again in one INSERT … SELECT that checks it is
unchanged and still visible to the user (workflows/run_insert.py): the answers are those of
the reading path — a changed workflow runs its new revision, an unshared or deleted one is a
404, bad inputs of a workflow the user may not see are a 404 too."""

import pytest
from django.db import connection, transaction
from django.db.models.signals import post_save
from django.test.utils import CaptureQueriesContext

from tests.factories import chain_document, workflow_for
from workflows import run_insert, services
from workflows.models import WorkflowRun

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def nothing_known():
    run_insert.forget_all()
    yield
    run_insert.forget_all()


def start(api, workflow_id: int, body: dict | None = None):
    return api.post(f"/api/workflows/{workflow_id}/runs/", body or {}, format="json")


def run_queries(queries) -> list[str]:
    return [q["sql"] for q in queries.captured_queries if '"workflows_' in q["sql"]]


def test_a_workflow_run_before_runs_again_in_one_statement_with_the_same_answer(api, user):
    workflow = workflow_for(user, chain_document(3, inputs={"city": {"default": "Oslo"}}))
    first = start(api, workflow.pk)
    assert first.status_code == 201, first.content

    with CaptureQueriesContext(connection) as queries:
        second = start(api, workflow.pk, {"inputs": {"city": "Bergen"}, "from_node": "n1"})

    assert second.status_code == 201, second.content
    [insert] = run_queries(queries)
    assert insert.startswith('INSERT INTO "workflows_workflowrun"')
    body = second.json()
    saved = WorkflowRun.objects.get(pk=body["id"])
    earlier = WorkflowRun.objects.get(pk=first.json()["id"])
    assert (saved.document, saved.revision) == (earlier.document, earlier.revision)
    assert (saved.status, saved.created_by, saved.inputs) == ("queued", user, {"city": "Bergen"})
    assert saved.from_node == "n1"
    assert body["created_at"] == saved.created_at.isoformat().replace("+00:00", "Z")
    expected = {**first.json(), "id": body["id"], "run": body["id"]}
    expected.update(created_at=body["created_at"], inputs={"city": "Bergen"}, from_node="n1")
    assert body == expected


def test_an_edited_workflow_runs_its_new_revision(api, user):
    workflow = workflow_for(user)
    assert start(api, workflow.pk).status_code == 201

    edited = api.patch(f"/api/workflows/{workflow.pk}/", {"name": "renamed"}, format="json")
    assert edited.status_code == 200, edited.content
    run = WorkflowRun.objects.get(pk=start(api, workflow.pk).json()["id"])

    assert run.document["name"] == "renamed"
    assert run.revision == run.document["revision"] == edited.json()["revision"]


def test_an_unshared_or_deleted_workflow_is_not_found_for_who_ran_it(api, other_api, user):
    workflow = workflow_for(user)
    sharing = f"/api/workflows/{workflow.pk}/sharing/"
    assert api.put(sharing, {"shared_with": ["bob"]}, format="json").status_code == 200
    assert start(other_api, workflow.pk).status_code == 201
    assert api.put(sharing, {"shared_with": []}, format="json").status_code == 200

    assert start(other_api, workflow.pk).status_code == 404
    assert start(api, workflow.pk).status_code == 201
    assert api.delete(f"/api/workflows/{workflow.pk}/").status_code == 204
    assert start(api, workflow.pk).status_code == 404


def test_bad_inputs_are_refused_as_by_the_reading_path(api, other_api, user):
    workflow = workflow_for(user, chain_document(2, inputs={"count": {"type": "integer"}}))
    cold = start(api, workflow.pk, {"inputs": {"count": "x"}})
    assert start(api, workflow.pk, {"inputs": {"count": 1}}).status_code == 201  # known now

    warm = start(api, workflow.pk, {"inputs": {"count": "x"}})
    assert (warm.status_code, warm.json()) == (400, cold.json())
    wrong_node = start(api, workflow.pk, {"inputs": {"count": 1}, "from_node": "zz"})
    assert wrong_node.status_code == 400
    assert start(other_api, workflow.pk, {"inputs": {"count": "x"}}).status_code == 404


def test_a_run_inserted_in_a_transaction_goes_with_it(user):
    workflow = workflow_for(user)
    services.run_create(user=user, workflow_id=workflow.pk)
    assert run_insert.known(workflow.pk) is not None

    with pytest.raises(RuntimeError), transaction.atomic():
        services.run_create(user=user, workflow_id=workflow.pk)
        raise RuntimeError("rolled back")

    assert WorkflowRun.objects.filter(workflow=workflow).count() == 1


def test_runs_are_saved_through_the_orm_while_their_saves_are_heard(user):
    workflow = workflow_for(user)
    services.run_create(user=user, workflow_id=workflow.pk)
    heard = []

    def listener(sender, instance, created, **kwargs):
        heard.append(instance.pk)

    post_save.connect(listener, sender=WorkflowRun)
    try:
        run = services.run_create(user=user, workflow_id=workflow.pk)
    finally:
        post_save.disconnect(listener, sender=WorkflowRun)

    assert heard == [run.pk]
