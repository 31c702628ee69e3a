"""Expression preview (issue 17, "Also build"): a `{{ }}` template (or a bare expression) as it
would render for a node, against the data of the workflow's last run: the run's inputs, the
document's variables, each node's output in that run, and the node's own input then. A
webhook's test event captured after that run (docs/triggers.md, "Listen for a test event")
stands for the webhook's output, so the nodes after it are built against a real request.

Secrets and the server's environment are never in the preview's scope (reading `secrets` fails
as in any field that does not send them); the value is cut to `PREVIEW_CHARS` as JSON.
"""

from __future__ import annotations

import json
import re
from typing import Any

from engine.expressions import ExpressionError, evaluate, render
from engine.scope import Scope
from workflows.errors import SwitchyardError, problem
from workflows.models import NodeRun, WebhookListen, Workflow, WorkflowRun
from workflows.observability.timeline import latest_rows

TEMPLATE_MAX_CHARS = 10_000
PREVIEW_CHARS = 2_000
NODE_ID = re.compile(r"^[a-z][a-z0-9_]{0,63}$")


def checked_request(body: dict[str, Any]) -> tuple[str, str | None, bool]:
    """(template, node, bare) from a request body, or a 400 naming the field that is wrong."""
    unknown = sorted(set(body) - {"template", "node", "bare"})
    if unknown:
        raise SwitchyardError(
            [problem("unknown_field", f"{name}: unknown field", field=name) for name in unknown]
        )
    template, node, bare = body.get("template"), body.get("node"), body.get("bare", False)
    if not isinstance(template, str) or len(template) > TEMPLATE_MAX_CHARS:
        message = f"template: a string of at most {TEMPLATE_MAX_CHARS} characters"
        raise SwitchyardError([problem("bad_field", message, field="template")])
    if "node" in body and (not isinstance(node, str) or not NODE_ID.match(node)):
        message = "node: a node id (a lowercase letter, then letters, digits or _; at most 64)"
        raise SwitchyardError([problem("bad_field", message, field="node")])
    if not isinstance(bare, bool):
        raise SwitchyardError([problem("bad_field", "bare: true or false", field="bare")])
    return template, node, bare


def test_events(workflow: Workflow, run: WorkflowRun | None) -> dict[str, Any]:
    """Webhook node id → the test event captured for it after `run` (any, without a run)."""
    rows = WebhookListen.objects.filter(trigger__workflow=workflow, captured_at__isnull=False)
    if run is not None:
        rows = rows.filter(captured_at__gt=run.created_at)
    return dict(rows.values_list("trigger__node_id", "capture"))


def last_run(workflow: Workflow) -> WorkflowRun | None:
    return WorkflowRun.objects.filter(workflow=workflow).order_by("-created_at", "-id").first()


def preview(workflow: Workflow, template: str, node: str | None, bare: bool) -> dict[str, Any]:
    """`{"run", "value", "text", "truncated"}` or `{"run", "error"}`; `run` null when the
    workflow has no run yet (then only inputs' defaults are unknown: names read as missing)."""
    run = last_run(workflow)
    rows = list(NodeRun.objects.filter(run=run)) if run else []
    latest = latest_rows(rows)
    outputs = {node_id: row.output for node_id, row in latest.items()}
    outputs.update(test_events(workflow, run))
    document = run.ran_document if run else {}
    fixed = {
        "inputs": (run.inputs if run else None) or {},
        "vars": document.get("variables") or {},
        "run": {"id": run.pk if run else None},
        "env": {},
        "secrets": {},
    }
    own = latest.get(node) if node else None
    scope = Scope(fixed, outputs, node or "", own.attempt if own else 1, own.input if own else None)
    run_id = run.pk if run else None
    try:
        value = evaluate(template, scope) if bare else render(template, scope)
    except ExpressionError as exc:
        return {"run": run_id, "error": str(exc)}
    text = json.dumps(value, ensure_ascii=False, default=str)
    cut = len(text) > PREVIEW_CHARS
    return {
        "run": run_id,
        "value": None if cut else value,
        "text": text[: PREVIEW_CHARS - 1] + "…" if cut else text,
        "truncated": cut,
    }
