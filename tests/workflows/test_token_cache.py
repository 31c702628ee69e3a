"""API tokens are remembered per process for SWITCHYARD_TOKEN_CACHE_S seconds: a token
deleted or a user deactivated through the ORM stops working at once, any other change within
that time; unknown tokens and inactive users are refused as before."""

import time

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from workflows.api import auth

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def empty_cache():
    auth.tokens.clear()
    yield
    auth.tokens.clear()


def client_for(token: Token) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return client


def token_reads(client: APIClient) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get("/api/node-types/").status_code == 200
    return sum('"authtoken_token"' in query["sql"] for query in queries.captured_queries)


def test_a_checked_token_is_not_read_again(user):
    client = client_for(Token.objects.create(user=user))
    assert token_reads(client) == 1
    assert token_reads(client) == 0


def test_a_deleted_token_stops_working_at_once(user):
    token = Token.objects.create(user=user)
    client = client_for(token)
    assert client.get("/api/workflows/").status_code == 200

    token.delete()

    assert client.get("/api/workflows/").status_code == 401


def test_a_user_deactivated_stops_working_at_once(user):
    client = client_for(Token.objects.create(user=user))
    assert client.get("/api/workflows/").status_code == 200

    user.is_active = False
    user.save()

    assert client.get("/api/workflows/").status_code == 401


def test_a_change_the_process_does_not_hear_of_is_seen_within_the_cache_time(user, settings):
    settings.SWITCHYARD_TOKEN_CACHE_S = 0.3
    client = client_for(Token.objects.create(user=user))
    assert client.get("/api/workflows/").status_code == 200

    type(user).objects.filter(pk=user.pk).update(is_active=False)  # no signal
    time.sleep(0.35)

    assert client.get("/api/workflows/").status_code == 401


def test_no_cache_time_reads_the_token_on_every_request(user, settings):
    settings.SWITCHYARD_TOKEN_CACHE_S = 0
    client = client_for(Token.objects.create(user=user))
    assert token_reads(client) == 1
    assert token_reads(client) == 1


def test_inactive_users_and_unknown_tokens_are_refused_and_not_remembered(user):
    token = Token.objects.create(user=user)
    type(user).objects.filter(pk=user.pk).update(is_active=False)
    assert client_for(token).get("/api/workflows/").status_code == 401
    assert client_for(Token(key="0" * 40)).get("/api/workflows/").status_code == 401
    assert not auth.tokens.tokens


def test_the_cache_keeps_at_most_its_size_dropping_the_least_recently_used(user, other_user):
    cache = auth.TokenCache(size=2)
    first, second = Token.objects.create(user=user), Token.objects.create(user=other_user)
    cache.put(first, 60)
    cache.put(second, 60)
    assert cache.get(first.key) is not None  # used last: `second` goes first

    third = Token(key="3" * 40, user=user)
    cache.put(third, 60)

    assert cache.get(second.key) is None
    assert cache.get(first.key).user == user
    assert cache.get(third.key) is not None


def test_requests_never_share_the_cached_user_instance(user):
    cache = auth.TokenCache()
    cache.put(Token.objects.create(user=user), 60)
    key = cache.tokens.copy().popitem()[0]

    one, two = cache.get(key), cache.get(key)

    assert one.user == two.user == user
    assert one.user is not two.user
    one.user.first_name = "changed"
    assert cache.get(key).user.first_name == ""
