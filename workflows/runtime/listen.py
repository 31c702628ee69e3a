"""A webhook node's one-shot test listener (SPEC §8, the canvas's "listen for a test event").

The owner starts it through `/api/workflows/{id}/nodes/{node}/listen/`, also while the
workflow is inactive; the next request to `/hooks/<token>/test/` before it expires is stored
as the node's test event and starts no run. The row lives in PostgreSQL, and the capture is
one conditional UPDATE, so any number of server processes share it and at most one request
is captured. Blocking ORM code: the ASGI app calls `listen_find` and `listen_capture` off the
event loop.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.http import Http404
from django.utils import timezone

from workflows import conf
from workflows import documents as translate
from workflows import selectors as select
from workflows.errors import SwitchyardError, problem
from workflows.models import Trigger, WebhookListen, Workflow


class NoWebhook(SwitchyardError):
    """404 naming why this node has no test listener (unknown, not a webhook, disabled)."""

    status_code = 404

    def __init__(self, message: str) -> None:
        super().__init__([problem("not_found", message, field="node")])


@dataclass(frozen=True)
class Listener:
    """A webhook with a pending test listener, as a test request sees it."""

    trigger_id: int
    owner_id: int
    config: dict[str, Any]


def webhook_trigger(*, user, workflow_id: int, node_id: str) -> Trigger:
    """The trigger row of the owner's webhook node `node_id` (404 with what is wrong)."""
    workflow: Workflow = select.workflow_get(user=user, workflow_id=workflow_id)
    if workflow.owner_id != user.pk:  # a workflow shared with them is not theirs to listen on
        raise Http404(f"workflow {workflow_id} not found")
    nodes = select.workflow_document(workflow=workflow)["nodes"]
    node = next((n for n in nodes if n["id"] == node_id), None)
    if node is None:
        raise NoWebhook(f"the workflow has no node '{node_id}'")
    if node["type"] != "webhook":
        raise NoWebhook(
            f"node '{node_id}' is a {node['type']} node, not a webhook: only a webhook "
            "node listens for a test event"
        )
    row = Trigger.objects.filter(workflow=workflow, node_id=node_id, type="webhook").first()
    if row is None or node.get("disabled"):
        raise NoWebhook(f"webhook node '{node_id}' is disabled: enable it and save first")
    return row


def listen_start(trigger: Trigger, now: datetime | None = None) -> WebhookListen:
    """Start (or restart) the node's listener: it waits `SWITCHYARD_WEBHOOK_LISTEN_S`; an
    earlier capture is dropped."""
    now = now or timezone.now()
    listen, _ = WebhookListen.objects.update_or_create(
        trigger=trigger,
        defaults={
            "started_at": now,
            "expires_at": now + timedelta(seconds=conf.value("WEBHOOK_LISTEN_S")),
            "captured_at": None,
            "capture": None,
        },
    )
    return listen


def listen_cancel(trigger: Trigger) -> None:
    WebhookListen.objects.filter(trigger=trigger).delete()


def listen_state(trigger: Trigger, now: datetime | None = None) -> dict[str, Any]:
    """What the API answers: `state` (`idle` | `listening` | `captured` | `expired`), the
    test URL, the listener's times and seconds left, and the captured request."""
    now = now or timezone.now()
    listen = WebhookListen.objects.filter(trigger=trigger).first()
    body: dict[str, Any] = {
        "node": trigger.node_id,
        "url": f"/hooks/{trigger.token}/test/",
        "state": "idle",
        "started_at": None,
        "expires_at": None,
        "seconds_left": 0,
        "captured_at": None,
        "capture": None,
    }
    if listen is None:
        return body
    if listen.captured_at is not None:
        state = "captured"
    else:
        state = "listening" if listen.expires_at > now else "expired"
    left = (listen.expires_at - now).total_seconds() if state == "listening" else 0
    return body | {
        "state": state,
        "started_at": translate.iso(listen.started_at),
        "expires_at": translate.iso(listen.expires_at),
        "seconds_left": max(0, round(left, 1)),
        "captured_at": translate.iso(listen.captured_at),
        "capture": listen.capture,
    }


def pending(token: str, now: datetime):
    return WebhookListen.objects.filter(
        trigger__token=token,
        trigger__type="webhook",
        captured_at__isnull=True,
        expires_at__gt=now,
    )


def listen_find(token: str, now: datetime | None = None) -> Listener | None:
    """The webhook this token names when it has a pending listener, else None."""
    row = (
        pending(token, now or timezone.now())
        .values_list("trigger_id", "trigger__workflow__owner_id", "trigger__config")
        .first()
    )
    return None if row is None else Listener(*row)


def listen_capture(token: str, request: dict[str, Any], now: datetime | None = None) -> bool:
    """Store the request as the test event: one conditional UPDATE, so of concurrent requests
    (in any process) one is captured. False when no listener was pending any more."""
    now = now or timezone.now()
    return pending(token, now).update(captured_at=now, capture=request) == 1
