"""What `make apicheck` serves before schemathesis starts (run by scripts/apicheck.py with the
throw-away database's environment): a user with an API token, an empty workflow, and runs in
the states the node-level control operations act on — two waiting at an approval, one failed —
an active webhook, and a workflow whose last run succeeded (pin and test one node).
Prints one JSON line: the token and the runs' ids by the APICHECK_* names schemathesis.toml reads.
"""

from __future__ import annotations

import io
import itertools
import json
import sys
from pathlib import Path

import django

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
django.setup()

from django.contrib.auth import get_user_model  # noqa: E402
from django.core.management import call_command  # noqa: E402
from rest_framework.authtoken.models import Token  # noqa: E402

from workflows import services, triggers  # noqa: E402
from workflows.models import Trigger, WorkflowRun  # noqa: E402

START = {"id": "start", "type": "start"}
ASK = {"id": "ask", "type": "approval", "config": {"prompt": "go on?"}}
BOOM = {"id": "boom", "type": "transform", "config": {"output": "{{ 1 / 0 }}"}}
LATER = {"id": "later", "type": "transform", "config": {"output": 1}}
HOOK = {"id": "hook", "type": "webhook", "config": {"method": "POST", "response": "async"}}


def run(owner, name: str, nodes: list[dict]) -> int:
    """Save a chain of `nodes` and run it in-process (`run_workflow`); its run's id."""
    edges = [
        {"id": f"e{i}", "source": a["id"], "target": b["id"]}
        | ({"source_handle": "approved"} if a["type"] == "approval" else {})
        for i, (a, b) in enumerate(itertools.pairwise(nodes))
    ]
    source = {"name": name, "nodes": nodes, "edges": edges}
    workflow = services.workflow_create(owner=owner, source=source)
    out = io.StringIO()
    try:
        call_command(
            "run_workflow", str(workflow.pk), "--owner", owner.username, "--json", stdout=out
        )
    except SystemExit:  # a run that does not succeed exits non-zero; its report is printed
        pass
    return json.loads(out.getvalue())["run"]


def main() -> None:
    user = get_user_model().objects.create_user(username="apicheck", password="apicheck-pw-1")
    services.workflow_create(owner=user, source={"name": "apicheck", "nodes": [], "edges": []})
    seeds = {
        "APICHECK_PAUSED_RUN": run(user, "waits for approval", [START, ASK]),
        "APICHECK_PAUSED_RUN_2": run(user, "waits for approval too", [START, ASK, LATER]),
        "APICHECK_FAILED_RUN": run(user, "fails", [START, BOOM]),
    }
    seeds["APICHECK_HOOK_WORKFLOW"], seeds["APICHECK_HOOK"] = webhook(user)
    done = run(user, "succeeds", [START, LATER])  # its `later` can be pinned and tested
    seeds["APICHECK_DONE_WORKFLOW"] = WorkflowRun.objects.get(pk=done).workflow_id
    print(json.dumps({"token": Token.objects.create(user=user).key, **seeds}))


def webhook(owner) -> tuple[int, str]:
    """An active workflow with a webhook node `hook`: its id and the webhook's token (what
    `/hooks/{token}/` takes)."""
    source = {
        "name": "hooked",
        "nodes": [HOOK, LATER],
        "edges": [{"id": "e1", "source": "hook", "target": "later"}],
    }
    workflow = services.workflow_create(owner=owner, source=source)
    triggers.workflow_activate(user=owner, workflow_id=workflow.pk)
    return workflow.pk, Trigger.objects.get(workflow=workflow, node_id="hook").token


if __name__ == "__main__":
    main()
