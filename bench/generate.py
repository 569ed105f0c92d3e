"""Fill a database with a tenant mix for the rules benchmark, by bulk inserts.

    .venv/bin/python bench/generate.py --size 100k            # a throwaway PostgreSQL
    .venv/bin/python bench/generate.py --size 10k --url sqlite:////tmp/bench.db

The apps are installed through the registry (``contacts sale account project helpdesk``);
a few records go through the ORM (the second company, the internal users); the bulk goes
straight into the registry's tables with SQLAlchemy Core (``executemany``) on SQLite and
psycopg ``COPY`` on PostgreSQL: the ORM would take hours at 1M. ``--size`` counts sale
orders, tasks and invoices; partners are a tenth of it (100k at 1M), portal users a
hundredth, projects a five-hundredth:

- 2 companies; 20% of the partners are customer companies, each with 4 contacts
  (``commercial_partner_id``: a company itself, a contact its company);
- portal users (``base.group_portal``), each on a contact of its own;
- one *key account* holds ``KEY_SHARE`` of the orders and invoices (the large customer
  whose lists are long); the *typical* customer has a portal project it collaborates on;
- sale orders (the customer follows), projects (60% portal, 30% employees, 10%
  followers-only; followed by the customer and the manager), tasks with 3 followers,
  posted customer invoices followed by the customer company (90% posted).

Deterministic for a given size (seeded), so ids agree between runs and backends.
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import sys
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from psycopg import sql
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from bastion import Registry  # noqa: E402

APPS = ("contacts", "sale", "account", "project", "helpdesk")
SEED = 20261124
CONTACTS = 4  # contacts per customer company
SALESMEN = 20
KEY_SHARE = 0.02  # share of orders and invoices of the key account
COMPANY_TWO_SHARE = 0.2  # documents of the second company
START = dt.datetime(2024, 1, 1)
SPAN_DAYS = 3 * 365
BATCH = 5000

Row = tuple[Any, ...]


def parse_size(text: str) -> int:
    """``10k`` -> 10000, ``1m`` -> 1000000, ``2500`` -> 2500."""
    value = text.strip().lower()
    scale = {"k": 1_000, "m": 1_000_000}.get(value[-1:], 1)
    digits = value[:-1] if scale != 1 else value
    try:
        number = int(float(digits) * scale)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"size {text!r}: expected 10k, 100k, 1m or a number"
        ) from None
    if number < 1000:
        raise argparse.ArgumentTypeError(f"size {text!r}: at least 1000 documents")
    return number


def size_label(size: int) -> str:
    if size % 1_000_000 == 0:
        return f"{size // 1_000_000}m"
    return f"{size // 1000}k" if size % 1000 == 0 else str(size)


@dataclass(frozen=True)
class BenchUser:
    """A user the workloads run as, with the values its rules read."""

    label: str
    uid: int
    partner_id: int
    commercial_id: int
    company_ids: tuple[int, ...]
    portal: bool


@dataclass
class Fixture:
    """What the generator made that the workloads need to know."""

    size: int
    counts: dict[str, int] = field(default_factory=dict)
    users: dict[str, BenchUser] = field(default_factory=dict)
    companies: tuple[int, int] = (1, 2)
    customer_contact: int = 0  # a contact of the typical customer (create workloads)
    other_customer: int = 0  # a company no bench user may touch
    seconds: float = 0.0


# -- writing ---------------------------------------------------------------------------
class BulkWriter:
    """Rows into a table: ``COPY`` on PostgreSQL, ``executemany`` on SQLite."""

    def __init__(self, registry: Registry, progress: Progress | None) -> None:
        self.registry = registry
        self.progress = progress
        self.rows_written = 0

    def write(
        self, table: sa.Table, columns: Sequence[str], rows: Iterable[Row], total: int
    ) -> None:
        task = None
        if self.progress is not None:
            task = self.progress.add_task(table.name, total=total)
        done = 0
        with self.registry.engine.begin() as conn:
            if conn.dialect.name == "postgresql":
                raw: Any = conn.connection.driver_connection
                query = sql.SQL("COPY {} ({}) FROM STDIN").format(
                    sql.Identifier(table.name), sql.SQL(", ").join(map(sql.Identifier, columns))
                )
                with raw.cursor() as cur, cur.copy(query) as copy:
                    for row in rows:
                        copy.write_row(row)
                        done += 1
                        if task is not None and done % BATCH == 0:
                            self.progress.update(task, completed=done)  # type: ignore[union-attr]
            else:
                insert = sa.insert(table)
                for batch in _batched(rows, BATCH):
                    conn.execute(insert, [dict(zip(columns, row, strict=True)) for row in batch])
                    done += len(batch)
                    if task is not None:
                        self.progress.update(task, completed=done)  # type: ignore[union-attr]
        if task is not None:
            self.progress.update(task, completed=done)  # type: ignore[union-attr]
        self.rows_written += done


def _batched(rows: Iterable[Row], size: int) -> Iterator[list[Row]]:
    batch: list[Row] = []
    for row in rows:
        batch.append(row)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def _next_id(registry: Registry, table: sa.Table) -> int:
    with registry.engine.connect() as conn:
        return int(conn.scalar(sa.select(sa.func.coalesce(sa.func.max(table.c.id), 0))) or 0) + 1


def _reset_sequences(registry: Registry, tables: Iterable[sa.Table]) -> None:
    if registry.dialect != "postgresql":
        return  # SQLite's INTEGER PRIMARY KEY follows max(id) by itself
    with registry.engine.begin() as conn:
        for table in tables:
            # Identifiers of the registry's own tables, no value in the text.
            conn.exec_driver_sql(
                f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), "  # noqa: S608
                f"(SELECT max(id) FROM {table.name}))"
            )


# -- the tenant mix ----------------------------------------------------------------------
def _setup_orm(registry: Registry, fixture: Fixture) -> tuple[list[int], list[int], int]:
    """The second company and the internal users, through the ORM; returns the
    salesmen's user ids and partner ids, and the portal group id."""
    with registry.transaction() as env:
        main = env.ref("base.main_company")
        assert main is not None
        partner = env["res.partner"].create({"name": "Second Company", "is_company": True})
        second = env["res.company"].create({"name": "Second Company", "partner_id": partner.id})
        fixture.companies = (int(main.id), int(second.id))
        groups = [
            env.ref(xmlid).id  # type: ignore[union-attr]
            for xmlid in (
                "sale.group_sale_salesman",
                "project.group_project_user",
                "account.group_account_invoice",
                "helpdesk.group_helpdesk_user",
            )
        ]
        users = env["res.users"].create(
            [
                {
                    "login": f"salesman{i}",
                    "name": f"Salesman {i}",
                    "group_ids": [(6, 0, groups)],
                    "company_id": fixture.companies[0],
                    "company_ids": [(6, 0, list(fixture.companies))],
                }
                for i in range(SALESMEN)
            ]
        )
        portal = env.ref("base.group_portal")
        assert portal is not None
        first = users[0]
        fixture.users["internal"] = BenchUser(
            "internal",
            int(first.id),
            int(first.partner_id.id),
            int(first.commercial_partner_id.id),
            fixture.companies,
            portal=False,
        )
        return users.ids, [int(u.partner_id.id) for u in users], int(portal.id)


def generate(
    registry: Registry, size: int, *, progress: Progress | None = None, install: bool = True
) -> Fixture:
    """Install the apps (unless ``install`` is False) and fill the tables for ``size``."""
    started = time.perf_counter()
    if install:
        registry.install(*APPS)
    fixture = Fixture(size)
    salesmen, salesman_partners, portal_gid = _setup_orm(registry, fixture)
    rnd = random.Random(SEED + size)  # noqa: S311 - test data, reproducible
    specs = registry.specs
    writer = BulkWriter(registry, progress)
    company_one, company_two = fixture.companies

    def company() -> int:
        return company_two if rnd.random() < COMPANY_TWO_SHARE else company_one

    def moment() -> dt.datetime:
        return START + dt.timedelta(seconds=rnd.randrange(SPAN_DAYS * 86400))

    # Partners: customer companies, each followed by its contacts.
    partner_table = specs["res.partner"].table
    first_partner = _next_id(registry, partner_table)
    n_companies = max(size // 10 // (CONTACTS + 1), 10)
    companies = [first_partner + i * (CONTACTS + 1) for i in range(n_companies)]
    contacts = [c + k for c in companies for k in range(1, CONTACTS + 1)]

    def partner_rows() -> Iterator[Row]:
        for cid in companies:
            yield (cid, f"Customer {cid}", None, True, cid, None, f"c{cid}@example.com", True)
            for k in range(1, CONTACTS + 1):
                pid = cid + k
                yield (pid, f"Contact {pid}", cid, False, cid, None, f"p{pid}@example.com", True)

    partner_cols = (
        "id name parent_id is_company commercial_partner_id company_id email active".split()
    )
    writer.write(partner_table, partner_cols, partner_rows(), len(companies) + len(contacts))

    # Portal users: one per contact, as many as a hundredth of the documents.
    key_account = companies[0]
    typical = companies[len(companies) // 2]
    n_portal = min(max(size // 100, 10), len(contacts))
    users_table = specs["res.users"].table
    first_user = _next_id(registry, users_table)
    # The bench users take the first contact of their company; the others follow.
    portal_partners = [key_account + 1, typical + 1] + [
        p for p in contacts if p not in (key_account + 1, typical + 1)
    ][: n_portal - 2]
    portal_users = [
        (first_user + i, pid, pid - (pid - first_partner) % (CONTACTS + 1))
        for i, pid in enumerate(portal_partners)
    ]
    writer.write(
        users_table,
        "id login name partner_id commercial_partner_id company_id active".split(),
        (
            (uid, f"portal{uid}", f"Portal {uid}", pid, cid, company_one, True)
            for uid, pid, cid in portal_users
        ),
        len(portal_users),
    )
    writer.write(
        registry.relations["res_groups_users_rel"],
        ("gid", "uid"),
        ((portal_gid, uid) for uid, _pid, _cid in portal_users),
        len(portal_users),
    )
    writer.write(
        registry.relations["res_company_users_rel"],
        ("user_id", "cid"),
        ((uid, company_one) for uid, _pid, _cid in portal_users),
        len(portal_users),
    )
    for label, (uid, pid, cid) in (("portal-key", portal_users[0]), ("portal", portal_users[1])):
        fixture.users[label] = BenchUser(label, uid, pid, cid, (company_one,), portal=True)
    fixture.customer_contact = typical + 2
    fixture.other_customer = companies[1]

    def customer() -> int:
        return key_account if rnd.random() < KEY_SHARE else rnd.choice(companies)

    def of_customer(cid: int) -> int:
        return cid + rnd.randrange(CONTACTS + 1)  # the company or one of its contacts

    # Sale orders, each followed by its customer.
    order_spec = specs["sale.order"]
    first_order = _next_id(registry, order_spec.table)
    order_partners: list[int] = []

    def order_rows() -> Iterator[Row]:
        states = ("draft", "sent", "sale", "sale", "sale", "cancel")
        for i in range(size):
            oid = first_order + i
            partner = of_customer(customer())
            order_partners.append(partner)
            salesman = None if rnd.random() < 0.1 else rnd.choice(salesmen)
            untaxed = round(rnd.uniform(50, 5000), 2)
            yield (
                oid,
                f"S{oid:07d}",
                partner,
                salesman,
                company(),
                moment(),
                rnd.choice(states),
                untaxed,
                round(untaxed * 0.1, 2),
                round(untaxed * 1.1, 2),
            )

    order_cols = (
        "id name partner_id user_id company_id date_order state amount_untaxed amount_tax "
        "amount_total"
    ).split()
    writer.write(order_spec.table, order_cols, order_rows(), size)
    _followers(
        writer,
        registry,
        "sale.order",
        ((first_order + i, [p]) for i, p in enumerate(order_partners)),
        size,
    )
    order_partners.clear()

    # Projects: the key account and the typical customer have a portal project each.
    project_spec = specs["project.project"]
    first_project = _next_id(registry, project_spec.table)
    n_projects = max(size // 500, 4)
    projects: list[tuple[int, int, int, str]] = []  # id, customer, company, visibility
    for j in range(n_projects):
        cid = key_account if j == 0 else typical if j == 1 else rnd.choice(companies)
        roll = rnd.random()
        visibility = "portal" if j < 2 or roll < 0.6 else "employees" if roll < 0.9 else "followers"
        projects.append((first_project + j, cid, company_one if j < 2 else company(), visibility))
    managers = {pid: rnd.randrange(SALESMEN) for pid, _c, _co, _v in projects}
    writer.write(
        project_spec.table,
        "id name partner_id user_id company_id privacy_visibility active".split(),
        (
            (pid, f"Project {pid}", cid, salesmen[managers[pid]], co, vis, True)
            for pid, cid, co, vis in projects
        ),
        len(projects),
    )
    _followers(
        writer,
        registry,
        "project.project",
        ((pid, [cid, salesman_partners[managers[pid]]]) for pid, cid, _co, _v in projects),
        2 * len(projects),
    )
    collaborators = [
        (pid, typical + 1 if j == 1 else cid + 1 + rnd.randrange(CONTACTS))
        for j, (pid, cid, _co, vis) in enumerate(projects)
        if vis == "portal"
    ]
    collab_table = specs["project.collaborator"].table
    first_collab = _next_id(registry, collab_table)
    writer.write(
        collab_table,
        ("id", "project_id", "partner_id"),
        ((first_collab + i, pid, partner) for i, (pid, partner) in enumerate(collaborators)),
        len(collaborators),
    )

    # Tasks with three followers: mostly the project's customer, a colleague, a stranger.
    task_spec = specs["project.task"]
    first_task = _next_id(registry, task_spec.table)
    task_followers: list[tuple[int, list[int]]] = []

    def task_rows() -> Iterator[Row]:
        stages = ("todo", "in_progress", "in_progress", "done", "cancelled")
        for i in range(size):
            tid = first_task + i
            pid, cid, co, _vis = projects[rnd.randrange(len(projects))]
            follower = cid if rnd.random() < 0.7 else rnd.choice(contacts)
            others = {follower, rnd.choice(salesman_partners), rnd.choice(contacts)}
            task_followers.append((tid, sorted(others)))
            deadline = None if rnd.random() < 0.2 else moment().date()
            yield (
                tid,
                f"Task {tid}",
                pid,
                cid,
                co,
                rnd.choice(stages),
                rnd.choice("001"),
                deadline,
                True,
                10,
            )

    task_cols = (
        "id name project_id partner_id company_id stage priority date_deadline active sequence"
    ).split()
    writer.write(task_spec.table, task_cols, task_rows(), size)
    _followers(writer, registry, "project.task", iter(task_followers), 3 * size)
    task_followers.clear()

    # Invoices, followed by the customer company.
    move_spec = specs["account.move"]
    first_move = _next_id(registry, move_spec.table)
    move_followers: list[int] = []

    def move_rows() -> Iterator[Row]:
        for i in range(size):
            mid = first_move + i
            cid = customer()
            move_followers.append(cid)
            roll = rnd.random()
            move_type = (
                "out_invoice"
                if roll < 0.85
                else "out_refund"
                if roll < 0.9
                else "in_invoice"
                if roll < 0.98
                else "entry"
            )
            roll = rnd.random()
            state = "posted" if roll < 0.9 else "draft" if roll < 0.97 else "cancel"
            date = None if state == "draft" else moment().date()
            untaxed = round(rnd.uniform(50, 5000), 2)
            total = round(untaxed * 1.1, 2)
            name = f"INV/{date.year}/{mid:07d}" if date is not None else "/"
            yield (
                mid,
                name,
                of_customer(cid),
                company(),
                move_type,
                state,
                date,
                "not_paid",
                untaxed,
                round(untaxed * 0.1, 2),
                total,
                total,
            )

    move_cols = (
        "id name partner_id company_id move_type state invoice_date payment_state "
        "amount_untaxed amount_tax amount_total amount_residual"
    ).split()
    writer.write(move_spec.table, move_cols, move_rows(), size)
    _followers(
        writer,
        registry,
        "account.move",
        ((first_move + i, [cid]) for i, cid in enumerate(move_followers)),
        size,
    )
    move_followers.clear()

    # Helpdesk tickets, a tenth of the size, each followed by its customer: the create
    # workload then adds tickets to a table PostgreSQL has statistics for, as in real
    # life (on an empty table it plans the follower table's foreign-key checks as scans
    # and keeps that plan for the session).
    ticket_spec = specs["helpdesk.ticket"]
    first_ticket = _next_id(registry, ticket_spec.table)
    n_tickets = max(size // 10, 10)
    ticket_partners = [of_customer(customer()) for _ in range(n_tickets)]
    stages = ("new", "in_progress", "waiting", "solved", "solved", "cancelled")
    writer.write(
        ticket_spec.table,
        "id name number partner_id company_id stage priority date_open".split(),
        (
            (
                first_ticket + i,
                f"Ticket {i}",
                f"T{first_ticket + i:07d}",
                partner,
                company(),
                rnd.choice(stages),
                rnd.choice("0123"),
                moment(),
            )
            for i, partner in enumerate(ticket_partners)
        ),
        n_tickets,
    )
    _followers(
        writer,
        registry,
        "helpdesk.ticket",
        ((first_ticket + i, [p]) for i, p in enumerate(ticket_partners)),
        n_tickets,
    )

    _reset_sequences(
        registry,
        [
            partner_table,
            users_table,
            order_spec.table,
            project_spec.table,
            collab_table,
            task_spec.table,
            move_spec.table,
            ticket_spec.table,
        ],
    )
    if registry.dialect == "postgresql":
        # VACUUM as well: otherwise autovacuum takes on the millions of new rows of
        # this database while the benchmark is timing (the copies start with no
        # statistics, the template does not), and index-only scans have no
        # visibility map to use. A database in service is vacuumed.
        with registry.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("VACUUM ANALYZE")
    else:
        with registry.engine.begin() as conn:
            conn.exec_driver_sql("ANALYZE")
    fixture.counts = {
        "res.partner": len(companies) + len(contacts),
        "res.users (portal)": len(portal_users),
        "sale.order": size,
        "project.project": len(projects),
        "project.task": size,
        "account.move": size,
        "helpdesk.ticket": n_tickets,
        "rows written": writer.rows_written,
    }
    fixture.seconds = time.perf_counter() - started
    return fixture


def _followers(
    writer: BulkWriter,
    registry: Registry,
    model: str,
    rows: Iterator[tuple[int, list[int]]],
    total: int,
) -> None:
    """The ``message_partner_ids`` relation rows of ``model``."""
    field_ = registry.specs[model].fields["message_partner_ids"]
    assert field_.relation and field_.column1 and field_.column2
    table = registry.relations[field_.relation]
    writer.write(
        table,
        (field_.column1, field_.column2),
        ((rid, partner) for rid, partners in rows for partner in partners),
        total,
    )


def progress_bar() -> Progress:
    return Progress(
        TextColumn("{task.description:<32}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        transient=False,
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", type=parse_size, default=parse_size("10k"))
    parser.add_argument("--url", help="an empty database (default: a throwaway PostgreSQL)")
    args = parser.parse_args(argv)
    server = None
    url = args.url
    if url is None:
        from pg import PostgresServer  # noqa: PLC0415

        server = PostgresServer()
        server.start()
        url = server.create_database(f"bench_{size_label(args.size)}")
    try:
        registry = Registry(url)
        with progress_bar() as progress:
            fixture = generate(registry, args.size, progress=progress)
        registry.dispose()
    finally:
        if server is not None:
            server.stop()
    print(f"generated {size_label(args.size)} in {fixture.seconds:.1f}s: {fixture.counts}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
