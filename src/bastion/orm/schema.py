"""From model declarations to SQL tables.

>>> spec = ModelSpec.build("sale.order", classes, metadata)  # doctest: +SKIP
>>> spec.table.name
'sale_order'

A :class:`ModelSpec` is what the domain compiler and the security layer know of a
model: its name, table, fields by name, order, hierarchy. Table names are model
names with ``.`` replaced by ``_``, as in Odoo.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from bastion.errors import ConstructionError

from .fields import Field, Id, Many2many
from .unique import UniqueConstraint

_ORDER_TERM = re.compile(
    r"^\s*(?P<field>[a-z_][a-z0-9_]*)(?:\s+(?P<dir>asc|desc))?"
    r"(?:\s+nulls\s+(?P<nulls>first|last))?\s*$",
    re.IGNORECASE,
)


def table_name(model_name: str) -> str:
    return model_name.replace(".", "_")


@dataclass(frozen=True, slots=True)
class OrderTerm:
    field: str
    descending: bool = False
    nulls_first: bool | None = None


@dataclass
class ModelSpec:
    model_name: str
    description: str
    module: str
    table: sa.Table
    fields: dict[str, Field]
    order: str = "id"
    rec_name: str = "name"
    parent_name: str | None = None
    column_fields: tuple[Field, ...] = field(default=())
    abstract: bool = False
    access_through: tuple[str, str] | None = None
    access_through_ops: dict[str, str] = field(default_factory=dict)
    share_includes: tuple[str, ...] = ()
    unique: tuple[UniqueConstraint, ...] = ()  # _sql_constraints
    # Methods marked @public, by name: the only ones the external API may call
    # besides CRUD (looked up here, never with getattr on a name from a request).
    public_methods: dict[str, Callable[..., Any]] = field(default_factory=dict)
    # Orders parsed (``crud.order_terms``), by their text: a list page parses the same
    # one at every call. Bounded: orders come from callers (the API).
    parsed_orders: dict[str | None, tuple[OrderTerm, ...]] = field(
        default_factory=dict, repr=False, compare=False
    )

    # -- bastion.domain.schema.ModelInfo --------------------------------------------
    def field_info(self, name: str) -> Field | None:
        return self.fields.get(name)

    @property
    def xmlid(self) -> str:
        """``<module>.model_<name with _>``, the XML id of the ir.model record."""
        return f"{self.module}.model_{table_name(self.model_name)}"

    def parse_order(self, order: str | None) -> list[OrderTerm]:
        """``"date desc, id"`` as terms; only stored, column fields may be ordered by."""
        text = order if order is not None else self.order
        terms: list[OrderTerm] = []
        for part in text.split(","):
            if not part.strip():
                continue
            match = _ORDER_TERM.match(part)
            if match is None:
                raise ConstructionError(f"invalid order {part.strip()!r} on {self.model_name}")
            name = match["field"]
            fld = self.fields.get(name)
            if fld is None or not (fld.has_column or name == "id"):
                raise ConstructionError(
                    f"cannot order {self.model_name} by {name!r}: not a stored column field"
                )
            nulls = match["nulls"]
            terms.append(
                OrderTerm(
                    name,
                    (match["dir"] or "asc").lower() == "desc",
                    None if nulls is None else nulls.lower() == "first",
                )
            )
        if not any(term.field == "id" for term in terms):
            terms.append(OrderTerm("id"))  # a total order: pages never overlap
        return terms


def build_table(model_name: str, fields: dict[str, Field], metadata: sa.MetaData) -> sa.Table:
    columns: list[sa.Column[Any]] = [sa.Column("id", sa.Integer, primary_key=True)]
    for fld in fields.values():
        if fld.has_column:
            columns.append(fld.sql_column())
    name = table_name(model_name)
    if name in metadata.tables:
        # A model extended by another addon is composed again: build its table anew
        # (extend_existing would keep the old Index objects and add them twice).
        metadata.remove(metadata.tables[name])
    # AUTOINCREMENT: SQLite would otherwise give the highest deleted id to the next row,
    # and with it whatever still names that id (an XML id, a log line, a link sent
    # out); PostgreSQL's sequences never give an id twice either.
    return sa.Table(name, metadata, *columns, sqlite_autoincrement=True)


# PostgreSQL's longest identifier (NAMEDATALEN - 1); longer names are cut with a hash.
MAX_NAME = 63


def order_index_name(table: str, terms: Sequence[OrderTerm]) -> str:
    """``ix_<table>__order_<keys>``: ``ix_sale_order__order_date_order_desc_id_desc``.

    The keys are in the name so that a changed ``_order`` gets an index of its own
    (``create_schema`` adds missing indexes by name and never drops one).
    """
    keys = []
    for term in terms:
        key = term.field + ("_desc" if term.descending else "")
        if term.nulls_first is not None:
            key += "_nulls_first" if term.nulls_first else "_nulls_last"
        keys.append(key)
    name = f"ix_{table}__order_{'_'.join(keys)}"
    if len(name) <= MAX_NAME:
        return name
    digest = hashlib.sha256(name.encode()).hexdigest()[:8]
    return f"{name[: MAX_NAME - 9]}_{digest}"


def add_order_index(spec: ModelSpec, dialect: str) -> sa.Index | None:
    """An index on the keys of the model's default order (``_order``, with the ``id``
    that ends it), so that a list page reads its first rows in order instead of
    sorting every visible row. None when the order is the primary key alone.

    The directions are those of the ORDER BY that ``crud.order_by`` writes; its NULL
    placement (PostgreSQL's default: first when descending) is the index's default
    too, so only an explicit ``nulls first/last`` is written, and not on SQLite, which
    has no NULLS clause in an index (its planner still walks the index).
    """
    if spec.abstract:
        return None
    terms = spec.parse_order(None)
    if [term.field for term in terms] == ["id"]:
        return None
    table = spec.table
    if any(term.field != "id" and not spec.fields[term.field].has_column for term in terms):
        return None  # parse_order refuses these today; an index needs stored columns
    expressions: list[Any] = []
    for term in terms:
        column = table.c[term.field]
        expression: Any = column.desc() if term.descending else column
        if term.nulls_first is not None and dialect != "sqlite":
            ordered = expression if term.descending else column.asc()
            expression = ordered.nulls_first() if term.nulls_first else ordered.nulls_last()
        expressions.append(expression)
    return sa.Index(order_index_name(table.name, terms), *expressions)


def build_relation_table(fld: Many2many, metadata: sa.MetaData) -> sa.Table:
    assert fld.relation and fld.column1 and fld.column2 and fld.comodel_name
    if fld.relation in metadata.tables:
        return metadata.tables[fld.relation]
    mine, theirs = table_name(fld.model_name), table_name(fld.comodel_name)
    return sa.Table(
        fld.relation,
        metadata,
        sa.Column(fld.column1, sa.ForeignKey(f"{mine}.id", ondelete="CASCADE"), nullable=False),
        sa.Column(fld.column2, sa.ForeignKey(f"{theirs}.id", ondelete="CASCADE"), nullable=False),
        sa.PrimaryKeyConstraint(fld.column1, fld.column2),
        sa.Index(f"{fld.relation}_{fld.column2}_idx", fld.column2, fld.column1),
    )


def id_field(model_name: str) -> Field:
    return Id("ID").bound(model_name, "id")
