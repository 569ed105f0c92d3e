"""The ORM's reads on recordsets: fetch, search, read (the writes are in ``writes``).

Where the security layer is consulted, and why there:

- ``search``: access right, field groups of the domain and order, and the record
  rules compiled into the same SQL ``WHERE`` (never load-then-filter);
- fetching values (attribute access, ``read``): access right, field groups, and the
  rules in the ``WHERE`` of the fetch, so a forbidden id raises.

A superuser environment (``env.su``) skips all of these, as in Odoo.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, NamedTuple, cast

import sqlalchemy as sa

from bastion.domain import (
    TRUE,
    Node,
    SqlCompiler,
    Term,
    conjunction,
    fields_in,
    literal_domain,
    parse_domain,
)
from bastion.domain.sql import RuleSql, SqlBool
from bastion.domain.sql_members import listed_as_one, one_of_parameter
from bastion.errors import MissingError

from . import direct
from .fields import Field
from .kept import kept_statement
from .schema import OrderTerm
from .shaped import domain_sql

if TYPE_CHECKING:
    from .model import Model

CHUNK = 1000
# Ids per check statement where they go as one parameter (see allowed_ids).
CHECK_CHUNK_LISTED = 10_000
# The parameters of a search's window (the rules' are named rule<n>_...).
OFFSET, LIMIT = "search_offset", "search_limit"
OPERATIONS = ("read", "write", "create", "unlink")
RESERVED = frozenset({"id"})


def _window_param(records: Model, name: str) -> sa.BindParameter[int]:
    """The offset or limit of a search: on PostgreSQL written into the SQL at execution
    (one kept statement still serves every window). As a parameter, PostgreSQL planned
    it again at every execution: the plan for an unknown LIMIT estimates a tenth of the
    rows and costs more than the plan for 80, so a prepared list statement never settled
    on its generic plan, where hand-written SQL with its LIMIT 80 does (0.1 ms of a 0.6
    ms list page at 10k, docs/performance.md). The values are checked integers, rendered
    by SQLAlchemy's Integer literal. SQLite plans a statement once, when its driver
    prepares it, and with the value written in it took another plan for the internal
    task list, eight times slower at 100k: there the window stays a parameter."""
    written = records.env.cr.dialect.name == "postgresql"
    return sa.bindparam(name, type_=sa.Integer, literal_execute=written)


def _window_value(name: str, value: object) -> int:
    if type(value) is not int or value < 0:
        raise ValueError(f"{name} must be a non-negative integer, not {value!r}")
    return value


def chunks(ids: Sequence[int], size: int = CHUNK) -> Iterator[Sequence[int]]:
    for start in range(0, len(ids), size):
        yield ids[start : start + size]


# -- rules ---------------------------------------------------------------------------
def rule_clause(records: Model, operation: str, table: sa.FromClause) -> RuleSql | None:
    """The record rules of the current user for ``operation``, as SQL and the
    parameters to run it with (None: all)."""
    env = records.env
    if env.su:
        return None
    security = env.registry.security
    node = security.rule_node(env, records._name, operation)
    if node == TRUE:
        return None
    return security.rule_sql(env, node, records._spec, table)


def allowed_ids(records: Model, operation: str, ids: Sequence[int]) -> set[int]:
    """Those of ``ids`` that exist and pass the rules for ``operation``."""
    table = records._spec.table
    rules = rule_clause(records, operation, table)
    dialect = records.env.cr.dialect.name
    found: set[int] = set()
    # PostgreSQL takes the ids as one array parameter, of any length, and SQLite as one
    # JSON array (``one_of_parameter``): every statement runs the rules' sub-queries
    # again (a key account's followers hashed, 1,445 of its invoices at PostgreSQL
    # 100k: 7.0 ms by chunks of 1,000, 6.2 in one), and since the rows come through the
    # driver (bastion.orm.direct) one statement costs the client no more (10,000
    # orders: 9.8 ms of its time either way). An older SQLite binds each id.
    size = CHECK_CHUNK_LISTED if listed_as_one(dialect) else CHUNK
    for chunk in chunks(ids, size):
        one, params = _ids_params(rules, chunk)
        query = _check_statement(records, table, rules, dialect, one)
        # The rows fetched at once, not one by one (10,000 ids: 2 ms), by the driver
        # when the statement is kept (bastion.orm.direct).
        found.update(direct.scalars(records.env.cr, query, params))
    return found


def _params(rules: RuleSql | None) -> dict[str, object]:
    """The parameters to run a statement holding ``rules`` with (a copy to add to)."""
    return {} if rules is None else dict(rules.params)


def _ids_params(rules: RuleSql | None, ids: Sequence[int]) -> tuple[bool, dict[str, object]]:
    """Whether ``ids`` is a single id (a plain equality: ``one_of_parameter`` with
    ``single``), and the parameters of a statement holding ``rules``, the ids as
    ``ids``."""
    one = len(ids) == 1
    params = _params(rules)
    params["ids"] = ids[0] if one else list(ids)
    return one, params


def _check_statement(
    records: Model, table: sa.Table, rules: RuleSql | None, dialect: str, one: bool
) -> sa.Select[int]:
    """``SELECT id WHERE id = :ids AND <rules>``, the ids a parameter
    (``one_of_parameter``), as are the ids in the rules: kept per rule clause
    (``bastion.orm.kept``)."""
    clause = None if rules is None else rules.clause

    def build() -> sa.Select[int]:
        query = sa.select(table.c.id).where(
            one_of_parameter(table.c.id, "ids", dialect, single=one)
        )
        return query if clause is None else query.where(clause)

    key = ("check", table.name, id(clause), one)
    return kept_statement(records, key, (table, clause), build)


def check_rules(records: Model, operation: str, ids: Sequence[int] | None = None) -> None:
    env = records.env
    if env.su:
        return
    wanted = list(dict.fromkeys(records._ids if ids is None else ids))
    if not wanted:
        return
    refuse_unlisted(records, operation, wanted, allowed_ids(records, operation, wanted))


def refuse_unlisted(
    records: Model, operation: str, wanted: Sequence[int], listed: set[int]
) -> None:
    """Raise for those of ``wanted`` that a query holding the rules for ``operation``
    did not return: MissingError when none of them exists, else the rules' AccessError
    naming the existing ones (the missing ones beside them are not named)."""
    env = records.env
    if listed.issuperset(wanted):
        return  # the usual case, at C speed (10,000 ids)
    missing = [rid for rid in wanted if rid not in listed]
    if not missing:
        return
    existing = records.browse(missing).exists().ids
    if not existing:
        raise MissingError(
            f"{records._name} records {missing} do not exist or have been deleted",
            model=records._name,
            ids=missing,
        )
    raise env.registry.security.rule_denial(env, records._name, operation, existing)


def check_operation(records: Model, operation: str) -> None:
    if operation not in OPERATIONS:
        raise ValueError(f"unknown operation {operation!r}; expected one of {OPERATIONS}")
    env = records.env
    if env.su:
        return
    env.registry.security.check_model(env, records._name, operation)
    check_rules(records, operation)


# -- fetching ------------------------------------------------------------------------
def cached_value(records: Model, field: Field, rid: int) -> object:
    cache = records.env.cache.setdefault(records._name, {})
    values = cache.get(rid)
    if values is None or field.name not in values:
        todo = [i for i in records._prefetch_ids if field.name not in cache.get(i, {})]
        if rid not in todo:
            todo.insert(0, rid)
        else:  # the asked record first: a prefetch set larger than a chunk still has it
            todo.remove(rid)
            todo.insert(0, rid)
        todo = todo[:CHUNK]
        if field.type in ("one2many", "many2many"):
            fetch_x2many(records, field, todo)
        else:
            fetch_columns(records, todo)
        values = cache.get(rid)
        if values is None or field.name not in values:
            check_rules(records, "read", [rid])
            raise MissingError(f"{records._name}({rid}) cannot be read", model=records._name)
    return values[field.name]


def fetch_columns(
    records: Model, ids: Sequence[int], only: Sequence[str] | None = None
) -> set[int]:
    """Load every readable column field of ``ids`` (of those, the ``only`` ones) into
    the cache; returns the ids fetched: for a user, those that exist and pass the read
    rules (in the WHERE)."""
    if not ids:
        return set()
    names = fetched_columns(records)
    if only is not None:
        names = [name for name in names if name in only]
    rules = rule_clause(records, "read", records._spec.table)
    query, params = fetch_statement(records, names, rules, ids)
    return set(cache_rows(records, names, query, params))


def fetch_statement(
    records: Model, names: Sequence[str], rules: RuleSql | None, ids: Sequence[int]
) -> tuple[sa.Select[Any], dict[str, object]]:
    """``SELECT id, <names> WHERE id = :ids AND <rules>`` and its parameters: the
    ids are a parameter (``one_of_parameter``), as are the rules' values, so the
    statement is kept per rule clause and column list (``bastion.orm.kept``), and a
    record's page, its attribute reads and ``read()`` by ids are not built anew."""
    table = records._spec.table
    dialect = records.env.cr.dialect.name
    clause = None if rules is None else rules.clause
    one, params = _ids_params(rules, ids)

    def build() -> sa.Select[Any]:
        query = sa.select(table.c.id, *(table.c[n] for n in names)).where(
            one_of_parameter(table.c.id, "ids", dialect, single=one)
        )
        return query if clause is None else query.where(clause)

    key = ("fetch", table.name, tuple(names), id(clause), one)
    return kept_statement(records, key, (table, clause), build), params


def fetched_columns(records: Model, only: Sequence[str] | None = None) -> list[str]:
    """The column fields a fetch loads: those the user may read (access checked), of
    ``only`` when given."""
    env = records.env
    names = [f.name for f in records._spec.column_fields]
    if only is not None:
        wanted = set(only)
        names = [name for name in names if name in wanted]
    if not env.su:
        env.registry.security.check_model(env, records._name, "read")
        names = env.registry.security.visible_fields(env, records._name, names)
    return names


def cache_rows(
    records: Model, names: list[str], query: sa.Select[Any], params: dict[str, object]
) -> list[int]:
    """Run ``query`` (id, then the ``names`` columns) with ``params``; its rows go into
    the cache. Returns the ids in the rows' order."""
    cache = records.env.cache.setdefault(records._name, {})
    ids: list[int] = []
    for row in direct.fetch_all(records.env.cr, query, params):
        cache.setdefault(row[0], {}).update(zip(names, row[1:], strict=True))
        ids.append(row[0])
    return ids


def fetch_checked(
    records: Model, ids: Sequence[int], only: Sequence[str] | None = None
) -> set[int]:
    """Fetch the columns (the ``only`` ones) of ``ids``, each id once, by chunks; the
    ids returned are the readable ones, so the fetch is the read rule check too."""
    fetched: set[int] = set()
    for chunk in chunks(list(dict.fromkeys(ids))):
        fetched |= fetch_columns(records, chunk, only)
    return fetched


def fetch_x2many(records: Model, field: Field, ids: Sequence[int]) -> None:
    """Load an x2many field: related ids the user may read, in the comodel's order."""
    env = records.env
    assert field.comodel_name is not None
    # The parent records themselves must be readable.
    readable = ids if env.su else sorted(allowed_ids(records, "read", ids))
    if not env.su:
        env.registry.security.check_model(env, records._name, "read")
        env.registry.security.check_model(env, field.comodel_name, "read")
    comodel = env[field.comodel_name]
    co_table = comodel._spec.table
    rules = rule_clause(comodel, "read", co_table)
    related: dict[int, list[int]] = {rid: [] for rid in readable}
    if readable:
        query, params = _x2many_statement(records, comodel, field, rules, readable)
        for owner_id, related_id in direct.fetch_all(env.cr, query, params):
            related[owner_id].append(related_id)
    cache = env.cache.setdefault(records._name, {})
    for rid, values in related.items():
        cache.setdefault(rid, {})[field.name] = tuple(values)


def _x2many_statement(
    records: Model, comodel: Model, field: Field, rules: RuleSql | None, ids: Sequence[int]
) -> tuple[sa.Select[Any], dict[str, object]]:
    """``SELECT owner, related id`` of the x2many ``field`` for the owners ``ids``
    (a parameter), under the comodel's read ``rules``, in its order: kept per field
    and rule clause (``bastion.orm.kept``), as a fetch of columns is."""
    env = records.env
    dialect = env.cr.dialect.name
    co_table = comodel._spec.table
    clause = None if rules is None else rules.clause
    one, params = _ids_params(rules, ids)

    def build() -> sa.Select[Any]:
        if field.type == "one2many":
            assert field.inverse_name is not None
            owner = co_table.c[field.inverse_name]
            query = sa.select(owner, co_table.c.id)
        else:
            rel = env.registry.relation_table(field.relation or "")
            assert field.column1 and field.column2
            owner = rel.c[field.column1]
            query = sa.select(owner, co_table.c.id).select_from(
                rel.join(co_table, co_table.c.id == rel.c[field.column2])
            )
        query = query.where(one_of_parameter(owner, "ids", dialect, single=one))
        if clause is not None:
            query = query.where(clause)
        return query.order_by(*order_by(comodel, None, co_table))

    key = ("x2many", records._name, field.name, id(clause), one)
    return kept_statement(records, key, (co_table, clause), build), params


# -- search --------------------------------------------------------------------------
MAX_PARSED_ORDERS = 256


def user_node(records: Model, domain: Sequence[object] | str) -> Node:
    """The caller's domain, parsed, with Odoo's implicit ``active = True`` when the
    model has an ``active`` field the domain does not mention; for a user, after the
    access right and the field groups of every field it reads are checked."""
    env = records.env
    spec = records._spec
    if isinstance(domain, str):
        domain = literal_domain(domain)
    node = parse_domain(domain, spec, env.registry)
    if "active" in spec.fields and not _mentions_active(domain):
        node = conjunction([node, Term("active", "=", True)])
    if not env.su:
        security = env.registry.security
        security.check_model(env, records._name, "read")
        for model_name, field_name in sorted(fields_in(node, spec, env.registry)):
            security.check_fields(env, model_name, [field_name], "read")
    return node


def _mentions_active(domain: Sequence[object]) -> bool:
    return any(
        isinstance(term, list | tuple) and term and str(term[0]).split(".")[0] == "active"
        for term in domain
    )


class SearchWhere(NamedTuple):
    """The WHERE of a search and its parameters; ``kept``: built from shared parts
    only (the domain's shape, the rules' templates), so the statements holding it are
    kept too (``bastion.orm.kept``)."""

    clause: SqlBool
    params: Mapping[str, object]
    kept: bool


def search_clause(
    records: Model, domain: Sequence[object] | str, table: sa.FromClause
) -> SearchWhere:
    """The WHERE of a search: the user's domain and read rules, with their parameters."""
    env = records.env
    node = user_node(records, domain)
    rules = None if env.su else rule_clause(records, "read", table)
    rule = None if rules is None else rules.clause
    params = {} if rules is None else dict(rules.params)
    shaped = domain_sql(records, node, table)
    if shaped is None:
        # Sub-queries of the user's own domain see only what the user may read on the
        # related models; the rules themselves are computed as superuser.
        restrict = None if env.su else env.registry.security.restriction(env)
        user_sql = SqlCompiler(env.registry, restrict).compile(node, records._spec, table)
        return SearchWhere(user_sql if rule is None else sa.and_(user_sql, rule), params, False)
    params.update(shaped.params)
    if rule is None:
        return SearchWhere(shaped.clause, params, True)
    key = ("search where", records._name, id(table), id(shaped.clause), id(rule))
    parts = (table, shaped.clause, rule)
    clause = kept_statement(records, key, parts, lambda: sa.and_(shaped.clause, rule))
    return SearchWhere(clause, params, True)


def order_terms(records: Model, order: str | None) -> tuple[OrderTerm, ...]:
    """``order`` parsed (None: the model's), after the user's read access to its
    fields is checked."""
    env = records.env
    parsed = records._spec.parsed_orders
    terms = parsed.get(order)
    if terms is None:
        terms = tuple(records._spec.parse_order(order))
        if len(parsed) < MAX_PARSED_ORDERS:
            parsed[order] = terms
    if not env.su and order is not None:
        env.registry.security.check_fields(
            env, records._name, [t.field for t in terms if t.field != "id"], "read"
        )
    return terms


def order_clauses(terms: Sequence[OrderTerm], table: sa.FromClause) -> list[Any]:
    clauses: list[Any] = []
    for term in terms:
        column = table.c[term.field]
        clause = column.desc() if term.descending else column.asc()
        # PostgreSQL's default NULL placement, made explicit so SQLite agrees.
        nulls_first = term.descending if term.nulls_first is None else term.nulls_first
        clauses.append(clause.nulls_first() if nulls_first else clause.nulls_last())
    return clauses


def order_by(records: Model, order: str | None, table: sa.FromClause) -> list[Any]:
    return order_clauses(order_terms(records, order), table)


class SearchStatement(NamedTuple):
    """A search's SELECT, its parameters, and whether the SELECT is kept (see
    :class:`SearchWhere`)."""

    query: sa.Select[Any]
    params: dict[str, object]
    kept: bool


def search_select(
    records: Model,
    columns: Sequence[str],
    domain: Sequence[object] | str,
    offset: int,
    limit: int | None,
    order: str | None,
) -> SearchStatement:
    """The search as a SELECT of ``id`` and ``columns`` and its parameters: the user's
    domain and read rules in its WHERE, in the requested order and window (the offset
    and limit are parameters, so that the statement is kept; on PostgreSQL they are
    written into its text at execution, see ``_window_param``)."""
    table = records._spec.table
    where = search_clause(records, domain, table)
    terms = order_terms(records, order)

    def build() -> sa.Select[Any]:
        query = (
            sa.select(table.c.id, *(table.c[n] for n in columns))
            .where(where.clause)
            .order_by(*order_clauses(terms, table))
        )
        if offset:
            query = query.offset(_window_param(records, OFFSET))
        if limit is not None:
            query = query.limit(_window_param(records, LIMIT))
        return query

    params = _window(where.params, offset, limit)
    if not where.kept:
        return SearchStatement(build(), params, False)
    # The table in the key: a clause without rules (``true``) is one object for every
    # model, and the statement of one model's search was given to another's.
    key = (
        "search",
        table.name,
        id(where.clause),
        tuple(columns),
        terms,
        bool(offset),
        limit is not None,
    )
    return SearchStatement(kept_statement(records, key, (table, where.clause), build), params, True)


def _window(where: Mapping[str, object], offset: int, limit: int | None) -> dict[str, object]:
    params = dict(where)
    if offset:
        params[OFFSET] = _window_value("offset", offset)
    if limit is not None:
        params[LIMIT] = _window_value("limit", limit)
    return params


def search_ids(
    records: Model,
    domain: Sequence[object] | str,
    *,
    offset: int = 0,
    limit: int | None = None,
    order: str | None = None,
) -> tuple[int, ...]:
    query, params, _ = search_select(records, (), domain, offset, limit, order)
    return tuple(direct.scalars(records.env.cr, query, params))


def search_count(records: Model, domain: Sequence[object] | str, *, limit: int | None) -> int:
    table = records._spec.table
    where = search_clause(records, domain, table)

    def build() -> sa.Select[Any]:
        inner = sa.select(table.c.id).where(where.clause)
        if limit is not None:
            inner = inner.limit(_window_param(records, LIMIT))
        return sa.select(sa.func.count()).select_from(inner.subquery())

    if where.kept:
        key = ("count", table.name, id(where.clause), limit is not None)
        query = kept_statement(records, key, (table, where.clause), build)
    else:
        query = build()
    rows = direct.fetch_all(records.env.cr, query, _window(where.params, 0, limit))
    return int(rows[0][0] or 0)


# -- read ----------------------------------------------------------------------------
def read_names(records: Model, fields: Sequence[str] | None) -> list[str]:
    """The fields a ``read`` of ``fields`` returns (None: every stored one the user
    may see), checked: an unknown field or one the user may not read raises."""
    env = records.env
    spec = records._spec
    if fields is None:
        names = [n for n, f in spec.fields.items() if f.store]
        if not env.su:
            names = env.registry.security.visible_fields(env, records._name, names)
    else:
        names = list(dict.fromkeys(fields))
        for name in names:
            records._field(name)  # unknown field: a clear error
        if not env.su:
            env.registry.security.check_fields(env, records._name, names, "read")
    if not env.su:
        env.registry.security.check_model(env, records._name, "read")
    return names


def read(
    records: Model,
    fields: Sequence[str] | None,
    *,
    fetched: bool = False,
    shown: Mapping[str, Mapping[int, object]] | None = None,
    names: Sequence[str] | None = None,
) -> list[dict[str, object]]:
    """Odoo's ``read``; ``fetched``: the records' columns were just loaded under the
    read rules (by ``listing``), so they need no fetch and no check of their
    own; ``shown``: display names already read, per many2one field (``listing``);
    ``names``: what ``read_names`` gave for ``fields`` in this call (``listing``)."""
    env = records.env
    names = read_names(records, fields) if names is None else names
    if not records:
        return []
    if not env.su and not fetched:
        # The fetch holds the read rules in its WHERE: the ids it leaves out are refused
        # (or missing) exactly as check_rules would say, without a statement of its own.
        wanted = list(dict.fromkeys(records._ids))
        refuse_unlisted(records, "read", wanted, fetch_checked(records, wanted))
    # The fields were checked once above and the rows fetched: the values come from
    # the cache, a field at a time over all rows (one comprehension per field: a list
    # page's 80 rows are shaped at C speed), in Odoo's shapes.
    cache = env.cache.setdefault(records._name, {})
    ids = records._ids
    return shaped_rows(
        records, ids, names, lambda field: _cached_column(records, cache, field, ids), shown
    )


def shaped_rows(
    records: Model,
    ids: Sequence[int],
    names: Sequence[str],
    raw_values: Callable[[Field], list[object]],
    shown: Mapping[str, Mapping[int, object]] | None,
) -> list[dict[str, object]]:
    """``read``'s rows for ``ids``: per field of ``names``, ``raw_values(field)`` gives
    its stored values in the order of ``ids``, shaped here a field at a time."""
    spec = records._spec
    rows: list[dict[str, object]] = [{"id": rid} for rid in ids]
    for name in names:
        if name == "id":
            continue
        field = spec.fields[name]
        column = _read_column(records, field, raw_values(field), shown)
        for row, value in zip(rows, column, strict=True):
            row[name] = value
    return rows


def _cached_column(
    records: Model, cache: dict[int, dict[str, object]], field: Field, ids: Sequence[int]
) -> list[object]:
    """The cached values of ``field`` for ``ids``, fetched where missing."""
    name = field.name
    try:
        return [cache[rid][name] for rid in ids]
    except KeyError:
        pass
    column: list[object] = []
    for rid in ids:
        values = cache.get(rid)
        if values is not None and name in values:
            column.append(values[name])
        else:
            column.append(cached_value(records, field, rid))
    return column


def _read_column(
    records: Model,
    field: Field,
    column: list[object],
    shown: Mapping[str, Mapping[int, object]] | None,
) -> list[object]:
    """Odoo's ``read`` shapes of a field's cached values: many2one as ``(id, display
    name)``, x2many as lists of ids, the rest as attribute access gives them.

    Display names are read with the user's own rights: a related record the user may
    not read shows as ``(id, False)``, never with its name (unlike Odoo's sudo).
    """
    if field.comodel_name is None:
        if plain_record(field):
            null = field.null_read
            return [null if raw is None else raw for raw in column]
        return [field.to_record(raw, records) for raw in column]
    if field.type != "many2one":
        return [list(cast("tuple[int, ...]", raw)) for raw in column]
    # A many2one's cached value is the related id, or None.
    names_by_id = None if shown is None else shown.get(field.name)
    if names_by_id is None:
        related = [cast("int", rid) for rid in column if rid is not None]
        names_by_id = display_names(records.env[field.comodel_name], related)
    shown_names = cast("Mapping[object, object]", names_by_id)
    return [False if rid is None else (rid, shown_names.get(rid)) for rid in column]


def display_names(comodel: Model, ids: Sequence[int]) -> dict[int, object]:
    ids = list(dict.fromkeys(ids))
    if not ids:
        return {}
    env = comodel.env
    if not env.su and not env.registry.security.model_allowed(env, comodel._name, "read"):
        return dict.fromkeys(ids, False)
    spec = comodel._spec
    field = spec.fields.get(spec.rec_name)
    if field is not None and not env.su:
        env.registry.security.check_fields(env, comodel._name, [field.name], "read")
    cache = env.cache.setdefault(comodel._name, {})
    # The name column only: a list page's 80 partners with every column of res_partner
    # were most of the rows its second statement carried and cached.
    only = [] if field is None else [field.name]
    if env.su:
        missing = [rid for rid in ids if field is not None and field.name not in cache.get(rid, {})]
        readable = set(ids).difference(missing) | fetch_checked(comodel, missing, only)
    else:
        # One statement: the fetch of the names holds the read rules, so the ids it
        # returns are the readable ones (no separate rule check).
        readable = fetch_checked(comodel, ids, only)
    result: dict[int, object] = dict.fromkeys(ids, False)
    for rid in ids:
        if rid not in readable:
            continue
        if field is None:
            result[rid] = f"{comodel._name},{rid}"
            continue
        raw = cache.get(rid, {}).get(field.name)  # None for a rec_name of "id"
        result[rid] = shown_name(comodel, field, raw)
    return result


def plain_record(field: Field) -> bool:
    """Whether a cached value of ``field`` reads as it is (NULL as the field's
    ``null_read``): the base conversion, which the loops over every row of a page do
    inline."""
    return not field.comodel_name and type(field).to_record is Field.to_record


def shown_name(comodel: Model, field: Field, raw: object) -> object:
    """A display name from the rec_name column's stored value (False unless text)."""
    name = raw if field.comodel_name else field.to_record(raw, comodel)
    return name if isinstance(name, str) else False


# -- create / write / unlink ------------------------------------------------------------
