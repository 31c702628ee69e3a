"""Trigger nodes (SPEC §8): `webhook` and `schedule`. A trigger has no input handle; it is
where a run started by it begins, and its output is what started the run (the request, the
fire time). The runtime says which trigger started a run (`ExecutionOptions.trigger`:
`{"node", "data"}`); the execution skips every other trigger node ("not this run's
trigger"). A run nobody's trigger started (the canvas, the API, the CLI) runs `start` nodes
and skips `webhook` and `schedule` ones."""

from __future__ import annotations

from typing import Any

from engine import schedule
from engine.handlers.base import Handler, HandlerContext, HandlerResult, NodeError, object_schema

# The node types that begin a run; `start` is the manual one (engine/handlers/flow.py).
TRIGGER_TYPES = frozenset({"start", "webhook", "schedule"})
NOT_THIS_TRIGGER = "not this run's trigger"

WEBHOOK_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
MAX_SYNC_TIMEOUT_S = 300
MAX_BODY_BYTES = 10 << 20
DEFAULT_BODY_BYTES = 1 << 20
MAX_RATE_PER_MIN = 100_000
DEFAULT_RATE_PER_MIN = 600
MAX_CATCH_UP = 1000
SECRET_NAME = "^[A-Za-z_][A-Za-z0-9_]{0,127}$"


def fired_node(settings: dict[str, Any]) -> str | None:
    """The id of the trigger node that started this run, if one did."""
    trigger = settings.get("trigger") or {}
    return trigger.get("node") or None


def skips(node_type: str, fired: str | None, node_id: str) -> bool:
    """Whether a root node of this type does not run in a run `fired` started."""
    if node_type not in TRIGGER_TYPES:
        return False
    if fired is None:
        return node_type != "start"
    return node_id != fired


class Trigger(Handler):
    """A node a run begins at: its output is what the trigger received."""

    category = "Triggers"
    inputs = ()
    side_effects = False
    replayable = True

    async def run(self, ctx: HandlerContext) -> HandlerResult:
        trigger = ctx.settings.get("trigger") or {}
        if trigger.get("node") != ctx.node_id:
            raise NodeError(f"{ctx.node_id}: {NOT_THIS_TRIGGER}", "not_triggered")
        return HandlerResult(trigger.get("data"))


class Webhook(Trigger):
    type = "webhook"
    label = "Webhook"
    description = "Starts a run when its URL receives a request; outputs the request."
    icon = "webhook"
    color = "#0d9488"
    config_schema = object_schema(
        {
            "method": {"enum": list(WEBHOOK_METHODS), "default": "POST"},
            "response": {"enum": ["async", "sync"], "default": "async"},
            "sync_timeout_s": {
                "type": "number",
                "exclusiveMinimum": 0,
                "maximum": MAX_SYNC_TIMEOUT_S,
                "default": 30,
            },
            "secret": {
                "type": "string",
                "pattern": SECRET_NAME,
                "description": "name of the secret that signs requests (HMAC-SHA256)",
            },
            "signature_header": {
                "type": "string",
                "pattern": "^[A-Za-z0-9-]{1,64}$",
                "default": "X-Signature-256",
                "description": "holds sha256=<hex digest of the body>",
            },
            "max_body_bytes": {
                "type": "integer",
                "minimum": 1,
                "maximum": MAX_BODY_BYTES,
                "default": DEFAULT_BODY_BYTES,
            },
            "rate_per_min": {
                "type": "integer",
                "minimum": 1,
                "maximum": MAX_RATE_PER_MIN,
                "default": DEFAULT_RATE_PER_MIN,
            },
        }
    )


class Schedule(Trigger):
    type = "schedule"
    label = "Schedule"
    description = "Starts a run on a cron schedule or every N seconds; outputs the fire time."
    icon = "clock"
    color = "#0284c7"
    config_schema = object_schema(
        {
            "cron": {
                "type": "string",
                "maxLength": schedule.MAX_CRON_LENGTH,
                "description": "5 fields: minute hour day month weekday, e.g. */5 * * * *",
            },
            "every_s": {
                "type": "integer",
                "minimum": schedule.MIN_EVERY_S,
                "maximum": schedule.MAX_EVERY_S,
            },
            "timezone": {"type": "string", "maxLength": 64, "default": "UTC"},
            "misfire": {"enum": ["skip", "catch_up"], "default": "skip"},
            "catch_up_max": {
                "type": "integer",
                "minimum": 1,
                "maximum": MAX_CATCH_UP,
                "default": 10,
            },
            "overlap": {"enum": ["skip", "allow", "queue"], "default": "skip"},
        }
    )

    def config_problems(self, config: dict[str, Any]) -> list[tuple[str, str]]:
        """What the schema cannot say: exactly one of cron / every_s, a cron that parses, a
        known time zone."""
        return schedule.config_problems(config)
