"""`GET /api/workflows/?tag=` lists only the workflows whose tags include the tag."""

import pytest
from django.test import Client

from workflows import services

pytestmark = pytest.mark.django_db


def make(user, name, tags):
    return services.workflow_create(
        owner=user, source={"version": 1, "name": name, "tags": tags, "nodes": [], "edges": []}
    )


def names(response):
    assert response.status_code == 200, response.content
    return sorted(item["name"] for item in response.json())


def test_the_tag_filter_keeps_exact_tag_matches_only(user, other_user):
    make(user, "orders etl", ["etl", "orders"])
    make(user, "billing", ["billing"])
    make(user, "etl-ish", ["etl2"])
    make(other_user, "someone else's", ["etl"])  # not visible to user
    client = Client()
    client.force_login(user)
    assert names(client.get("/api/workflows/?tag=etl")) == ["orders etl"]
    assert names(client.get("/api/workflows/?tag=billing")) == ["billing"]
    assert names(client.get("/api/workflows/?tag=nothing")) == []
    assert len(names(client.get("/api/workflows/"))) == 3


def test_a_tag_too_long_is_400_naming_the_parameter(user):
    client = Client()
    client.force_login(user)
    response = client.get("/api/workflows/?tag=" + "x" * 201)
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "tag"
