"""Activation and the trigger rows of a workflow (SPEC §8).

A workflow's `webhook` and `schedule` nodes start runs only while it is active and valid.
`Trigger` rows mirror those nodes: `triggers_arm` makes them match a saved document (called
on activation and on every save of an active workflow, so a save re-arms the triggers from
the new revision). A row outlives deactivation and removal of its node, so a webhook's token,
its URL, stays the same for a node id; a removed or disabled node's row is disarmed.
"""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone

from engine.handlers import registry
from engine.schedule import ScheduleError, next_fire
from workflows import selectors as select
from workflows.errors import NotRunnable
from workflows.models import Trigger, Workflow

TRIGGER_TYPES = ("webhook", "schedule")
TOKEN_BYTES = 32  # secrets.token_urlsafe: 43 characters, 256 bits


def config_with_defaults(node_type: str, config: dict[str, Any] | None) -> dict[str, Any]:
    """A trigger node's config with its type's schema defaults filled in."""
    handler = registry.get(node_type)
    properties = handler.config_schema.get("properties", {}) if handler else {}
    defaults = {name: spec["default"] for name, spec in properties.items() if "default" in spec}
    return {**defaults, **(config or {})}


def new_token() -> str:
    return secrets.token_urlsafe(TOKEN_BYTES)


def triggers_arm(*, workflow: Workflow, document: dict, now: datetime | None = None) -> None:
    """Make the workflow's trigger rows match `document`: one per webhook/schedule node,
    armed while the workflow is active (and valid)."""
    now = now or timezone.now()
    armed = workflow.active and workflow.valid
    nodes = {
        node["id"]: node
        for node in document["nodes"]
        if node["type"] in TRIGGER_TYPES and not node.get("disabled")
    }
    rows = {
        row.node_id: row for row in Trigger.objects.select_for_update().filter(workflow=workflow)
    }
    for node_id, node in nodes.items():
        row = rows.pop(node_id, None) or Trigger(workflow=workflow, node_id=node_id)
        arm_row(row, node, armed, now)
        row.save()
    gone = [row.pk for row in rows.values() if row.armed]
    if gone:
        Trigger.objects.filter(pk__in=gone).update(armed=False, next_fire_at=None)


def arm_row(row: Trigger, node: dict, armed: bool, now: datetime) -> None:
    config = config_with_defaults(node["type"], node.get("config"))
    changed = row.type != node["type"] or row.config != config
    row.type, row.config = node["type"], config
    if row.type == "webhook":
        row.token = row.token or new_token()
        row.next_fire_at = None
    if row.type == "schedule":
        # A schedule armed before with the same config keeps its next fire time, even an
        # overdue one (the scheduler fires it by its misfire policy).
        if not armed:
            row.next_fire_at = None
        elif changed or not row.armed or row.next_fire_at is None:
            row.next_fire_at = first_fire(config, now)
    row.armed = armed


def first_fire(config: dict[str, Any], now: datetime) -> datetime | None:
    try:
        return next_fire(config, now)
    except (ScheduleError, KeyError, ValueError):
        return None  # validation reports it; an invalid workflow is never armed


@transaction.atomic
def workflow_activate(*, user, workflow_id: int) -> Workflow:
    """Activate a workflow: its saved revision must be valid (else NotRunnable, 400)."""
    workflow = select.workflow_get(user=user, workflow_id=workflow_id, for_update=True, change=True)
    if not workflow.valid:
        errors = [p for p in workflow.errors if p.get("severity", "error") == "error"]
        raise NotRunnable(errors)
    return set_active(workflow, True)


@transaction.atomic
def workflow_deactivate(*, user, workflow_id: int) -> Workflow:
    """Deactivate a workflow: its webhooks answer 404 and its schedules stop firing."""
    workflow = select.workflow_get(user=user, workflow_id=workflow_id, for_update=True, change=True)
    return set_active(workflow, False)


def set_active(workflow: Workflow, active: bool) -> Workflow:
    # Not .save(): activation changes no document, so `updated_at` (run_insert's key) stays.
    Workflow.objects.filter(pk=workflow.pk).update(active=active)
    workflow.active = active
    triggers_arm(workflow=workflow, document=select.workflow_document(workflow=workflow))
    return workflow


def triggers_rearm(*, workflow: Workflow, document: dict) -> None:
    """After a save: the trigger rows follow the new revision (a new webhook gets its URL at
    once, armed only once the workflow is active; a save that made it invalid disarms them
    until it is valid again)."""
    has_triggers = any(node["type"] in TRIGGER_TYPES for node in document["nodes"])
    if has_triggers or Trigger.objects.filter(workflow=workflow, armed=True).exists():
        triggers_arm(workflow=workflow, document=document)


def repeated_trigger(source_run) -> dict[str, Any] | None:
    """A re-run of a run a trigger started begins at that trigger with the same data."""
    if source_run is None or not source_run.trigger_node:
        return None
    return {"trigger_node": source_run.trigger_node, "trigger_data": source_run.trigger_data}
