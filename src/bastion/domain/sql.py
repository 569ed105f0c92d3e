"""Compile a domain AST into a SQLAlchemy Core boolean expression, one visitor method
per node type and per operator.

>>> where = SqlCompiler(schema).compile(node, model, table)  # doctest: +SKIP
>>> sa.select(table.c.id).where(where)                       # doctest: +SKIP

Under a NOT every expression is two-valued: a NULL column makes a positive term false,
never unknown, so that ``NOT`` (kept only for operators without a negated form)
matches exactly the complement, as the reference evaluator does. Outside any NOT the
guard is left out (``SqlCompiler._guarded``): there a WHERE drops the same rows for
unknown as for false.
"""

from __future__ import annotations

import re
import typing
import weakref
from collections.abc import Callable, Mapping
from typing import NamedTuple, TypeVar

import sqlalchemy as sa
from sqlalchemy.sql.elements import ColumnElement

from .nodes import FALSE, TRUE, And, Any, Constant, Node, Not, Or, Reference, Term
from .schema import X2MANY_TYPES, FieldInfo, ModelInfo, SchemaInfo
from .shapes import EXACT_LENGTHS, Value, Values, like_pattern, listable
from .slots import Slot
from .sql_members import member_of, one_parameter

SqlBool = ColumnElement[bool]
SqlType = sa.types.TypeEngine[typing.Any]
# Called for each comodel a sub-query reads: returns the extra condition (the comodel's
# record rules for the searching user), or None. A node rather than SQL, so that the
# sub-query's alias holds the columns it reads and its aliases are numbered with the
# rest of the statement.
Restriction = Callable[[ModelInfo], "Node | None"]

LIKE_ESCAPE = "\\"
# The longest list of values a rule's ``in`` spells out as parameters (see _members).
MAX_SPELLED_OUT = 32
# The strings a rule's SQL may hold as written (see SqlCompiler._written).
_WORD = re.compile(r"[A-Za-z0-9_.-]{1,64}")
T = TypeVar("T")


class RuleSql(NamedTuple):
    """A user's rules as SQL: ``clause``, shared by the users whose rules have the same
    shape (``bastion.domain.slots``), and ``params``, this user's values for its named
    parameters, to pass with every statement that holds the clause."""

    clause: SqlBool
    params: Mapping[str, object]


_LIGHT: weakref.WeakKeyDictionary[sa.Table, dict[tuple[str, ...] | None, sa.TableClause]] = (
    weakref.WeakKeyDictionary()
)


def _light(table: sa.Table, columns: tuple[str, ...] | None = None) -> sa.TableClause:
    """The same table as a bare ``sa.table()`` with the same column names and types
    (only ``columns``, when given).

    Its aliases render the same SQL, but an alias's columns are made by proxying every
    column of its table, and a schema ``Column`` is expensive to proxy (constraints,
    indexes, events): on a wide table such as res_partner that was 70% of the time spent
    compiling rules (docs/performance.md). A sub-query that reads two columns (a
    hierarchy walk: id and parent) proxies only those."""
    by_columns = _LIGHT.setdefault(table, {})
    light = by_columns.get(columns)
    if light is None:
        names = [c.name for c in table.columns] if columns is None else columns
        light = sa.table(table.name, *(sa.column(n, table.c[n].type) for n in names))
        by_columns[columns] = light
    return light


def columns_read(model: ModelInfo, *nodes: Node) -> tuple[str, ...]:
    """The columns of ``model``'s table that compiling ``nodes`` over it reads: ``id``
    and the fields their terms name (sub-queries read their own aliases)."""
    names = {"id"}
    pending = list(nodes)
    while pending:
        node = pending.pop()
        if isinstance(node, And | Or):
            pending.extend(node.children)
        elif isinstance(node, Not):
            pending.append(node.child)
        elif isinstance(node, Reference):
            names.update((node.model_field, node.id_field))
        elif isinstance(node, Any | Term):
            field = model.field_info(node.field)
            if field is not None and field.type not in X2MANY_TYPES:
                names.add(field.name)
    return tuple(sorted(names))


class SqlCompiler:
    """``slot_prefix``: for a node with :class:`~bastion.domain.slots.Slot` values, the
    name of slot ``i``'s parameter is ``f"{slot_prefix}{i}"``, its value given at
    execution; ``value_prefix`` does the same for a domain's
    :class:`~bastion.domain.shapes.Value` places."""

    def __init__(
        self,
        schema: SchemaInfo,
        restrict: Restriction | None = None,
        *,
        slot_prefix: str = "",
        value_prefix: str = "",
    ) -> None:
        self.schema = schema
        self.restrict = restrict
        self.slot_prefix = slot_prefix
        self.value_prefix = value_prefix
        self._alias_count = 0
        # How many ORs enclose the node being compiled (see _related_exists).
        self._or_depth = 0
        # How many NOTs enclose it, in the WHERE being compiled (see _guarded).
        self._not_depth = 0

    def compile(self, node: Node, model: ModelInfo, table: sa.FromClause) -> SqlBool:
        if isinstance(node, Constant):
            return sa.true() if node.value else sa.false()
        if isinstance(node, And):
            return sa.and_(*(self.compile(child, model, table) for child in node.children))
        if isinstance(node, Or):
            self._or_depth += 1
            try:
                return sa.or_(*(self.compile(child, model, table) for child in node.children))
            finally:
                self._or_depth -= 1
        if isinstance(node, Not):
            self._not_depth += 1
            try:
                return sa.not_(self.compile(node.child, model, table))
            finally:
                self._not_depth -= 1
        if isinstance(node, Any):
            return self.visit_any(node, model, table)
        if isinstance(node, Reference):
            return self.visit_reference(node, table)
        return self.visit_term(node, model, table)

    # -- helpers -------------------------------------------------------------------
    def _guarded(self, col: ColumnElement[object], expr: SqlBool, negated: bool = False) -> SqlBool:
        """``expr``, false rather than unknown when ``col`` is NULL, where that matters:
        under a NOT. Elsewhere in a WHERE, unknown and false drop the same rows (``x OR
        NULL`` and ``x AND NULL`` are true and false exactly when ``x OR FALSE`` and ``x
        AND FALSE`` are), so the guard would only cost a test per row (a count of 1M
        invoices by company: a quarter of its time)."""
        if self._not_depth or negated:
            return sa.and_(col.is_not(None), expr)
        return expr

    def _in_subquery(self, compile_it: Callable[[], T]) -> T:
        """Compile a sub-query's WHERE: a WHERE of its own, whatever NOTs enclose the
        sub-query (which apply to its result, never NULL)."""
        depth, self._not_depth = self._not_depth, 0
        try:
            return compile_it()
        finally:
            self._not_depth = depth

    def _alias(self, table: sa.Table, columns: tuple[str, ...] | None = None) -> sa.FromClause:
        self._alias_count += 1
        return _light(table, columns).alias(f"{table.name}__{self._alias_count}")

    def _bound(self, value: object, type_: SqlType | None = None) -> object:
        """A term's value as the compiler puts it into SQL: a slot becomes its named
        parameter (an integer, as only ids are slotted), a domain's value place its
        named parameter of ``type_`` (None: the column's it is compared with), a rule's
        constant may be written into the text (:meth:`_written`), any other value stays
        as it is."""
        if isinstance(value, Slot):
            return sa.bindparam(f"{self.slot_prefix}{value.index}", type_=sa.Integer)
        if isinstance(value, Value):
            return sa.bindparam(f"{self.value_prefix}{value.index}", type_=type_)
        written = self._written(value)
        return value if written is None else written

    def _listed(self, col: ColumnElement[object], place: Values) -> SqlBool:
        """``col`` is one of a domain's list, which comes as one parameter: an array
        on PostgreSQL (one text and one value for any length, as ``one_of``), a JSON
        array read by ``json_each`` on SQLite, an expanding ``IN`` elsewhere (its text
        rendered at each execution)."""
        name = f"{self.value_prefix}{place.index}"
        # The members are ids, integers or strings (``shapes.listable``).
        listed = one_parameter(
            col, self.schema.dialect, lambda type_: sa.bindparam(name, type_=type_)
        )
        return col.in_(sa.bindparam(name, expanding=True)) if listed is None else listed

    def _listed_here(
        self, col: ColumnElement[object], field: FieldInfo, members: tuple[object, ...]
    ) -> SqlBool | None:
        """A long list of a domain compiled for one call (one without a shape: a path,
        ``any``, more values than a shape takes) as one parameter, as :meth:`_listed`
        binds a shape's: else SQLAlchemy binds a variable per value, and past the
        backend's limit (65,535 on PostgreSQL, 32,766 in SQLite's default build) the
        search fails. None: the list stays as it is (short, of mixed types, a rule's,
        or on a backend without such a parameter)."""
        if self.slot_prefix or len(members) <= EXACT_LENGTHS:
            return None
        if not listable(field.type, members):
            return None
        values = list(members)
        return one_parameter(
            col, self.schema.dialect, lambda type_: sa.bindparam(None, values, type_)
        )

    def _written(self, value: object) -> sa.BindParameter[object] | None:
        """A constant of a rule (``state = 'posted'``) written into the statement on
        PostgreSQL, by SQLAlchemy's literal of its type at execution; None: it stays a
        parameter.

        A statement runs prepared from its fifth execution, and PostgreSQL then plans
        it once for any values of its parameters. For a parameter it estimates the
        average share of a column's values: a third of the invoices for ``state =
        $1``, where 'posted' is nine in ten. So it read a portal user's invoices by
        state (28 ms at 100k) rather than from their followers (0.2 ms), as it did for
        each call before it prepared (docs/performance.md). A rule's constants are
        the same for every user of its shape, so written in the text they keep it one
        statement; the user's values (slots) stay parameters. Only integers, booleans
        and word-like strings (a selection's keys): what needs no escaping."""
        if not self.slot_prefix or self.schema.dialect != "postgresql":
            return None
        if isinstance(value, bool | int) or (
            isinstance(value, str) and _WORD.fullmatch(value) is not None
        ):
            return sa.bindparam(None, value, literal_execute=True)
        return None

    def _bound_all(self, values: object, type_: SqlType | None = None) -> list[object]:
        assert isinstance(values, tuple)
        return [self._bound(value, type_) for value in values]

    def _members(self, col: ColumnElement[object], values: tuple[object, ...]) -> list[object]:
        """An ``in`` term's values for ``col.in_()``. In a rule's SQL (a template, with
        slots) each one is a parameter of its own: SQLAlchemy makes a list of plain
        values one expanding parameter, rendered again at each execution, and a
        statement holding one cannot run through the driver directly
        (``bastion.orm.direct``; a portal user's invoices, ``move_type in (...)``). A
        rule's list is short and the same for every user of its shape."""
        bound = self._bound_all(values, col.type)
        if not self.slot_prefix or len(bound) > MAX_SPELLED_OUT:
            return bound
        return [
            value if isinstance(value, sa.BindParameter) else sa.bindparam(None, value, col.type)
            for value in bound
        ]

    def _field(self, model: ModelInfo, name: str) -> FieldInfo:
        field = model.field_info(name)
        assert field is not None, f"{model.model_name}.{name} vanished after parsing"
        return field

    def _comodel(self, field: FieldInfo) -> ModelInfo:
        assert field.comodel_name is not None
        return self.schema.model_info(field.comodel_name)

    def _ids_matching(
        self, model: ModelInfo, domain: Node, *, restricted: bool
    ) -> sa.Select[tuple[int]] | None:
        """SELECT id FROM model WHERE domain (and the restriction); None when every
        row qualifies, so callers can skip the sub-query."""
        extra = self.restrict(model) if restricted and self.restrict is not None else None
        nodes = [n for n in (domain, extra) if n is not None and n != TRUE]
        if not nodes:
            return None
        alias = self._alias(model.table, columns_read(model, *nodes))
        clauses = (
            [self._in_subquery(lambda: self.compile(domain, model, alias))]
            if domain != TRUE
            else []
        )
        if extra is not None and extra != TRUE:
            # The rules are computed as superuser: their own sub-queries unrestricted.
            restrict, self.restrict = self.restrict, None
            try:
                clauses.append(self._in_subquery(lambda: self.compile(extra, model, alias)))
            finally:
                self.restrict = restrict
        return sa.select(alias.c.id).where(*clauses)

    def _unrestricted(self, model: ModelInfo) -> bool:
        """No rule applies to ``model``'s rows in this compile (rules themselves are
        compiled as superuser): a sub-query over it may be left out or merged."""
        if self.restrict is None:
            return True
        extra = self.restrict(model)
        return extra is None or extra == TRUE

    def _links(
        self,
        field: FieldInfo,
        condition: Callable[[ColumnElement[int]], SqlBool] | None,
        linked: Node | None = None,
    ) -> tuple[ColumnElement[int], list[SqlBool], sa.FromClause]:
        """The owner column of the x2many ``field``'s links, the conditions on them
        (``condition`` on the related id; ``linked``, a one2many's domain on its
        comodel's rows, compiled on the link rows themselves), and their table."""
        clauses: list[SqlBool] = []
        if field.type == "one2many":
            comodel = self._comodel(field)
            assert field.inverse_name is not None
            wanted: tuple[str, ...] = ("id", field.inverse_name)
            if linked is not None:
                wanted = tuple(sorted({*wanted, *columns_read(comodel, linked)}))
            alias = self._alias(comodel.table, wanted)
            owner: ColumnElement[int] = alias.c[field.inverse_name]
            related_id: ColumnElement[int] = alias.c.id
            if linked is not None and linked != TRUE:
                clauses.append(self._in_subquery(lambda: self.compile(linked, comodel, alias)))
        else:
            assert linked is None, "a many2many's domain is on its comodel's table"
            assert field.relation is not None and field.column1 and field.column2
            alias = self._alias(self.schema.relation_table(field.relation))
            owner = alias.c[field.column1]
            related_id = alias.c[field.column2]
        if condition is not None:
            clauses.append(condition(related_id))
        return owner, clauses, alias

    def _owners(self, comodel: ModelInfo, domain: Node) -> sa.Select[int] | None:
        """The ids of ``comodel``'s rows that ``domain`` matches, read from the links
        alone when ``domain`` is one positive condition on an x2many of ``comodel``
        (``tasks' project.followers in (...)``: the followers' links, not the projects
        joined to them). Every link's owner exists (a foreign key): the same ids. None
        when ``domain`` is of another kind."""
        field: FieldInfo | None = None
        condition: Callable[[ColumnElement[int]], SqlBool] | None = None
        linked: Node | None = None
        if isinstance(domain, Term):
            field = comodel.field_info(domain.field)
            if field is None or field.type not in X2MANY_TYPES:
                return None
            op, value = domain.operator, domain.value
            positive = op in ("child_of", "parent_of", "=") or (
                op == "in" and isinstance(value, tuple) and _all_ids(value)
            )
            condition = self._linked_ids(domain, field) if positive else None
            if condition is None:
                return None
        elif isinstance(domain, Any) and not domain.negate and domain.domain != FALSE:
            field = comodel.field_info(domain.field)
            if field is None or field.type not in X2MANY_TYPES:
                return None
            linked, condition = self._any_links(field, domain.domain)
        else:
            return None
        owner, clauses, _alias = self._links(field, condition, linked)
        return sa.select(owner).where(owner.is_not(None), *clauses)

    def _any_links(
        self, field: FieldInfo, domain: Node
    ) -> tuple[Node | None, Callable[[ColumnElement[int]], SqlBool] | None]:
        """How ``field any domain`` conditions the links: on a one2many's own rows when
        no rule restricts them (no sub-query of the comodel over its own table), else
        through the ids of the comodel that match."""
        comodel = self._comodel(field)
        if field.type == "one2many" and self._unrestricted(comodel):
            return domain, None
        subquery = self._ids_matching(comodel, domain, restricted=True)
        return None, (None if subquery is None else (lambda rid: rid.in_(subquery)))

    def _related_exists(
        self,
        field: FieldInfo,
        table: sa.FromClause,
        condition: Callable[[ColumnElement[int]], SqlBool] | None,
        linked: Node | None = None,
    ) -> SqlBool:
        """A row of the x2many ``field`` is linked to the current row, and its related
        id satisfies ``condition``.

        Alone, as a correlated EXISTS: PostgreSQL probes the link table's index once
        per candidate row, best when the rest of the WHERE leaves few. Under an OR, as
        an uncorrelated ``id IN (SELECT owner FROM links WHERE ...)``: the planner
        cannot turn an OR'ed EXISTS into a join and ran it once per row (13 s for a
        count at 1M), where the IN becomes one hashed sub-plan (docs/performance.md).
        On SQLite always the IN: its planner runs a correlated EXISTS for every row
        the rest of the WHERE leaves (all of a portal user's posted invoices: 186 ms
        at 100k), where from an IN it can start at the links.
        The two are equal: the owner column is never NULL in the sub-query."""
        owner, clauses, alias = self._links(field, condition, linked)
        if self._or_depth or self.schema.dialect == "sqlite":
            owners = sa.select(owner).where(owner.is_not(None), *clauses)
            return table.c.id.in_(owners)
        return sa.exists(
            sa.select(sa.literal(1)).select_from(alias).where(owner == table.c.id, *clauses)
        )

    # -- document references -----------------------------------------------------------
    def visit_reference(self, node: Reference, table: sa.FromClause) -> SqlBool:
        if node.domain == FALSE:
            return sa.false()
        target = self.schema.model_info(node.model)
        alias = self._alias(target.table, columns_read(target, node.domain))
        ids = sa.select(alias.c.id)
        if node.domain != TRUE:
            ids = ids.where(self._in_subquery(lambda: self.compile(node.domain, target, alias)))
        # The sub-query always runs: a reference to a deleted document matches nothing.
        return sa.and_(
            table.c[node.model_field] == node.model,
            table.c[node.id_field].in_(ids),
        )

    # -- any / not any --------------------------------------------------------------
    def visit_any(self, node: Any, model: ModelInfo, table: sa.FromClause) -> SqlBool:
        field = self._field(model, node.field)
        comodel = self._comodel(field)
        if node.domain == FALSE:
            self._unrestricted(comodel)  # the comodel's access is checked all the same
            matched: SqlBool = sa.false()
        elif field.type in X2MANY_TYPES:
            linked, condition = self._any_links(field, node.domain)
            matched = self._related_exists(field, table, condition, linked)
        else:
            column = table.c[field.name]
            owners = self._owners(comodel, node.domain) if self._unrestricted(comodel) else None
            subquery = (
                owners
                if owners is not None
                else self._ids_matching(comodel, node.domain, restricted=True)
            )
            if subquery is None:
                matched = column.is_not(None)
            else:
                matched = self._guarded(column, column.in_(subquery), negated=node.negate)
        return sa.not_(matched) if node.negate else matched

    # -- terms ----------------------------------------------------------------------
    def visit_term(self, node: Term, model: ModelInfo, table: sa.FromClause) -> SqlBool:
        field = self._field(model, node.field)
        if field.type in X2MANY_TYPES:
            return self.visit_x2many(node, field, model, table)
        column = table.c[field.name]
        visit = _TERM_VISITORS[node.operator]
        return visit(self, node, field, model, column)

    def visit_eq(
        self, node: Term, field: FieldInfo, model: ModelInfo, col: ColumnElement[object]
    ) -> SqlBool:
        value = node.value
        if value is False and field.type != "boolean" or value is None:
            return col.is_(None)
        if field.type == "boolean" and value is False:
            return sa.or_(col.is_(None), col == sa.false())
        return self._guarded(col, col == self._bound(value))

    def visit_ne(
        self, node: Term, field: FieldInfo, model: ModelInfo, col: ColumnElement[object]
    ) -> SqlBool:
        value = node.value
        if value is False and field.type != "boolean":
            return col.is_not(None)
        if field.type == "boolean" and value is False:
            return sa.and_(col.is_not(None), col == sa.true())
        return sa.or_(col.is_(None), col != self._bound(value))

    def visit_compare(
        self, node: Term, field: FieldInfo, model: ModelInfo, col: ColumnElement[object]
    ) -> SqlBool:
        compare = _COMPARISONS[node.operator]
        return self._guarded(col, compare(col, self._bound(node.value)))

    def visit_in(
        self, node: Term, field: FieldInfo, model: ModelInfo, col: ColumnElement[object]
    ) -> SqlBool:
        if isinstance(node.value, Values):
            return self._guarded(col, self._listed(col, node.value))
        assert isinstance(node.value, tuple)
        has_false = any(v is False or v is None for v in node.value)
        values = [v for v in node.value if v is not False and v is not None]
        if field.type == "boolean":
            values = [v for v in node.value if v is True]
        clauses: list[SqlBool] = []
        if values:
            members = tuple(values)
            listed = self._listed_here(col, field, members)
            if listed is None:
                listed = col.in_(self._members(col, members))
            clauses.append(self._guarded(col, listed))
        if has_false:
            clauses.append(
                sa.or_(col.is_(None), col == sa.false())
                if field.type == "boolean"
                else col.is_(None)
            )
        return sa.or_(*clauses) if clauses else sa.false()

    def visit_not_in(
        self, node: Term, field: FieldInfo, model: ModelInfo, col: ColumnElement[object]
    ) -> SqlBool:
        self._not_depth += 1
        try:
            return sa.not_(self.visit_in(node, field, model, col))
        finally:
            self._not_depth -= 1

    def visit_like(
        self, node: Term, field: FieldInfo, model: ModelInfo, col: ColumnElement[object]
    ) -> SqlBool:
        op = node.operator
        # A domain's value place holds the pattern itself (bastion.domain.shapes).
        if isinstance(node.value, Value):
            pattern: object = self._bound(node.value, sa.String())
        else:
            assert isinstance(node.value, str)
            pattern = like_pattern(op, node.value)
        positive = op.replace("not ", "").lstrip("=")
        if positive == "ilike":
            expr = sa.func.lower(col).like(sa.func.lower(pattern), escape=LIKE_ESCAPE)
        else:
            expr = col.like(pattern, escape=LIKE_ESCAPE)
        negated = op.startswith("not ")
        matched = self._guarded(col, expr, negated=negated)
        return sa.not_(matched) if negated else matched

    def visit_hierarchy(
        self, node: Term, field: FieldInfo, model: ModelInfo, col: ColumnElement[object]
    ) -> SqlBool:
        target = model if field.name == "id" else self._comodel(field)
        # The tree as ANY(ARRAY(...)) on PostgreSQL (sql_members.member_of): with a
        # plain IN, its fixed estimate of 401 partners had PostgreSQL hash-join a scan
        # of every order to a customer's five (a portal order list: 9.8 ms against 0.52
        # at 100k, 1.6 against 0.86 at 10k, alike at 1M). The IN was kept for checks:
        # the low estimate made PostgreSQL scan a key account's 20,000 orders to check 1,000
        # ids; since a check sends its 10,000 ids in one statement, it does not
        # (docs/performance.md).
        return self._guarded(col, member_of(col, self.hierarchy_ids(node, target)))

    def hierarchy_ids(self, node: Term, target: ModelInfo) -> sa.Select[tuple[int]]:
        """Ids of the descendants (child_of) or ancestors (parent_of) of the given
        ids, the ids themselves included: a recursive CTE over the indexed parent
        column. Measured against a materialised path in docs/performance.md, it wins
        on both backends. UNION (not UNION ALL) ends the walk even on a cycle."""
        assert isinstance(node.value, tuple) and target.parent_name is not None
        parent = target.parent_name
        # Nested in the sub-query that uses it, so one statement may hold several
        # walks under the same (deterministic, cache-friendly) name.
        name = f"{target.table.name}__tree"
        start = self._alias(target.table, ("id", parent))
        step = self._alias(target.table, ("id", parent))
        if node.operator == "child_of":
            seed = sa.select(start.c.id).where(
                start.c.id.in_(self._bound_all(node.value, sa.Integer()))
            )
            tree = seed.cte(name, recursive=True, nesting=True)
            tree = tree.union(sa.select(step.c.id).where(step.c[parent] == tree.c.id))
        else:
            seed = sa.select(start.c.id, start.c[parent].label("up")).where(
                start.c.id.in_(self._bound_all(node.value, sa.Integer()))
            )
            tree = seed.cte(name, recursive=True, nesting=True)
            tree = tree.union(sa.select(step.c.id, step.c[parent]).where(step.c.id == tree.c.up))
        return sa.select(tree.c.id)

    def _linked_ids(
        self, node: Term, field: FieldInfo
    ) -> Callable[[ColumnElement[int]], SqlBool] | None:
        """The condition a term on the x2many ``field`` puts on a link's related id:
        in the hierarchy, the id, one of the ids (its False and None left out); None
        when the term names no id."""
        op, value = node.operator, node.value
        if op in ("child_of", "parent_of"):
            family = self.hierarchy_ids(node, self._comodel(field))
            return lambda rid: member_of(rid, family)
        if op in ("=", "!="):
            if value is False:
                return None
            bound = self._bound(value)
            return lambda rid: rid == bound
        assert isinstance(value, tuple)
        ids = self._bound_all(tuple(v for v in value if v is not False and v is not None))
        return (lambda rid: rid.in_(ids)) if ids else None

    def visit_x2many(
        self, node: Term, field: FieldInfo, model: ModelInfo, table: sa.FromClause
    ) -> SqlBool:
        op, value = node.operator, node.value
        if op not in ("child_of", "parent_of", "=", "!=", "in", "not in"):
            raise AssertionError(f"operator {op!r} on a to-many field survived parsing")
        condition = self._linked_ids(node, field)
        if op in ("child_of", "parent_of"):
            return self._related_exists(field, table, condition)
        if op in ("=", "!="):
            # False: linked to nothing (no condition: any link)
            matched = self._related_exists(field, table, condition)
            return matched if (op == "=") != (value is False) else sa.not_(matched)
        assert isinstance(value, tuple)
        clauses: list[SqlBool] = []
        if condition is not None:
            clauses.append(self._related_exists(field, table, condition))
        if any(v is False or v is None for v in value):
            clauses.append(sa.not_(self._related_exists(field, table, None)))
        matched = sa.or_(*clauses) if clauses else sa.false()
        return matched if op == "in" else sa.not_(matched)


def _all_ids(values: tuple[object, ...]) -> bool:
    """``in`` values that are all ids (no False or None, which match unlinked rows)."""
    return bool(values) and all(v is not False and v is not None for v in values)


_COMPARISONS: dict[str, Callable[[ColumnElement[object], object], SqlBool]] = {
    "<": lambda col, value: col < value,
    "<=": lambda col, value: col <= value,
    ">": lambda col, value: col > value,
    ">=": lambda col, value: col >= value,
}

_TERM_VISITORS = {
    "=": SqlCompiler.visit_eq,
    "!=": SqlCompiler.visit_ne,
    "<": SqlCompiler.visit_compare,
    "<=": SqlCompiler.visit_compare,
    ">": SqlCompiler.visit_compare,
    ">=": SqlCompiler.visit_compare,
    "in": SqlCompiler.visit_in,
    "not in": SqlCompiler.visit_not_in,
    "like": SqlCompiler.visit_like,
    "not like": SqlCompiler.visit_like,
    "ilike": SqlCompiler.visit_like,
    "not ilike": SqlCompiler.visit_like,
    "=like": SqlCompiler.visit_like,
    "=ilike": SqlCompiler.visit_like,
    "child_of": SqlCompiler.visit_hierarchy,
    "parent_of": SqlCompiler.visit_hierarchy,
}
