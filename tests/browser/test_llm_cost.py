"""What a run of llm nodes cost, on the canvas: with a price table (SWITCHYARD_LLM_PRICES, set
for the test server in conftest) the inspector shows each attempt's tokens and cost, the status
bar the run's, and the run list each run's. Tokens counted locally because the model server
reported none are marked as estimated (`(estimated)`, `~`)."""

import re

import pytest

from tests.browser.conftest import PASSWORD, PRICES
from tests.browser.gestures import at, login, node, open_editor, wait_for_run_end
from tests.browser.test_inspector import inspect
from tests.llm_server import LLMServer, Reply
from workflows import services
from workflows.models import NodeRun

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

MODEL = "priced-model"


def asking_twice(url: str) -> dict:
    def ask(node_id: str, prompt: str, x: int) -> dict:
        config = {"model": MODEL, "base_url": url, "prompt": prompt}
        return {"id": node_id, "type": "llm", "config": config, "position": at(x, 150)}

    return {
        "version": 1,
        "name": "Asks a priced model",
        "nodes": [ask("ask", "Tell me something", 100), ask("guess", "And more", 400)],
        "edges": [{"id": "e1", "source": "ask", "target": "guess"}],
    }


def cost(usage: dict) -> float:
    price = PRICES[MODEL]
    return (
        usage["prompt_tokens"] * price["prompt"] + usage["completion_tokens"] * price["completion"]
    ) / 1e6


def test_tokens_and_cost_show_in_the_inspector_the_status_bar_and_the_run_list(page, canvas_user):
    with LLMServer() as server:
        server.reply(
            Reply(text="Something worth 1,200 and 300 tokens", usage=(1200, 300)),
            Reply(text="More, from a server that counts nothing", usage=None),
        )
        workflow = services.workflow_create(owner=canvas_user, source=asking_twice(server.url))
        assert workflow.valid, workflow.errors
        login(page, "carol", PASSWORD)
        open_editor(page, workflow.pk)
        page.click("[data-testid=run-button]")
        page.wait_for_url(re.compile(rf"/workflows/{workflow.pk}/runs/(\d+)/$"))
        assert wait_for_run_end(page) == "succeeded"
    run_id = int(re.search(r"/runs/(\d+)/$", page.url).group(1))
    rows = {r.node_id: r.usage for r in NodeRun.objects.filter(run_id=run_id)}
    assert rows["ask"] == {"prompt_tokens": 1200, "completion_tokens": 300, "model": MODEL}
    guessed = rows["guess"]
    assert guessed["estimated"] is True and guessed["completion_tokens"] > 0

    panel = inspect(page, "ask")
    tokens = panel.locator("[data-testid=inspect-tokens]")
    tokens.filter(has_text="$").wait_for()
    assert tokens.inner_text() == "1,200 prompt + 300 completion tokens · $0.0060"

    panel = inspect(page, "guess")
    tokens = panel.locator("[data-testid=inspect-tokens]")
    tokens.filter(has_text="$").wait_for()
    expected = (
        f"{guessed['prompt_tokens']:,} prompt + {guessed['completion_tokens']:,} completion "
        f"tokens (estimated) · ${cost(guessed):.4f}"
    )
    assert tokens.inner_text() == expected

    total = 1500 + guessed["prompt_tokens"] + guessed["completion_tokens"]
    run_cost = f"${cost(rows['ask']) + cost(guessed):.4f}"
    summary = f"~{total:,} tokens · {run_cost}"
    status_tokens = page.locator("[data-testid=status-bar] [data-testid=run-tokens]")
    page.wait_for_function(
        "(want) => document.querySelector("
        "'[data-testid=status-bar] [data-testid=run-tokens]')?.textContent === want",
        arg=summary,
    )
    assert status_tokens.inner_text() == summary
    api = page.request.get(f"/api/runs/{run_id}/").json()
    assert api["usage"]["estimated"] is True
    assert f"${api['usage']['cost_usd']:.4f}" == run_cost

    page.click("[data-testid=back-to-editor]")
    page.wait_for_function(
        "() => document.querySelector('[data-node-id]')?.dataset.status === 'idle'"
    )
    page.click("[data-testid=history-button]")
    entry = page.locator(f"[data-testid=history-run][data-run-id='{run_id}']")
    entry.wait_for()
    assert entry.inner_text().endswith(f" · {summary}")
    assert node(page, "ask").is_visible()
