"""Typed outputs through real workers on PostgreSQL (issue 18): an output that does not match
its node's `output_schema` fails the node with `invalid_output` in its row and the run; a dry
run's side-effect node with a declared schema gets a stand-in of that shape, which the nodes
after it read; the API's validation names a path the schema rules out."""

from __future__ import annotations

import pytest
from django.test import Client

from tests.runtime.test_subworkflows import ended, node_row, save
from tests.runtime.test_worker import workers  # noqa: F401 (fixture)
from workflows import services
from workflows.models import RunMode

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow, pytest.mark.timeout(120)]

ORDER = {
    "type": "object",
    "properties": {"id": {"type": "integer"}, "lines": {"type": "array", "minItems": 1}},
    "required": ["id"],
    "additionalProperties": False,
}


def typed_document(output, *, first_type="transform", read="{{ order.id + 1 }}") -> dict:
    config = {"output": output} if first_type == "transform" else {"url": "https://example.com"}
    return {
        "version": 1,
        "name": "typed",
        "nodes": [
            {"id": "order", "type": first_type, "config": config, "output_schema": ORDER},
            {"id": "next", "type": "transform", "config": {"output": read}},
        ],
        "edges": [{"id": "e1", "source": "order", "target": "next"}],
    }


def test_an_output_not_matching_its_schema_fails_the_node_on_a_worker(user, workers):  # noqa: F811
    workers()
    workflow_id = save(user, typed_document({"id": "seven"}))
    run = ended(services.run_create(user=user, workflow_id=workflow_id).pk)
    assert run.status == "failed"
    row = node_row(run.pk, "order")
    assert row.status == "failed" and row.error["type"] == "invalid_output"
    assert "output.id: 'seven' is not of type 'integer'" in row.error["message"]
    assert node_row(run.pk, "next").status == "upstream_failed"
    workflow_id = save(user, typed_document({"id": 7, "lines": [1]}))
    run = ended(services.run_create(user=user, workflow_id=workflow_id).pk)
    assert run.status == "succeeded" and node_row(run.pk, "next").output == 8


def test_a_dry_run_reads_a_stand_in_of_the_declared_shape(user, workers):  # noqa: F811
    workers()
    workflow_id = save(user, typed_document(None, first_type="http"))
    run = services.run_create(user=user, workflow_id=workflow_id, mode=RunMode.DRY_RUN)
    run = ended(run.pk)
    assert run.status == "succeeded", run.error
    assert node_row(run.pk, "order").output == {"id": 0, "lines": [None]}
    assert node_row(run.pk, "next").output == 1


def test_validation_names_a_path_the_upstream_schema_rules_out(user):
    workflow = services.workflow_create(
        owner=user, source=typed_document({"id": 1}, read="{{ order.customer.name }}")
    )
    assert workflow.valid is False
    client = Client()
    client.force_login(user)
    errors = client.post(f"/api/workflows/{workflow.pk}/validate/", {}, "application/json").json()
    (found,) = [e for e in errors["errors"] if e["code"] == "bad_reference"]
    assert (found["node"], found["field"]) == ("next", "config.output")
    assert "order.customer.name" in found["message"]
    assert "no property 'customer'" in found["message"]
