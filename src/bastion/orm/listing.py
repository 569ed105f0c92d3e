"""``search_read`` and ``read`` in one statement: records and their display names.

A list page or a form shows each many2one as ``(id, name)``. Reading the names after
the records costs a statement, a round trip, per comodel (the fifth of a portal list
page's five, issue 3). Here each name is a scalar sub-query beside the records'
columns, holding the comodel's own read rules: a related record the user may not read
gives NULL, shown as ``(id, False)`` exactly as ``crud.display_names`` shows it.

A sorted page does not pay the names for every row it sorts: PostgreSQL computes
costly output columns after the Sort and LIMIT; SQLite computes them for each row its
top-N sorter takes (about 650 of 100,000 for 80, measured), so there the page's ids
are a sub-query and the names are read for those rows only. Where a name cannot be
read this way (no name column, no access to the comodel, a many2one to its own model,
whose table the sub-query would correlate to), ``crud`` reads it as before, in a
statement of its own.

``search_read`` hands back values, not records: when every field asked for is a column
of its statement, the values are shaped from the rows and nothing goes into the cache.
``read`` keeps what it fetched, since its caller holds the records.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from functools import partial
from typing import TYPE_CHECKING, Any, NamedTuple

import sqlalchemy as sa

from . import crud, direct
from .kept import kept_statement

if TYPE_CHECKING:
    from .fields import Field
    from .model import Model


class ShownName(NamedTuple):
    """A many2one's display name as a column beside the records', and its parameters."""

    field: str  # the many2one
    comodel: Model
    rec_name: str  # the comodel's name field
    column: sa.ScalarSelect[Any]
    params: dict[str, object]


def search_read(
    records: Model,
    domain: Sequence[object] | str,
    fields: Sequence[str] | None,
    *,
    offset: int = 0,
    limit: int | None = None,
    order: str | None = None,
) -> list[dict[str, object]]:
    """Odoo's ``search_read``: the rows ``read(fields)`` gives for the records
    ``search`` finds; the search loads their columns and names in its statement."""
    env = records.env
    names = crud.read_names(records, fields)
    # The fields asked for only, as Odoo's search_read fetches: the records themselves
    # are not handed back, so the other columns would be loaded for nothing.
    columns = crud.fetched_columns(records, names)
    joined = shown_name_columns(records, names, columns)
    if joined and limit is not None and env.cr.dialect.name == "sqlite":
        # SQLite computes a row's output columns when its top-N sorter takes the row
        # (about 650 rows for 80 of 100,000): the page's ids first, then the columns
        # and names of those only.
        page, params, kept = crud.search_select(records, (), domain, offset, limit, order)
        terms = crud.order_terms(records, order)
        table = records._spec.table

        def build() -> sa.Select[Any]:
            return (
                sa.select(table.c.id, *(table.c[name] for name in columns))
                .where(table.c.id.in_(page))
                .order_by(*crud.order_clauses(terms, table))
            )

        page_key = ("page of ids", id(page), tuple(columns), terms)
        query = keep(records, kept, page_key, (page,), build)
    else:
        query, params, kept = crud.search_select(records, columns, domain, offset, limit, order)
    if joined:
        names_of = tuple(each.column for each in joined)
        key = ("with names", id(query), tuple(id(column) for column in names_of))
        query = keep(records, kept, key, (query, *names_of), lambda: with_names(query, joined))
    if set(names) <= {"id", *columns}:
        # Every field asked for is a column of the page: its values are shaped from
        # the rows as they come. The records are not handed back, so the cache would
        # only be filled to be read back here (a third of the Python a list of 80 rows
        # paid on PostgreSQL, issue 3).
        rows = run(records, query, params, joined)
        return rows_read(records, names, columns, rows, shown_names(rows, columns, joined))
    ids, shown = fetch_rows(records, query, params, columns, joined)
    found = tuple(ids)
    listed = type(records)(env, found, found)
    return crud.read(listed, fields, fetched=True, shown=shown, names=names)


def rows_read(
    records: Model,
    names: Sequence[str],
    columns: Sequence[str],
    rows: Sequence[Sequence[Any]],
    shown: Mapping[str, Mapping[int, object]],
) -> list[dict[str, object]]:
    """``crud.read``'s result for the ``names`` of the records in ``rows`` (id,
    then ``columns``), from the rows themselves."""
    where = {name: at for at, name in enumerate(columns, start=1)}
    ids = [row[0] for row in rows]
    return crud.shaped_rows(
        records, ids, names, lambda field: [row[where[field.name]] for row in rows], shown
    )


def keep(
    records: Model,
    kept: bool,
    key: tuple[object, ...],
    parts: tuple[object, ...],
    build: Callable[[], sa.Select[Any]],
) -> sa.Select[Any]:
    """``build()``, kept (``bastion.orm.kept``) when the search's own statement is."""
    if not kept:
        return build()
    return kept_statement(records, key, parts, build)


def with_names(query: sa.Select[Any], joined: Sequence[ShownName]) -> sa.Select[Any]:
    """``query`` with the ``joined`` display names as columns after its own."""
    if not joined:
        return query
    return query.add_columns(*(each.column.label(f"{each.field}__shown") for each in joined))


def read(records: Model, fields: Sequence[str] | None) -> list[dict[str, object]]:
    """Odoo's ``read``: the records' columns and their many2ones' display names in one
    statement per chunk of ids, the read rules in its WHERE (an id it leaves out is
    refused, or missing, as ``check_access`` would say)."""
    env = records.env
    names = crud.read_names(records, fields)
    if env.su or not records:
        return crud.read(records, fields)
    columns = crud.fetched_columns(records)
    joined = shown_name_columns(records, names, columns)
    if not joined:
        return crud.read(records, fields)
    table = records._spec.table
    rules = crud.rule_clause(records, "read", table)
    wanted = list(dict.fromkeys(records._ids))
    listed: set[int] = set()
    shown: dict[str, dict[int, object]] = {each.field: {} for each in joined}
    names_of = tuple(each.column for each in joined)
    for chunk in crud.chunks(wanted):
        fetch, params = crud.fetch_statement(records, columns, rules, chunk)
        key = ("with names", id(fetch), tuple(id(column) for column in names_of))
        query = kept_statement(records, key, (fetch, *names_of), partial(with_names, fetch, joined))
        ids, chunk_shown = fetch_rows(records, query, params, columns, joined)
        listed.update(ids)
        for name, by_id in chunk_shown.items():
            shown[name].update(by_id)
    crud.refuse_unlisted(records, "read", wanted, listed)
    return crud.read(records, fields, fetched=True, shown=shown, names=names)


def shown_name_columns(
    records: Model, names: Sequence[str], columns: Sequence[str]
) -> list[ShownName]:
    """The display names of those of the ``names`` many2ones fetched as ``columns``
    that can be read beside them."""
    spec = records._spec
    joined: list[ShownName] = []
    for name in names:
        field = spec.fields[name]
        if field.type == "many2one" and name in columns:
            assert field.comodel_name is not None
            found = shown_name_column(records, field)
            if found is not None:
                joined.append(found)
    return joined


def shown_name_column(records: Model, field: Field) -> ShownName | None:
    """The display name of the record ``field`` points to, as a scalar sub-query under
    the user's read rules of the comodel (NULL when it may not be read), correlated to
    the records' table; None when it cannot be one (see the module's docstring)."""
    assert field.comodel_name is not None
    env = records.env
    comodel = env[field.comodel_name]
    spec = comodel._spec
    rec_name = spec.fields.get(spec.rec_name)
    if rec_name is None or rec_name.name == "id" or rec_name.comodel_name:
        return None
    table = records._spec.table
    if not rec_name.has_column or spec.table is table:
        return None
    if not env.su:
        security = env.registry.security
        if not security.model_allowed(env, comodel._name, "read"):
            return None
        security.check_fields(env, comodel._name, [rec_name.name], "read")
    rules = crud.rule_clause(comodel, "read", spec.table)
    clause = None if rules is None else rules.clause

    def build() -> sa.ScalarSelect[Any]:
        query = sa.select(spec.table.c[rec_name.name])
        query = query.where(spec.table.c.id == table.c[field.name])
        if clause is not None:
            query = query.where(clause)
        return query.correlate(table).scalar_subquery()

    # Kept for every domain: it holds no value of the caller's.
    key = ("shown name", records._name, field.name, id(table), id(clause))
    column = kept_statement(records, key, (table, clause), build)
    params = {} if rules is None else dict(rules.params)
    return ShownName(field.name, comodel, rec_name.name, column, params)


def fetch_rows(
    records: Model,
    query: sa.Select[Any],
    params: dict[str, object],
    columns: Sequence[str],
    joined: Sequence[ShownName],
) -> tuple[list[int], dict[str, dict[int, object]]]:
    """Run ``query`` (id, then ``columns``, then the ``joined`` names); the
    columns go into the cache, and so do the names found (a row under the comodel's
    rules: readable). Returns the ids in the rows' order and the names per many2one."""
    rows = run(records, query, params, joined)
    cache = records.env.cache
    own = cache.setdefault(records._name, {})
    width = 1 + len(columns)
    # This loop runs for every row of every page read: it stays lean.
    for row in rows:
        values = own.get(row[0])
        if values is None:
            own[row[0]] = dict(zip(columns, row[1:width], strict=True))
        else:
            values.update(zip(columns, row[1:width], strict=True))
    shown = shown_names(rows, columns, joined, cache)
    ids: list[int] = [row[0] for row in rows]
    return ids, shown


def run(
    records: Model, query: sa.Select[Any], params: dict[str, object], joined: Sequence[ShownName]
) -> Sequence[Sequence[Any]]:
    """The rows of ``query`` (id, the columns, then the ``joined`` names)."""
    for each in joined:
        params.update(each.params)
    return direct.fetch_all(records.env.cr, query, params)


def shown_names(
    rows: Sequence[Sequence[Any]],
    columns: Sequence[str],
    joined: Sequence[ShownName],
    cache: dict[str, dict[int, dict[str, object]]] | None = None,
) -> dict[str, dict[int, object]]:
    """The display names in ``rows`` per many2one (a name under the comodel's
    rules: readable), the names also put in ``cache`` when given."""
    shown: dict[str, dict[int, object]] = {}
    width = 1 + len(columns)
    for position, each in enumerate(joined):
        at, name_at = 1 + columns.index(each.field), width + position
        shown_here: dict[int, object] = shown.setdefault(each.field, {})
        comodel = each.comodel
        rec_name = comodel._spec.fields[each.rec_name]
        plain = crud.plain_record(rec_name)
        # This loop runs for every row of every list page: it stays lean (the text of
        # a plain name column is its display name, as crud.shown_name would say).
        for row in rows:
            related = row[at]  # the many2one's id, or None
            if related is None:
                continue
            raw = row[name_at]
            if raw is None:
                shown_here[related] = False
            elif plain and type(raw) is str:
                shown_here[related] = raw
            else:
                shown_here[related] = crud.shown_name(comodel, rec_name, raw)
        if cache is not None:
            comodel_cache = cache.setdefault(comodel._name, {})
            for row in rows:
                if row[at] is not None and row[name_at] is not None:
                    comodel_cache.setdefault(row[at], {})[rec_name.name] = row[name_at]
    return shown
