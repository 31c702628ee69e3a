"""The OpenAPI description tells the truth: schemathesis (all checks, every operation, stateful
links) against a served instance finds nothing, in a short fixed-seed run (`make apicheck` is
the full one); and the mismatches it once found stay fixed."""

import subprocess
import sys
from pathlib import Path

import httpx
import pytest
import yaml
from drf_spectacular.generators import SchemaGenerator
from rest_framework.authtoken.models import Token

from tests.factories import RunFactory, chain_document, workflow_for
from tests.runtime.workers import ServerProcess

ROOT = Path(__file__).resolve().parents[2]
SHORT_RUN = ["--max-examples", "3", "--seed", "20"]


@pytest.mark.slow
def test_schemathesis_finds_no_failure_in_a_short_run():
    done = subprocess.run(
        [sys.executable, "scripts/apicheck.py", *SHORT_RUN],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=280,
    )
    assert done.returncode == 0, done.stdout[-20000:] + done.stderr[-5000:]


@pytest.fixture(scope="module")
def schema():
    return SchemaGenerator().get_schema(request=None, public=True)


def operation(schema, path: str, method: str) -> dict:
    return schema["paths"][path][method]


def query_schema(schema, path: str, method: str, name: str) -> dict:
    parameters = operation(schema, path, method)["parameters"]
    return next(p["schema"] for p in parameters if p["name"] == name and p["in"] == "query")


def integer_of(schema) -> dict:
    """An integer query parameter's number branch (the other: an empty value)."""
    number, empty = schema["anyOf"]
    assert empty == {"type": "string", "enum": [""]}
    return number


# --- the mismatches schemathesis found, one by one ----------------------------------------------


@pytest.mark.django_db
def test_node_types_are_described_as_the_list_they_are(api, schema):
    body = api.get("/api/node-types/").json()
    described = operation(schema, "/api/node-types/", "get")["responses"]["200"]
    assert isinstance(body, list)
    assert described["content"]["application/json"]["schema"]["type"] == "array"


@pytest.mark.django_db
def test_yaml_export_is_described_as_yaml(api, user, schema):
    workflow = workflow_for(user, chain_document(2))
    response = api.get(f"/api/workflows/{workflow.pk}/export/?format=yaml")
    media_type = response["Content-Type"].split(";")[0]
    described = operation(schema, "/api/workflows/{workflow_id}/export/", "get")["responses"]
    assert media_type in described["200"]["content"]


@pytest.mark.parametrize(
    "path",
    [
        "/api/runs/{run_id}/cancel/",
        "/api/runs/{run_id}/resume/",
        "/api/runs/{run_id}/nodes/{node_id}/approve/",
        "/api/runs/{run_id}/nodes/{node_id}/retry/",
    ],
)
@pytest.mark.django_db
def test_run_control_describes_its_409_with_the_error_body(schema, path):
    conflict = operation(schema, path, "post")["responses"]["409"]
    assert conflict["content"]["application/json"]["schema"]["$ref"].endswith("/ErrorBody")


@pytest.mark.django_db
def test_cancelling_an_ended_run_answers_the_described_409(api, user, schema):
    run = RunFactory(workflow=workflow_for(user, chain_document(1)), status="succeeded")
    response = api.post(f"/api/runs/{run.pk}/cancel/")
    assert response.status_code == 409
    assert "409" in operation(schema, "/api/runs/{run_id}/cancel/", "post")["responses"]


@pytest.mark.django_db
def test_events_after_is_described_with_the_bound_it_is_checked_with(api, user, schema):
    run = RunFactory(workflow=workflow_for(user, chain_document(1)))
    after = integer_of(query_schema(schema, "/api/runs/{run_id}/events/", "get", "after"))
    limit = integer_of(query_schema(schema, "/api/runs/{run_id}/events/", "get", "limit"))
    assert (after["minimum"], limit["minimum"], limit["maximum"]) == (0, 1, 1000)
    assert api.get(f"/api/runs/{run.pk}/events/?after=-1").status_code == 400
    assert api.get(f"/api/runs/{run.pk}/events/?after=0").status_code == 200
    assert api.get(f"/api/runs/{run.pk}/events/?after=").status_code == 200
    responses = operation(schema, "/api/runs/{run_id}/events/", "get")["responses"]
    assert "400" in responses


@pytest.mark.django_db
def test_run_list_is_described_as_the_page_it_answers(api, schema):
    body = api.get("/api/runs/").json()
    described = operation(schema, "/api/runs/", "get")["responses"]["200"]
    ref = described["content"]["application/json"]["schema"]["$ref"]
    properties = schema["components"]["schemas"][ref.rsplit("/", 1)[1]]["properties"]
    assert set(body) == set(properties) == {"count", "next", "previous", "results"}
    page_size = integer_of(query_schema(schema, "/api/runs/", "get", "page_size"))
    assert (page_size["minimum"], page_size["maximum"]) == (1, 500)


@pytest.mark.django_db
def test_an_unknown_lang_on_the_schema_is_refused_with_the_error_body(api):
    response = api.get("/api/schema/?lang=xx-nowhere")
    assert response.status_code == 400
    assert response["Content-Type"].startswith("application/json")
    assert response.json()["errors"][0]["field"] == "lang"
    assert api.get("/api/schema/?lang=de").status_code == 200


@pytest.mark.django_db
def test_the_api_takes_json_bodies_only_except_the_import(api, user, schema):
    workflow = workflow_for(user, chain_document(1))
    form = api.post(f"/api/workflows/{workflow.pk}/runs/", {"mode": "normal"}, format="multipart")
    assert form.status_code == 415
    for path, operations in schema["paths"].items():
        for method, described in operations.items():
            media_types = set(described.get("requestBody", {}).get("content", {}))
            # /hooks/{token}/ is not the API: a webhook takes what its senders send (SPEC §8)
            if path.startswith("/api/") and path != "/api/workflows/import/":
                assert media_types <= {"application/json"}, (method, path, media_types)


@pytest.mark.django_db
def test_a_run_request_that_is_not_an_object_is_refused(api, user):
    workflow = workflow_for(user, chain_document(1))
    for body in ("null", "[]", "3"):
        url = f"/api/workflows/{workflow.pk}/runs/"
        response = api.post(url, body, content_type="application/json")
        assert response.status_code == 400, body
        validate = f"/api/workflows/{workflow.pk}/validate/"
        assert api.post(validate, body, content_type="application/json").status_code == 400


@pytest.mark.django_db
def test_every_operation_describes_its_error_answers(schema):
    for path, operations in schema["paths"].items():
        for method, described in operations.items():
            responses = described["responses"]
            if described.get("security") != [{}]:
                assert {"401", "403"} <= set(responses), (method, path)
            if "{" in path:
                assert "404" in responses, (method, path)
            if "requestBody" in described:
                assert {"400", "413", "415"} <= set(responses), (method, path)


@pytest.mark.django_db
def test_strict_bodies_are_described_as_closed(schema):
    components = schema["components"]["schemas"]
    for name in ("RunCreate", "Sharing", "Retry", "Approve", "Rerun", "PatchedWorkflowPatch"):
        assert components[name]["additionalProperties"] is False, name


@pytest.mark.django_db
def test_a_multipart_import_may_carry_the_document_as_a_plain_part(api):
    text = yaml.safe_dump(chain_document(2))
    response = api.post("/api/workflows/import/", {"file": text}, format="multipart")
    assert response.status_code == 201, response.content


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_a_served_malformed_multipart_import_gets_the_json_error_body(user):
    token = Token.objects.create(user=user).key
    server = ServerProcess()
    try:
        response = httpx.post(
            f"http://127.0.0.1:{server.port}/api/workflows/import/",
            content=b"--abc--\r\n",
            headers={
                "Authorization": f"Token {token}",
                "Content-Type": "multipart/form-data; boundary=abc",
            },
        )
    finally:
        server.stop()
    assert response.status_code == 400
    assert response.headers["Content-Type"].startswith("application/json")
    assert response.json()["errors"][0]["field"] == "file"


@pytest.mark.django_db
def test_free_values_are_described_with_the_64_bit_integers_the_parser_takes(api, user, schema):
    integer = schema["components"]["schemas"]["JsonValue"]["anyOf"][2]
    assert (integer["minimum"], integer["maximum"]) == (-(2**63 - 1), 2**63 - 1)
    inputs = schema["components"]["schemas"]["RunCreate"]["properties"]["inputs"]
    assert inputs["additionalProperties"]["$ref"].endswith("/JsonValue")
    workflow = workflow_for(user, chain_document(1))
    url = f"/api/workflows/{workflow.pk}/validate/"
    assert api.post(url, {"variables": {"big": 2**64}}, format="json").status_code == 400


@pytest.mark.django_db
def test_a_document_is_described_by_the_shape_it_is_refused_for_not_a_drafts_rules(api, schema):
    position = schema["components"]["schemas"]["Position"]["properties"]["y"]
    assert "maximum" not in position
    node = {"id": "a", "type": "approval", "position": {"x": 0, "y": 10**8}}
    response = api.post("/api/workflows/", {"nodes": [node]}, format="json")
    assert response.status_code == 201
    assert response.json()["valid"] is False


@pytest.mark.django_db
def test_a_created_run_links_to_the_operations_taking_its_id(schema):
    created = operation(schema, "/api/workflows/{workflow_id}/runs/", "post")["responses"]["201"]
    targets = {link["operationId"]: link["parameters"] for link in created["links"].values()}
    cancel = operation(schema, "/api/runs/{run_id}/cancel/", "post")["operationId"]
    assert targets[cancel] == {"run_id": "$response.body#/id"}
