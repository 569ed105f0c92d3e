"""The test fixtures themselves work: both backends, real PostgreSQL, C collation."""

from __future__ import annotations

from collections.abc import Iterator

import psycopg
import pytest
import sqlalchemy as sa

from pg import CreateDatabase, PostgresServer

# Mixed case, accents, a non-BMP character: sorted by code point in Python, SQLite
# (BINARY collation) and PostgreSQL (C collation) alike.
NAMES = ["b", "B", "a", "A", "Z", "é", "e", "Ω", "_", "10", "9", "😀", "ab", "a b"]


@pytest.fixture
def engine(database_url: str) -> Iterator[sa.Engine]:
    engine = sa.create_engine(database_url)
    yield engine
    engine.dispose()


def test_fresh_database_is_empty(engine: sa.Engine) -> None:
    assert sa.inspect(engine).get_table_names() == []


def test_create_insert_select(engine: sa.Engine, backend: str) -> None:
    assert engine.dialect.name == backend
    metadata = sa.MetaData()
    item = sa.Table(
        "item",
        metadata,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(50), nullable=False),
    )
    metadata.create_all(engine)
    with engine.begin() as conn:
        conn.execute(item.insert(), [{"id": i, "name": n} for i, n in enumerate(NAMES, 1)])
    with engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(item)).scalar_one() == len(NAMES)
        ordered = conn.execute(sa.select(item.c.name).order_by(item.c.name)).scalars().all()
        less = conn.execute(sa.select(sa.literal("B") < sa.literal("a"))).scalar_one()
    assert ordered == sorted(NAMES)
    assert bool(less) is ("B" < "a")


def test_postgresql_collation_is_c(create_database: CreateDatabase) -> None:
    engine = sa.create_engine(create_database())
    try:
        with engine.connect() as conn:
            collate, ctype, encoding = conn.execute(
                sa.text(
                    "SELECT datcollate, datctype, pg_encoding_to_char(encoding)"
                    " FROM pg_database WHERE datname = current_database()"
                )
            ).one()
            assert (collate, ctype, encoding) == ("C", "C", "UTF8")
            if conn.dialect.server_version_info < (16,):  # type: ignore[operator]
                # lc_collate is no longer a setting from PostgreSQL 16 on
                assert conn.execute(sa.text("SHOW lc_collate")).scalar_one() == "C"
            assert conn.execute(sa.text("SELECT 'B' < 'a'")).scalar_one() is True
    finally:
        engine.dispose()


def test_postgresql_template_and_drop(
    postgres_server: PostgresServer, create_database: CreateDatabase
) -> None:
    template_url = create_database()
    template = sa.make_url(template_url).database
    assert template is not None
    engine = sa.create_engine(template_url)
    with engine.begin() as conn:
        conn.execute(sa.text("CREATE TABLE seeded (x integer)"))
        conn.execute(sa.text("INSERT INTO seeded VALUES (42)"))
    engine.dispose()  # a template must have no connections

    copy = sa.create_engine(create_database(template=template))
    try:
        with copy.connect() as conn:
            assert conn.execute(sa.text("SELECT x FROM seeded")).scalar_one() == 42
    finally:
        copy.dispose()

    # drop_database works even with a connection still open (WITH (FORCE))
    name = "bastion_smoke_drop"
    postgres_server.create_database(name)
    with psycopg.connect(postgres_server.conninfo(name)):
        postgres_server.drop_database(name)
    with psycopg.connect(postgres_server.conninfo(), autocommit=True) as admin:
        row = admin.execute(
            "SELECT count(*) FROM pg_database WHERE datname = %s", [name]
        ).fetchone()
    assert row == (0,)


def test_postgres_server_addresses(postgres_server: PostgresServer) -> None:
    assert postgres_server.host == "127.0.0.1"
    assert postgres_server.port > 0
    assert postgres_server.admin_url == (
        f"postgresql+psycopg://bastion@127.0.0.1:{postgres_server.port}/postgres"
    )
    assert postgres_server.socket_dir.is_dir()
