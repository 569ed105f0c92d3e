"""A request whose transaction lost a race to another one runs again, as Odoo's do.

Two transactions that lock the same rows in opposite orders deadlock, and PostgreSQL
fails one of them; a row waited for longer than ``lock_timeout`` fails the waiter; a
serializable transaction can fail at commit. Each time the loser is rolled back whole,
and nothing in it was wrong: run again, after the winner, it succeeds. Bastion's own
locks can meet that way (the invoice counters of two companies taken in opposite
orders; a writer bumping the rules' values version while a rule change runs,
``bastion.security.rule_values``), and so can any two writers of the same records.

Odoo runs each RPC call and HTTP request in ``retrying()`` (``odoo.service.model``): up
to 5 tries, after a random wait that doubles. Bastion does the same for its pages
(``bastion.web.retry``), its RPC calls and its REST requests. Only the failures that
say "try again" are retried, PostgreSQL's ``40001`` (serialization failure), ``40P01``
(deadlock detected) and ``55P03`` (lock not available), as Odoo's. Anything else, an
integrity error included, fails at once. On SQLite a transaction takes the write lock
as it begins (``BEGIN IMMEDIATE``) and waits up to 10 s for it: a transaction cannot
lose a race half-way, and a ``database is locked`` after that wait is a writer stuck
for 10 s, which trying again would wait for again.

>>> retrying(lambda: place_order(registry))   # doctest: +SKIP
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from typing import TypeVar

import psycopg
import sqlalchemy as sa

T = TypeVar("T")

logger = logging.getLogger(__name__)

# Odoo's MAX_TRIES_ON_CONCURRENCY_FAILURE.
ATTEMPTS = 5
# The wait before the second try is at most this, and doubles at each try after it:
# at most 0.1 + 0.2 + 0.4 + 0.8 s in all. Random, so that two losers do not meet again.
FIRST_WAIT_S = 0.1

_LOST_ON_POSTGRES = (
    psycopg.errors.SerializationFailure,
    psycopg.errors.DeadlockDetected,
    psycopg.errors.LockNotAvailable,
)


def lost_a_race(error: BaseException) -> bool:
    """Whether ``error`` is a transaction failed by another one's locks, which the same
    work, run again in a new transaction, would not meet."""
    if not isinstance(error, sa.exc.DBAPIError) or error.connection_invalidated:
        return False
    return isinstance(error.orig, _LOST_ON_POSTGRES)


def wait_before(attempt: int) -> float:
    """Seconds to wait before try ``attempt + 1``, ``attempt`` counting from 1."""
    # Not a secret: only spreads the retries of transactions that met.
    return random.uniform(0.0, FIRST_WAIT_S * 2 ** (attempt - 1))  # noqa: S311


class RetriesExhausted(Exception):
    """The work lost a race to other transactions ``attempts`` times in a row; nothing
    of it was saved. ``__cause__`` is the last failure."""

    def __init__(self, attempts: int) -> None:
        super().__init__(
            f"the data was being changed by other requests at the same time, {attempts} "
            "tries in a row; nothing was saved: try again"
        )
        self.attempts = attempts


def retrying(
    work: Callable[[], T],
    *,
    attempts: int = ATTEMPTS,
    sleep: Callable[[float], object] = time.sleep,
) -> T:
    """``work()``, run again while it fails by :func:`lost_a_race`, up to ``attempts``
    times in all. ``work`` opens and ends its own transaction (a failed one is rolled
    back before the error reaches here) and must be safe to run again: whatever it did
    outside the database is done again. Raises :class:`RetriesExhausted` after the
    last try, any other error at once."""
    for attempt in range(1, attempts + 1):
        try:
            return work()
        except sa.exc.DBAPIError as error:
            if not lost_a_race(error):
                raise
            if attempt == attempts:
                raise RetriesExhausted(attempts) from error
            note_retry(error, attempt, attempts)
            sleep(wait_before(attempt))
    raise AssertionError("unreachable: the last attempt returns or raises")


def note_retry(error: BaseException, attempt: int, attempts: int) -> None:
    # The driver's message only: the statement and its parameters stay out of the log.
    orig = error.orig if isinstance(error, sa.exc.DBAPIError) else error
    first_line = str(orig).partition("\n")[0]
    logger.info(
        "transaction lost a race (%s), try %d of %d: %s",
        type(orig).__name__,
        attempt + 1,
        attempts,
        first_line,
    )


__all__ = [
    "ATTEMPTS",
    "RetriesExhausted",
    "lost_a_race",
    "note_retry",
    "retrying",
    "wait_before",
]
