"""Activation and the triggers a workflow reads with (SPEC §8), through the REST API."""

import re

import pytest

from tests.factories import workflow_for
from workflows.models import Trigger, WorkflowRun

pytestmark = pytest.mark.django_db


def hook_document(*, cron: str = "*/5 * * * *") -> dict:
    return {
        "name": "hooked",
        "nodes": [
            {"id": "hook", "type": "webhook", "config": {"method": "POST"}},
            {"id": "tick", "type": "schedule", "config": {"cron": cron}},
            {"id": "out", "type": "output", "config": {"value": "{{ input }}"}},
        ],
        "edges": [
            {"id": "e1", "source": "hook", "target": "out"},
            {"id": "e2", "source": "tick", "target": "out"},
        ],
    }


def test_a_new_workflow_is_inactive_and_shows_its_webhook_url_and_next_fire_times(api, user):
    workflow = workflow_for(user, hook_document())
    body = api.get(f"/api/workflows/{workflow.pk}/").json()
    assert body["active"] is False
    hook, tick = body["triggers"]
    assert hook["node"] == "hook" and hook["type"] == "webhook" and hook["armed"] is False
    assert re.fullmatch(r"/hooks/[A-Za-z0-9_-]{43}/", hook["url"])
    assert tick["node"] == "tick" and tick["next_fire_at"] is None
    assert len(tick["upcoming"]) == 5
    minutes = [int(at[14:16]) for at in tick["upcoming"]]
    assert all(minute % 5 == 0 for minute in minutes)
    listed = api.get("/api/workflows/").json()
    assert [item["active"] for item in listed] == [False]


def test_activating_arms_the_triggers_and_deactivating_disarms_them(api, user):
    workflow = workflow_for(user, hook_document())
    body = api.post(f"/api/workflows/{workflow.pk}/activate/").json()
    assert body["active"] is True
    assert [t["armed"] for t in body["triggers"]] == [True, True]
    assert body["triggers"][1]["next_fire_at"] == body["triggers"][1]["upcoming"][0]
    url = body["triggers"][0]["url"]
    body = api.post(f"/api/workflows/{workflow.pk}/deactivate/").json()
    assert body["active"] is False
    assert [t["armed"] for t in body["triggers"]] == [False, False]
    assert body["triggers"][0]["url"] == url  # the URL outlives deactivation


def test_activating_an_invalid_workflow_is_refused_with_its_errors(api, user):
    workflow = workflow_for(user, hook_document(cron="every minute"))
    response = api.post(f"/api/workflows/{workflow.pk}/activate/")
    assert response.status_code == 400
    messages = [error["message"] for error in response.json()["errors"]]
    assert any("config.cron: must have 5 fields" in message for message in messages), messages
    assert api.get(f"/api/workflows/{workflow.pk}/").json()["active"] is False


def test_another_users_workflow_cannot_be_activated(other_api, user):
    workflow = workflow_for(user, hook_document())
    assert other_api.post(f"/api/workflows/{workflow.pk}/activate/").status_code == 404


def test_saving_an_active_workflow_rearms_its_triggers_and_keeps_the_webhook_url(api, user):
    workflow = workflow_for(user, hook_document())
    before = api.post(f"/api/workflows/{workflow.pk}/activate/").json()
    document = {**before, "nodes": [*before["nodes"]], "edges": [*before["edges"]]}
    document["nodes"][1] = {"id": "tick", "type": "schedule", "config": {"every_s": 3600}}
    after = api.put(f"/api/workflows/{workflow.pk}/", document, format="json").json()
    assert after["triggers"][0]["url"] == before["triggers"][0]["url"]
    assert after["triggers"][1]["next_fire_at"].endswith(":00:00.000000Z")
    assert Trigger.objects.get(node_id="tick").config["every_s"] == 3600
    # A save that removes a node disarms its trigger; putting it back brings its URL back.
    without = {**after, "nodes": after["nodes"][1:], "edges": [after["edges"][1]]}
    saved = api.put(f"/api/workflows/{workflow.pk}/", without, format="json").json()
    assert [t["node"] for t in saved["triggers"]] == ["tick"]
    assert not Trigger.objects.get(node_id="hook").armed
    back = api.put(
        f"/api/workflows/{workflow.pk}/", document | {"revision": saved["revision"]}, format="json"
    ).json()
    assert back["triggers"][0]["url"] == before["triggers"][0]["url"]
    assert back["triggers"][0]["armed"] is True


def test_a_save_that_makes_an_active_workflow_invalid_disarms_it(api, user):
    workflow = workflow_for(user, hook_document())
    body = api.post(f"/api/workflows/{workflow.pk}/activate/").json()
    body["nodes"][1]["config"] = {"cron": "nonsense"}
    saved = api.put(f"/api/workflows/{workflow.pk}/", body, format="json").json()
    assert saved["valid"] is False and saved["active"] is True
    assert [t["armed"] for t in saved["triggers"]] == [False, False]


def test_a_canvas_run_records_manual_and_the_run_list_filters_by_trigger(api, user):
    workflow = workflow_for(user, hook_document())
    manual = api.post(f"/api/workflows/{workflow.pk}/runs/", {"trigger": "manual"}, format="json")
    assert manual.status_code == 201
    assert manual.json()["trigger"] == "manual"
    plain = api.post(f"/api/workflows/{workflow.pk}/runs/", {}, format="json").json()
    assert plain["trigger"] == "api"
    listed = api.get("/api/runs/?trigger=manual").json()["results"]
    assert [run["id"] for run in listed] == [manual.json()["id"]]
    assert WorkflowRun.objects.count() == 2


def test_a_run_may_not_claim_to_come_from_a_webhook(api, user):
    workflow = workflow_for(user, hook_document())
    response = api.post(
        f"/api/workflows/{workflow.pk}/runs/", {"trigger": "webhook"}, format="json"
    )
    assert response.status_code == 400
    assert "trigger" in response.json()["errors"][0]["message"]


def test_an_unknown_trigger_filter_is_a_clear_400(api):
    response = api.get("/api/runs/?trigger=carrier_pigeon")
    assert response.status_code == 400
    assert response.json()["errors"][0]["message"].startswith("trigger: must be one of manual")


def test_the_admin_lists_triggers_with_their_last_and_next_fire(user, django_user_model):
    from django.test import Client

    workflow = workflow_for(user, hook_document())
    Trigger.objects.filter(workflow=workflow).update(armed=True)
    root = django_user_model.objects.create_superuser("root", "root@example.com", "pw")
    admin = Client()
    admin.force_login(root)
    listing = admin.get("/admin/workflows/trigger/")
    assert listing.status_code == 200
    text = listing.content.decode()
    assert "Next fire at" in text and "Last fire at" in text
    assert "hook" in text and "tick" in text
    hook = Trigger.objects.get(node_id="hook")
    page = admin.get(f"/admin/workflows/trigger/{hook.pk}/change/").content.decode()
    assert hook.token not in page  # the webhook's credential stays out of the admin


def test_a_rerun_of_a_webhook_run_begins_at_the_same_webhook_with_the_same_request(api, user):
    from workflows import services

    workflow = workflow_for(user, hook_document())
    request = {"method": "POST", "headers": {}, "query": {}, "body": {"n": 1}}
    first = services.run_create(
        user=user,
        workflow_id=workflow.pk,
        trigger="webhook",
        started_by={"trigger_node": "hook", "trigger_data": request},
    )
    again = api.post(f"/api/runs/{first.pk}/rerun/", {}, format="json")
    assert again.status_code == 201
    rerun = WorkflowRun.objects.get(pk=again.json()["id"])
    assert (rerun.trigger, rerun.trigger_node, rerun.trigger_data) == ("rerun", "hook", request)
