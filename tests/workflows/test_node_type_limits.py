"""The palette's node types carry their limits (issue 13): every number of a config schema
has a maximum the canvas can show, and the http node names the fields that may read
secrets."""

import pytest

pytestmark = pytest.mark.django_db


def test_node_types_serve_their_maxima_and_secret_fields(api):
    types = {item["type"]: item for item in api.get("/api/node-types/").json()}
    properties = {name: item["config_schema"]["properties"] for name, item in types.items()}
    assert properties["approval"]["timeout_s"]["maximum"] == 30 * 86_400
    assert properties["loop"]["max_iterations"]["maximum"] == 100_000
    assert properties["map"]["max_concurrency"]["maximum"] == 1000
    assert properties["http"]["timeout_s"]["maximum"] == 600
    assert types["http"]["secret_fields"] == ["headers"]
    assert types["transform"]["secret_fields"] == []
