"""No endpoint answers 500 to a malformed body: every write endpoint of SPEC §6 takes a set of
wrong shapes and types and answers a 4xx in the SPEC's error shape (issue 13, defect 7)."""

import json

import pytest

from tests.factories import RunFactory, chain_document, workflow_for
from workflows import selectors

# Committed rows: control endpoints settle a run on the runtime's own database threads.
pytestmark = pytest.mark.django_db(transaction=True)

BODIES = [
    "[]",
    '"text"',
    "5",
    "null",
    "true",
    '{"inputs": 5}',
    '{"inputs": []}',
    '{"inputs": {"x": {"y": [1, null, "z"]}}}',
    '{"mode": 5}',
    '{"mode": "warp"}',
    '{"from_node": 5}',
    '{"from_node": "nope"}',
    '{"config": "x"}',
    '{"config": {"output": "{{ "}}',
    '{"action": "explode"}',
    '{"approved": "maybe"}',
    '{"approved": true, "iteration": 5}',
    '{"approved": true, "iteration": "M[99999999999999999999]"}',
    '{"shared_with": [1]}',
    '{"shared_with": "bob"}',
    '{"name": ["x"]}',
    '{"name": "' + "x" * 5000 + '"}',
    '{"nodes": 5}',
    '{"nodes": [5]}',
    '{"nodes": [{"id": 5, "type": []}]}',
    '{"nodes": [{"id": "a", "type": "transform", "position": {"x": "1", "y": null}}]}',
    '{"nodes": [{"id": "a", "type": "transform", "size": {"width": -1, "height": 1e308}}]}',
    '{"nodes": [{"id": "a", "type": "transform", "timeout_s": 1e308, "retry": 5}]}',
    '{"nodes": [{"id": "' + "a" * 500 + '", "type": "transform"}]}',
    '{"edges": [{"source": 1}]}',
    '{"edges": [{"source": "a", "target": "b", "id": []}]}',
    '{"revision": 99999999999999999999}',
    '{"revision": 9223372036854775807}',
    '{"revision": -1}',
    '{"revision": true}',
    '{"username": 5, "password": null}',
    '{"username": "alice", "password": "' + "p" * 10000 + '"}',
]


def endpoints(workflow_id: int, run_id: int) -> list[tuple[str, str]]:
    return [
        ("post", "/api/workflows/"),
        ("put", f"/api/workflows/{workflow_id}/"),
        ("patch", f"/api/workflows/{workflow_id}/"),
        ("post", f"/api/workflows/{workflow_id}/validate/"),
        ("post", f"/api/workflows/{workflow_id}/runs/"),
        ("put", f"/api/workflows/{workflow_id}/sharing/"),
        ("post", "/api/workflows/import/"),
        ("post", f"/api/runs/{run_id}/cancel/"),
        ("post", f"/api/runs/{run_id}/resume/"),
        ("post", f"/api/runs/{run_id}/rerun/"),
        ("post", f"/api/runs/{run_id}/nodes/n0/approve/"),
        ("post", f"/api/runs/{run_id}/nodes/n0/retry/"),
        ("post", "/api/auth/token/"),
    ]


def test_no_write_endpoint_answers_500_to_a_malformed_body(api, user):
    api.raise_request_exception = False
    workflow = workflow_for(user, chain_document(2))
    run = RunFactory(workflow=workflow, document=selectors.workflow_document(workflow=workflow))
    failures = []
    for method, path in endpoints(workflow.pk, run.pk):
        for body in BODIES:
            response = getattr(api, method)(path, data=body, content_type="application/json")
            if response.status_code >= 500 or (
                response.status_code >= 400 and "errors" not in json.loads(response.content)
            ):
                failures.append((method, path, body[:80], response.status_code))
    assert not failures, failures


def test_no_read_endpoint_answers_500_to_odd_paths_and_parameters(api, user):
    api.raise_request_exception = False
    workflow = workflow_for(user, chain_document(2))
    run = RunFactory(workflow=workflow, document=selectors.workflow_document(workflow=workflow))
    huge = "9" * 30
    paths = [
        f"/api/workflows/{huge}/",
        f"/api/workflows/{huge}/export/",
        f"/api/workflows/{huge}/sharing/",
        f"/api/runs/{huge}/",
        f"/api/runs/{huge}/events/",
        f"/api/runs/{huge}/timeline/",
        f"/api/runs/{run.pk}/nodes/{'n' * 5000}/output/",
        f"/api/runs/{run.pk}/nodes/n0/output/?iteration={'M[1]' * 2000}",
        f"/api/runs/{run.pk}/events/?after=-99999999999999999999",
        f"/api/runs/?workflow={workflow.pk}&status=queued&page=2",
        f"/api/runs/?workflow={workflow.pk}&page_size=500&page=1&unknown=%FF",
        f"/api/workflows/{workflow.pk}/export/?format=yaml&format=json",
        "/api/node-types/?x=" + "%E2%82%AC" * 1000,
    ]
    failures = []
    for path in paths:
        response = api.get(path)
        if response.status_code >= 500 or (
            response.status_code >= 400 and "errors" not in json.loads(response.content)
        ):
            failures.append((path[:80], response.status_code))
    assert not failures, failures
