"""The workloads, run through Bastion and through each peer, verified, then timed.

>>> engine = BastionEngine(registry, fixture.users["portal"])
>>> rows = engine.search_read(DOCS["sale.order"])      # the portal list page  # doctest: +SKIP

Reads: ``search_read`` of 80 rows in the list's order (date descending), ``search_count``,
``check_access('read')`` of one record and of up to 10,000 ids that pass. Writes: 10,000
records created in batches under create rules (helpdesk tickets for a portal user,
sale orders for a salesman), in a transaction rolled back. Every call of every engine is
a transaction of its own, as a request is.
"""

from __future__ import annotations

import datetime as dt
import statistics
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from generate import BenchUser, Fixture
from peers import PREDICATES, ROW_RULES, RULE_COLUMNS, Doc, NaiveContext, dialect_sql

from bastion import AccessError, Registry
from bastion.orm.environment import SUPERUSER_ID, Environment, Transaction

CREATE_TOTAL = 10_000
CREATE_BATCH = 1_000
CHECK_MANY = 10_000


@dataclass
class Timing:
    seconds: list[float] = field(default_factory=list)

    @property
    def median(self) -> float:
        return statistics.median(self.seconds)

    @property
    def p95(self) -> float:
        ordered = sorted(self.seconds)
        return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def measure(
    fn: Callable[[], object], runs: int, budget: float, min_runs: int = 3, warm_up: bool = True
) -> Timing:
    """Run ``fn`` once to warm up, then up to ``runs`` times or until ``budget`` seconds
    have passed (at least ``min_runs`` times)."""
    if warm_up:
        fn()
    timing = Timing()
    started = time.perf_counter()
    while len(timing.seconds) < runs:
        t0 = time.perf_counter()
        fn()
        timing.seconds.append(time.perf_counter() - t0)
        if len(timing.seconds) >= min_runs and time.perf_counter() - started > budget:
            break
    return timing


def measure_interleaved(
    fns: dict[str, Callable[[], object]], runs: int, budget: float, blocks: int
) -> dict[str, Timing]:
    """Time the engines of one cell in turn: ``blocks`` rounds, each running every
    engine for up to ``runs // blocks`` calls or ``budget / blocks`` seconds (one call at
    least), in the opposite order every other round. A machine whose speed drifts
    during a cell (a VM's neighbours) then slows every engine alike, where timing one
    engine's cells a few minutes after the other's put the drift into their ratio."""
    for fn in fns.values():
        fn()
    timings = {name: Timing() for name in fns}
    per_block = max(1, runs // blocks)
    names = list(fns)
    for block in range(blocks):
        for name in names if block % 2 == 0 else names[::-1]:
            fn, seconds = fns[name], timings[name].seconds
            started = time.perf_counter()
            for _ in range(per_block):
                t0 = time.perf_counter()
                fn()
                seconds.append(time.perf_counter() - t0)
                if time.perf_counter() - started > budget / blocks:
                    break
    return timings


def user_params(user: BenchUser) -> dict[str, Any]:
    return {
        "uid": user.uid,
        "partner": user.partner_id,
        "commercial": user.commercial_id,
        "companies": list(user.company_ids),
    }


# -- statements Bastion runs -----------------------------------------------------------
class StatementLog:
    """The statements sent on ``engine`` while :meth:`capture` is open. The listener
    is there only then: an execution event makes every statement take SQLAlchemy's
    slower path, which the timed calls must not pay (the runs before the seventh did)."""

    def __init__(self, engine: sa.Engine) -> None:
        self.engine = engine
        self.statements: list[tuple[str, Any]] = []

    def _record(self, _conn: Any, _cursor: Any, statement: str, params: Any, *_rest: Any) -> None:
        self.statements.append((statement, params))

    @contextmanager
    def capture(self) -> Iterator[list[tuple[str, Any]]]:
        self.statements = []
        sa.event.listen(self.engine, "before_cursor_execute", self._record)
        try:
            yield self.statements
        finally:
            sa.event.remove(self.engine, "before_cursor_execute", self._record)


def explain(engine: sa.Engine, statement: str, params: Any) -> list[str]:
    """The plan of a captured statement: EXPLAIN (ANALYZE, BUFFERS) on PostgreSQL,
    EXPLAIN QUERY PLAN on SQLite (the statement text is Bastion's own, values bound)."""
    with engine.connect() as conn:
        if conn.dialect.name == "postgresql":
            rows = conn.exec_driver_sql("EXPLAIN (ANALYZE, BUFFERS) " + statement, params)
            lines = [str(row[0]) for row in rows]
        else:
            rows = conn.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, params)
            lines = [f"{row[1]:>3} {row[3]}" for row in rows]
        conn.rollback()
    return lines


# -- Bastion ---------------------------------------------------------------------------
class BastionEngine:
    """The workloads through the ORM, as ``user`` (its allowed companies)."""

    def __init__(self, registry: Registry, user: BenchUser) -> None:
        self.registry = registry
        self.user = user

    @contextmanager
    def env(self, keep: bool = True) -> Iterator[Environment]:
        """A user environment in a transaction committed at the end, as a request's
        is and as the peers' are (``keep``; else rolled back, for the creates). The
        end matters beyond the data: psycopg forgets its prepared statements at every
        rollback, so rolled-back reads would be planned again at every call."""
        with self.registry.engine.connect() as connection:
            connection.begin()
            txn = Transaction(self.registry, connection)
            self.registry.security.begin(txn)
            env = Environment(txn, SUPERUSER_ID, su=True).with_user(self.user.uid)
            if not self.user.portal:
                env = env.with_companies(self.user.company_ids)
            try:
                yield env
            except BaseException:
                connection.rollback()
                raise
            if keep:
                connection.commit()
            else:
                connection.rollback()

    def search_read(self, doc: Doc) -> list[dict[str, Any]]:
        with self.env() as env:
            return env[doc.model].search_read([], list(doc.fields), limit=80, order=doc.order)

    def search_count(self, doc: Doc) -> int:
        with self.env() as env:
            return env[doc.model].search_count([])

    def allowed(self, doc: Doc, ids: Sequence[int]) -> set[int]:
        with self.env() as env:
            try:
                env[doc.model].browse(ids).check_access("read")
            except AccessError:
                return set()
            return set(ids)

    def create(self, model: str, rows: Sequence[dict[str, Any]]) -> int:
        with self.env(keep=False) as env:
            created = 0
            for start in range(0, len(rows), CREATE_BATCH):
                created += len(env[model].create(list(rows[start : start + CREATE_BATCH])))
            return created


# -- creating ------------------------------------------------------------------------------
@dataclass(frozen=True)
class CreateCase:
    """What a user creates: the model, Bastion's values, and the same rows as columns."""

    model: str
    orm_rows: list[dict[str, Any]]
    columns: tuple[str, ...]
    sql_rows: list[tuple[Any, ...]]
    followers: str  # relation table, owner column, partner column
    follower_columns: tuple[str, str]
    denied: dict[str, Any]  # a row the rules refuse (Bastion's values)
    denied_row: tuple[Any, ...]


def create_case(registry: Registry, fixture: Fixture, user: BenchUser) -> CreateCase:
    now = dt.datetime(2026, 1, 1)
    partner = fixture.customer_contact
    if user.portal:
        model = "helpdesk.ticket"
        orm_rows = [{"name": f"Ticket {i}", "partner_id": partner} for i in range(CREATE_TOTAL)]
        columns: tuple[str, ...] = (
            "name",
            "number",
            "partner_id",
            "company_id",
            "stage",
            "priority",
            "date_open",
        )

        def row(i: int, who: int) -> tuple[Any, ...]:
            return (f"Ticket {i}", f"T{i:05d}", who, user.company_ids[0], "new", "1", now)

        denied = {"name": "Not mine", "partner_id": fixture.other_customer}
        denied_row = row(0, fixture.other_customer)
    else:
        model = "sale.order"
        orm_rows = [{"partner_id": partner, "user_id": user.uid} for _ in range(CREATE_TOTAL)]
        columns = ("name", "partner_id", "user_id", "company_id", "date_order", "state")

        def row(i: int, who: int) -> tuple[Any, ...]:
            return (f"S{i:05d}", partner, who, user.company_ids[0], now, "draft")

        other = fixture.users["internal"].uid + 1  # another salesman
        denied = {"partner_id": partner, "user_id": other}
        denied_row = row(0, other)
    sql_rows = [row(i, partner if user.portal else user.uid) for i in range(CREATE_TOTAL)]
    field_ = registry.specs[model].fields["message_partner_ids"]
    assert field_.relation and field_.column1 and field_.column2
    return CreateCase(
        model,
        orm_rows,
        columns,
        sql_rows,
        field_.relation,
        (field_.column1, field_.column2),
        denied,
        denied_row,
    )


class RefusedError(Exception):
    """A peer refused a created row (its rule check failed)."""


def sql_create(
    conn: Any,
    dialect: str,
    case: CreateCase,
    rows: Sequence[tuple[Any, ...]],
    check: Callable[[list[int]], None] | None,
) -> int:
    """Insert ``rows`` by batches (multi-row VALUES ... RETURNING id), their customer as
    follower, and ``check`` the new ids (None: the database checks, RLS); rolled back."""
    table = case.model.replace(".", "_")
    mark = "%s" if dialect == "postgresql" else "?"
    created = 0
    try:
        for start in range(0, len(rows), CREATE_BATCH):
            batch = rows[start : start + CREATE_BATCH]
            one = "(" + ", ".join([mark] * len(case.columns)) + ")"
            # Placeholders only: the values are bound.
            text = (
                f"INSERT INTO {table} ({', '.join(case.columns)}) "  # noqa: S608
                f"VALUES {', '.join([one] * len(batch))} RETURNING id"
            )
            flat = [value for row in batch for value in row]
            ids = [int(r[0]) for r in conn.execute(text, flat).fetchall()]
            owner, partner_column = case.follower_columns
            partner_at = case.columns.index("partner_id")
            follow = (
                f"INSERT INTO {case.followers} ({owner}, {partner_column}) "  # noqa: S608
                f"VALUES ({mark}, {mark})"
            )
            pairs = [(rid, row[partner_at]) for rid, row in zip(ids, batch, strict=True)]
            conn.cursor().executemany(follow, pairs)
            if check is not None:
                check(ids)
            created += len(ids)
    finally:
        conn.rollback()
    return created


def hand_check(
    conn: Any, dialect: str, model: str, params: dict[str, Any]
) -> Callable[[list[int]], None]:
    """The create rule as one query over the new ids: none may fail it."""
    pred = PREDICATES[(model, model == "helpdesk.ticket")]
    table = model.replace(".", "_")
    text = dialect_sql(
        f"SELECT count(*) FROM {table} m WHERE m.id = ANY(%(ids)s) "  # noqa: S608
        f"AND NOT COALESCE(({pred}), FALSE)",
        dialect,
    )

    def check(ids: list[int]) -> None:
        values: dict[str, Any] = {**params, "ids": ids}
        if dialect != "postgresql":
            import json  # noqa: PLC0415

            values = {k: json.dumps(v) if isinstance(v, list) else v for k, v in values.items()}
        refused = conn.execute(text, values).fetchone()[0]
        if refused:
            raise RefusedError(f"{refused} new {model} rows fail the create rule")

    return check


def naive_check(
    conn: Any, dialect: str, model: str, portal: bool, params: dict[str, Any]
) -> Callable[[list[int]], None]:
    """Read the new rows back and decide each one in Python."""
    rule = ROW_RULES[(model, portal)]
    names = ("id", *RULE_COLUMNS[model])
    table = model.replace(".", "_")

    def check(ids: list[int]) -> None:
        ctx = NaiveContext(conn, dialect, params)
        rows = [
            dict(zip(names, row, strict=True))
            for row in ctx.query(
                f"SELECT {', '.join(names)} FROM {table} WHERE id = ANY(%(ids)s)",  # noqa: S608
                {"ids": ids},
            )
        ]
        ctx.load_parents({r["partner_id"] for r in rows if r.get("partner_id") is not None})
        refused = [r["id"] for r in rows if not rule(r, ctx)]
        if refused:
            raise RefusedError(f"{len(refused)} new {model} rows fail the create rule")

    return check
