"""A PostgreSQL transaction's BEGIN and its first read in one round trip.

psycopg starts a transaction by sending ``BEGIN`` on its own before the first
statement, so a transaction that opens with a read pays two round trips and two passes
through SQLAlchemy's execution before any work is done. Every Bastion transaction
opens with the same read (the security versions, ``SecurityPolicy.begin``): measured
at PostgreSQL 10k, the whole empty transaction went from 0.52-0.55 ms to 0.26-0.30 ms
(client process time 0.31 -> 0.13 ms), a quarter of a one-record check.

``BEGIN; SELECT ...`` goes as one simple query through libpq (``PQexec`` returns the
last statement's result). The server is then in a transaction, so psycopg sends no
``BEGIN`` of its own before the next statement, and its commit and rollback end this
transaction as they would end their own. Both texts are constant: the BEGIN comes from
the connection's isolation level, the read is compiled by SQLAlchemy from a statement
without parameters. Whenever this path does not apply (SQLite, an autocommit or
read-only connection, a transaction already open, statements watched by execution
events or logging, which must see this one too) or fails, ``first_read`` returns
None and the caller runs its statement the usual way, which raises the usual errors
(a closed connection among them, which ``ModelRegistry.transaction`` retries).
"""

from __future__ import annotations

import weakref
from typing import Any

import psycopg
import sqlalchemy as sa
from psycopg import pq

from .direct import observed

# The first read's compiled text, per statement object (built once, executed at the
# start of every transaction). Weak: it goes with its registry's policy.
_TEXTS: weakref.WeakKeyDictionary[sa.Select[Any], bytes] = weakref.WeakKeyDictionary()


def first_read(
    connection: sa.Connection, statement: sa.Select[Any]
) -> list[tuple[str, ...]] | None:
    """Start ``connection``'s transaction with ``statement`` (no parameters) in the
    same round trip, and return its rows as text; None when that cannot be done."""
    if connection.dialect.name != "postgresql" or observed(connection):
        return None
    driver = connection.connection.driver_connection
    if not isinstance(driver, psycopg.Connection) or not _idle(driver):
        return None
    begin = _begin_text(driver)
    if begin is None:
        return None
    pgconn = driver.pgconn
    try:
        result = pgconn.exec_(begin + b"; " + _text(connection, statement))
    except psycopg.Error:
        return None  # no result at all: the connection is gone; the caller finds out
    if result.status != pq.ExecStatus.TUPLES_OK:
        if pgconn.transaction_status != pq.TransactionStatus.IDLE:
            # The BEGIN took and the read failed: end it, and let the caller's own
            # execution report the error.
            try:
                pgconn.exec_(b"ROLLBACK")
            except psycopg.Error:
                pass
        return None
    return [
        tuple(_decoded(result.get_value(row, col)) for col in range(result.nfields))
        for row in range(result.ntuples)
    ]


def _idle(driver: psycopg.Connection[Any]) -> bool:
    """No transaction open, psycopg's or ours, and psycopg would start one."""
    return (
        not driver.autocommit
        and driver.pgconn.status == pq.ConnStatus.OK
        and driver.pgconn.transaction_status == pq.TransactionStatus.IDLE
    )


def _begin_text(driver: psycopg.Connection[Any]) -> bytes | None:
    """The BEGIN psycopg would send itself; None for the settings it is not written for."""
    if driver.read_only is not None or driver.deferrable is not None:
        return None
    level = driver.isolation_level
    if level is None:
        return b"BEGIN"
    return b"BEGIN ISOLATION LEVEL " + psycopg.IsolationLevel(level).name.replace("_", " ").encode()


def _text(connection: sa.Connection, statement: sa.Select[Any]) -> bytes:
    text = _TEXTS.get(statement)
    if text is None:
        compiled = statement.compile(dialect=connection.dialect)
        if compiled.params:
            raise ValueError("first_read runs statements without parameters only")
        text = _TEXTS[statement] = str(compiled).encode()
    return text


def _decoded(value: bytes | None) -> str:
    if value is None:
        raise ValueError("first_read reads NOT NULL columns only")
    return value.decode()
