"""child_of / parent_of: the recursive CTE Bastion uses against a materialised path.

    .venv/bin/python bench/hierarchy.py [--sizes 10k,100k] [--backends sqlite,postgresql]
                                        [--runs 50] [--budget 2.0] [--explain]

Bastion compiles child_of / parent_of to a recursive CTE over ``parent_id``
(``SqlCompiler.hierarchy_ids``); it had a materialised ``parent_path`` ('1/5/9/') before,
and this benchmark keeps measuring that alternative. For each backend (SQLite on a file,
and a throwaway PostgreSQL server from tests/pg.py) and each size, a database gets
``base`` installed, then the benchmark adds a ``parent_path`` column and its index to
res_partner itself (SQLAlchemy Core; the ORM no longer has them) and fills res.partner with
bulk inserts shaped like a customer base: 20% companies with 4 contacts each, plus a few
chains of nested companies 10 levels deep, with their paths.

Workloads (each returns the same ordered ids as ``env["res.partner"].search(domain)``):

- ``child_of 1``: the descendants of one company (the portal rule's shape);
- ``child_of 100``: the descendants of 100 companies at once;
- ``parent_of leaf``: the ancestors of a leaf at depth 10;
- ``child_of chain``: the descendants of a chain's root (45 partners over 10 levels).

Variants:

- ``orm``: ``env["res.partner"].search(domain)`` as superuser (parse, compile, execute):
  the ORM's recursive CTE plus Python;
- ``orm-sql``: the statement the ORM builds (``crud.search_ids``), executed directly: its
  CTE is nested in the ``IN`` sub-query;
- ``cte``: the benchmark's own recursive CTE over ``parent_id`` (``.cte(recursive=True)``,
  UNION: it also stops on a cycle), at the top of the statement;
- ``cte-rpc1.1`` (PostgreSQL): the same CTE under ``SET LOCAL random_page_cost = 1.1``
  (the usual SSD setting instead of the default 4), which decides its plan for many anchors;
- ``mp-join``: the statement Bastion's ORM used to build: a self-join on
  ``d.parent_path LIKE a.parent_path || '%'``;
- ``mp-range``: the same materialised path, joined on a range the B-tree can seek
  (``d.parent_path >= a.parent_path AND d.parent_path < <a.parent_path with its final
  '/' bumped to '0'>``): one statement, child_of only;
- ``mp-2step``: Odoo's way: read the anchors' paths first, then ``parent_path LIKE
  '1/5/%' OR ...`` with constant prefixes (child_of) or ``id IN`` the path's ids (parent_of).

Every SQL variant keeps the ORM's implicit ``active = True`` and its order (name, id), and
its result is asserted equal to the ORM's. Plans come from EXPLAIN QUERY PLAN (SQLite) and
EXPLAIN (ANALYZE) (PostgreSQL, whose server-side execution time is shown too).

Writes: moving a subtree (a company with its contacts, and a chain root with its 44
descendants) under another company and back: ``mp`` with the path rewrite (what the ORM
used to do), ``cte`` with only a cycle check and the parent_id update, and ``orm write``
(``write({"parent_id": ...})``: the CTE cycle check, plus the commercial partner recompute).

Timings are wall-clock per statement round trip on one connection; each cell runs ``--runs``
times (fewer when it exceeds ``--budget`` seconds, at least 3) after one warm-up.
"""

from __future__ import annotations

import argparse
import functools
import os
import platform
import random
import re
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from bastion import Registry, ValidationError  # noqa: E402
from bastion.orm.crud import order_by, search_clause  # noqa: E402
from bastion.orm.environment import Environment  # noqa: E402
from bastion.orm.model import Model  # noqa: E402
from pg import PostgresServer  # noqa: E402

MODEL = "res.partner"
CONTACTS = 4  # contacts per company
CHAINS = 10  # chains of nested companies
CHAIN_DEPTH = 10  # path length of a chain's deepest contact
SEED = 20240601
MANY = 100  # companies in the "child_of 100" workload
INSERT_CHUNK = 5000

Row = dict[str, Any]
Ids = tuple[int, ...]


# -- data ------------------------------------------------------------------------------
@dataclass
class Dataset:
    rows: list[Row]
    plain_companies: list[int]  # top-level companies with CONTACTS contacts
    chain_roots: list[int]
    deep_leaves: list[int]  # a contact at depth CHAIN_DEPTH under each chain


def build_dataset(size: int, first_id: int) -> Dataset:
    """``size`` partners with ids from ``first_id``, parents before children."""
    rows: list[Row] = []
    paths: dict[int, str] = {}
    next_id = first_id

    def add(name: str, parent: int | None, is_company: bool, commercial: int | None) -> int:
        nonlocal next_id
        rid = next_id
        next_id += 1
        paths[rid] = f"{paths[parent] if parent is not None else ''}{rid}/"
        rows.append(
            {
                "id": rid,
                "name": name,
                "parent_id": parent,
                "is_company": is_company,
                "commercial_partner_id": rid if commercial is None else commercial,
                "company_id": None,
                "email": f"p{rid}@example.com",
                "active": True,
                "parent_path": paths[rid],
            }
        )
        return rid

    def company_with_contacts(name: str, parent: int | None) -> int:
        company = add(name, parent, True, None)
        for n in range(CONTACTS):
            add(f"{name} contact {n}", company, False, company)
        return company

    chain_roots: list[int] = []
    deep_leaves: list[int] = []
    # A chain: CHAIN_DEPTH - 1 nested companies, each with its contacts; the deepest
    # company's first contact is at depth CHAIN_DEPTH.
    for c in range(CHAINS):
        parent: int | None = None
        for level in range(CHAIN_DEPTH - 1):
            parent = company_with_contacts(f"Group {c:02d} level {level}", parent)
            if level == 0:
                chain_roots.append(parent)
        deep_leaves.append(parent + 1 if parent is not None else 0)
    plain: list[int] = []
    n = 0
    while len(rows) + 1 + CONTACTS <= size:
        plain.append(company_with_contacts(f"Company {n:06d}", None))
        n += 1
    while len(rows) < size:  # pad with lone people
        add(f"Person {len(rows):06d}", None, False, None)
    for leaf in deep_leaves:
        assert paths[leaf].count("/") == CHAIN_DEPTH, paths[leaf]
    return Dataset(rows, plain, chain_roots, deep_leaves)


PATH_COLUMN = "parent_path"
PATH_INDEX = "ix_res_partner_parent_path"


def path_table(reg: Registry) -> sa.Table:
    """res_partner as the ORM declares it, plus the ``parent_path`` column the ORM
    dropped: the benchmark's own Core view of the table, for the materialised path."""
    orm_table = reg.model_info(MODEL).table
    columns = [sa.Column(c.name, c.type, primary_key=c.primary_key) for c in orm_table.columns]
    table = sa.Table(orm_table.name, sa.MetaData(), *columns, sa.Column(PATH_COLUMN, sa.String))
    sa.Index(PATH_INDEX, table.c[PATH_COLUMN])  # the table's only index in this metadata
    return table


def add_parent_path(reg: Registry, table: sa.Table) -> None:
    """ALTER TABLE res_partner ADD COLUMN parent_path, filled for the rows already there
    (base data). Its index comes after the bulk insert (``bulk_insert``): on PostgreSQL,
    CREATE INDEX on the nearly empty table records its size, and the foreign-key checks
    of the insert then plan sequential scans (quadratic: minutes for 100k rows)."""
    column = sa.schema.CreateColumn(table.c[PATH_COLUMN]).compile(dialect=reg.engine.dialect)
    with reg.engine.begin() as conn:
        conn.execute(sa.DDL(f"ALTER TABLE {table.name} ADD COLUMN {column}"))
        rows = conn.execute(sa.select(table.c.id, table.c.parent_id))
        parents: dict[int, int | None] = {rid: parent for rid, parent in rows}

        def path(rid: int) -> str:
            parent = parents[rid]
            return f"{path(parent) if parent is not None else ''}{rid}/"

        if parents:
            conn.execute(
                sa.update(table)
                .where(table.c.id == sa.bindparam("rid"))
                .values({PATH_COLUMN: sa.bindparam("path")}),
                [{"rid": rid, "path": path(rid)} for rid in parents],
            )


def bulk_insert(reg: Registry, table: sa.Table, data: Dataset) -> None:
    with reg.engine.begin() as conn:
        for start in range(0, len(data.rows), INSERT_CHUNK):
            conn.execute(sa.insert(table), data.rows[start : start + INSERT_CHUNK])
        if reg.dialect == "postgresql":
            # Explicit ids: move the serial on so that later inserts do not collide.
            sequence = sa.func.pg_get_serial_sequence(table.name, "id")
            last = sa.select(sa.func.max(table.c.id)).scalar_subquery()
            conn.execute(sa.select(sa.func.setval(sequence, last)))
        for index in table.indexes:  # built packed, unlike one maintained row by row
            index.create(conn)
    with reg.engine.begin() as conn:
        conn.execute(sa.text("ANALYZE"))


# -- queries ---------------------------------------------------------------------------
def ordered(table: sa.Table, where: sa.ColumnElement[bool]) -> sa.Select[tuple[int]]:
    """SELECT id WHERE <where> AND active ORDER BY name, id: the ORM's search shape."""
    return (
        sa.select(table.c.id)
        .where(where, table.c.active.is_not(None), table.c.active == sa.true())
        .order_by(table.c.name.asc().nulls_last(), table.c.id.asc().nulls_last())
    )


def family_cte(
    table: sa.Table, operator: str, ids: Ids, name: str = "family"
) -> sa.Select[tuple[int]]:
    """Ids of ``ids`` and their descendants (child_of) or ancestors (parent_of)."""
    step = table.alias("step")
    if operator == "child_of":
        seed = sa.select(table.c.id).where(table.c.id.in_(ids)).cte(name, recursive=True)
        family = seed.union(sa.select(step.c.id).join(seed, step.c.parent_id == seed.c.id))
        return sa.select(family.c.id)
    up = (
        sa.select(table.c.id, table.c.parent_id)
        .where(table.c.id.in_(ids))
        .cte(name, recursive=True)
    )
    lineage = up.union(sa.select(step.c.id, step.c.parent_id).join(up, step.c.id == up.c.parent_id))
    return sa.select(lineage.c.id)


def family_mp_join(table: sa.Table, operator: str, ids: Ids) -> sa.Select[tuple[int]]:
    """The statement Bastion's ``SqlCompiler.hierarchy_ids`` built for the materialised
    path: a self-join on ``descendant.parent_path LIKE ancestor.parent_path || '%'``."""
    anchor = table.alias("anchor")
    other = table.alias("other")
    if operator == "child_of":
        descendant, ancestor = other, anchor
    else:
        descendant, ancestor = anchor, other
    return (
        sa.select(other.c.id)
        .select_from(anchor)
        .join(other, descendant.c.parent_path.like(ancestor.c.parent_path + "%"))
        .where(anchor.c.id.in_(ids))
    )


def family_range(table: sa.Table, ids: Ids) -> sa.Select[tuple[int]]:
    """Descendants through the path, with bounds a B-tree can seek on: '1/5/' ≤ path <
    '1/50' (C collation: '/' is just below '0')."""
    anchor = table.alias("anchor")
    desc = table.alias("desc")
    upper = sa.func.substr(
        anchor.c.parent_path, 1, sa.func.length(anchor.c.parent_path) - 1, type_=sa.String
    ).concat("0")
    return (
        sa.select(desc.c.id)
        .select_from(anchor)
        .join(
            desc,
            sa.and_(desc.c.parent_path >= anchor.c.parent_path, desc.c.parent_path < upper),
        )
        .where(anchor.c.id.in_(ids))
    )


def two_step(conn: sa.Connection, table: sa.Table, operator: str, ids: Ids) -> list[int]:
    paths = [
        str(p) for p in conn.scalars(sa.select(table.c.parent_path).where(table.c.id.in_(ids)))
    ]
    if operator == "child_of":
        where = sa.or_(*(table.c.parent_path.like(path + "%") for path in paths))
    else:
        lineage = {int(part) for path in paths for part in path.split("/") if part}
        where = table.c.id.in_(sorted(lineage))
    return list(conn.scalars(ordered(table, where)))


def orm_statement(
    env: Environment, domain: list[Any]
) -> tuple[sa.Select[tuple[int]], dict[str, object]]:
    """The statement ``env[MODEL].search(domain)`` executes (crud.search_ids), and its
    parameters (the domain's values, bastion.orm.shaped): the recursive CTE of
    ``SqlCompiler.hierarchy_ids``, nested in the ``IN`` sub-query."""
    records = env[MODEL]
    table = records._spec.table
    where = search_clause(records, domain, table)
    query = sa.select(table.c.id).where(where.clause).order_by(*order_by(records, None, table))
    return query, dict(where.params)


def executor(
    conn: sa.Connection, query: sa.Select[tuple[int]], params: dict[str, object] | None = None
) -> Callable[[], list[int]]:
    return lambda: list(conn.scalars(query, params or {}))


def searcher(records: Model, domain: list[Any]) -> Callable[[], list[int]]:
    return lambda: list(records.search(domain).ids)


# -- timing ----------------------------------------------------------------------------
@dataclass
class Timing:
    median: float  # milliseconds
    p95: float
    runs: int


def percentile(values: Sequence[float], fraction: float) -> float:
    ranked = sorted(values)
    index = max(0, min(len(ranked) - 1, -(-round(fraction * 100) * len(ranked) // 100) - 1))
    return ranked[index]


def measure(run: Callable[[], object], runs: int, budget: float, min_runs: int = 3) -> Timing:
    run()  # warm-up: caches, plans, SQLAlchemy's compiled-statement cache
    times: list[float] = []
    spent = 0.0
    while len(times) < runs and (spent < budget or len(times) < min_runs):
        start = time.perf_counter()
        run()
        elapsed = time.perf_counter() - start
        times.append(elapsed * 1000)
        spent += elapsed
    return Timing(statistics.median(times), percentile(times, 0.95), len(times))


# -- EXPLAIN ---------------------------------------------------------------------------
class Recorder:
    """Remembers the driver-level statements an engine executes while ``active``."""

    def __init__(self, engine: sa.Engine) -> None:
        self.active = False
        self.statements: list[tuple[str, Any]] = []
        sa.event.listen(engine, "before_cursor_execute", self._record)

    def _record(
        self,
        conn: sa.Connection,
        cursor: Any,
        statement: str,
        parameters: Any,
        context: Any,
        executemany: bool,
    ) -> None:
        if self.active:
            self.statements.append((statement, parameters))

    @contextmanager
    def recording(self) -> Iterator[list[tuple[str, Any]]]:
        self.statements = []
        self.active = True
        try:
            yield self.statements
        finally:
            self.active = False


def explain(conn: sa.Connection, statement: str, parameters: Any) -> list[str]:
    """The plan of one recorded statement (PostgreSQL: EXPLAIN ANALYZE for a SELECT)."""
    if conn.dialect.name == "sqlite":
        rows = conn.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, parameters).all()
        return [str(row[-1]) for row in rows]
    analyze = statement.lstrip().upper().startswith(("SELECT", "WITH"))
    prefix = "EXPLAIN (ANALYZE, COSTS OFF) " if analyze else "EXPLAIN (COSTS OFF) "
    return [str(row[0]) for row in conn.exec_driver_sql(prefix + statement, parameters).all()]


ACCESS = re.compile(r"(Seq Scan|Index Scan|Index Only Scan|Bitmap Index Scan|SCAN|SEARCH)\b.*")


EXECUTION = re.compile(r"Execution Time: ([0-9.]+) ms")


def access_paths(plan: list[str]) -> str:
    """How each table is read: 'Seq Scan on res_partner d', 'SEARCH d USING INDEX ...'."""
    found: list[str] = []
    for line in plan:
        match = ACCESS.search(line)
        if match and "CTE" not in match.group(0)[:12]:
            text = re.sub(r"\s+", " ", match.group(0)).strip()
            text = re.sub(r" \(actual.*", "", text)
            found.append(text)
    runs: list[tuple[str, int]] = []  # "Bitmap Index Scan on ix ×100", not 100 times
    for text in found:
        if runs and runs[-1][0] == text:
            runs[-1] = (text, runs[-1][1] + 1)
        else:
            runs.append((text, 1))
    summary = "; ".join(text if n == 1 else f"{text} x{n}" for text, n in runs)
    server = [float(m[1]) for line in plan if (m := EXECUTION.search(line))]
    if server:
        summary = f"[server {sum(server):.3f} ms] {summary}"
    return summary


# -- benchmark -------------------------------------------------------------------------
@dataclass
class Result:
    backend: str
    size: int
    workload: str
    variant: str
    rows: int
    timing: Timing


@dataclass
class Report:
    results: list[Result] = field(default_factory=list)
    plans: list[tuple[str, int, str, str, list[str]]] = field(default_factory=list)
    space: list[tuple[str, int, dict[str, int | None]]] = field(default_factory=list)


def first_free_id(reg: Registry) -> int:
    table = reg.model_info(MODEL).table
    with reg.engine.connect() as conn:
        return int(conn.scalar(sa.select(sa.func.max(table.c.id))) or 0) + 1


def space_used(reg: Registry, table: sa.Table) -> dict[str, int | None]:
    names = {
        "parent_path index": PATH_INDEX,
        "parent_id index": "ix_res_partner_parent_id",
        "table": table.name,
    }
    found: dict[str, int | None] = {}
    with reg.engine.connect() as conn:
        found["parent_path bytes"] = int(
            conn.scalar(sa.select(sa.func.sum(sa.func.length(table.c.parent_path)))) or 0
        )
        for label, name in names.items():
            if reg.dialect == "postgresql":
                size = conn.scalar(
                    sa.select(sa.func.pg_relation_size(sa.cast(name, postgresql.REGCLASS)))
                )
            else:
                dbstat = sa.table("dbstat", sa.column("name"), sa.column("pgsize"))
                try:
                    size = conn.scalar(
                        sa.select(sa.func.sum(dbstat.c.pgsize)).where(dbstat.c.name == name)
                    )
                except sa.exc.OperationalError:  # SQLite built without dbstat
                    size = None
            found[label] = None if size is None else int(size)
    return found


def run_size(
    reg: Registry, backend: str, size: int, args: argparse.Namespace, report: Report
) -> None:
    started = time.perf_counter()
    table = path_table(reg)  # res_partner with parent_path: for the mp-* variants
    add_parent_path(reg, table)
    data = build_dataset(size, first_free_id(reg))
    bulk_insert(reg, table, data)
    print(
        f"  {backend} {size}: {len(data.rows)} partners inserted in "
        f"{time.perf_counter() - started:.1f}s",
        flush=True,
    )
    report.space.append((backend, size, space_used(reg, table)))

    rng = random.Random(SEED)  # noqa: S311 (a reproducible sample, not a secret)
    one = rng.choice(data.plain_companies)
    many = tuple(rng.sample(data.plain_companies, MANY))
    leaf = data.deep_leaves[0]
    workloads: list[tuple[str, str, Ids]] = [
        ("child_of 1", "child_of", (one,)),
        (f"child_of {MANY}", "child_of", many),
        ("parent_of leaf", "parent_of", (leaf,)),
        ("child_of chain", "child_of", (data.chain_roots[0],)),
    ]
    recorder = Recorder(reg.engine)
    with reg.transaction() as env:
        conn = env.cr
        partners = env[MODEL]
        for label, operator, ids in workloads:
            domain: list[Any] = [("id", operator, list(ids))]
            variants: dict[str, Callable[[], list[int]]] = {
                "orm": searcher(partners, domain),
                "orm-sql": executor(conn, *orm_statement(env, domain)),
            }
            cte_query = ordered(table, table.c.id.in_(family_cte(table, operator, ids)))
            variants["cte"] = executor(conn, cte_query)
            if backend == "postgresql":
                # Run under SSD_SETTING. Another CTE name, so another statement text: psycopg
                # prepares a statement after 5 runs, and PostgreSQL keeps a prepared
                # statement's generic plan when a setting changes.
                ssd_family = family_cte(table, operator, ids, name="family_ssd")
                variants[SSD_VARIANT] = executor(conn, ordered(table, table.c.id.in_(ssd_family)))
            mp_join = ordered(table, table.c.id.in_(family_mp_join(table, operator, ids)))
            variants["mp-join"] = executor(conn, mp_join)
            if operator == "child_of":
                range_query = ordered(table, table.c.id.in_(family_range(table, ids)))
                variants["mp-range"] = executor(conn, range_query)
            variants["mp-2step"] = functools.partial(two_step, conn, table, operator, ids)

            expected = variants["orm"]()
            assert expected, f"{label}: empty result"
            for name, run in variants.items():
                with pg_setting(conn, name):
                    got = run()
                    assert got == expected, f"{backend} {size} {label} {name}: {got} != {expected}"
                    with recorder.recording() as statements:
                        run()
                    plan = [
                        line
                        for statement, params in statements
                        for line in explain(conn, statement, params)
                    ]
                report.plans.append((backend, size, label, name, plan))
            for name, run in variants.items():
                with pg_setting(conn, name):
                    timing = measure(run, args.runs, args.budget)
                report.results.append(Result(backend, size, label, name, len(expected), timing))
                print(
                    f"    {label:<15} {name:<10} median {timing.median:9.3f} ms  "
                    f"p95 {timing.p95:9.3f} ms  ({timing.runs} runs)",
                    flush=True,
                )
        run_moves(env, table, backend, size, data, args, report, recorder)
        raise _Rollback  # leave the data as inserted (the moves are undone anyway)


# PostgreSQL's default random_page_cost (4, spinning disks) against the usual SSD value:
# the recursive CTE's plan for many anchors depends on it.
SSD_VARIANT = "cte-rpc1.1"
SSD_SETTING = sa.text("SET LOCAL random_page_cost = 1.1")


@contextmanager
def pg_setting(conn: sa.Connection, variant: str) -> Iterator[None]:
    if variant != SSD_VARIANT:
        yield
        return
    conn.execute(SSD_SETTING)
    try:
        yield
    finally:
        conn.execute(sa.text("RESET random_page_cost"))


class _Rollback(Exception):
    pass


def move_mp(conn: sa.Connection, table: sa.Table, rid: int, parent: int | None) -> None:
    """What ``write({'parent_id': ...})`` did in SQL with the materialised path (the
    former crud._move_subtree): read both paths, refuse a cycle, update, rewrite the
    subtree's paths."""
    old = str(conn.scalar(sa.select(table.c.parent_path).where(table.c.id == rid)))
    new_parent = ""
    if parent is not None:
        new_parent = str(conn.scalar(sa.select(table.c.parent_path).where(table.c.id == parent)))
    if new_parent.startswith(old):
        raise ValueError("recursive hierarchy")
    conn.execute(sa.update(table).where(table.c.id == rid).values(parent_id=parent))
    new = f"{new_parent}{rid}/"
    conn.execute(
        sa.update(table)
        .where(table.c.parent_path.like(old + "%"))
        .values(parent_path=sa.literal(new) + sa.func.substr(table.c.parent_path, len(old) + 1))
    )


def move_cte(conn: sa.Connection, table: sa.Table, rid: int, parent: int | None) -> None:
    """The same move without a path: refuse a cycle (is ``rid`` among the new parent's
    ancestors? a recursive CTE, as writes._check_no_cycle), then update parent_id; nothing
    else to rewrite."""
    if parent is not None:
        ancestors = family_cte(table, "parent_of", (parent,)).subquery()
        cycle = conn.scalar(sa.select(sa.func.count()).where(ancestors.c.id == rid))
        if cycle:
            raise ValueError("recursive hierarchy")
    conn.execute(sa.update(table).where(table.c.id == rid).values(parent_id=parent))


def check_orm_move(env: Environment, table: sa.Table, root: int, target: int) -> None:
    """The ORM's move works without a path: it moves, and its cycle check (a recursive
    CTE over the new parent's ancestors) refuses to put ``root`` under its descendant."""
    conn = env.cr
    partner = env[MODEL].browse(root)
    deepest = max(conn.scalars(family_cte(table, "child_of", (root,))))
    assert deepest != root, "the subtree has no descendant"
    try:
        partner.write({"parent_id": deepest})
    except ValidationError:
        pass
    else:
        raise AssertionError(f"the ORM moved {root} under its descendant {deepest}")
    parent_of = sa.select(table.c.parent_id).where(table.c.id == root)
    assert conn.scalar(parent_of) is None, "the refused move was not rolled back"
    partner.write({"parent_id": target})
    assert conn.scalar(parent_of) == target
    partner.write({"parent_id": False})
    assert conn.scalar(parent_of) is None


def run_moves(
    env: Environment,
    table: sa.Table,
    backend: str,
    size: int,
    data: Dataset,
    args: argparse.Namespace,
    report: Report,
    recorder: Recorder,
) -> None:
    conn = env.cr
    target = data.plain_companies[-1]
    subtrees = [
        (f"move {1 + CONTACTS} rows", data.plain_companies[0]),
        (f"move {(CHAIN_DEPTH - 1) * (1 + CONTACTS)} rows", data.chain_roots[1]),
    ]
    for label, root in subtrees:
        # Each run moves the subtree under ``target`` then back to the top level; the
        # measured time is per move.
        def there_and_back(
            move: Callable[[sa.Connection, sa.Table, int, int | None], None], root: int = root
        ) -> Callable[[], None]:
            def round_trip() -> None:
                move(conn, table, root, target)
                move(conn, table, root, None)

            return round_trip

        def orm_move(root: int = root) -> None:
            partner = env[MODEL].browse(root)
            partner.write({"parent_id": target})
            partner.write({"parent_id": False})

        check_orm_move(env, table, root, target)
        tree = sa.select(table.c.id, table.c.parent_id, table.c.parent_path).order_by(table.c.id)
        before = list(conn.execute(tree))
        for name, run in (
            ("mp", there_and_back(move_mp)),
            ("cte", there_and_back(move_cte)),
            ("orm write", orm_move),
        ):
            with recorder.recording() as statements:
                run()
            plan = [
                line
                for statement, params in statements
                if statement.lstrip().upper().startswith("UPDATE") or "RECURSIVE" in statement
                for line in explain(conn, statement, params)
            ]
            report.plans.append((backend, size, label, name, plan))
            timing = measure(run, args.runs, args.budget)
            halved = Timing(timing.median / 2, timing.p95 / 2, timing.runs * 2)
            report.results.append(Result(backend, size, label, name, 0, halved))
            print(
                f"    {label:<15} {name:<10} median {halved.median:9.3f} ms  "
                f"p95 {halved.p95:9.3f} ms  ({timing.runs} round trips)",
                flush=True,
            )
        after = list(conn.execute(tree))
        assert before == after, "a move there and back changed the tree or the paths"


# -- report ----------------------------------------------------------------------------
def machine() -> list[str]:
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return [
        f"CPU: {cpu}, {os.cpu_count()} cores ({usable} usable)",
        f"OS: {platform.platform()}",
        f"Python {platform.python_version()}, SQLAlchemy {sa.__version__}, "
        f"SQLite {sqlite3.sqlite_version}",
        "load average at start: " + " ".join(f"{x:.2f}" for x in os.getloadavg()),
    ]


def print_table(results: list[Result]) -> None:
    cte = {(r.backend, r.size, r.workload): r.timing.median for r in results if r.variant == "cte"}
    header = (
        "backend",
        "size",
        "workload",
        "variant",
        "rows",
        "median ms",
        "p95 ms",
        "runs",
        "x cte",
    )
    lines: list[tuple[str, ...]] = [header]
    for r in results:
        base = cte.get((r.backend, r.size, r.workload))
        ratio = f"{r.timing.median / base:.1f}" if base else ""
        lines.append(
            (
                r.backend,
                f"{r.size:,}",
                r.workload,
                r.variant,
                str(r.rows) if r.rows else "",
                f"{r.timing.median:.3f}",
                f"{r.timing.p95:.3f}",
                str(r.timing.runs),
                ratio,
            )
        )
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    numeric = {1, 4, 5, 6, 7, 8}
    for n, line in enumerate(lines):
        cells = [
            cell.rjust(widths[i]) if i in numeric else cell.ljust(widths[i])
            for i, cell in enumerate(line)
        ]
        print("  ".join(cells).rstrip())
        if n == 0:
            print("  ".join("-" * w for w in widths))


def parse_sizes(text: str) -> list[int]:
    sizes: list[int] = []
    for part in re.split(r"[,\s]+", text.strip()):
        if part:
            factor = 1000 if part.lower().endswith("k") else 1
            sizes.append(int(part.rstrip("kK").replace("_", "")) * factor)
    return sizes


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument(
        "--sizes",
        type=parse_sizes,
        default=[10_000, 100_000],
        help="partners per database, e.g. 10k,100k (default)",
    )
    parser.add_argument(
        "--backends",
        default="sqlite,postgresql",
        help="comma-separated: sqlite,postgresql (default both)",
    )
    parser.add_argument("--runs", type=int, default=50, help="runs per cell (default 50)")
    parser.add_argument(
        "--budget",
        type=float,
        default=2.0,
        help="seconds per cell before stopping early (min 3 runs; default 2)",
    )
    parser.add_argument("--explain", action="store_true", help="print the full query plans")
    args = parser.parse_args(argv)
    backends = [b.strip() for b in args.backends.split(",") if b.strip()]
    for backend in backends:
        if backend not in ("sqlite", "postgresql"):
            parser.error(f"unknown backend {backend!r}")

    report = Report()
    info = machine()
    started = time.perf_counter()
    server: PostgresServer | None = None
    try:
        with tempfile.TemporaryDirectory(prefix="bastion-bench-") as tmp:
            for backend in backends:
                if backend == "postgresql" and server is None:
                    server = PostgresServer()
                    server.start()
                for size in args.sizes:
                    if backend == "sqlite":
                        url = f"sqlite:///{Path(tmp) / f'hierarchy_{size}.db'}"
                    else:
                        assert server is not None
                        url = server.create_database(f"bench_hierarchy_{size}")
                    reg = Registry(url)
                    reg.install("base")
                    if backend == "postgresql":
                        with reg.engine.connect() as conn:
                            version = conn.scalar(sa.text("SHOW server_version"))
                            collation = conn.scalar(
                                sa.text(
                                    "SELECT datcollate FROM pg_database "
                                    "WHERE datname = current_database()"
                                )
                            )
                        line = f"PostgreSQL {version} (database collation {collation})"
                        if line not in info:
                            info.append(line)
                    try:
                        run_size(reg, backend, size, args, report)
                    except _Rollback:
                        pass
                    finally:
                        reg.dispose()
    finally:
        if server is not None:
            server.stop()

    print()
    print("Machine")
    for line in info:
        print(f"  {line}")
    print()
    print_table(report.results)
    print()
    print("Space (bytes)")
    for backend, size, space in report.space:
        cells = ", ".join(f"{k} {'n/a' if v is None else f'{v:,}'}" for k, v in space.items())
        print(f"  {backend:<10} {size:>7,}: {cells}")
    print()
    print("Access paths (EXPLAIN)" + (": full plans" if args.explain else ""))
    for backend, size, label, name, plan in report.plans:
        if args.explain:
            print(f"  -- {backend} {size:,} {label} {name}")
            for line in plan:
                print(f"     {line}")
        else:
            print(f"  {backend:<10} {size:>7,} {label:<15} {name:<10} {access_paths(plan)}")
    print(f"\nTotal {time.perf_counter() - started:.0f}s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
