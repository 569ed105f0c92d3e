"""Membership in a list of ids, rendered for each backend's planner.

>>> member_of(followers.c.res_partner_id, sa.select(tree.c.id))  # doctest: +SKIP
>>> one_of(table.c.id, [3, 5, 8], "postgresql")    # id = ANY(%(param_1)s::INTEGER[])

``one_of``: ids the ORM already holds (a recordset's). On PostgreSQL, for more than one
id, one array parameter, so the statement text is the same whatever the number of ids:
SQLAlchemy does not render an expanding ``IN`` again at each execution, psycopg keeps
the text parsed and, from the fifth run, prepared, as a query written by hand with
``= ANY(%s)`` is (an 80-row list page 13% faster). On SQLite with ``json_each`` (built
in since 3.38), past a few ids, one JSON array it reads, for the same reason. Elsewhere
the plain ``IN``.

``member_of``: ids computed by the database (a hierarchy), rendered on PostgreSQL so
that the planner sees a short list rather than a guess.

PostgreSQL estimates a recursive CTE at a fixed size (401 rows for a one-row seed)
whatever it returns, and plans around that guess: at 1M followers it hash-joined a
sequential scan of the whole follower table to the five partners of one customer
(docs/performance.md). ``column = ANY(ARRAY(sub-query))`` makes the sub-query an
InitPlan that runs once, first, and the planner estimates ``= ANY`` of it like a short
list of constants: index probes on the link table, or on the document's own many2one.
Other backends get the plain ``IN``; both forms are two-valued for a non-null id list,
which the hierarchy walk always is.
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Callable, Iterable
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.visitors import InternalTraversal

SqlType = sa.types.TypeEngine[Any]


def _has_json_each() -> bool:
    """Whether the SQLite library of the ``sqlite3`` module (the driver Bastion's
    SQLite engines use) has ``json_each``: built in since 3.38, unless the build left
    it out, and often built in before. Asked of the library itself, once."""
    try:
        with contextlib.closing(sqlite3.connect(":memory:")) as probe:
            probe.execute("SELECT value FROM json_each('[1]')").fetchall()
    except sqlite3.Error:
        return False
    return True


# Without ``json_each``, a list is an expanding IN, which SQLAlchemy writes out at every
# execution with one variable per value (a 40,000-id search spent 80% of its time
# there, and a list past the build's variable limit, 32,766 by default, fails).
JSON_EACH = _has_json_each()
# Up to this many ids, a statement built for one call (``one_of``) keeps the plain IN on
# SQLite: building the ``json_each`` sub-query costs more than writing out a few
# variables (2 ids: 0.18-0.20 ms against 0.11-0.17 for ``exists()``; 9 ids: 0.18-0.19
# against 0.21-0.25; 1,000 ids: 0.49-0.50 against 1.3-1.9).
SHORT_LIST = 8


def one_of(column: ColumnElement[Any], ids: Iterable[int], dialect: str) -> ColumnElement[bool]:
    """``column`` is one of ``ids`` (integers held by the caller)."""
    ids = list(ids)
    # One id: ``IN (x)`` is one text too, and measured 5-10% faster than an array.
    if len(ids) > 1 and (dialect == "postgresql" or len(ids) > SHORT_LIST):
        listed = one_parameter(column, dialect, lambda type_: sa.bindparam(None, ids, type_))
        if listed is not None:
            return listed
    return column.in_(ids)


def one_of_parameter(
    column: ColumnElement[Any], name: str, dialect: str, *, single: bool
) -> ColumnElement[bool]:
    """``one_of`` for a statement kept and run again: the ids come at execution, as
    parameter ``name`` (an int when ``single``, else a list), in the same forms."""
    if single:
        return column == sa.bindparam(name, type_=sa.Integer)
    listed = one_parameter(column, dialect, lambda type_: sa.bindparam(name, type_=type_))
    return column.in_(sa.bindparam(name, expanding=True)) if listed is None else listed


def one_parameter(
    column: ColumnElement[Any], dialect: str, bind: Callable[[SqlType], sa.BindParameter[Any]]
) -> ColumnElement[bool] | None:
    """``column`` is one of a list bound as one parameter, made by ``bind`` with the
    parameter's type: an array of the column's type on PostgreSQL, a JSON array read by
    ``json_each`` on SQLite; None where the backend has no such parameter."""
    if dialect == "postgresql":
        return column == sa.any_(bind(ARRAY(column.type)))
    if dialect == "sqlite" and JSON_EACH:
        return column.in_(json_members(bind(sa.JSON())))
    return None


def listed_as_one(dialect: str) -> bool:
    """Whether :func:`one_parameter` applies on ``dialect`` (else one variable per
    value)."""
    return dialect == "postgresql" or (dialect == "sqlite" and JSON_EACH)


def json_members(values: sa.BindParameter[Any]) -> sa.Select[tuple[Any]]:
    """The members of ``values``, a list bound as a JSON array, as SQLite's
    ``json_each`` reads them: for ``column IN (...)``, where the column's affinity
    applies to them as to bound values (ids, integers, strings)."""
    members = sa.func.json_each(values).table_valued("value")
    return sa.select(members.c.value)


class MemberOf(ColumnElement[bool]):
    """``column`` is one of the ids ``ids`` selects."""

    inherit_cache = True
    # A predicate of its own: SQLAlchemy must not append "= 1" on SQLite.
    _is_implicitly_boolean = True
    type = sa.Boolean()
    _traverse_internals = [
        ("column", InternalTraversal.dp_clauseelement),
        ("ids", InternalTraversal.dp_clauseelement),
    ]

    def __init__(self, column: ColumnElement[Any], ids: sa.Select[tuple[int]]) -> None:
        self.column = column
        self.ids = ids


def member_of(column: ColumnElement[Any], ids: sa.Select[tuple[int]]) -> MemberOf:
    return MemberOf(column, ids)


@compiles(MemberOf)
def _in(element: MemberOf, compiler: SQLCompiler, **kw: Any) -> str:
    return compiler.process(element.column.in_(element.ids), **kw)


@compiles(MemberOf, "postgresql")
def _any_array(element: MemberOf, compiler: SQLCompiler, **kw: Any) -> str:
    column = compiler.process(element.column, **kw)
    ids = compiler.process(element.ids.scalar_subquery(), **kw)
    return f"{column} = ANY(ARRAY{ids})"


__all__ = ["MemberOf", "member_of", "one_of", "one_of_parameter"]
