"""import_workflow, export_workflow and seed_demo."""

import json
from io import StringIO

import pytest
import yaml
from django.core.management import CommandError, call_command

from engine import load_document
from tests.factories import chain_document, workflow_for
from workflows.management.commands.seed_demo import demo_files
from workflows.models import Workflow

pytestmark = pytest.mark.django_db


def run(*args) -> str:
    out = StringIO()
    call_command(*args, stdout=out, stderr=StringIO())
    return out.getvalue()


def test_import_prints_the_new_id_and_export_gives_the_document_back(tmp_path, user):
    document = chain_document(4, name="from a file")
    path = tmp_path / "flow.json"
    path.write_text(json.dumps(document))
    workflow_id = int(run("import_workflow", str(path), "--owner", "alice"))
    assert Workflow.objects.get(pk=workflow_id).owner == user
    assert json.loads(run("export_workflow", str(workflow_id))) == load_document(document)
    exported = run("export_workflow", str(workflow_id), "--format", "yaml")
    assert yaml.safe_load(exported) == load_document(document)


def test_import_reads_yaml_files(tmp_path, user):
    path = tmp_path / "flow.yml"
    path.write_text(yaml.safe_dump(chain_document(2, name="yaml flow")))
    workflow_id = int(run("import_workflow", str(path), "--owner", "alice"))
    assert Workflow.objects.get(pk=workflow_id).name == "yaml flow"


def test_import_refuses_a_structurally_broken_file_with_its_codes(tmp_path, user):
    document = chain_document(2)
    document["nodes"].append({"id": "n0", "type": "transform"})
    path = tmp_path / "dup.json"
    path.write_text(json.dumps(document))
    with pytest.raises(CommandError, match="duplicate_id"):
        run("import_workflow", str(path), "--owner", "alice")
    assert not Workflow.objects.exists()


def test_import_names_a_missing_file_or_owner(tmp_path, user):
    with pytest.raises(CommandError, match="no such file"):
        run("import_workflow", str(tmp_path / "nope.json"), "--owner", "alice")
    path = tmp_path / "flow.json"
    path.write_text(json.dumps(chain_document(1)))
    with pytest.raises(CommandError, match="no user named 'zed'"):
        run("import_workflow", str(path), "--owner", "zed")


def test_export_of_an_unknown_id_is_an_error():
    with pytest.raises(CommandError, match="no workflow with id 999"):
        run("export_workflow", "999")


def test_seed_demo_creates_valid_demo_workflows_once():
    run("seed_demo")
    names = sorted(Workflow.objects.filter(owner__username="demo").values_list("name", flat=True))
    assert len(names) >= 5
    assert len(names) == len(demo_files())
    invalid = {w.name: w.errors for w in Workflow.objects.filter(valid=False)}
    assert invalid == {}
    run("seed_demo")
    assert Workflow.objects.filter(owner__username="demo").count() == len(names)


def test_seed_demo_shows_the_promised_features():
    run("seed_demo")
    types = set()
    handles = set()
    for workflow in Workflow.objects.all():
        types.update(workflow.nodes.values_list("type", flat=True))
        handles.update(workflow.edges.values_list("source_handle", flat=True))
    assert {"http", "condition", "merge", "error"} <= types
    assert {"error", "true", "false"} <= handles


def test_demo_export_is_owned_by_the_demo_user_only(user):
    workflow = workflow_for(user)
    run("seed_demo")
    assert Workflow.objects.filter(owner=user).get() == workflow
