"""Rules at the speed of hand-written SQL: the benchmark suite (``make bench``).

    .venv/bin/python bench/run.py                         # PostgreSQL 10k and 100k, SQLite 100k
    .venv/bin/python bench/run.py --sizes 1m --sqlite-size 0
    .venv/bin/python bench/run.py --sizes 10k --runs 5 --budget 0.3 --sqlite-size 10k  # smoke

For each size: generate (bench/generate.py) into a template database of a throwaway
PostgreSQL server (tests/pg.py), copy it (``CREATE DATABASE ... TEMPLATE``), then

1. ``bastion-reg``: Bastion's reads with only the indexes the registry creates;
2. add the hand-picked indexes (peers.HAND_INDEXES), ANALYZE, set up row-level security,
   and run every workload through ``bastion``, ``hand`` (psycopg, one statement),
   ``rls`` (policies, the user in session settings, a non-superuser role) and ``naive``
   (load-then-filter), after asserting that each returns Bastion's ids; the first three
   take turns on each cell (``workloads.measure_interleaved``);
3. the rule lookup, a cold compile of 20 rules, and the statements needed to read 3
   related fields over 80 records.

SQLite (a file, the embedded default) runs the same at ``--sqlite-size`` without RLS.
Prints the machine, a table of median / p95 ms and ratios, and the plan of every Bastion
statement (EXPLAIN (ANALYZE, BUFFERS)); writes them with the raw timings to ``--out``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import re
import sqlite3
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
import sqlalchemy as sa
from psycopg import sql
from psycopg.rows import dict_row
from rich.console import Console
from rich.table import Table

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))
sys.path.insert(0, str(BENCH.parent / "tests"))

from cores import PLACEMENTS, Cores  # noqa: E402
from generate import BenchUser, Fixture, generate, parse_size, progress_bar, size_label  # noqa: E402
from micro import micro_benchmarks  # noqa: E402
from peers import DOCS, HAND_INDEXES, PREDICATES, HandSql, Naive, Rls, rls_setup_statements  # noqa: E402
from workloads import (  # noqa: E402
    CHECK_MANY,
    BastionEngine,
    StatementLog,
    Timing,
    create_case,
    explain,
    hand_check,
    measure,
    measure_interleaved,
    naive_check,
    sql_create,
    user_params,
)

from bastion import AccessError, Registry  # noqa: E402
from pg import PostgresServer  # noqa: E402

USERS = ("portal", "portal-key", "internal")
WORKLOADS = ("list", "count", "check1", "check10k", "create")
ENGINES = ("bastion-reg", "bastion", "hand", "rls", "naive")
console = Console(width=160)


@dataclass
class Cell:
    backend: str
    size: int
    user: str
    workload: str
    engine: str
    timing: Timing
    rows: int


@dataclass
class Plan:
    backend: str
    size: int
    phase: str
    user: str
    workload: str
    statements: list[tuple[str, list[str]]]


class Run:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.cells: list[Cell] = []
        self.plans: list[Plan] = []
        self.micro: list[tuple[str, int, dict[str, float]]] = []
        self.generated: list[tuple[str, int, float, dict[str, int]]] = []
        self.cores = Cores.choose(args.cores)

    def time(self, fn: Callable[[], object], engine: str, slow: bool = False) -> Timing:
        a = self.args
        if slow:  # creates: 10,000 rows a run, the verification run warmed up
            return measure(fn, a.runs, a.naive_budget, min_runs=2, warm_up=False)
        if engine == "naive":
            return measure(fn, a.runs, a.naive_budget, min_runs=1)
        return measure(fn, a.runs, a.budget)

    def time_in_turn(self, fns: dict[str, Callable[[], object]]) -> dict[str, Timing]:
        """One cell's Bastion, hand-written SQL and RLS, timed in turn (see
        ``measure_interleaved``): the ratios between them are what the targets read."""
        a = self.args
        return measure_interleaved(fns, a.runs, a.budget, a.blocks)


def machine(server_version: str | None, cores: Cores, page_cost: float | None = None) -> list[str]:
    cpu = "unknown CPU"
    for line in Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    lines = [
        f"{cpu}, {os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f} at start",
        f"{platform.system()} {platform.release()}, Python {platform.python_version()}, "
        f"SQLAlchemy {sa.__version__}, psycopg {psycopg.__version__}, "
        f"SQLite {sqlite3.sqlite_version}",
        cores.describe(),
    ]
    if server_version:
        cost = "default" if page_cost is None else f"{page_cost:g}"
        lines.append(
            f"PostgreSQL {server_version} (tests/pg.py: C collation, fsync off; "
            f"random_page_cost {cost})"
        )
    return lines


# -- one database ----------------------------------------------------------------------
def run_database(
    run: Run, backend: str, size: int, url: str, fixture: Fixture, connect: Callable[[bool], Any]
) -> None:
    """Every phase on the database at ``url`` (already generated)."""
    args = run.args
    registry = Registry(url)
    if backend == "postgresql":
        # Every backend the registry opens from now on, the EXPLAINs' and the order
        # numbers' included, runs where the peers' do (bench/cores.py); the ones opened
        # while loading go.
        for engine in (registry.engine, registry.numbering_apart):
            if engine is not None:
                sa.event.listen(
                    engine,
                    "connect",
                    lambda dbapi, _record: run.cores.pin_backend(dbapi.info.backend_pid),
                )
        registry.engine.dispose()
    log = StatementLog(registry.engine)
    users = [fixture.users[name] for name in args.users]
    docs = [DOCS[name] for name in DOCS]
    read_workloads = [w for w in args.workloads if w != "create"]

    def record(
        user: BenchUser, doc: Any, workload: str, engine: str, timing: Timing, rows: int
    ) -> None:
        cell = Cell(backend, size, user.label, f"{doc.table} {workload}", engine, timing, rows)
        run.cells.append(cell)

    def bastion_reads(phase: str, engine_name: str | None) -> None:
        """Bastion's plans for every cell, and its timings as ``engine_name`` (None:
        timed later, in turn with the peers)."""
        for user in users:
            engine = BastionEngine(registry, user)
            for doc in docs:
                for workload in read_workloads:
                    fn, rows = bastion_call(engine, doc, workload, ids_for(user, doc))
                    if engine_name is not None:
                        record(user, doc, workload, engine_name, run.time(fn, engine_name), rows)
                    with log.capture() as statements:
                        fn()
                    plans = [
                        (s, explain(registry.engine, s, p))
                        for s, p in statements
                        if s.lstrip().upper().startswith(("SELECT", "WITH"))
                    ]
                    run.plans.append(
                        Plan(backend, size, phase, user.label, f"{doc.table} {workload}", plans)
                    )

    hand_conn = connect(True)
    hand = HandSql(hand_conn, backend)
    id_cache: dict[tuple[str, str], tuple[list[int], int | None]] = {}

    def ids_for(user: BenchUser, doc: Any) -> tuple[list[int], int | None]:
        key = (user.label, doc.model)
        if key not in id_cache:
            pred = PREDICATES[(doc.model, user.portal)]
            params = user_params(user)
            rows = hand._rows(
                f"SELECT m.id FROM {doc.table} m WHERE {pred} ORDER BY m.id LIMIT {CHECK_MANY}",  # noqa: S608
                params,
            )
            denied = hand._rows(
                f"SELECT m.id FROM {doc.table} m WHERE NOT COALESCE(({pred}), FALSE) "  # noqa: S608
                "ORDER BY m.id LIMIT 1",
                params,
            )
            # None: the rule refuses nothing here (billing reads every invoice).
            id_cache[key] = ([int(r["id"]) for r in rows], int(denied[0]["id"]) if denied else None)
        return id_cache[key]

    console.print(f"[bold]{backend} {size_label(size)}[/]: Bastion with the registry's indexes")
    bastion_reads("registry indexes", "bastion-reg")
    # New backends for what is timed against the peers. A backend that has run one
    # JIT-compiled statement (the portal task lists at 1M on the registry's indexes) has
    # loaded LLVM, and every parallel worker it starts later loads it too: its counts at
    # 1M took 15-18 ms more than the same text on a fresh backend (docs/performance.md).
    # The peers' backends never ran those statements.
    registry.engine.dispose()

    with registry.engine.begin() as conn:
        for ddl in HAND_INDEXES:
            conn.exec_driver_sql(ddl.replace(" DESC", " DESC") if backend == "postgresql" else ddl)
        if backend == "postgresql":
            roles = set(conn.scalars(sa.text("SELECT rolname FROM pg_roles")))
            for ddl in rls_setup_statements(roles):
                conn.exec_driver_sql(ddl)
    with registry.engine.begin() as conn:
        conn.exec_driver_sql("ANALYZE")
    console.print(f"[bold]{backend} {size_label(size)}[/]: all engines, hand-picked indexes")
    bastion_reads("hand-picked indexes", None)

    for user in users:
        params = user_params(user)
        peers: dict[str, Any] = {
            "hand": None,
            "naive": Naive(connect(False), backend, user.portal, params),
        }
        if backend == "postgresql":
            peers["rls"] = Rls(connect(True), user.portal, params)
        engine = BastionEngine(registry, user)
        for doc in docs:
            ids, denied = ids_for(user, doc)
            pred = PREDICATES[(doc.model, user.portal)]
            for workload in read_workloads:
                expected, _rows = bastion_result(engine, doc, workload, ids)
                bastion_fn, bastion_rows = bastion_call(engine, doc, workload, (ids, denied))
                timed: dict[str, Callable[[], object]] = {"bastion": bastion_fn}
                for name, peer in peers.items():
                    fn = peer_call(name, peer, hand, doc, pred, params, workload, ids)
                    got = fn()
                    assert got == expected, (
                        f"{name} disagrees with Bastion on {user.label} {doc.table} {workload}: "
                        f"{str(got)[:200]} != {str(expected)[:200]}"
                    )
                    if workload.startswith("check") and denied is not None:
                        refused = peer_call(
                            name, peer, hand, doc, pred, params, workload, [denied]
                        )()
                        assert refused == frozenset(), (
                            f"{name} lets {user.label} read {doc.table}({denied})"
                        )
                    if name != "naive":
                        timed[name] = fn  # in turn with Bastion, below
                        continue
                    # Seconds a call at 1M: timed on its own.
                    record(user, doc, workload, name, run.time(fn, name), _rows)
                for name, timing in run.time_in_turn(timed).items():
                    rows = bastion_rows if name == "bastion" else _rows
                    record(user, doc, workload, name, timing, rows)
                if workload.startswith("check") and denied is not None:
                    assert engine.allowed(doc, [denied]) == set(), (
                        f"Bastion lets {user.label} read {denied}"
                    )
        if "create" in args.workloads and user.label != "portal-key":
            run_create(run, backend, size, registry, fixture, user, connect, log)
            if backend == "postgresql":
                vacuum(connect)
        for peer in peers.values():
            if peer is not None:
                peer.conn.close()
    run.micro.append((backend, size, micro_benchmarks(registry, fixture, log, hand)))
    hand_conn.close()
    registry.dispose()


def bastion_call(
    engine: BastionEngine, doc: Any, workload: str, ids_denied: tuple[list[int], int | None]
) -> tuple[Callable[[], object], int]:
    ids = ids_denied[0]
    if workload == "list":
        return (lambda: engine.search_read(doc)), 80
    if workload == "count":
        return (lambda: engine.search_count(doc)), 1
    if workload == "check1":
        return (lambda: engine.allowed(doc, ids[:1])), 1
    return (lambda: engine.allowed(doc, ids)), len(ids)


def bastion_result(
    engine: BastionEngine, doc: Any, workload: str, ids: list[int]
) -> tuple[object, int]:
    if workload == "list":
        rows = engine.search_read(doc)
        return [r["id"] for r in rows], len(rows)
    if workload == "count":
        count = engine.search_count(doc)
        return count, count
    chosen = ids[:1] if workload == "check1" else ids
    return frozenset(engine.allowed(doc, chosen)), len(chosen)


def peer_call(
    name: str,
    peer: Any,
    hand: HandSql,
    doc: Any,
    pred: str,
    params: dict[str, Any],
    workload: str,
    ids: list[int],
) -> Callable[[], object]:
    chosen = ids[:1] if workload == "check1" else ids
    if name == "hand":
        if workload == "list":
            return lambda: [r["id"] for r in hand.search_read(doc, pred, params)]
        if workload == "count":
            return lambda: hand.search_count(doc, pred, params)
        return lambda: frozenset(hand.allowed(doc, pred, params, chosen))
    if workload == "list":
        return lambda: [r["id"] for r in peer.search_read(doc)]
    if workload == "count":
        return lambda: peer.search_count(doc)
    return lambda: frozenset(peer.allowed(doc, chosen))


def vacuum(connect: Callable[[bool], Any]) -> None:
    """Take out the rows the creates rolled back. Until autovacuum comes by they stay in
    the tables and their indexes: the internal user's 40,000 dead orders (10,000 per
    engine, all of the typical customer) made the typical portal user's order count
    12 ms rather than 0.6, for Bastion and hand SQL alike, in the micro figures that
    follow (2026-12-07)."""
    conn = connect(False)
    try:
        conn.autocommit = True
        conn.execute("VACUUM")
    finally:
        conn.close()


def run_create(
    run: Run,
    backend: str,
    size: int,
    registry: Registry,
    fixture: Fixture,
    user: BenchUser,
    connect: Callable[[bool], Any],
    log: StatementLog,
) -> None:
    case = create_case(registry, fixture, user)
    params = user_params(user)
    engine = BastionEngine(registry, user)
    label = f"{case.model.replace('.', '_')} create"
    # Each engine must refuse a row the rules forbid, and accept the 10,000 rows.
    try:
        engine.create(case.model, [case.denied])
    except AccessError:
        pass  # refused, as it should be
    else:
        raise AssertionError(f"Bastion let {user.label} create {case.denied}")
    assert engine.create(case.model, case.orm_rows[:10]) == 10
    runs: list[tuple[str, Callable[[list[tuple[Any, ...]]], int]]] = []
    conn = connect(False)
    runs.append(
        (
            "hand",
            lambda rows: sql_create(
                conn, backend, case, rows, hand_check(conn, backend, case.model, params)
            ),
        )
    )
    runs.append(
        (
            "naive",
            lambda rows: sql_create(
                conn,
                backend,
                case,
                rows,
                naive_check(conn, backend, case.model, user.portal, params),
            ),
        )
    )
    if backend == "postgresql":
        rls_conn = connect(False)
        Rls(rls_conn, user.portal, params)
        runs.append(("rls", lambda rows: sql_create(rls_conn, backend, case, rows, None)))
    for name, fn in runs:
        try:
            fn([case.denied_row])
        except Exception:  # noqa: BLE001 - refused, as it should be
            conn.rollback()
            if backend == "postgresql":
                rls_conn.rollback()
        else:
            raise AssertionError(f"{name} let {user.label} create {case.denied_row}")
    timing = run.time(lambda: engine.create(case.model, case.orm_rows), "bastion", slow=True)
    run.cells.append(Cell(backend, size, user.label, label, "bastion", timing, len(case.orm_rows)))
    for name, fn in runs:
        timing = run.time(lambda fn=fn: fn(case.sql_rows), name, slow=True)  # type: ignore[misc]
        run.cells.append(Cell(backend, size, user.label, label, name, timing, len(case.sql_rows)))
    conn.close()
    if backend == "postgresql":
        rls_conn.close()


# -- output ----------------------------------------------------------------------------
def ms(timing: Timing | None) -> str:
    if timing is None:
        return "—"
    return f"{timing.median * 1000:,.2f} / {timing.p95 * 1000:,.2f}"


def ratio(a: Timing | None, b: Timing | None) -> str:
    if a is None or b is None:
        return "—"
    return f"{a.median / b.median:.2f}"


def print_tables(run: Run) -> None:
    keys = sorted(
        {(c.backend, c.size) for c in run.cells}, key=lambda k: (k[0] != "postgresql", k[1])
    )
    for backend, size in keys:
        table = Table(title=f"{backend} {size_label(size)}: median / p95 ms", show_lines=False)
        for column in ("user", "workload", "rows", *ENGINES, "B/hand", "B/rls", "naive/B"):
            table.add_column(column, justify="left" if column in ("user", "workload") else "right")
        cells = [c for c in run.cells if c.backend == backend and c.size == size]
        rows = list(dict.fromkeys((c.user, c.workload) for c in cells))
        for user, workload in rows:
            by = {c.engine: c for c in cells if c.user == user and c.workload == workload}
            t = {name: (by[name].timing if name in by else None) for name in ENGINES}
            count = max(c.rows for c in by.values())
            table.add_row(
                user,
                workload,
                f"{count:,}",
                *(ms(t[e]) for e in ENGINES),
                ratio(t["bastion"], t["hand"]),
                ratio(t["bastion"], t["rls"]),
                ratio(t["naive"], t["bastion"]),
            )
        console.print(table)


def write_outputs(run: Run, info: list[str], started: float, out: Path) -> Path:
    """Results so far (called after each database, so a failed size keeps the others)."""
    out.mkdir(parents=True, exist_ok=True)
    data = {
        "argv": sys.argv,
        "machine": info,
        "generated": run.generated,
        "cells": [
            {
                "backend": c.backend,
                "size": c.size,
                "user": c.user,
                "workload": c.workload,
                "engine": c.engine,
                "rows": c.rows,
                "seconds": c.timing.seconds,
            }
            for c in run.cells
        ],
        "micro": run.micro,
        "total_seconds": time.perf_counter() - started,
    }
    (out / "results.json").write_text(json.dumps(data, indent=1), encoding="utf-8")
    with (out / "explain.txt").open("w", encoding="utf-8") as fh:
        for plan in run.plans:
            for statement, lines in plan.statements:
                fh.write(f"-- {plan_title(plan)}\n")
                fh.write(statement.strip() + "\n")
                fh.writelines(f"    {line}\n" for line in lines)
                fh.write("\n")
    return out


def plan_title(plan: Plan) -> str:
    return f"{plan.backend} {size_label(plan.size)} [{plan.phase}] {plan.user} {plan.workload}"


_NODE = re.compile(
    r"(Seq Scan on \w+|Index (?:Only )?Scan(?: Backward)? using \w+|Bitmap Index Scan on \w+"
    r"|Hash Join|Merge Join|Nested Loop|Hash Semi Join|Hash Anti Join|Sort|"
    r"(?:hashed )?SubPlan \d+|CTE Scan on \w+|Recursive Union|Limit|Aggregate)"
)


def main_plan_line(plan: Plan, table: str) -> str:
    """The costliest statement: PostgreSQL's server time and plan nodes; SQLite's
    access paths of the statement on the document's table."""
    best: tuple[float, str] = (-1.0, "")
    for statement, lines in plan.statements:
        server = next((ln for ln in lines if ln.startswith("Execution Time")), None)
        if server is not None:
            seconds = float(server.split(":")[1].split()[0])
            nodes = list(dict.fromkeys(m for ln in lines for m in _NODE.findall(ln)))
            line = f"{seconds:.2f} ms server: " + ", ".join(nodes[:8])
        else:
            if table not in statement:
                continue
            seconds = float(len(lines))
            line = "; ".join(ln.strip() for ln in lines[:5])
        if seconds > best[0]:
            best = (seconds, line)
    return f"{len(plan.statements)} stmts; {best[1]}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--sizes", default="10k,100k", help="PostgreSQL sizes (documents per model)"
    )
    parser.add_argument("--sqlite-size", default="100k", help="SQLite size, 0 for none")
    parser.add_argument("--users", default=",".join(USERS))
    parser.add_argument("--workloads", default=",".join(WORKLOADS))
    parser.add_argument("--runs", type=int, default=60, help="timed runs per cell at most")
    parser.add_argument(
        "--blocks",
        type=int,
        default=6,
        help="rounds in which Bastion, hand SQL and RLS take turns on a cell",
    )
    parser.add_argument(
        "--budget", type=float, default=1.0, help="seconds per cell (at least 3 runs)"
    )
    parser.add_argument(
        "--naive-budget", type=float, default=4.0, help="seconds per slow cell (at least 1 run)"
    )
    parser.add_argument(
        "--cores",
        choices=PLACEMENTS,
        default="separate",
        help="pin this process and its backends to separate cores, one shared core, "
        "or not at all (bench/cores.py)",
    )
    parser.add_argument(
        "--random-page-cost",
        type=float,
        default=None,
        help="the PostgreSQL databases' random_page_cost (default: the server's, 4); "
        "1.1 is the usual value for SSD storage (docs/performance.md)",
    )
    parser.add_argument("--out", default=str(BENCH.parent / "var" / "bench"))
    parser.add_argument("--explain", action="store_true", help="print every plan, not a summary")
    args = parser.parse_args(argv)
    args.sizes = [parse_size(s) for s in args.sizes.split(",") if s]
    args.users = [u for u in args.users.split(",") if u]
    args.workloads = [w for w in args.workloads.split(",") if w]
    sqlite_size = 0 if args.sqlite_size in ("0", "") else parse_size(args.sqlite_size)
    started = time.perf_counter()
    out = Path(args.out) / dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    run = Run(args)
    run.cores.pin_client()
    server = PostgresServer() if args.sizes else None
    version = None
    try:
        if server is not None:
            server.start()
            with server.connect_admin() as conn:
                version = str(conn.execute("SHOW server_version").fetchone()[0])
        for size in args.sizes:
            assert server is not None
            label = size_label(size)
            template = f"bench_tpl_{label}"
            registry = Registry(server.create_database(template))
            with progress_bar() as progress:
                fixture = generate(registry, size, progress=progress)
            registry.dispose()
            run.generated.append(("postgresql", size, fixture.seconds, fixture.counts))
            console.print(f"generated {label} in {fixture.seconds:.1f}s: {fixture.counts}")
            url = server.create_database(f"bench_{label}", template=template)
            if args.random_page_cost is not None:
                # For every session of the database: Bastion's, the peers', the EXPLAINs'.
                with server.connect_admin() as conn:
                    conn.execute(
                        sql.SQL("ALTER DATABASE {} SET random_page_cost = {}").format(
                            sql.Identifier(f"bench_{label}"), sql.Literal(args.random_page_cost)
                        )
                    )
            conninfo = server.conninfo(f"bench_{label}")

            def connect(dicts: bool, conninfo: str = conninfo) -> Any:
                conn = (
                    psycopg.connect(conninfo, row_factory=dict_row)
                    if dicts
                    else psycopg.connect(conninfo)
                )
                run.cores.pin_backend(conn.info.backend_pid)
                return conn

            run_database(run, "postgresql", size, url, fixture, connect)
            write_outputs(run, machine(version, run.cores, args.random_page_cost), started, out)
            server.drop_database(f"bench_{label}")
        if sqlite_size:
            path = Path(args.out) / f"bench_{size_label(sqlite_size)}.db"
            path.parent.mkdir(parents=True, exist_ok=True)
            for suffix in ("", "-wal", "-shm"):
                Path(f"{path}{suffix}").unlink(missing_ok=True)
            url = f"sqlite:///{path}"
            registry = Registry(url)
            with progress_bar() as progress:
                fixture = generate(registry, sqlite_size, progress=progress)
            registry.dispose()
            run.generated.append(("sqlite", sqlite_size, fixture.seconds, fixture.counts))

            def connect_sqlite(dicts: bool) -> Any:
                conn = sqlite3.connect(path)
                conn.row_factory = sqlite3.Row
                return conn

            run_database(run, "sqlite", sqlite_size, url, fixture, connect_sqlite)
    finally:
        if server is not None:
            server.stop()
    info = machine(version, run.cores, args.random_page_cost)
    console.print("\n[bold]Machine[/]")
    for line in info:
        console.print(f"  {line}")
    for backend, size, seconds, _counts in run.generated:
        console.print(f"  generated {backend} {size_label(size)} in {seconds:.1f}s")
    print_tables(run)
    console.print("\n[bold]Rule lookup, compile, related reads[/]")
    for backend, size, figures in run.micro:
        cells = ", ".join(f"{k} {v:,.2f}" for k, v in figures.items())
        console.print(f"  {backend} {size_label(size)}: {cells}")
    write_outputs(run, info, started, out)
    console.print(
        f"\n[bold]Plans of Bastion's statements[/] (all of them in {out / 'explain.txt'})"
    )
    for plan in run.plans:
        if args.explain:
            for statement, lines in plan.statements:
                console.print(f"-- {plan_title(plan)}\n{statement}", markup=False)
                console.print("\n".join(lines), markup=False)
        else:
            line = main_plan_line(plan, plan.workload.split()[0])
            console.print(f"  {plan_title(plan):<62} {line}", markup=False)
    console.print(f"\nTotal {time.perf_counter() - started:.0f}s; results in {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
