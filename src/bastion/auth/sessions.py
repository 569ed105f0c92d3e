"""Server-side sessions: random ids given to the browser once, stored hashed.

>>> store = SessionStore(idle=timedelta(hours=2), absolute=timedelta(hours=24))
>>> token, session = store.create(env, uid, ip="203.0.113.9", user_agent="...")  # doctest: +SKIP
>>> store.lookup(env, token)                         # None once expired or revoked

The cookie holds a 256-bit random token; the database holds only its SHA-256, so a
copy of the table opens no session. A session ends after ``idle`` without a request
or ``absolute`` after login, whichever comes first; logout, a password change and a
second-factor change end the user's other sessions at once (``revoke_user``).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .accounts import utcnow
from .tokens import new_token, token_hash

if TYPE_CHECKING:
    from bastion.orm import Environment, Model

SESSION_MODEL = "res.users.session"
# last_seen_at is written at most this often: a page view is not a write each time.
TOUCH_EVERY = dt.timedelta(seconds=60)
MAX_USER_AGENT = 300


@dataclass(frozen=True)
class SessionInfo:
    id: int
    user_id: int
    token_hash: str
    created_at: dt.datetime
    last_seen_at: dt.datetime
    expires_at: dt.datetime
    auth_at: dt.datetime
    ip: str
    user_agent: str


def _info(record: Model) -> SessionInfo:
    return SessionInfo(
        id=int(record.id),
        user_id=int(record.user_id.id),
        token_hash=str(record.token_hash),
        created_at=record.created_at,
        last_seen_at=record.last_seen_at,
        expires_at=record.expires_at,
        auth_at=record.auth_at,
        ip=str(record.ip or ""),
        user_agent=str(record.user_agent or ""),
    )


class SessionStore:
    def __init__(self, *, idle: dt.timedelta, absolute: dt.timedelta) -> None:
        self.idle = idle
        self.absolute = absolute

    def _table(self, env: Environment) -> Model:
        return env(su=True)[SESSION_MODEL]

    def create(
        self, env: Environment, user_id: int, *, ip: str, user_agent: str
    ) -> tuple[str, SessionInfo]:
        """A new session for a user who just proved who they are; the token is
        returned once, for the cookie, and never stored."""
        token = new_token()
        now = utcnow()
        record = self._table(env).create(
            {
                "user_id": user_id,
                "token_hash": token_hash(token),
                "created_at": now,
                "last_seen_at": now,
                "expires_at": now + self.absolute,
                "auth_at": now,
                "ip": ip[:64],
                "user_agent": user_agent[:MAX_USER_AGENT],
            }
        )
        return token, _info(record)

    def lookup(self, env: Environment, token: str | None) -> SessionInfo | None:
        """The live session of ``token``, or None (unknown, expired, revoked, or its
        user archived). Expired sessions are deleted on the way."""
        if not token or len(token) > 200:
            return None
        records = self._table(env).search([("token_hash", "=", token_hash(token))], limit=1)
        if not records:
            return None
        now = utcnow()
        if now >= records.expires_at or now - records.last_seen_at >= self.idle:
            records.unlink()
            return None
        if not records.user_id.active:
            return None
        if now - records.last_seen_at >= TOUCH_EVERY:
            records.write({"last_seen_at": now})
        return _info(records)

    def rotate(self, env: Environment, session: SessionInfo) -> tuple[str, SessionInfo]:
        """A new token for the same session (at a privilege change: the old cookie,
        wherever it leaked, stops working)."""
        token = new_token()
        record = self._table(env).browse(session.id)
        record.write({"token_hash": token_hash(token)})
        return token, _info(record)

    def confirm_password(self, env: Environment, session: SessionInfo) -> SessionInfo:
        """Record a fresh password check (step-up authentication)."""
        record = self._table(env).browse(session.id)
        record.write({"auth_at": utcnow()})
        return _info(record)

    def recently_authenticated(self, session: SessionInfo, within: dt.timedelta) -> bool:
        return utcnow() - session.auth_at < within

    def revoke(self, env: Environment, session_id: int, *, user_id: int) -> bool:
        """End one session of ``user_id`` (a user ends only their own)."""
        records = self._table(env).search([("id", "=", session_id), ("user_id", "=", user_id)])
        records.unlink()
        return bool(records)

    def revoke_user(self, env: Environment, user_id: int, *, keep: int | None = None) -> int:
        """End every session of a user, except ``keep``; returns how many ended."""
        domain: list[object] = [("user_id", "=", user_id)]
        if keep is not None:
            domain.append(("id", "!=", keep))
        records = self._table(env).search(domain)
        count = len(records)
        records.unlink()
        return count

    def of_user(self, env: Environment, user_id: int) -> list[SessionInfo]:
        now = utcnow()
        return [
            _info(r)
            for r in self._table(env).search([("user_id", "=", user_id)])
            if r.expires_at > now and now - r.last_seen_at < self.idle
        ]
