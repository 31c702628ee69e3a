"""Secrets are read only by the config fields that send them (issue 13, defect 9): an http
node's headers. Validation refuses `secrets` anywhere else, the expression scope has no
`secrets` outside those fields (so a stored document that skipped validation cannot read
them either, however the expression is written), and what the http node returns or raises
never holds the value it sent."""

from __future__ import annotations

import json

import pytest

from engine import Execution, Graph, load_document, validate_document
from engine.handlers import registry as builtins
from tests.engine.test_handlers import Server

SECRET = "s3cr3t-Tok3n"
SECRETS = {"api": SECRET}


def traces(secret: str = SECRET) -> list[str]:
    """The secret and what the masking of exact values used to miss."""
    return [secret, secret.upper(), secret.lower(), secret[::-1], json.dumps(list(secret))[1:-1]]


def leaked(value) -> list[str]:
    text = json.dumps(value, default=str)
    return [trace for trace in traces() if trace in text]


def errors(document: dict) -> list[tuple[str, str | None, str | None, str]]:
    found = validate_document(load_document(document), registry=builtins)
    return [(p.code, p.node, p.field, p.message) for p in found if p.severity == "error"]


def http_node(**config) -> dict:
    return {"id": "call", "type": "http", "config": {"url": "https://api.example.com/", **config}}


# --- validation -----------------------------------------------------------------------------


def test_secrets_in_http_headers_are_valid():
    node = http_node(headers={"Authorization": "Bearer {{ secrets.api }}"})
    assert errors({"nodes": [node]}) == []


@pytest.mark.parametrize(
    ("node", "field"),
    [
        (
            {"id": "t", "type": "transform", "config": {"output": "{{ secrets.api }}"}},
            "config.output",
        ),
        (
            {"id": "t", "type": "transform", "config": {"output": ["{{ upper(secrets.api) }}"]}},
            "config.output[0]",
        ),
        (
            {"id": "t", "type": "condition", "config": {"expression": "secrets.api == 'x'"}},
            "config.expression",
        ),
        (
            {"id": "t", "type": "error", "config": {"message": "{{ secrets.api[::-1] }}"}},
            "config.message",
        ),
        (http_node(url="https://x.org/?k={{ secrets.api }}"), "config.url"),
        (http_node(query={"key": "{{ secrets.api }}"}), "config.query.key"),
        (http_node(json={"token": "{{ secrets.api }}"}), "config.json.token"),
        (http_node(body="{{ secrets.api }}"), "config.body"),
        (
            {"id": "t", "type": "output", "config": {"value": "{{ secrets['api'] }}"}},
            "config.value",
        ),
    ],
)
def test_secrets_anywhere_else_in_a_config_are_refused_naming_the_field(node, field):
    (found,) = errors({"nodes": [node]})
    code, node_id, named, message = found
    assert (code, node_id, named) == ("bad_reference", node["id"], field)
    assert message == (
        f"node {node['id']}: {field}: secrets may only be used in config.headers of http nodes"
    )


@pytest.mark.parametrize(
    ("extra", "field", "node"),
    [
        ({"name": "{{ secrets.api }}"}, "name", None),
        ({"variables": {"key": "{{ secrets.api }}"}}, "variables.key", None),
        ({"variables": {"x": {"config": "{{ secrets.api }}"}}}, "variables.x.config", None),
        ({"inputs": {"key": {"default": "{{ secrets.api }}"}}}, "inputs.key.default", None),
        ({"settings": {"env": ["{{ secrets.api }}"]}}, "settings.env[0]", None),
    ],
)
def test_secrets_outside_configs_are_refused_too(extra, field, node):
    document = {"nodes": [{"id": "a", "type": "start"}], **extra}
    assert [(c, n, f) for c, n, f, _ in errors(document)] == [("bad_reference", node, field)]


def test_a_node_name_reading_secrets_is_refused_on_that_node():
    document = {"nodes": [{"id": "a", "type": "start", "name": "{{ secrets.api }}"}]}
    assert [(c, n, f) for c, n, f, _ in errors(document)] == [("bad_reference", "a", "name")]


def test_text_that_merely_mentions_secrets_is_fine():
    document = {
        "description": "reads secrets from the vault",
        "nodes": [{"id": "a", "type": "transform", "config": {"output": "secrets: {{ 1 }}"}}],
    }
    assert errors(document) == []


# --- run time: a stored document that skipped validation --------------------------------------


async def run_unvalidated(nodes: list, edges: list = (), **options) -> tuple[dict, list]:
    document = load_document({"nodes": nodes, "edges": list(edges)})
    events: list = []
    options = {"secrets": SECRETS, "http_allow_private": True, **options}
    execution = Execution(Graph.from_document(document), sink=events.append, options=options)
    report = await execution.run()
    return report.to_dict(), [event.to_dict() for event in events]


@pytest.mark.parametrize(
    "output",
    [
        "{{ secrets.api }}",
        "{{ upper(secrets.api) }}",
        "{{ secrets.api[::-1] }}",
        "{{ [c for c in secrets.api] }}",
        "{{ secrets }}",
        "{{ get(secrets, 'api', '') }}",
        "x {{ json_dumps(secrets) }}",
    ],
)
async def test_at_run_time_no_expression_outside_the_headers_can_read_a_secret(output):
    nodes = [
        {"id": "t", "type": "transform", "config": {"output": output}},
        {"id": "c", "type": "condition", "config": {"expression": "len(secrets.api) > 3"}},
    ]
    report, events = await run_unvalidated(nodes)
    for node_id in ("t", "c"):
        node = report["nodes"][node_id]
        assert node["status"] == "failed"
        assert (
            "secrets may only be used in the config fields that send them"
            in node["error"]["message"]
        )
    assert leaked(report) == [] and leaked(events) == []


# --- the http node: sends the secret, shows it nowhere -----------------------------------------


@pytest.fixture
async def server():
    server = await Server().start()
    yield server
    await server.stop()


async def test_an_http_header_sends_the_secret_and_the_echo_comes_back_masked(server):
    node = http_node(url=server.url("/json"), headers={"Authorization": "Bearer {{ secrets.api }}"})
    report, events = await run_unvalidated([node])
    assert report["status"] == "succeeded", report["nodes"]["call"]["error"]
    assert server.requests[0]["headers"]["authorization"] == f"Bearer {SECRET}"
    # /json echoes the Authorization header it received: the run keeps it masked.
    assert report["nodes"]["call"]["output"]["body"]["auth"] == "***"
    assert leaked(report) == [] and leaked(events) == []


async def test_an_http_error_does_not_quote_the_secret_it_sent(server):
    node = http_node(url=server.url("/status/401"), headers={"X-Key": "{{ secrets.api }}"})
    report, events = await run_unvalidated([node])
    error = report["nodes"]["call"]["error"]
    assert error["type"] == "http_status" and "401" in error["message"]
    assert leaked(report) == [] and leaked(events) == []


async def test_a_header_value_that_cannot_be_sent_is_named_without_its_value(server):
    node = http_node(url=server.url("/json"), headers={"X-Key": "{{ secrets.api }}"})
    secret = "line\nbreak-" + SECRET
    report, events = await run_unvalidated([node], secrets={"api": secret})
    error = report["nodes"]["call"]["error"]
    assert error == {
        "type": "bad_config",
        "message": "config.headers.X-Key: the value cannot be sent (line breaks, control "
        "characters or characters outside ASCII)",
    }
    assert server.requests == []
    assert leaked(report) == [] and leaked(events) == []


def test_a_run_s_record_of_edited_configs_is_not_document_text():
    headers = {"Authorization": "Bearer {{ secrets.api }}"}
    document = {
        "nodes": [http_node(headers=headers)],
        "edits": [{"node": "call", "before": {"url": "https://x.org/", "headers": headers}}],
    }
    assert errors(document) == []


async def test_a_secret_value_in_an_output_is_masked_where_it_is_stored_not_only_in_events():
    """A value equal to a secret (here the run's input carries it) is `***` in the node's
    output, the run's outputs and what the next node receives, as in the events."""
    nodes = [
        {"id": "t", "type": "transform", "config": {"output": {"echo": "{{ inputs.key }}"}}},
        {"id": "out", "type": "output", "config": {"value": "{{ t }}"}},
    ]
    document = load_document(
        {"nodes": nodes, "edges": [{"id": "e", "source": "t", "target": "out"}]}
    )
    events: list = []
    execution = Execution(
        Graph.from_document(document),
        sink=events.append,
        inputs={"key": f"Bearer {SECRET}"},
        options={"secrets": SECRETS},
    )
    report = (await execution.run()).to_dict()
    assert report["status"] == "succeeded"
    assert report["nodes"]["t"]["output"] == {"echo": "Bearer ***"}
    assert report["outputs"] == {"out": {"echo": "Bearer ***"}}
    assert execution.record_of("out").input == {"echo": "Bearer ***"}
    assert leaked(report["nodes"]) == [] and leaked([e.to_dict() for e in events]) == []
