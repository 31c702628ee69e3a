"""Sticky notes (issue 17): a workflow's `notes` are saved with it, read back, exported and
imported, bounded in count, text length and size, and ignored by runs."""

import pytest

from tests.factories import chain_document
from workflows.models import Workflow

pytestmark = pytest.mark.django_db

NOTE = {"id": "note_1", "text": "Ask Sam before\nchanging the URL", "position": {"x": 5, "y": -40}}


def test_notes_are_saved_and_read_back(api):
    document = chain_document(2, notes=[{**NOTE, "size": {"width": 220, "height": 120}}])
    created = api.post("/api/workflows/", document, format="json")
    assert created.status_code == 201, created.content
    body = api.get(f"/api/workflows/{created.json()['id']}/").json()
    assert body["notes"] == [{**NOTE, "size": {"width": 220, "height": 120}}]
    assert Workflow.objects.get(pk=body["id"]).notes == body["notes"]
    body["notes"] = []
    saved = api.put(f"/api/workflows/{body['id']}/", body, format="json")
    assert saved.status_code == 200 and saved.json()["notes"] == []


def test_a_note_without_text_reads_with_empty_text_and_a_workflow_without_notes_has_none(api):
    body = api.post("/api/workflows/", chain_document(1), format="json").json()
    assert body["notes"] == []
    note = {"id": "n", "position": {"x": 0, "y": 0}}
    body = api.post("/api/workflows/", chain_document(1, notes=[note]), format="json").json()
    assert body["notes"] == [{**note, "text": ""}]


def test_export_and_import_carry_the_notes(api):
    wid = api.post("/api/workflows/", chain_document(1, notes=[NOTE]), format="json").json()["id"]
    exported = api.get(f"/api/workflows/{wid}/export/?format=yaml")
    assert exported.status_code == 200
    assert "Ask Sam before" in exported.content.decode()
    imported = api.generic(
        "POST", "/api/workflows/import/", exported.content, content_type="application/yaml"
    )
    assert imported.status_code == 201, imported.content
    assert imported.json()["notes"] == [NOTE]


@pytest.mark.parametrize(
    ("notes", "field", "message"),
    [
        ([{**NOTE, "text": "x" * 5001}], "notes[0].text", "at most 5000 characters, got 5001"),
        ([{**NOTE, "colour": "red"}], "notes[0].colour", "unknown field"),
        ([{"id": "a", "text": "no place"}], "notes[0].position", "required"),
        ([{**NOTE, "text": 3}], "notes[0].text", "must be a string"),
        (
            [{**NOTE, "size": {"width": 99999, "height": 50}}],
            "notes[0].size.width",
            "must be at most 4000, got 99999",
        ),
        ([{**NOTE, "id": f"n{i}"} for i in range(201)], "notes", "at most 200 per workflow"),
        ("a note", "notes", "must be a list"),
    ],
)
def test_bad_notes_are_refused_naming_the_field(api, notes, field, message):
    response = api.post("/api/workflows/", chain_document(1, notes=notes), format="json")
    assert response.status_code == 400, response.content
    errors = response.json()["errors"]
    assert any(e.get("field") == field and message in e["message"] for e in errors), errors


def test_a_run_ignores_the_notes(api):
    body = api.post("/api/workflows/", chain_document(2, notes=[NOTE]), format="json").json()
    assert body["valid"] is True, body["errors"]
    run = api.post(f"/api/workflows/{body['id']}/runs/", {"mode": "dry_run"}, format="json")
    assert run.status_code == 201, run.content
