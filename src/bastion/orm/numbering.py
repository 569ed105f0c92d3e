"""Document numbers that are never given twice: a counter row per prefix.

Numbering by "the highest name in use, plus one" gives a deleted document's number to
the next one (an invoice cancelled and deleted, then another posted: both bore
``INV/2026/00013``, one in the customer's files), and two workers numbering at once
read the same highest name. Here each prefix (``S``, ``INV/2026/``) has a row of
``ir_sequence_number`` holding the last number given, and taking numbers is one
``UPDATE ... RETURNING``: its row lock makes a second transaction wait until the first
ends, then continue after the first's numbers. A transaction that rolls back gives its
numbers back, so the committed ones have no gaps (Odoo's ``no_gap`` sequences).

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
# Longer than any prefix an addon makes ("RBILL/2026/"); a longer one is refused.
PREFIX_LENGTH = 64


def numbering_table(metadata: sa.MetaData) -> sa.Table:
    return sa.Table(
        NUMBERING_TABLE,
        metadata,
        sa.Column("prefix", sa.String(PREFIX_LENGTH), primary_key=True),
        sa.Column("last", sa.BigInteger, nullable=False),
    )


def take_numbers(env: Environment, prefix: str, count: int, highest: Callable[[], int]) -> int:
    """The first of ``count`` consecutive numbers for ``prefix``, taken for this
    transaction; ``highest()`` is the highest number in use, asked for only when the
    prefix has no row yet."""
    if count < 1:
        raise ValueError(f"take_numbers: count must be at least 1, not {count}")
    if len(prefix) > PREFIX_LENGTH:
        raise ValueError(f"numbering prefix {prefix!r} is longer than {PREFIX_LENGTH}")
    table = env.registry.numbering
    take = (
        sa.update(table)
        .where(table.c.prefix == prefix)
        .values(last=table.c.last + count)
        .returning(table.c.last)
    )
    last = env.cr.execute(take).scalar()
    if last is None:
        # Two transactions may both find no row: the second's insert waits for the
        # first's and does nothing, and its UPDATE then sees the first's row.
        env.cr.execute(_insert_if_missing(env, table, prefix, highest()))
        last = env.cr.execute(take).scalar_one()
    return int(last) - count + 1


def _insert_if_missing(env: Environment, table: sa.Table, prefix: str, last: int) -> sa.Insert:
    values = {"prefix": prefix, "last": last}
    if env.cr.dialect.name == "postgresql":
        return postgresql.insert(table).values(values).on_conflict_do_nothing()
    return sqlite.insert(table).values(values).on_conflict_do_nothing()
