"""A PostgreSQL transaction's BEGIN and its versions read in one round trip
(``bastion.orm.first_read``), and every case where it steps aside."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
import sqlalchemy as sa
from psycopg import pq

from bastion import Registry
from bastion.orm.environment import Transaction
from bastion.orm.first_read import first_read
from bastion.security.policy import SECURITY_ROW

pytestmark = pytest.mark.parametrize("backend", ["postgresql"], indirect=True)


def driver_status(connection: sa.Connection) -> pq.TransactionStatus:
    driver = connection.connection.driver_connection
    assert isinstance(driver, psycopg.Connection)
    return pq.TransactionStatus(driver.pgconn.transaction_status)


def versions(registry: Registry) -> sa.Select[tuple[int, str]]:
    table = registry.security.version_table
    return sa.select(table.c.id, table.c.token)


@pytest.fixture
def connection(registry: Registry) -> Iterator[sa.Connection]:
    with registry.engine.connect() as conn:
        yield conn


def frontend_messages(trace: str) -> list[str]:
    """The types of the messages the client sent, from a libpq trace (lines of
    ``F <length> <type> <fields>``, tab-separated)."""
    return [line.split("\t")[2] for line in trace.splitlines() if line.startswith("F\t")]


def test_a_transaction_opens_with_the_versions_and_nothing_else_before(
    registry: Registry, tmp_path: Path
) -> None:
    """The BEGIN went with the read, as one message on the wire (libpq's own trace):
    the transaction is open, and its tokens are the table's."""
    with registry.transaction() as env:
        registry.security._bump(env.transaction, SECURITY_ROW)  # a committed version to read
    traced = tmp_path / "libpq.trace"
    with registry.engine.connect() as conn:
        pgconn = conn.connection.driver_connection.pgconn  # type: ignore[union-attr]
        with traced.open("w") as out:
            pgconn.trace(os.dup(out.fileno()))  # libpq closes its copy at untrace
            pgconn.set_trace_flags(pq.Trace.SUPPRESS_TIMESTAMPS)
            try:
                conn.begin()
                txn = Transaction(registry, conn)
                registry.security.begin(txn)
            finally:
                pgconn.untrace()
        assert driver_status(conn) == pq.TransactionStatus.INTRANS
        messages = frontend_messages(traced.read_text())
        assert messages == ["Query"], traced.read_text()  # one message: BEGIN; SELECT
        assert "BEGIN" in traced.read_text() and "ir_security_version" in traced.read_text()
        table = registry.security.version_table
        stored = conn.execute(sa.select(table.c.token).where(table.c.id == SECURITY_ROW))
        assert txn.security_token == stored.scalar()
        conn.rollback()


def test_a_statement_listener_sees_the_versions_read(registry: Registry) -> None:
    """Something that watches SQLAlchemy's statements (a log, a tracer) sees every one:
    with a listener, the versions read takes SQLAlchemy's path."""
    sent: list[str] = []

    def record(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        sent.append(statement)

    sa.event.listen(registry.engine, "before_cursor_execute", record)
    try:
        with registry.transaction() as env:
            assert driver_status(env.cr) == pq.TransactionStatus.INTRANS
    finally:
        sa.event.remove(registry.engine, "before_cursor_execute", record)
    assert len(sent) == 1 and "ir_security_version" in sent[0]


def test_the_rows_come_as_text_in_the_statements_columns(
    registry: Registry, connection: sa.Connection
) -> None:
    with registry.transaction() as env:
        registry.security._bump(env.transaction, SECURITY_ROW)
    connection.begin()
    rows = first_read(connection, versions(registry))
    assert rows is not None
    expected = [(str(i), t) for i, t in connection.execute(versions(registry))]
    assert rows == expected and rows
    connection.rollback()
    assert driver_status(connection) == pq.TransactionStatus.IDLE


def test_the_engines_isolation_level_is_the_transactions(registry: Registry) -> None:
    """The BEGIN sent is the one psycopg would send: it carries the isolation level."""
    engine = sa.create_engine(registry.engine.url, isolation_level="REPEATABLE READ")
    setting = sa.select(sa.literal_column("current_setting('transaction_isolation')"))
    try:
        with engine.connect() as conn:
            conn.begin()
            assert first_read(conn, setting) == [("repeatable read",)]
    finally:
        engine.dispose()


def test_a_read_that_fails_leaves_no_transaction_and_the_usual_error_follows(
    connection: sa.Connection,
) -> None:
    missing = sa.select(sa.table("no_such_table", sa.column("id")).c.id)
    connection.begin()
    assert first_read(connection, missing) is None
    assert driver_status(connection) == pq.TransactionStatus.IDLE
    with pytest.raises(sa.exc.ProgrammingError, match="no_such_table"):
        connection.execute(missing)


def test_an_open_transaction_is_left_as_it_is(
    registry: Registry, connection: sa.Connection
) -> None:
    """A savepoint's registry (``joined``) begins inside a transaction: no BEGIN."""
    connection.begin()
    connection.execute(sa.text("SELECT 1"))
    assert first_read(connection, versions(registry)) is None
    assert driver_status(connection) == pq.TransactionStatus.INTRANS


def test_an_autocommit_connection_is_left_to_sqlalchemy(registry: Registry) -> None:
    with registry.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        assert first_read(conn, versions(registry)) is None
        assert driver_status(conn) == pq.TransactionStatus.IDLE


def test_a_statement_with_parameters_is_refused(
    registry: Registry, connection: sa.Connection
) -> None:
    table = registry.security.version_table
    with pytest.raises(ValueError, match="without parameters"):
        first_read(connection, sa.select(table.c.id).where(table.c.id == SECURITY_ROW))
