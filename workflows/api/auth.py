"""Token authentication with the token's row remembered for a few seconds per process.

DRF's `TokenAuthentication` reads the token and its user on every request: a query per API
call, a fifth of the web process's work for a run submission. `CachedTokenAuthentication`
answers exactly as it does, and keeps a valid token (with its user) for
`SWITCHYARD_TOKEN_CACHE_S` seconds (0: no cache) in a bounded per-process cache.

A token deleted or a user deactivated, renamed or deleted through the ORM or the admin is
dropped from this process's cache at once (model signals); any other change (another
process, a bulk `update()`, SQL) is seen within `SWITCHYARD_TOKEN_CACHE_S` seconds. Unknown
tokens and inactive users are never cached: they are refused as before.
"""

from __future__ import annotations

import copy
import threading
import time
from collections import OrderedDict

from django.conf import settings
from django.db.models.signals import post_delete, post_save
from rest_framework.authentication import TokenAuthentication
from rest_framework.authtoken.models import Token

from workflows import conf

MAX_TOKENS = 1024


class TokenCache:
    """Tokens by key, each kept until its expiry; the least recently used goes first when
    the cache holds `size` of them. Safe to use from the request threads at once."""

    def __init__(self, size: int = MAX_TOKENS) -> None:
        self.size = size
        self.tokens: OrderedDict[str, tuple[float, Token]] = OrderedDict()
        self.lock = threading.Lock()

    def get(self, key: str) -> Token | None:
        """A copy of the cached token and its user (requests never share an instance)."""
        with self.lock:
            entry = self.tokens.get(key)
            if entry is None:
                return None
            expires, token = entry
            if time.monotonic() >= expires:
                del self.tokens[key]
                return None
            self.tokens.move_to_end(key)
        return fresh_copy(token)

    def put(self, token: Token, ttl_s: float) -> None:
        with self.lock:
            self.tokens[token.key] = (time.monotonic() + ttl_s, fresh_copy(token))
            self.tokens.move_to_end(token.key)
            while len(self.tokens) > self.size:
                self.tokens.popitem(last=False)

    def forget_key(self, key: str) -> None:
        with self.lock:
            self.tokens.pop(key, None)

    def forget_user(self, user_id: int) -> None:
        with self.lock:
            for key in [k for k, (_, token) in self.tokens.items() if token.user_id == user_id]:
                del self.tokens[key]

    def clear(self) -> None:
        with self.lock:
            self.tokens.clear()


def fresh_copy(token: Token) -> Token:
    user = copy.copy(token.user)
    token = copy.copy(token)
    token.user = user
    return token


tokens = TokenCache()


class CachedTokenAuthentication(TokenAuthentication):
    def authenticate_credentials(self, key: str):
        ttl_s = conf.value("TOKEN_CACHE_S")
        token = tokens.get(key) if ttl_s > 0 else None
        if token is not None:
            return (token.user, token)
        user, token = super().authenticate_credentials(key)  # refuses unknown and inactive
        if ttl_s > 0:
            tokens.put(token, ttl_s)
        return (user, token)


def forget_token(sender, instance: Token, **kwargs) -> None:
    tokens.forget_key(instance.key)


def forget_user(sender, instance, **kwargs) -> None:
    tokens.forget_user(instance.pk)


post_save.connect(forget_token, sender=Token, dispatch_uid="switchyard-token-saved")
post_delete.connect(forget_token, sender=Token, dispatch_uid="switchyard-token-deleted")
post_save.connect(forget_user, sender=settings.AUTH_USER_MODEL, dispatch_uid="sy-user-saved")
post_delete.connect(forget_user, sender=settings.AUTH_USER_MODEL, dispatch_uid="sy-user-deleted")
