"""Expression preview (issue 17): a template rendered for a node with the last run's data."""

import pytest
from rest_framework.test import APIClient

from tests.factories import workflow_for
from tests.observability.conftest import DIAMOND, build_diamond_run
from workflows import services
from workflows.models import Trigger
from workflows.runtime import listen

pytestmark = pytest.mark.django_db


def url(run) -> str:
    return f"/api/workflows/{run.workflow_id}/preview/"


def test_a_template_renders_with_the_last_runs_outputs_and_the_nodes_input(api, user):
    run = build_diamond_run(user)
    run.inputs = {"who": "ada"}
    run.save()
    body = {"template": "{{ d.b + d.c }} for {{ inputs.who }}", "node": "gate"}
    answer = api.post(url(run), body, format="json")
    assert answer.status_code == 200
    assert answer.json() == {
        "run": run.pk,
        "value": "5 for ada",
        "text": '"5 for ada"',
        "truncated": False,
    }
    whole = api.post(url(run), {"template": "{{ a }}"}, format="json").json()
    assert whole["value"] == {"n": 1}  # a single {{ }} keeps its type


def test_a_bare_expression_and_an_error_are_answered_with_what_went_wrong(api, user):
    run = build_diamond_run(user)
    bare = api.post(url(run), {"template": "b * 10 > c", "bare": True}, format="json").json()
    assert bare["value"] is True
    wrong = api.post(url(run), {"template": "{{ nothing.here }}"}, format="json").json()
    assert wrong["run"] == run.pk and "nothing" in wrong["error"]


def test_secrets_never_reach_a_preview(api, user):
    run = build_diamond_run(user)
    answer = api.post(url(run), {"template": "{{ secrets }}"}, format="json").json()
    assert "secrets may only be used" in answer["error"]


def test_bad_requests_name_the_field_and_other_users_see_nothing(api, user, other_user):
    run = build_diamond_run(user)
    too_long = api.post(url(run), {"template": "x" * 10_001}, format="json")
    assert too_long.status_code == 400
    assert too_long.json()["errors"][0]["field"] == "template"
    bad_node = api.post(url(run), {"template": "{{ 1 }}", "node": "Not An Id"}, format="json")
    assert bad_node.status_code == 400 and bad_node.json()["errors"][0]["field"] == "node"
    stranger = APIClient()
    stranger.force_login(other_user)
    assert stranger.post(url(run), {"template": "{{ 1 }}"}, format="json").status_code == 404


def test_without_a_run_names_read_as_missing(api, user):
    workflow = workflow_for(user, DIAMOND)
    answer = api.post(
        f"/api/workflows/{workflow.pk}/preview/", {"template": "{{ 1 + 2 }}"}, format="json"
    )
    assert answer.json() == {"run": None, "value": 3, "text": "3", "truncated": False}


def test_an_unknown_field_is_named(api, user):
    run = build_diamond_run(user)
    answer = api.post(url(run), {"template": "{{ 1 }}", "nod": "a"}, format="json")
    assert answer.status_code == 400
    assert answer.json()["errors"][0] == {
        "code": "unknown_field",
        "message": "nod: unknown field",
        "field": "nod",
    }


def test_a_webhooks_test_event_is_its_output_in_a_preview(api, user):
    source = {
        "nodes": [
            {"id": "hook", "type": "webhook", "config": {"method": "POST"}},
            {"id": "out", "type": "output", "config": {"value": "{{ input }}"}},
        ],
        "edges": [{"id": "e1", "source": "hook", "target": "out"}],
    }
    workflow = services.workflow_create(owner=user, source=source)
    body = {"template": "order {{ hook.body.order }}", "node": "out"}
    before = api.post(f"/api/workflows/{workflow.pk}/preview/", body, format="json").json()
    assert "hook" in before["error"]
    trigger = Trigger.objects.get(workflow=workflow, node_id="hook")
    listen.listen_start(trigger)
    request = {"method": "POST", "headers": {}, "query": {}, "body": {"order": 7}}
    assert listen.listen_capture(trigger.token, request)
    after = api.post(f"/api/workflows/{workflow.pk}/preview/", body, format="json").json()
    assert after == {"run": None, "value": "order 7", "text": '"order 7"', "truncated": False}
