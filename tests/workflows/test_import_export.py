"""Import and export: every conformance scenario's workflow round-trips losslessly."""

import json
from pathlib import Path

import pytest
import yaml
from django.core.files.uploadedfile import SimpleUploadedFile

from engine import load_document
from tests.factories import chain_document, workflow_for
from workflows.models import Workflow

pytestmark = pytest.mark.django_db

CONFORMANCE = Path(__file__).resolve().parents[1] / "conformance" / "shared"
STRUCTURAL = {"duplicate_id", "missing_node"}  # what the rows cannot hold


def scenarios() -> list[Path]:
    return sorted(CONFORMANCE.glob("*.json"))


def test_the_conformance_scenarios_are_there():
    assert len(scenarios()) >= 20, f"no conformance scenarios found in {CONFORMANCE}"


def import_json(api, document):
    return api.post("/api/workflows/import/", json.dumps(document), content_type="application/json")


def export(api, workflow_id, format):
    return api.get(f"/api/workflows/{workflow_id}/export/?format={format}")


@pytest.mark.parametrize("path", scenarios(), ids=lambda path: path.stem)
def test_conformance_workflow_round_trips_through_import_and_export(api, path):
    scenario = json.loads(path.read_text())
    document = scenario["workflow"]
    response = import_json(api, document)
    expected_codes = set(scenario["expect"].get("error_codes", []))
    if expected_codes & STRUCTURAL:
        assert response.status_code == 400
        assert expected_codes <= {error["code"] for error in response.json()["errors"]}
        assert not Workflow.objects.exists()
        return
    assert response.status_code == 201, response.json()
    workflow_id = response.json()["id"]
    as_json = export(api, workflow_id, "json")
    assert json.loads(as_json.content) == load_document(document)
    as_yaml = export(api, workflow_id, "yaml")
    assert yaml.safe_load(as_yaml.content) == load_document(document)
    again = api.post("/api/workflows/import/", as_yaml.content, content_type="application/yaml")
    assert again.status_code == 201
    assert json.loads(export(api, again.json()["id"], "json").content) == load_document(document)


def test_export_is_an_attachment_named_after_the_workflow(api, user):
    workflow = workflow_for(user)
    response = export(api, workflow.pk, "yaml")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/yaml")
    assert f'filename="workflow-{workflow.pk}.yaml"' in response["Content-Disposition"]


def test_export_format_must_be_json_or_yaml(api, user):
    response = export(api, workflow_for(user).pk, "xml")
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "format"


def test_import_takes_a_yaml_file_upload(api):
    text = yaml.safe_dump(chain_document(3, name="uploaded"))
    upload = SimpleUploadedFile("flow.yaml", text.encode(), content_type="application/yaml")
    response = api.post("/api/workflows/import/", {"file": upload}, format="multipart")
    assert response.status_code == 201
    assert response.json()["name"] == "uploaded"
    assert len(response.json()["nodes"]) == 3


def test_import_of_text_that_is_not_a_document_is_refused(api):
    response = api.post("/api/workflows/import/", "just words", content_type="text/plain")
    assert response.status_code == 400
    assert response.json()["errors"][0]["code"] == "bad_document"
    broken = api.post("/api/workflows/import/", '{"nodes": [', content_type="application/json")
    assert broken.status_code == 400
    assert "JSON" in broken.json()["errors"][0]["message"]
    assert not Workflow.objects.exists()


def test_import_upload_without_a_file_names_the_field(api):
    response = api.post("/api/workflows/import/", {"other": "x"}, format="multipart")
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "file"
