"""Who is logging in: passwords and second factors checked against stored credentials.

>>> set_password(user, "a long passphrase")                       # doctest: +SKIP
>>> uid = authenticate(env, "alice", "a long passphrase", ip="203.0.113.9",
...                    throttle=throttle)                         # doctest: +SKIP

Credentials live in ``res.users.credential``, a model no access right names: only
this module reaches it, in a superuser environment. Deciding *who* the caller is
happens here; deciding what they may see stays in ``bastion.security``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING

from bastion.errors import BastionError

from .passwords import check_new_password, hash_password, verify_password
from .throttle import LoginThrottle
from .tokens import token_hash
from .totp import normalize_recovery_code, verify_totp

if TYPE_CHECKING:
    from bastion.orm import Environment, Model

# One message for every refused login: it never tells whether the login exists.
WRONG_CREDENTIALS = "Wrong login or password."


class AuthenticationError(BastionError):
    """A login was refused. HTTP status: 401 (the form shows the message)."""

    http_status = 401


class ThrottledError(AuthenticationError):
    """Too many failed attempts for this account or address. HTTP status: 429."""

    http_status = 429

    def __init__(self, retry_after: int) -> None:
        self.retry_after = retry_after
        super().__init__(
            f"Too many failed attempts. Try again in {retry_after} second(s)."
            if retry_after < 120
            else f"Too many failed attempts. Try again in {retry_after // 60} minute(s)."
        )


def utcnow() -> dt.datetime:
    """Naive UTC, as stored in Datetime columns."""
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def _credential(user: Model) -> Model:
    su = user.env(su=True)
    return su["res.users.credential"].search([("user_id", "=", user.id)], limit=1)


def set_password(user: Model, password: str, *, check: bool = True) -> None:
    """Store an Argon2id hash of ``password`` for ``user`` (after the password policy,
    unless ``check`` is off, as for importing hashes from elsewhere)."""
    user = user.sudo().ensure_one()
    if check:
        check_new_password(password, login=str(user.login))
    _store_hash(user, hash_password(password))


def import_password_hash(user: Model, stored_hash: str) -> None:
    """Keep a hash made elsewhere (Odoo's ``$pbkdf2-sha512$``): it is verified as is
    and replaced by an Argon2id hash at the next successful login."""
    _store_hash(user.sudo().ensure_one(), stored_hash)


def _store_hash(user: Model, stored: str) -> None:
    vals = {"password_hash": stored, "password_changed_at": utcnow()}
    credential = _credential(user)
    if credential:
        credential.write(vals)
    else:
        user.env["res.users.credential"].create({"user_id": user.id, **vals})


def check_password(user: Model, password: str) -> bool:
    """Whether ``password`` is the user's (re-hashing an old-format hash on success)."""
    credential = _credential(user)
    stored = str(credential.password_hash) if credential and credential.password_hash else None
    result = verify_password(stored, password)
    if result.ok and result.needs_rehash:
        credential.write({"password_hash": hash_password(password)})
    return result.ok


@dataclass(frozen=True)
class LoginAttempt:
    user_id: int
    needs_second_factor: bool


def authenticate(
    env: Environment, login: str, password: str, *, ip: str, throttle: LoginThrottle
) -> LoginAttempt:
    """Check a login and password; raise ThrottledError or AuthenticationError.

    The attempt is counted by the throttle first, so during a lockout even the right
    password is refused, and parallel guesses cannot slip past the count; unknown
    logins cost a full hash verification, like wrong passwords.
    """
    decision = throttle.attempt(login, ip)
    if not decision.allowed:
        raise ThrottledError(decision.retry_after)
    su = env(su=True)
    users = su["res.users"].search([("login", "=", login.strip())], limit=1)
    if users:
        ok = check_password(users, password)
    else:
        verify_password(None, password)  # same cost as a real check
        ok = False
    if not ok:
        throttle.record_address_failure(ip)  # the account's count already holds it
        raise AuthenticationError(WRONG_CREDENTIALS)
    throttle.record_success(login, ip)
    return LoginAttempt(int(users.id), has_second_factor(users))


# -- second factor -----------------------------------------------------------------------
def has_second_factor(user: Model) -> bool:
    credential = _credential(user)
    return bool(credential and credential.totp_secret)


def enable_totp(user: Model, secret: str, code: str) -> bool:
    """Turn TOTP on once the user proved their app has ``secret`` (a valid ``code``)."""
    step = verify_totp(secret, code)
    if step is None:
        return False
    credential = _credential(user)
    vals = {"totp_secret": secret, "totp_last_step": step}
    if credential:
        credential.write(vals)
    else:
        user.env(su=True)["res.users.credential"].create({"user_id": user.id, **vals})
    return True


def disable_totp(user: Model) -> None:
    credential = _credential(user)
    if credential:
        credential.write({"totp_secret": False, "totp_last_step": False})
    user.env(su=True)["res.users.recovery.code"].search([("user_id", "=", user.id)]).unlink()


def store_recovery_codes(user: Model, codes: list[str]) -> None:
    """Replace the user's recovery codes by (the hashes of) ``codes``."""
    table = user.env(su=True)["res.users.recovery.code"]
    table.search([("user_id", "=", user.id)]).unlink()
    table.create(
        [{"user_id": user.id, "code_hash": token_hash(normalize_recovery_code(c))} for c in codes]
    )


def check_second_factor(user: Model, code: str) -> bool:
    """A TOTP code (never the same time step twice) or a recovery code (used once)."""
    credential = _credential(user)
    if not credential or not credential.totp_secret:
        return False
    last = credential.totp_last_step or None
    step = verify_totp(str(credential.totp_secret), code, last_step=last)
    if step is not None:
        credential.write({"totp_last_step": step})
        return True
    codes = user.env(su=True)["res.users.recovery.code"]
    used = codes.search(
        [("user_id", "=", user.id), ("code_hash", "=", token_hash(normalize_recovery_code(code)))]
    )
    if used:
        used.unlink()
        return True
    return False
