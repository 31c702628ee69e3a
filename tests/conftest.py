"""Shared fixtures. The suite runs against the real PostgreSQL and Redis under `make test`."""

import pytest

ORIGIN = (b"origin", b"http://localhost")


@pytest.fixture
def user(django_user_model):
    return django_user_model.objects.create_user(username="alice", password="pw-alice-123")


@pytest.fixture
def other_user(django_user_model):
    return django_user_model.objects.create_user(username="bob", password="pw-bob-123")
