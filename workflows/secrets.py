"""Named secrets of a user, encrypted at rest (Fernet, from `cryptography`), written and
deleted through the API but never read back; `secrets_for(owner)` is what a run of the
owner's workflows may read: the server's (SWITCHYARD_SECRETS) and the owner's own, the
owner's winning on a shared name. Sharing a workflow shares no value: a run reads its
workflow owner's secrets, whoever started it.

The key comes from SWITCHYARD_SECRETS_KEY: Fernet keys separated by commas, the first
encrypts, all decrypt, so a new key goes first and `rotate_secrets` re-encrypts every value
with it before the old one is dropped. With DEBUG on and no key set, a development key is
derived from SECRET_KEY (never in production: storing a secret then says the key is missing).
"""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Iterable

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.db import transaction

from workflows import conf
from workflows.errors import SwitchyardError, problem
from workflows.models import Secret

NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_.-]{0,63}")
MAX_VALUE_CHARS = 16_384
MAX_SECRETS_PER_OWNER = 200


class SecretsKeyMissing(SwitchyardError):
    """No encryption key is configured (production without SWITCHYARD_SECRETS_KEY)."""

    status_code = 503


def _fernet() -> MultiFernet:
    keys = list(conf.value("SECRETS_KEY"))
    if not keys and settings.DEBUG:
        digest = hashlib.sha256(f"switchyard-secrets:{settings.SECRET_KEY}".encode()).digest()
        keys = [base64.urlsafe_b64encode(digest).decode()]
    if not keys:
        message = "stored secrets need SWITCHYARD_SECRETS_KEY (a Fernet key) on the server"
        raise SecretsKeyMissing([problem("secrets_key_missing", message)])
    try:
        return MultiFernet([Fernet(key.encode()) for key in keys])
    except ValueError:
        message = "SWITCHYARD_SECRETS_KEY must be Fernet keys (32 url-safe base64 bytes)"
        raise SecretsKeyMissing([problem("secrets_key_invalid", message)]) from None


def check_name(name: object) -> str:
    if not isinstance(name, str) or not NAME.fullmatch(name):
        message = "name: 1 to 64 letters, digits, '_', '.' or '-', starting with a letter or '_'"
        raise SwitchyardError([problem("bad_secret", message, field="name")])
    return name


def check_value(value: object) -> str:
    if not isinstance(value, str) or not value:
        raise SwitchyardError(
            [problem("bad_secret", "value: a non-empty string is required", field="value")]
        )
    if len(value) > MAX_VALUE_CHARS:
        message = f"value: at most {MAX_VALUE_CHARS:,} characters, got {len(value):,}"
        raise SwitchyardError([problem("bad_secret", message, field="value")])
    return value


def secret_list(*, owner) -> list[dict]:
    """The owner's secrets as the API shows them: names and dates, never values."""
    rows = Secret.objects.filter(owner=owner).order_by("name")
    return [secret_body(row) for row in rows]


def secret_body(secret: Secret) -> dict:
    return {
        "name": secret.name,
        "value": "••••",
        "created_at": secret.created_at.isoformat().replace("+00:00", "Z"),
        "updated_at": secret.updated_at.isoformat().replace("+00:00", "Z"),
    }


@transaction.atomic
def secret_put(*, owner, name: str, value: str) -> tuple[Secret, bool]:
    """Create or replace the owner's secret `name`; (the row, whether it is new)."""
    check_name(name)
    token = _fernet().encrypt(check_value(value).encode()).decode()
    existing = Secret.objects.select_for_update().filter(owner=owner, name=name).first()
    if existing is not None:
        existing.ciphertext = token
        existing.save(update_fields=["ciphertext", "updated_at"])
        return existing, False
    if Secret.objects.filter(owner=owner).count() >= MAX_SECRETS_PER_OWNER:
        message = f"at most {MAX_SECRETS_PER_OWNER} secrets per user: delete one first"
        raise SwitchyardError([problem("too_many_secrets", message)])
    return Secret.objects.create(owner=owner, name=name, ciphertext=token), True


def secret_delete(*, owner, name: str) -> bool:
    return Secret.objects.filter(owner=owner, name=name).delete()[0] > 0


def secrets_for(owner_id: int | None, names: Iterable[str] | None = None) -> dict[str, str]:
    """The named secrets a run of this owner's workflows reads (see the module docstring);
    with `names`, only those are read and decrypted (a webhook's signing key). A value that
    no key decrypts (its key was dropped, or none is configured) is left out, and the node
    that needs it fails naming the secret."""
    values = dict(conf.value("SECRETS"))
    stored = Secret.objects.filter(owner_id=owner_id)
    if names is not None:
        stored = stored.filter(name__in=list(names))
    rows = list(stored.values_list("name", "ciphertext"))
    if not rows:
        return values
    try:
        fernet = _fernet()
    except SecretsKeyMissing:
        return values
    for name, token in rows:
        try:
            values[name] = fernet.decrypt(token.encode()).decode()
        except InvalidToken:
            continue
    return values


@transaction.atomic
def secrets_rotate() -> int:
    """Re-encrypt every stored secret with the first key; how many were re-encrypted."""
    fernet = _fernet()
    count = 0
    for secret in Secret.objects.select_for_update().iterator():
        secret.ciphertext = fernet.rotate(secret.ciphertext.encode()).decode()
        secret.save(update_fields=["ciphertext"])
        count += 1
    return count
