"""Document numbers that are never given twice: a counter row per prefix.

Numbering by "the highest name in use, plus one" gives a deleted document's number to
the next one (an invoice cancelled and deleted, then another posted: both bore
``INV/2026/00013``, one in the customer's files), and two workers numbering at once
read the same highest name. Here each prefix (``S``, ``INV/2026/``) has a row of
``ir_sequence_number`` holding the last number given, and taking numbers is one
``UPDATE ... RETURNING``: its row lock makes a second transaction wait until the first
ends, then continue after the first's numbers. A transaction that rolls back gives its
numbers back, so the committed ones have no gaps (Odoo's ``no_gap`` sequences).

That lock also makes every other transaction numbering with the prefix wait, for as
long as the first one runs: one customer's import of 10,000 orders through the API
would hold up every other customer's orders until it commits. Documents whose numbers
may have gaps (orders, tickets: Odoo's standard sequences) therefore take theirs
``gaps=True``: on PostgreSQL in a short transaction of their own, committed at once, so
the row is locked for that transaction only and a rolled-back document's number is
not given again. On SQLite one transaction writes at a time anyway, and the numbers
are the caller's transaction's.

Invoices are numbered per company, as Odoo numbers them per journal: each company's
``INV/2026/`` runs 1, 2, 3 without the other company's invoices in between, which a
shared counter would put there as gaps. Such a counter's row is keyed by the prefix and
the company (``counter_key``).

A database numbered before the table existed (or a prefix seen for the first time)
starts after the highest number in use, found by the caller.

>>> first = take_numbers(env, "S", 2, highest=lambda: 41)   # doctest: +SKIP
>>> first   # S00042 and S00043 are this transaction's
42
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

if TYPE_CHECKING:
    from .environment import Environment

NUMBERING_TABLE = "ir_sequence_number"
# Longer than any counter key an addon makes ("RBILL/2026/|company=12"); a longer one is
# refused.
PREFIX_LENGTH = 64
# Separates a prefix from its company in a counter's key; refused in a prefix, so that
# no prefix's key is another's.
COMPANY_SEPARATOR = "|company="
# How long a number taken apart waits for its counter's row: a prefix taken both ways
# in one transaction would otherwise wait for that transaction, which waits for it.
APART_LOCK_TIMEOUT_MS = 10_000


def numbering_table(metadata: sa.MetaData) -> sa.Table:
    return sa.Table(
        NUMBERING_TABLE,
        metadata,
        sa.Column("prefix", sa.String(PREFIX_LENGTH), primary_key=True),
        sa.Column("last", sa.BigInteger, nullable=False),
    )


def apart_engine(engine: sa.Engine) -> sa.Engine | None:
    """Connections of their own for the numbers taken apart from the caller's
    transaction (None on SQLite). Never more than a few at once: each holds a counter's
    row for one UPDATE and its COMMIT."""
    if engine.dialect.name != "postgresql":
        return None
    return sa.create_engine(
        engine.url,
        pool_size=1,
        max_overflow=8,
        pool_pre_ping=True,
        connect_args={"options": f"-c lock_timeout={APART_LOCK_TIMEOUT_MS}"},
    )


def counter_key(prefix: str, company: int | None = None) -> str:
    """The key of ``prefix``'s counter row: the prefix itself, or with ``company`` for
    a prefix numbered per company."""
    if COMPANY_SEPARATOR in prefix:
        raise ValueError(f"numbering prefix {prefix!r} holds {COMPANY_SEPARATOR!r}")
    key = prefix if company is None else f"{prefix}{COMPANY_SEPARATOR}{company}"
    if len(key) > PREFIX_LENGTH:
        raise ValueError(f"numbering key {key!r} is longer than {PREFIX_LENGTH}")
    return key


def take_numbers(
    env: Environment,
    prefix: str,
    count: int,
    highest: Callable[[], int],
    *,
    gaps: bool = False,
    company: int | None = None,
) -> int:
    """The first of ``count`` consecutive numbers for ``prefix`` (of ``company``, when
    numbered per company), taken for this transaction, or (``gaps``, on PostgreSQL) for
    good in one of their own; ``highest()`` is the highest number in use, asked for only
    when the counter has no row yet."""
    if count < 1:
        raise ValueError(f"take_numbers: count must be at least 1, not {count}")
    key = counter_key(prefix, company)
    table = env.registry.numbering
    apart = env.registry.numbering_apart if gaps else None
    if apart is None:
        return _take(env.cr, table, key, count, highest)
    with apart.begin() as connection:
        return _take(connection, table, key, count, highest)


def _take(
    connection: sa.Connection, table: sa.Table, key: str, count: int, highest: Callable[[], int]
) -> int:
    take = (
        sa.update(table)
        .where(table.c.prefix == key)
        .values(last=table.c.last + count)
        .returning(table.c.last)
    )
    last = connection.execute(take).scalar()
    if last is None:
        # Two transactions may both find no row: the second's insert waits for the
        # first's and does nothing, and its UPDATE then sees the first's row.
        connection.execute(_insert_if_missing(connection, table, key, highest()))
        last = connection.execute(take).scalar_one()
    return int(last) - count + 1


def _insert_if_missing(
    connection: sa.Connection, table: sa.Table, key: str, last: int
) -> sa.Insert:
    values = {"prefix": key, "last": last}
    if connection.dialect.name == "postgresql":
        return postgresql.insert(table).values(values).on_conflict_do_nothing()
    return sqlite.insert(table).values(values).on_conflict_do_nothing()
