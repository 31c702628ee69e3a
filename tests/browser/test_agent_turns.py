"""An agent llm node in the inspector: each model turn is its own entry — turn 1 asked for one
workflow (its arguments shown, linked to the child run it started), turn 2 for another, turn 3
answered — read from what the engine recorded (output.tool_calls[].turn, child runs)."""

import re

import pytest

from tests.browser.conftest import PASSWORD
from tests.browser.gestures import at, login, open_editor, wait_for_run_end
from tests.browser.test_inspector import inspect
from tests.llm_server import LLMServer, Reply
from workflows import services
from workflows.models import WorkflowRun

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def child(name: str, expression: str) -> dict:
    return {
        "version": 1,
        "name": name,
        "inputs": {"x": {"type": "integer", "default": 0}},
        "nodes": [{"id": "out", "type": "output", "config": {"value": expression}}],
        "edges": [],
    }


def test_each_agent_turn_is_an_entry_linked_to_its_child_run(page, canvas_user):
    double = services.workflow_create(
        owner=canvas_user, source=child("double", "{{ inputs.x * 2 }}")
    )
    square = services.workflow_create(
        owner=canvas_user, source=child("square", "{{ inputs.x ** 2 }}")
    )
    with LLMServer() as server:
        server.reply(
            Reply(
                tool_calls=[{"id": "a", "name": f"workflow_{double.pk}", "arguments": {"x": 21}}]
            ),
            Reply(tool_calls=[{"id": "b", "name": f"workflow_{square.pk}", "arguments": {"x": 9}}]),
            Reply(text="42 and 81"),
        )
        config = {
            "model": "m",
            "base_url": server.url,
            "prompt": "compute",
            "tools": [double.pk, square.pk],
        }
        source = {
            "version": 1,
            "name": "Agent",
            "nodes": [{"id": "ask", "type": "llm", "config": config, "position": at(200, 150)}],
            "edges": [],
        }
        workflow = services.workflow_create(owner=canvas_user, source=source)
        assert workflow.valid, workflow.errors
        login(page, "carol", PASSWORD)
        open_editor(page, workflow.pk)
        page.click("[data-testid=run-button]")
        page.wait_for_url(re.compile(rf"/workflows/{workflow.pk}/runs/\d+/$"))
        assert wait_for_run_end(page) == "succeeded"
    run = WorkflowRun.objects.get(workflow=workflow)
    children = {c.workflow_id: c.pk for c in WorkflowRun.objects.filter(parent_run=run)}
    panel = inspect(page, "ask")
    turns = panel.locator("[data-testid=agent-turn]")
    panel.locator("[data-testid=agent-turn][data-turn='3']").wait_for()
    texts = turns.all_inner_texts()
    assert len(texts) == 3
    assert texts[0].startswith("turn 1:") and f'workflow {double.pk} ({{"x":21}})' in texts[0]
    assert texts[1].startswith("turn 2:") and f'workflow {square.pk} ({{"x":9}})' in texts[1]
    assert texts[2] == "turn 3: the model answered"
    first = turns.nth(0).locator("[data-testid=agent-child-link]")
    assert first.get_attribute("data-run-id") == str(children[double.pk])
    second = turns.nth(1).locator("[data-testid=agent-child-link]")
    assert second.get_attribute("data-run-id") == str(children[square.pk])
    second.click()
    page.wait_for_url(f"**/workflows/{square.pk}/runs/{children[square.pk]}/")
