"""An llm node on the canvas: its answer grows in the inspector while the model streams it,
and the inspector then shows the whole text and the tokens the attempt used; the status bar
shows the run's token total, live and again when the finished run is opened later."""

import re

import pytest

from tests.browser.conftest import PASSWORD
from tests.browser.gestures import at, login, node, open_editor, wait_for_run_end
from tests.browser.test_inspector import inspect
from tests.llm_server import LLMServer, Reply
from workflows import services
from workflows.models import NodeRun

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WORDS = [f"word{i} " for i in range(80)]


def asking(url: str) -> dict:
    config = {"model": "test-model", "base_url": url, "prompt": "Tell me something"}
    return {
        "version": 1,
        "name": "Asks a model",
        "nodes": [{"id": "ask", "type": "llm", "config": config, "position": at(200, 150)}],
        "edges": [],
    }


def test_the_inspector_shows_the_answer_growing_and_then_its_tokens(page, canvas_user):
    with LLMServer() as server:
        server.reply(Reply(chunks=WORDS, delay_s=0.05, usage=(11, 80)))
        workflow = services.workflow_create(owner=canvas_user, source=asking(server.url))
        assert workflow.valid, workflow.errors
        login(page, "carol", PASSWORD)
        open_editor(page, workflow.pk)
        page.click("[data-testid=run-button]")
        page.wait_for_url(re.compile(rf"/workflows/{workflow.pk}/runs/\d+/$"))
        panel = inspect(page, "ask")
        text = panel.locator("[data-testid=inspect-stream-text]")
        text.wait_for()
        assert node(page, "ask").get_attribute("data-status") == "running"
        early = text.inner_text()
        assert early and "".join(WORDS).startswith(early)
        assert wait_for_run_end(page) == "succeeded"
        page.locator("[data-testid=inspect-tokens]").wait_for()
        assert text.inner_text().strip() == "".join(WORDS).strip()
        assert len(text.inner_text()) > len(early)
        tokens = panel.locator("[data-testid=inspect-tokens]").inner_text()
        assert tokens == "11 prompt + 80 completion tokens"
        row = NodeRun.objects.get(run__workflow=workflow, node_id="ask")
        assert row.output["text"] == "".join(WORDS)
        status_tokens = page.locator("[data-testid=status-bar] [data-testid=run-tokens]")
        assert status_tokens.inner_text() == "91 tokens"
        page.reload()  # the finished run opened afresh: the same total from its events and read
        page.locator("[data-testid=status-bar][data-run-status=succeeded]").wait_for()
        assert status_tokens.inner_text() == "91 tokens"
