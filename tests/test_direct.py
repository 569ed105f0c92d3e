"""Kept statements run by the driver directly (``bastion.orm.direct``): the same rows,
values, types and errors as SQLAlchemy's execution, the same answers from the ORM for
every user, and SQLAlchemy's path wherever the direct one would differ from it. Every
test runs on SQLite too, where SQLAlchemy's path is kept (measured: sqlite3 through
SQLAlchemy costs no more than directly), but those of a PostgreSQL feature."""

from __future__ import annotations

import contextlib
import datetime as dt
import decimal
from collections.abc import Callable, Iterator
from typing import Any

import psycopg
import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.dialects import postgresql

from bastion import AccessError, Environment, MissingError, Registry
from bastion.orm import direct
from conftest import module_database
from test_orm_statements import M2O, World, build_world, portal_of_customer_b, rolled_back

METADATA = sa.MetaData()
PROBE = sa.Table(
    "direct_probe",
    METADATA,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("name", sa.String),
    sa.Column("body", sa.Text),
    sa.Column("blob", sa.LargeBinary),
    sa.Column("ratio", sa.Float),
    sa.Column("amount", sa.Numeric(12, 2)),
    sa.Column("flag", sa.Boolean),
    sa.Column("day", sa.Date),
    sa.Column("moment", sa.DateTime),
)
FIRST = sa.bindparam("first", type_=sa.Integer)


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def shared(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Registry, World]]:
    with module_database(request, tmp_path_factory, "sale", name="direct") as registry:
        with registry.transaction() as env:
            world = build_world(env)
        with registry.engine.begin() as conn:
            METADATA.create_all(conn)
        yield registry, world


@contextlib.contextmanager
def through_sqlalchemy(registry: Registry) -> Iterator[None]:
    """A statement listener: every statement takes SQLAlchemy's own execution."""

    def record(*_args: Any) -> None:
        pass

    sa.event.listen(registry.engine, "before_cursor_execute", record)
    try:
        yield
    finally:
        sa.event.remove(registry.engine, "before_cursor_execute", record)


def kept(statement: sa.Select[Any]) -> sa.Select[Any]:
    direct.register(statement)
    return statement


def probe_select() -> sa.Select[Any]:
    """The probe rows from id ``first`` on (each test's rows, inserted and rolled back)."""
    return kept(sa.select(PROBE).where(PROBE.c.id >= FIRST).order_by(PROBE.c.id))


def runs_direct_on(registry: Registry) -> bool:
    """Whether kept statements run by the driver on this backend (PostgreSQL)."""
    return registry.dialect == "postgresql"


def on_postgresql(registry: Registry) -> None:
    if registry.dialect != "postgresql":
        pytest.skip("a PostgreSQL feature")


# -- rows, values and types --------------------------------------------------------------
text = st.text(st.characters(exclude_characters="\x00", codec="utf-8"), max_size=20)
probe_rows = st.lists(
    st.fixed_dictionaries(
        {
            "name": st.none() | text,
            "body": st.none() | text,
            "blob": st.none() | st.binary(max_size=20),
            "ratio": st.none() | st.floats(allow_nan=False, width=64),
            "amount": st.none()
            | st.decimals(min_value=-(10**9), max_value=10**9, places=2, allow_nan=False),
            "flag": st.none() | st.booleans(),
            "day": st.none() | st.dates(),
            "moment": st.none() | st.datetimes(),
        }
    ),
    min_size=1,
    max_size=6,
)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(rows=probe_rows)
def test_every_column_type_reads_as_sqlalchemy_reads_it(
    shared: tuple[Registry, World], rows: list[dict[str, Any]]
) -> None:
    registry, _world = shared
    statement = probe_select()
    with registry.engine.connect() as conn, conn.begin() as transaction:
        ids = list(conn.scalars(sa.insert(PROBE).returning(PROBE.c.id), rows))
        assert direct.runs_direct(conn, statement) == runs_direct_on(registry)
        got = direct.fetch_all(conn, statement, {"first": min(ids)})
        expected = [tuple(row) for row in conn.execute(statement, {"first": min(ids)})]
        transaction.rollback()
    assert len(got) == len(rows) and got == expected
    assert [[type(v) for v in row] for row in got] == [[type(v) for v in row] for row in expected]


@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("name", "Ünïcode 'quoted' %s"),
        ("blob", b"\x00\xff"),
        ("ratio", 0.1),
        ("amount", decimal.Decimal("12.30")),
        ("flag", False),
        ("day", dt.date(2026, 12, 4)),
        ("moment", dt.datetime(2026, 12, 4, 10, 30, 15, 250)),
    ],
)
def test_a_parameter_of_each_type_binds_as_sqlalchemy_binds_it(
    shared: tuple[Registry, World], column: str, value: object
) -> None:
    registry, _world = shared
    target = PROBE.c[column]
    statement = kept(
        sa.select(PROBE.c.id).where(target == sa.bindparam("value", type_=target.type))
    )
    with registry.engine.connect() as conn, conn.begin() as transaction:
        conn.execute(sa.insert(PROBE), [{column: value}, {column: None}])
        got = direct.fetch_all(conn, statement, {"value": value})
        expected = [tuple(row) for row in conn.execute(statement, {"value": value})]
        transaction.rollback()
    assert len(got) == 1 and got == expected


def test_an_array_parameter_binds_as_sqlalchemy_binds_it(shared: tuple[Registry, World]) -> None:
    registry, _world = shared
    on_postgresql(registry)
    ids = sa.bindparam("ids", type_=postgresql.ARRAY(sa.Integer))
    statement = kept(sa.select(PROBE.c.id).where(PROBE.c.id == sa.any_(ids)))
    with registry.engine.connect() as conn, conn.begin() as transaction:
        made = list(conn.scalars(sa.insert(PROBE).returning(PROBE.c.id), [{}, {}, {}]))
        assert direct.runs_direct(conn, statement)
        got = direct.fetch_all(conn, statement, {"ids": made[:2]})
        expected = [tuple(row) for row in conn.execute(statement, {"ids": made[:2]})]
        transaction.rollback()
    assert sorted(got) == sorted(expected) == [(made[0],), (made[1],)]


def test_a_missing_parameter_is_sqlalchemys_error(shared: tuple[Registry, World]) -> None:
    registry, _world = shared
    statement = probe_select()
    with registry.engine.connect() as conn, conn.begin():
        with pytest.raises(sa.exc.StatementError, match="first"):
            direct.fetch_all(conn, statement, {})


# -- errors ----------------------------------------------------------------------------
def caught(call: Callable[[], object]) -> BaseException:
    with pytest.raises(sa.exc.DBAPIError) as info:
        call()
    return info.value


def test_a_failing_statement_raises_sqlalchemys_error(shared: tuple[Registry, World]) -> None:
    """An integer out of range: the same exception class and driver message either way."""
    registry, _world = shared
    statement = kept(sa.select(sa.func.abs(sa.bindparam("n", type_=sa.BigInteger))))
    outcomes = []
    for through in (contextlib.nullcontext, lambda: through_sqlalchemy(registry)):
        with through(), registry.engine.connect() as conn, conn.begin():
            error = caught(lambda conn=conn: direct.fetch_all(conn, statement, {"n": -(2**63)}))
            outcomes.append((type(error), type(error.orig), str(error.orig)))  # type: ignore[attr-defined]
    assert outcomes[0] == outcomes[1]


def test_after_an_error_the_transaction_says_it_failed_either_way(
    shared: tuple[Registry, World],
) -> None:
    """A negative LIMIT fails on PostgreSQL; the next statement of the transaction is
    refused the same way through either path."""
    registry, _world = shared
    on_postgresql(registry)
    inner = sa.select(PROBE.c.id).limit(sa.bindparam("n", type_=sa.Integer)).subquery()
    statement = kept(sa.select(sa.func.count()).select_from(inner))
    outcomes = []
    for through in (contextlib.nullcontext, lambda: through_sqlalchemy(registry)):
        with through(), registry.engine.connect() as conn, conn.begin():
            first = caught(lambda conn=conn: direct.fetch_all(conn, statement, {"n": -1}))
            second = caught(lambda conn=conn: direct.fetch_all(conn, statement, {"n": 1}))
            outcomes.append([(type(e), type(e.orig), str(e.orig)) for e in (first, second)])  # type: ignore[attr-defined]
    assert outcomes[0] == outcomes[1]
    assert outcomes[0][0][0] is sa.exc.DataError
    assert outcomes[0][1][1] is psycopg.errors.InFailedSqlTransaction


def test_a_lost_connection_is_invalidated_and_the_next_transaction_gets_a_new_one(
    shared: tuple[Registry, World],
) -> None:
    registry, world = shared
    on_postgresql(registry)
    statement = probe_select()
    with registry.engine.connect() as conn:
        conn.begin()
        pid = conn.exec_driver_sql("SELECT pg_backend_pid()").scalar()
        with registry.engine.connect() as other:
            other.execute(sa.select(sa.func.pg_terminate_backend(pid)))
        error = caught(lambda: direct.fetch_all(conn, statement, {"first": 1}))
        assert isinstance(error, sa.exc.OperationalError)
        assert error.connection_invalidated and conn.invalidated
    with registry.transaction() as env:
        assert env.with_user(world.portal)["sale.order"].search_count([]) > 0


# -- where SQLAlchemy's path is kept ---------------------------------------------------------
def test_sqlalchemys_path_wherever_the_direct_one_would_differ(
    shared: tuple[Registry, World],
) -> None:
    registry, _world = shared
    statement = probe_select()
    not_kept = sa.select(PROBE.c.id)
    if not runs_direct_on(registry):
        with registry.engine.connect() as conn, conn.begin():
            assert not direct.runs_direct(conn, statement)
        return
    with registry.engine.connect() as conn:
        assert not direct.runs_direct(conn, statement)  # no transaction yet
        with conn.begin():
            assert direct.runs_direct(conn, statement)
            assert not direct.runs_direct(conn, not_kept)
            with through_sqlalchemy(registry):
                assert not direct.runs_direct(conn, statement)
            assert direct.runs_direct(conn, statement)
    logged = sa.create_engine(registry.engine.url, echo=True)
    try:
        with logged.connect() as conn, conn.begin():
            assert not direct.runs_direct(conn, statement)
    finally:
        logged.dispose()


def test_an_expanding_parameter_keeps_sqlalchemys_path(shared: tuple[Registry, World]) -> None:
    """SQLite's check of several ids lists them in an IN that SQLAlchemy expands at each
    execution: that statement goes through SQLAlchemy, with the same rows."""
    registry, _world = shared
    statement = kept(
        sa.select(PROBE.c.id).where(PROBE.c.id.in_(sa.bindparam("ids", expanding=True)))
    )
    with registry.engine.connect() as conn, conn.begin() as transaction:
        made = list(conn.scalars(sa.insert(PROBE).returning(PROBE.c.id), [{}, {}, {}]))
        assert not direct.runs_direct(conn, statement)
        got = direct.fetch_all(conn, statement, {"ids": made[1:]})
        transaction.rollback()
    assert sorted(row[0] for row in got) == made[1:]


def test_a_window_written_into_the_text_runs_direct_with_sqlalchemys_rows(
    shared: tuple[Registry, World],
) -> None:
    """A search's offset and limit are written into the text at execution
    (``literal_execute``): one kept statement, a text per window, the rows SQLAlchemy
    gives; the texts kept per statement are bounded."""
    registry, _world = shared
    statement = kept(
        sa.select(PROBE.c.id)
        .where(PROBE.c.id >= FIRST)
        .order_by(PROBE.c.id)
        .offset(sa.bindparam("o", type_=sa.Integer, literal_execute=True))
        .limit(sa.bindparam("n", type_=sa.Integer, literal_execute=True))
    )
    with registry.engine.connect() as conn, conn.begin() as transaction:
        made = list(conn.scalars(sa.insert(PROBE).returning(PROBE.c.id), [{}] * 6))
        assert direct.runs_direct(conn, statement) == runs_direct_on(registry)
        windows = [(0, 2), (1, 3), (4, 5), (0, 2), *((k, 1) for k in range(direct.MAX_TEXTS))]
        got = [
            [
                row[0]
                for row in direct.fetch_all(conn, statement, {"first": made[0], "o": o, "n": n})
            ]
            for o, n in windows
        ]
        with through_sqlalchemy(registry):
            expected = [
                list(conn.scalars(statement, {"first": made[0], "o": o, "n": n}))
                for o, n in windows
            ]
        transaction.rollback()
    assert got == expected
    assert got[:4] == [made[0:2], made[1:4], made[4:6], made[0:2]]
    form = direct._FORMS[statement]
    if runs_direct_on(registry):
        assert form is not None and len(form.texts) == direct.MAX_TEXTS
        assert any("LIMIT 3 OFFSET 1" in text for text in form.texts.values())


def test_a_search_window_is_written_into_the_text_on_postgresql_only(
    shared: tuple[Registry, World],
) -> None:
    """PostgreSQL settles on a generic plan for a text with its LIMIT written in; SQLite
    plans at prepare time, where a written LIMIT chose a slower plan (crud._window_param)."""
    registry, world = shared
    sent: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        sent.append(statement)

    with rolled_back(registry) as env:
        orders = env.with_user(world.portal)["sale.order"]
        every = orders.search([]).ids
        sa.event.listen(registry.engine, "before_cursor_execute", record)
        try:
            found = orders.search([], offset=1, limit=7)
        finally:
            sa.event.remove(registry.engine, "before_cursor_execute", record)
    assert found.ids == every[1:8]
    (search,) = [text for text in sent if "LIMIT" in text]
    assert ("LIMIT 7 OFFSET 1" in search) == (registry.dialect == "postgresql")


@pytest.mark.parametrize(
    "window", [{"limit": "2"}, {"limit": -1}, {"limit": True}, {"offset": 1.5}]
)
def test_a_window_is_an_integer_or_refused_before_any_sql(
    shared: tuple[Registry, World], window: dict[str, object]
) -> None:
    registry, world = shared
    (name,) = window
    with rolled_back(registry) as env:
        orders = env.with_user(world.portal)["sale.order"]
        for call in (
            orders.search,
            lambda domain, **kw: orders.search_read(domain, ["name"], **kw),
        ):
            with pytest.raises(ValueError, match=f"{name} must be a non-negative integer"):
                call([], **window)  # type: ignore[operator]


# -- the ORM's answers ---------------------------------------------------------------------
def answers(env: Environment, world: World) -> list[object]:
    """A user's list page, pager, search and checks of their own, another customer's
    and missing orders: each an answer or the error it raised."""
    orders = env["sale.order"]

    def outcome(call: Callable[[], object]) -> object:
        try:
            return call()
        except (AccessError, MissingError) as error:
            return (type(error), str(error))

    return [
        orders.search_read([], [*M2O, "name", "date_order", "amount_total"], limit=20),
        orders.search_read([], ["name"], offset=3, limit=5, order="date_order desc, id"),
        orders.search_count([]),
        orders.search([]).ids,
        *(
            outcome(lambda ids=ids: orders.browse(list(ids)).check_access("read"))
            for ids in (world.allowed[:1], world.allowed, world.forbidden[:1], world.missing)
        ),
    ]


def test_every_user_gets_the_same_answers_through_either_path(
    shared: tuple[Registry, World],
) -> None:
    """The portal user of customer A, the salesman and the portal user of customer B;
    the second pass runs every statement through SQLAlchemy."""
    registry, world = shared
    with rolled_back(registry) as env:
        users = [world.portal, world.rep, portal_of_customer_b(env, world)]
        for uid in users:
            answers(env.with_user(uid), world)  # each user's statements kept
        statements: list[object] = []

        def record(_conn: Any, clause: object, *_args: Any) -> None:
            statements.append(clause)

        sa.event.listen(registry.engine, "before_execute", record)
        answers(env.with_user(world.portal), world)
        sa.event.remove(registry.engine, "before_execute", record)
        ran_direct = [direct.runs_direct(env.cr, s) for s in statements if isinstance(s, sa.Select)]
        direct_answers = [answers(env.with_user(uid), world) for uid in users]
        with through_sqlalchemy(registry):
            sqlalchemy_answers = [answers(env.with_user(uid), world) for uid in users]
    if runs_direct_on(registry):
        assert ran_direct.count(True) >= 4  # the list, the pager, the search, the checks
    else:
        assert not any(ran_direct)
    assert direct_answers == sqlalchemy_answers


def test_a_rules_list_of_values_is_spelled_out_and_runs_direct(
    shared: tuple[Registry, World],
) -> None:
    """A rule's ``in`` of plain values (as the portal's invoices, ``move_type in
    (...)``) is one parameter per value, not one expanding parameter: the statements
    kept under it run through the driver on PostgreSQL, with SQLAlchemy's answers, and
    customer B's user still sees none of A's orders."""
    registry, world = shared
    with registry.transaction() as env:
        rule = env["ir.rule"].create(
            {
                "name": "orders in one of the states",
                "model_id": int(env["ir.model"].search([("model", "=", "sale.order")]).id),
                "domain_force": "[('state', 'in', ('draft', 'sent', 'sale', 'cancel'))]",
            }
        )
    try:
        with rolled_back(registry) as env:
            users = [world.portal, world.rep, portal_of_customer_b(env, world)]
            for uid in users:
                answers(env.with_user(uid), world)  # each user's statements kept
            statements: list[sa.Select[Any]] = []

            def record(_conn: Any, clause: object, *_args: Any) -> None:
                if isinstance(clause, sa.Select):
                    statements.append(clause)

            sa.event.listen(registry.engine, "before_execute", record)
            answers(env.with_user(world.portal), world)
            sa.event.remove(registry.engine, "before_execute", record)
            dialect = registry.engine.dialect
            listing = [
                s for s in statements if "sale_order.state IN" in str(s.compile(dialect=dialect))
            ]
            assert listing, "the rule is in the portal user's statements"
            ran_direct = [direct.runs_direct(env.cr, s) for s in listing]
            direct_answers = [answers(env.with_user(uid), world) for uid in users]
            with through_sqlalchemy(registry):
                sqlalchemy_answers = [answers(env.with_user(uid), world) for uid in users]
            b_orders = env.with_user(users[2])["sale.order"]
            assert not set(b_orders.search([]).ids) & set(world.allowed)
    finally:
        with registry.transaction() as env:
            env["ir.rule"].browse(rule.id).unlink()
    assert direct_answers == sqlalchemy_answers
    assert ran_direct.count(True) >= (4 if runs_direct_on(registry) else 0)
    assert any(ran_direct) == runs_direct_on(registry)


def test_another_customers_portal_user_is_refused_through_the_direct_path(
    shared: tuple[Registry, World],
) -> None:
    registry, world = shared
    with rolled_back(registry) as env:
        as_b = env.with_user(portal_of_customer_b(env, world))["sale.order"]
        as_b.search_count([])  # kept
        with pytest.raises(AccessError):
            as_b.browse(list(world.allowed[:1])).check_access("read")
        assert not set(as_b.search([]).ids) & set(world.allowed)
        rows = as_b.search_read([], ["partner_id"], limit=80)
        assert {row["partner_id"][1] for row in rows} == {"Customer B"}  # type: ignore[index]


def test_observed_sees_every_kind_of_listener_and_their_removal(
    shared: tuple[Registry, World],
) -> None:
    """``observed`` reads SQLAlchemy's event flags first, which no listener's removal
    clears: on an engine no listener ever touched it says no at once, and after
    listeners of each kind (on the engine, on one connection, for errors) it says yes
    while one is there, and no again once each is removed."""
    registry, _world = shared
    engine = sa.create_engine(registry.engine.url)
    try:

        def record(*_args: Any) -> None:
            pass

        with engine.connect() as connection:
            assert not direct.observed(connection)
            for target, name in (
                (engine, "handle_error"),  # first: it sets the dialect's flag only
                (connection, "before_execute"),
                (engine, "before_cursor_execute"),
                (engine, "after_execute"),
            ):
                sa.event.listen(target, name, record)
                assert direct.observed(connection), name
                sa.event.remove(target, name, record)
                assert not direct.observed(connection), name
        with engine.connect() as connection:  # the flags set on the engine stay
            assert not direct.observed(connection)
    finally:
        engine.dispose()
