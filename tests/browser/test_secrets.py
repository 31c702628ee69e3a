"""The Secrets screen (SPEC §8): the owner adds a named secret from the canvas, sees it listed
as `••••` (the value appears nowhere on the page, nor in its input after saving), gets the
API's 400 for a bad name, replaces the value, and deletes it after confirming; PostgreSQL
holds what they see."""

import pytest

from tests.browser.conftest import PASSWORD
from tests.browser.gestures import login
from workflows.models import Secret

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

VALUE = "sk-live-Zq81-never-shown"
NEW_VALUE = "sk-live-rotated-Pp02"


def test_add_list_masked_and_delete_a_secret(page, canvas_user):
    login(page, "carol", PASSWORD)
    page.click("[data-testid=secrets-link]")
    page.wait_for_url("**/secrets/")
    page.wait_for_selector("[data-testid=no-secrets]")

    page.fill("[data-testid=secret-name]", "9bad")
    page.fill("[data-testid=secret-value-input]", VALUE)
    page.click("[data-testid=secret-save]")
    error = page.wait_for_selector("[data-testid=secret-form-error]")
    # the API's 400, naming the field (nothing stored)
    assert "name: 1 to 64 letters" in error.inner_text()
    assert "starting with a letter or '_'" in error.inner_text()
    assert page.get_attribute("[data-testid=secret-name]", "aria-invalid") == "true"
    assert page.get_attribute("[data-testid=secret-value-input]", "type") == "password"
    assert not Secret.objects.filter(owner=canvas_user).exists()

    page.fill("[data-testid=secret-name]", "OPENAI_KEY")
    page.click("[data-testid=secret-save]")
    row = page.wait_for_selector("[data-testid=secret-row][data-name=OPENAI_KEY]")
    assert row.query_selector("[data-testid=secret-value]").inner_text() == "••••"
    assert page.input_value("[data-testid=secret-value-input]") == ""
    assert VALUE not in page.content()
    assert list(Secret.objects.filter(owner=canvas_user).values_list("name", flat=True)) == [
        "OPENAI_KEY"
    ]

    page.reload()
    page.wait_for_selector("[data-testid=secret-row][data-name=OPENAI_KEY]")
    assert VALUE not in page.content()

    # replace: the same name, a new value (still never shown)
    before = Secret.objects.get(owner=canvas_user)
    page.click("[data-testid=secret-row][data-name=OPENAI_KEY] [data-testid=secret-replace]")
    assert page.input_value("[data-testid=secret-name]") == "OPENAI_KEY"
    page.fill("[data-testid=secret-value-input]", NEW_VALUE)
    page.click("[data-testid=secret-save]")
    page.wait_for_function("() => !document.querySelector('[data-testid=secret-name]').readOnly")
    after = Secret.objects.get(owner=canvas_user)  # one row, re-encrypted with the new value
    assert (after.pk, after.created_at) == (before.pk, before.created_at)
    assert after.ciphertext != before.ciphertext and after.updated_at > before.updated_at
    assert VALUE not in page.content() and NEW_VALUE not in page.content()

    page.click("[data-testid=secret-row][data-name=OPENAI_KEY] [data-testid=secret-delete]")
    page.wait_for_selector("[data-testid=confirm-delete-secret]")
    assert Secret.objects.filter(owner=canvas_user).exists()  # nothing gone before confirming
    page.click("[data-testid=confirm-delete-secret-button]")
    page.wait_for_selector("[data-testid=no-secrets]")
    assert not Secret.objects.filter(owner=canvas_user).exists()
