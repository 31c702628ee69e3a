"""The OpenAPI schema is valid and documents every endpoint; the docs page is served."""

import pytest
import yaml
from drf_spectacular.drainage import GENERATOR_STATS
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.validation import validate_schema

pytestmark = pytest.mark.django_db


def test_schema_generates_without_warnings_and_validates():
    GENERATOR_STATS.reset()
    schema = SchemaGenerator().get_schema(request=None, public=True)
    validate_schema(schema)
    assert dict(GENERATOR_STATS._warn_cache) == {}
    assert dict(GENERATOR_STATS._error_cache) == {}
    paths = set(schema["paths"])
    assert {
        "/api/workflows/",
        "/api/workflows/{workflow_id}/",
        "/api/workflows/{workflow_id}/runs/",
        "/api/runs/{run_id}/events/",
        "/api/node-types/",
    } <= paths
    run = schema["components"]["schemas"]["Run"]["properties"]
    assert {"stalled", "would_run", "placeholders", "parent_run", "child_runs"} <= set(run)
    assert "dry_run" in schema["components"]["schemas"]["NodeReport"]["properties"]


def test_schema_and_docs_are_served_to_a_logged_in_user(api):
    response = api.get("/api/schema/")
    assert response.status_code == 200
    assert yaml.safe_load(response.content)["info"]["title"] == "Switchyard API"
    assert api.get("/api/docs/").status_code == 200
