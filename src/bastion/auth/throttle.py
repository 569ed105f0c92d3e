"""Login throttling: tiers of limits per account and per client IP.

>>> throttle = LoginThrottle()  # "memory://": one process; a Redis URL for several
>>> throttle.check("alice", "192.0.2.1")
ThrottleDecision(allowed=True, retry_after=0)
>>> for _ in range(5):
...     throttle.record_failure("alice", "192.0.2.1")
>>> throttle.check("alice", "198.51.100.7").allowed  # locked, whatever the IP
False

Callers :meth:`~LoginThrottle.check` *before* verifying the password and refuse when it
says so, so that during a lockout even the right password is refused (otherwise the
lockout would only slow down an attacker who can still learn when a guess is right).
They then call :meth:`~LoginThrottle.record_failure` or
:meth:`~LoginThrottle.record_success` with the outcome.

The tiers are the backoff: a few failures cost a minute, more cost a quarter of an
hour, many cost a day. The IP tiers stop one client from spraying guesses across many
accounts. With a Redis URL the counters are shared by every worker process; if Redis
cannot be reached every method raises :class:`ThrottleUnavailable` instead of letting
unlimited attempts through.
"""

from __future__ import annotations

import contextlib
import hashlib
import ipaddress
import math
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import limits
from limits.errors import ConfigurationError, StorageError
from limits.storage import storage_from_string
from limits.strategies import MovingWindowRateLimiter

from bastion.errors import BastionError

ACCOUNT_LIMITS: tuple[str, ...] = ("5 per 1 minute", "10 per 15 minutes", "30 per 1 day")
IP_LIMITS: tuple[str, ...] = ("20 per 1 minute", "100 per 1 hour")
KEY_PREFIX = "bastion:login"
# A throttle that hangs when Redis is slow would hang every login with it.
_REDIS_TIMEOUT = 2.0  # seconds
# Clients of one IPv6 network usually hold a whole /64 and can rotate through it freely.
_IPV6_PREFIX = 64


class ThrottleUnavailable(BastionError):
    """The throttle's storage (Redis) cannot be reached: logins must be refused."""


@dataclass(frozen=True)
class ThrottleDecision:
    """``retry_after``: seconds until an attempt may be allowed again (0 when allowed)."""

    allowed: bool
    retry_after: int


class LoginThrottle:
    """Counts failed logins per account and per IP, in memory or in Redis.

    ``storage_uri``: ``"memory://"`` (this process only) or ``"redis://host:port/db"``
    (shared by every worker). ``account_limits`` and ``ip_limits`` are rate strings in
    the notation of the ``limits`` library, e.g. ``"5 per 1 minute"``.
    """

    def __init__(
        self,
        storage_uri: str = "memory://",
        *,
        account_limits: Sequence[str] = ACCOUNT_LIMITS,
        ip_limits: Sequence[str] = IP_LIMITS,
    ) -> None:
        self.storage_uri = storage_uri
        self._account_limits = _parse_limits(account_limits, "account_limits")
        self._ip_limits = _parse_limits(ip_limits, "ip_limits")
        try:
            # wrap_exceptions: every storage failure arrives as one StorageError type.
            storage = storage_from_string(
                storage_uri, wrap_exceptions=True, **_storage_options(storage_uri)
            )
        except ConfigurationError as exc:
            raise ValueError(f"unusable throttle storage {_redact(storage_uri)!r}: {exc}") from exc
        self._storage = storage
        # Moving window rather than sliding-window counter: it keeps one timestamp per
        # failure, so the count is exact and "retry after" is exactly when the oldest
        # failure leaves the window. The approximate counter could let a burst through
        # at a window boundary; login limits are small (tens of entries per key), so
        # exactness costs almost no memory.
        self._limiter = MovingWindowRateLimiter(storage)

    def check(self, login: str, ip: str) -> ThrottleDecision:
        """Whether an attempt for ``login`` from ``ip`` may proceed; counts nothing."""
        now = time.time()
        refused = False
        wait = 0.0
        with _fail_closed(self.storage_uri):
            for item, key in self._tiers(login, ip):
                if not self._limiter.test(item, *key):
                    refused = True
                    stats = self._limiter.get_window_stats(item, *key)
                    wait = max(wait, stats.reset_time - now)
        if refused:
            return ThrottleDecision(allowed=False, retry_after=max(1, math.ceil(wait)))
        return ThrottleDecision(allowed=True, retry_after=0)

    def attempt(self, login: str, ip: str) -> ThrottleDecision:
        """Count an attempt on the account *before* the password is checked, and say
        whether it may proceed (the address's limits are asked, not counted).

        Counting first closes the race of :meth:`check`: parallel guesses at one
        account cannot all pass before the first failure lands. A success then calls
        :meth:`record_success`, which forgets the account's count; a failure calls
        :meth:`record_address_failure`, so that the address's count holds failures
        only (an office behind one address logging in all day is not locked out).
        """
        account = _account_key(login)
        with _fail_closed(self.storage_uri):
            refused = [
                item for item in self._account_limits if not self._limiter.hit(item, *account)
            ]
        if refused:
            # Knocking on a locked account is a failure too: the address pays for it.
            self.record_address_failure(ip)
            return self.check(login, ip)
        return self.check_address(ip)

    def check_address(self, ip: str) -> ThrottleDecision:
        now = time.time()
        client = _ip_key(ip)
        wait = 0.0
        with _fail_closed(self.storage_uri):
            for item in self._ip_limits:
                if not self._limiter.test(item, *client):
                    stats = self._limiter.get_window_stats(item, *client)
                    wait = max(wait, stats.reset_time - now)
        if wait:
            return ThrottleDecision(allowed=False, retry_after=max(1, math.ceil(wait)))
        return ThrottleDecision(allowed=True, retry_after=0)

    def record_address_failure(self, ip: str) -> None:
        """Count a failure against the address (after :meth:`attempt` refused nothing
        and the credential turned out wrong)."""
        client = _ip_key(ip)
        with _fail_closed(self.storage_uri):
            for item in self._ip_limits:
                self._limiter.hit(item, *client)

    def record_failure(self, login: str, ip: str) -> None:
        """Count one failed attempt against every tier of the account and of the IP."""
        with _fail_closed(self.storage_uri):
            for item, key in self._tiers(login, ip):
                self._limiter.hit(item, *key)

    def record_success(self, login: str, ip: str) -> None:
        """Forget the account's failures; the IP's stay counted (one success from an IP
        must not reset a spray across other accounts)."""
        key = _account_key(login)
        with _fail_closed(self.storage_uri):
            for item in self._account_limits:
                self._limiter.clear(item, *key)

    def reset(self) -> None:
        """Forget every counter of this throttle (tests, administrators)."""
        with _fail_closed(self.storage_uri):
            self._storage.reset()

    # -- internals -------------------------------------------------------------------

    def _tiers(self, login: str, ip: str) -> list[tuple[limits.RateLimitItem, tuple[str, ...]]]:
        account, client = _account_key(login), _ip_key(ip)
        return [(item, account) for item in self._account_limits] + [
            (item, client) for item in self._ip_limits
        ]


@contextlib.contextmanager
def _fail_closed(storage_uri: str) -> Iterator[None]:
    """Turn storage failures into :class:`ThrottleUnavailable`: no storage, no logins."""
    try:
        yield
    except StorageError as exc:
        cause = exc.storage_error
        raise ThrottleUnavailable(
            f"the login throttle storage {_redact(storage_uri)} is unreachable "
            f"({type(cause).__name__}: {cause}); logins are refused until it is back"
        ) from exc


def _parse_limits(rates: Sequence[str], name: str) -> tuple[limits.RateLimitItem, ...]:
    if isinstance(rates, str):  # a lone string would be read as a sequence of letters
        raise TypeError(f"{name} must be a sequence of rate strings, not a string")
    items = []
    for rate in rates:
        try:
            items.append(limits.parse(rate))
        except ValueError as exc:
            raise ValueError(f"{name}: invalid rate {rate!r} (e.g. '5 per 1 minute')") from exc
    if not items:
        raise ValueError(f"{name} must name at least one rate")
    return tuple(items)


def _storage_options(storage_uri: str) -> dict[str, float | str | bool]:
    if not storage_uri.startswith(("redis://", "rediss://", "redis+unix://")):
        return {}
    # Our own prefix, so reset() deletes this throttle's keys and nobody else's.
    return {
        "key_prefix": KEY_PREFIX,
        "socket_timeout": _REDIS_TIMEOUT,
        "socket_connect_timeout": _REDIS_TIMEOUT,
    }


def _digest(kind: str, value: str) -> tuple[str, ...]:
    # Hashed so that no login or other user-controlled text ever becomes (part of) a
    # storage key, and every key has the same harmless shape.
    return (kind, hashlib.sha256(value.encode("utf-8")).hexdigest())


def _account_key(login: str) -> tuple[str, ...]:
    return _digest("account", login.strip().casefold())


def _ip_key(ip: str) -> tuple[str, ...]:
    text = ip.strip().casefold()
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        # Not an address (a test client's "testclient", a unix socket): count it as is.
        return _digest("ip", text)
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return _digest("ip", str(address.ipv4_mapped))
        network = ipaddress.IPv6Network((address, _IPV6_PREFIX), strict=False)
        return _digest("ip", str(network))
    return _digest("ip", str(address))


def _redact(uri: str) -> str:
    """``uri`` without its password, fit for an error message."""
    scheme, sep, rest = uri.partition("://")
    credentials, at, host = rest.rpartition("@")
    if not sep or not at or ":" not in credentials:
        return uri
    user = credentials.partition(":")[0]
    return f"{scheme}://{user}:***@{host}"
