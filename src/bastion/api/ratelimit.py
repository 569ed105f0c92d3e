"""Requests per API key for the REST API: a moving window, in memory or in Redis.

>>> limiter = ApiRateLimiter("600 per 1 minute")          # "memory://": this process
>>> decision = limiter.hit("key-3f9a")
>>> decision.allowed, decision.limit, decision.remaining
(True, 600, 599)

Each key has its own window (the caller passes an identity derived from the key, never
text a client chose freely). With a Redis URL every worker process shares the counts;
the keys live under their own prefix, apart from the login throttle's. When Redis
cannot be reached, :meth:`ApiRateLimiter.hit` raises :class:`RateLimitUnavailable`
rather than letting requests through uncounted.
"""

from __future__ import annotations

import hashlib
import math
import time
from dataclasses import dataclass

import limits
from limits.errors import ConfigurationError, StorageError
from limits.storage import storage_from_string
from limits.strategies import MovingWindowRateLimiter

from bastion.errors import BastionError

KEY_PREFIX = "bastion:api"
NAMESPACE = "rest"
# A limiter that hangs when Redis is slow would hang every API request with it.
_REDIS_TIMEOUT = 2.0  # seconds


class RateLimitUnavailable(BastionError):
    """The rate limit's storage (Redis) cannot be reached: requests are refused."""


@dataclass(frozen=True)
class RateLimitDecision:
    """``reset_at``: Unix time when the window has room again; ``retry_after``:
    seconds to wait before retrying (0 when allowed)."""

    allowed: bool
    limit: int
    remaining: int
    reset_at: int
    retry_after: int

    def headers(self) -> dict[str, str]:
        """The ``X-RateLimit-*`` headers (and ``Retry-After`` when refused)."""
        found = {
            "X-RateLimit-Limit": str(self.limit),
            "X-RateLimit-Remaining": str(self.remaining),
            "X-RateLimit-Reset": str(self.reset_at),
        }
        if not self.allowed:
            found["Retry-After"] = str(self.retry_after)
        return found


class ApiRateLimiter:
    """``rate`` in the notation of the ``limits`` library (``"600 per 1 minute"``);
    ``storage_uri`` is ``"memory://"`` or a Redis URL."""

    def __init__(self, rate: str, storage_uri: str = "memory://") -> None:
        try:
            self.item = limits.parse(rate)
        except ValueError as exc:
            raise ValueError(
                f"api_rate_limit: invalid rate {rate!r} (write it as '600 per 1 minute')"
            ) from exc
        options: dict[str, float | str | bool] = {}
        if storage_uri.startswith(("redis://", "rediss://", "redis+unix://")):
            options = {
                "key_prefix": KEY_PREFIX,
                "socket_timeout": _REDIS_TIMEOUT,
                "socket_connect_timeout": _REDIS_TIMEOUT,
            }
        try:
            # wrap_exceptions: every storage failure arrives as one StorageError type.
            self._storage = storage_from_string(storage_uri, wrap_exceptions=True, **options)
        except ConfigurationError as exc:
            raise ValueError(f"unusable rate limit storage: {exc}") from exc
        # Moving window: exact counts, so a burst at a window boundary cannot pass
        # twice the rate, as it could with fixed windows.
        self._limiter = MovingWindowRateLimiter(self._storage)

    def hit(self, identity: str) -> RateLimitDecision:
        """Count one request of ``identity`` and say whether it may proceed."""
        key = hashlib.sha256(identity.encode("utf-8")).hexdigest()
        try:
            allowed = self._limiter.hit(self.item, NAMESPACE, key)
            stats = self._limiter.get_window_stats(self.item, NAMESPACE, key)
        except StorageError as exc:
            raise RateLimitUnavailable(
                "the API rate limit storage is unreachable "
                f"({type(exc.storage_error).__name__}); requests are refused until it is back"
            ) from exc
        now = time.time()
        reset_at = math.ceil(stats.reset_time)
        return RateLimitDecision(
            allowed=allowed,
            limit=self.item.amount,
            remaining=max(0, stats.remaining),
            reset_at=reset_at,
            retry_after=0 if allowed else max(1, math.ceil(stats.reset_time - now)),
        )

    def reset(self) -> None:
        """Forget every count (tests, administrators)."""
        try:
            self._storage.reset()
        except StorageError as exc:
            raise RateLimitUnavailable("the API rate limit storage is unreachable") from exc
