"""The database side of a webhook request (SPEC §8): which armed webhook a token names, the
per-workflow rate limit, the signature check, and the run a request starts. Blocking ORM
code: the ASGI app in workflows/api/hooks.py calls it off the event loop."""

from __future__ import annotations

import hashlib
import hmac
import time
from dataclasses import dataclass
from typing import Any

from django.contrib.auth import get_user_model
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from workflows import services
from workflows.models import RunTrigger, Trigger, WebhookRate, WorkflowRun
from workflows.secrets import secrets_for

# Headers a run never stores: the caller's credentials are not the workflow's data.
DROPPED_HEADERS = frozenset({"cookie", "authorization", "proxy-authorization"})
MAX_IDEMPOTENCY_KEY = 255


@dataclass(frozen=True)
class Hook:
    """An armed webhook of an active workflow, as a request sees it."""

    trigger_id: int
    workflow_id: int
    owner_id: int
    node_id: str
    config: dict[str, Any]


def hook_find(token: str) -> Hook | None:
    """The armed webhook this token names, or None (unknown, disarmed, inactive)."""
    row = (
        Trigger.objects.filter(
            token=token, type="webhook", armed=True, workflow__active=True, workflow__valid=True
        )
        .values_list("pk", "workflow_id", "workflow__owner_id", "node_id", "config")
        .first()
    )
    return None if row is None else Hook(*row)


def secret_value(name: str, *, owner_id: int) -> str | None:
    """The value of the named secret a webhook verifies signatures with: one the workflow's
    owner stored (`/api/secrets/`) or an environment-provided one, as runs read them
    (`workflows.secrets.secrets_for`)."""
    value = secrets_for(owner_id, names=[name]).get(name)
    return value if isinstance(value, str) and value else None


def signature_ok(config: dict[str, Any], owner_id: int, body: bytes, header: str | None) -> bool:
    """Whether the request carries `sha256=<hex HMAC-SHA256 of the body>` (GitHub style; a
    bare hex digest too) made with the webhook's secret. True when it names no secret."""
    name = config.get("secret")
    if not name:
        return True
    secret = secret_value(name, owner_id=owner_id)
    if secret is None or not header:
        return False
    sent = header.strip()
    sent = sent[7:] if sent.lower().startswith("sha256=") else sent
    expected = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(sent.lower(), expected)


RATE_SQL = """
INSERT INTO {table} (workflow_id, "window", count) VALUES (%s, %s, 1)
ON CONFLICT (workflow_id) DO UPDATE SET
    count = CASE WHEN {table}."window" = EXCLUDED."window" THEN {table}.count + 1 ELSE 1 END,
    "window" = EXCLUDED."window"
RETURNING count
"""


def rate_take(workflow_id: int, per_min: int, now: float | None = None) -> float:
    """Count one request against the workflow's limit for this minute, in one statement that
    every server process shares; 0 when it is within the limit, else the seconds until the
    next minute (`Retry-After`)."""
    now = time.time() if now is None else now
    window = int(now // 60)
    if connection.vendor != "postgresql":
        with transaction.atomic():
            rate, _ = WebhookRate.objects.select_for_update().get_or_create(workflow_id=workflow_id)
            rate.count = rate.count + 1 if rate.window == window else 1
            rate.window = window
            rate.save()
            count = rate.count
    else:
        with connection.cursor() as cursor:
            table = connection.ops.quote_name(WebhookRate._meta.db_table)
            cursor.execute(RATE_SQL.format(table=table), [workflow_id, window])
            count = cursor.fetchone()[0]
    return 0.0 if count <= per_min else (window + 1) * 60 - now


def hook_run(hook: Hook, request: dict[str, Any], key: str) -> tuple[int, bool]:
    """Start the run this request asks for: (run id, True), or (the first run's id, False)
    when the workflow already has a run of this `Idempotency-Key` — decided by the unique
    constraint, so concurrent repeats start one run. NotRunnable when the workflow's inputs
    need values a request does not give."""
    owner = get_user_model()(pk=hook.owner_id)
    started_by = {"trigger_node": hook.node_id, "trigger_data": request, "idempotency_key": key}
    try:
        with transaction.atomic():
            run = services.run_create(
                user=owner,
                workflow_id=hook.workflow_id,
                trigger=RunTrigger.WEBHOOK,
                started_by=started_by,
            )
    except IntegrityError:
        if not key:
            raise
        first = WorkflowRun.objects.filter(workflow_id=hook.workflow_id, idempotency_key=key)
        return first.values_list("pk", flat=True).get(), False
    Trigger.objects.filter(pk=hook.trigger_id).update(last_fire_at=timezone.now())
    return run.pk, True


def run_answer(run_id: int) -> tuple[str, dict[str, Any] | None]:
    """A run's status and, once it ended, its outputs (what a sync webhook answers)."""
    status, outputs = WorkflowRun.objects.values_list("status", "outputs").get(pk=run_id)
    return status, outputs
