"""Who is calling the API: a login (or uid) with a password or an API key.

>>> caller = api_caller(env, "alice", key, ip="203.0.113.9", throttle=throttle)  # doctest: +SKIP
>>> caller.environment(env)["sale.order"].search([])                             # doctest: +SKIP

As in Odoo, a user with two-factor authentication may call the API only with an API
key: a password alone would skip the second factor. Failed calls are throttled like
logins (per account and per address), and an unknown login costs the same as a wrong
password.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from bastion.auth.accounts import (
    AuthenticationError,
    ThrottledError,
    check_password,
    has_second_factor,
)
from bastion.auth.apikeys import PREFIX, check_api_key
from bastion.auth.passwords import verify_password
from bastion.auth.throttle import LoginThrottle

if TYPE_CHECKING:
    from bastion.orm import Environment, Model, Scope

# One message for every refusal, so that it tells neither whether the login exists
# nor whether a password was right for an account that has a second factor.
API_REFUSED = (
    "Wrong login, password or API key (accounts with two-factor authentication "
    "call the API with an API key)."
)


@dataclass(frozen=True)
class ApiCaller:
    user_id: int
    scope: Scope | None

    def environment(self, env: Environment) -> Environment:
        """The caller's own environment: rights, rules, field groups, key scope."""
        return env.with_user(self.user_id).with_scope(self.scope)


def api_caller(
    env: Environment,
    user: str | int,
    secret: str,
    *,
    ip: str,
    throttle: LoginThrottle,
) -> ApiCaller:
    """Check ``secret`` (a password or an API key) for ``user`` (a login, or a uid as
    execute_kw passes); raise AuthenticationError or ThrottledError."""
    su = env(su=True)
    if isinstance(user, bool) or not isinstance(user, str | int):
        raise AuthenticationError(API_REFUSED)
    if isinstance(user, int):
        found = su["res.users"].search([("id", "=", user)], limit=1)
        login = str(found.login) if found else f"#{user}"
    else:
        login = user.strip()
        found = su["res.users"].search([("login", "=", login)], limit=1)
    decision = throttle.attempt(login, ip)
    if not decision.allowed:
        raise ThrottledError(decision.retry_after)
    try:
        caller = _check_secret(found, secret)
    except AuthenticationError:
        throttle.record_address_failure(ip)
        raise
    throttle.record_success(login, ip)
    return caller


def _check_secret(found: Model, secret: str) -> ApiCaller:
    if not isinstance(secret, str) or not secret:
        raise AuthenticationError(API_REFUSED)
    if secret.startswith(PREFIX):
        key = check_api_key(found.env, secret)
        if key is None or not found or key.user_id != found.id:
            raise AuthenticationError(API_REFUSED)
        return ApiCaller(int(found.id), key.scope())
    if not found or has_second_factor(found):
        # No password opens an account that has a second factor; the same cost as a
        # real check, and the same answer as a wrong password.
        verify_password(None, secret)
        raise AuthenticationError(API_REFUSED)
    if not check_password(found, secret):
        raise AuthenticationError(API_REFUSED)
    return ApiCaller(int(found.id), None)


def key_caller(env: Environment, key: str, *, ip: str, throttle: LoginThrottle) -> ApiCaller:
    """A bearer API key alone (REST): the key names its user."""
    su = env(su=True)
    index = key[len(PREFIX) : len(PREFIX) + 8] if key.startswith(PREFIX) else "?"
    decision = throttle.attempt(f"apikey:{index}", ip)
    if not decision.allowed:
        raise ThrottledError(decision.retry_after)
    info = check_api_key(su, key)
    if info is None:
        throttle.record_address_failure(ip)
        raise AuthenticationError("Invalid, expired or revoked API key.")
    throttle.record_success(f"apikey:{index}", ip)
    return ApiCaller(info.user_id, info.scope())
