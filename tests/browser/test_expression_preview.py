"""Expression preview (issue 17): a field with `{{ }}` shows its value with the last run's data."""

import pytest

from tests.browser.conftest import PASSWORD
from tests.browser.gestures import at, login, open_editor, select_node
from workflows import services

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_an_expression_field_previews_its_value_with_the_last_runs_data(page, canvas_user):
    source = {
        "version": 1,
        "name": "Preview",
        "nodes": [
            {"id": "a", "type": "transform", "config": {"output": {"n": 21}}, "position": at(0, 0)},
            {"id": "b", "type": "transform", "config": {"output": 1}, "position": at(300, 0)},
        ],
        "edges": [{"id": "e1", "source": "a", "target": "b"}],
    }
    workflow = services.workflow_create(owner=canvas_user, source=source)
    login(page, "carol", PASSWORD)
    open_editor(page, workflow.pk)
    page.click("[data-testid=run-button]")
    page.wait_for_selector("[data-testid=status-bar][data-run-status=succeeded]")
    run_id = int(page.url.rstrip("/").split("/")[-1])
    open_editor(page, workflow.pk)
    select_node(page, "b")
    page.fill("#cfg-output", "{{ a.n * 2 }} and {{ input.n }}")
    value = page.locator("[data-testid=expression-value]")
    value.wait_for()
    assert value.inner_text() == f'= "42 and 21" (last run #{run_id})'
    page.fill("#cfg-output", "{{ secrets.token }}")
    page.wait_for_function(
        "() => document.querySelector('[data-testid=expression-value]')"
        "?.textContent.startsWith('⚠ secrets may only be used')"
    )
