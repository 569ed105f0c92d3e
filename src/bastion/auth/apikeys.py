"""API keys: what programs log in with (RPC and REST).

>>> key = create_api_key(user, "invoicing sync", days=90, read_only=True)  # doctest: +SKIP
>>> check_api_key(env, key).user_id                                          # doctest: +SKIP

A key is ``bst_`` + 8 index characters + a 256-bit random secret. The database keeps
the index in clear (to find the row) and the SHA-256 of the whole key, compared in
constant time. A key ends at its expiry (mandatory, at most a year, for users who are
not administrators), when revoked, or when its user is archived. Keys survive a
password change: integrations keep working; the password page offers to revoke them.
"""

from __future__ import annotations

import datetime as dt
import secrets
import string
from dataclasses import dataclass
from typing import TYPE_CHECKING

from bastion.errors import ValidationError

from .accounts import utcnow
from .tokens import new_token, same_secret, token_hash

if TYPE_CHECKING:
    from bastion.orm import Environment, Model, Scope

KEY_MODEL = "res.users.apikey"
PREFIX = "bst_"
INDEX_LENGTH = 8
INDEX_ALPHABET = string.ascii_lowercase + string.digits
MAX_DAYS = 365
ADMIN_GROUP = "base.group_system"


@dataclass(frozen=True)
class ApiKeyInfo:
    id: int
    user_id: int
    name: str
    read_only: bool
    models: frozenset[str] | None
    created_at: dt.datetime
    expires_at: dt.datetime | None
    last_used_at: dt.datetime | None

    def scope(self) -> Scope | None:
        from bastion.orm import Scope  # noqa: PLC0415 - auth stays importable alone

        if not self.read_only and self.models is None:
            return None
        return Scope(read_only=self.read_only, models=self.models)


def _info(record: Model) -> ApiKeyInfo:
    models = str(record.models or "").strip()
    return ApiKeyInfo(
        id=int(record.id),
        user_id=int(record.user_id.id),
        name=str(record.name),
        read_only=record.scope == "read",
        models=frozenset(m.strip() for m in models.split(",") if m.strip()) or None,
        created_at=record.created_at,
        expires_at=record.expires_at or None,
        last_used_at=record.last_used_at or None,
    )


def create_api_key(
    user: Model,
    name: str,
    *,
    days: int | None,
    read_only: bool = False,
    models: list[str] | None = None,
) -> str:
    """Create a key for ``user``; returns it (the only time it is seen)."""
    su = user.env(su=True)
    user = su["res.users"].browse(user.id)
    name = name.strip()
    if not name or len(name) > 100:
        raise ValidationError("An API key needs a name of 1 to 100 characters.")
    admin = su.registry.security.user_in(su.with_user(user.id), ADMIN_GROUP)
    if days is None and not admin:
        raise ValidationError("An API key needs an expiry (at most 365 days).")
    if days is not None and not 1 <= days <= MAX_DAYS:
        raise ValidationError(f"An API key lasts between 1 and {MAX_DAYS} days.")
    unknown = [m for m in models or [] if m not in su.registry.specs]
    if unknown:
        raise ValidationError(f"Unknown models in the key's scope: {', '.join(unknown)}")
    index = "".join(secrets.choice(INDEX_ALPHABET) for _ in range(INDEX_LENGTH))
    key = f"{PREFIX}{index}{new_token()}"
    now = utcnow()
    su[KEY_MODEL].create(
        {
            "user_id": user.id,
            "name": name,
            "key_index": index,
            "key_hash": token_hash(key),
            "scope": "read" if read_only else "all",
            "models": ",".join(sorted(set(models))) if models else False,
            "created_at": now,
            "expires_at": now + dt.timedelta(days=days) if days is not None else False,
        }
    )
    return key


def check_api_key(env: Environment, key: str | None) -> ApiKeyInfo | None:
    """The live key ``key`` is, or None (unknown, expired, revoked, user archived)."""
    if not key or not key.startswith(PREFIX) or len(key) > 200:
        return None
    index = key[len(PREFIX) : len(PREFIX) + INDEX_LENGTH]
    su = env(su=True)
    digest = token_hash(key)
    now = utcnow()
    for record in su[KEY_MODEL].search([("key_index", "=", index)]):
        if not same_secret(digest, str(record.key_hash)):
            continue
        if record.expires_at and record.expires_at <= now:
            return None
        if not record.user_id.active:
            return None
        record.write({"last_used_at": now})
        return _info(record)
    return None


def api_keys_of(user: Model) -> list[ApiKeyInfo]:
    su = user.env(su=True)
    return [_info(r) for r in su[KEY_MODEL].search([("user_id", "=", user.id)])]


def revoke_api_key(user: Model, key_id: int) -> bool:
    """Revoke one of ``user``'s keys (another user's key id revokes nothing)."""
    su = user.env(su=True)
    found = su[KEY_MODEL].search([("id", "=", key_id), ("user_id", "=", user.id)])
    found.unlink()
    return bool(found)


def revoke_all_api_keys(user: Model) -> int:
    su = user.env(su=True)
    found = su[KEY_MODEL].search([("user_id", "=", user.id)])
    count = len(found)
    found.unlink()
    return count
