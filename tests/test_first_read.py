"""A PostgreSQL transaction's BEGIN and its versions read in one round trip
(``bastion.orm.first_read``), and every case where it steps aside."""

from __future__ import annotations

from collections.abc import Iterator

import psycopg
import pytest
import sqlalchemy as sa
from psycopg import pq

from bastion import Registry
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


def test_a_transaction_opens_with_the_versions_and_nothing_else_before(
    registry: Registry,
) -> None:
    """The BEGIN went with the read: the transaction is open, its tokens are the
    table's, and SQLAlchemy sent nothing (no BEGIN of psycopg's, no second read)."""
    with registry.transaction() as env:
        registry.security._bump(env, SECURITY_ROW)  # a committed version to read
    sent: list[str] = []

    def record(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        sent.append(statement)

    sa.event.listen(registry.engine, "before_cursor_execute", record)
    try:
        with registry.transaction() as env:
            assert driver_status(env.cr) == pq.TransactionStatus.INTRANS
            assert sent == []
            table = registry.security.version_table
            stored = env.cr.execute(
                sa.select(table.c.token).where(table.c.id == SECURITY_ROW)
            ).scalar()
            assert env.transaction.security_token == stored
    finally:
        sa.event.remove(registry.engine, "before_cursor_execute", record)


def test_the_rows_come_as_text_in_the_statements_columns(
    registry: Registry, connection: sa.Connection
) -> None:
    with registry.transaction() as env:
        registry.security._bump(env, SECURITY_ROW)
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
