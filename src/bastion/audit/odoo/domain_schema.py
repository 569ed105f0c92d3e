"""The statically read models seen through the domain parser's Protocols.

>>> schema = StaticSchema(tree)                                         # doctest: +SKIP
>>> parse_domain([("partner_idd", "=", 1)], schema.model_info("x.y"), schema)
Traceback (most recent call last):
DomainError: unknown field 'partner_idd' in term ('partner_idd', '=', 1) (model x.y)

A model is *closed* when the tree declares it and every parent is known
(:meth:`OdooTree.closed`); only then is a missing field reported. Any other model is
*open*: a name it does not list is taken as an unknown relation, so that the parser
can go on without inventing an error.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from bastion.domain.schema import FieldInfo, ModelInfo

from .workspace import OdooTree

OPEN = "?"  # the comodel of a field the audit cannot see


@dataclass(frozen=True)
class StaticFieldInfo:
    name: str
    type: str
    store: bool
    comodel_name: str | None
    inverse_name: str | None = None
    relation: str | None = None
    column1: str | None = None
    column2: str | None = None
    selection_values: tuple[str, ...] = ()


class StaticModelInfo:
    def __init__(self, tree: OdooTree, name: str) -> None:
        self.model_name = name
        self.closed = tree.closed(name)
        self._fields = {
            fname: StaticFieldInfo(fname, f.type, f.searchable, f.comodel)
            for fname, f in tree.fields_of(name).items()
        }
        self.parent_name = "parent_id" if "parent_id" in self._fields else None
        self.rec_name = "name" if "name" in self._fields else "display_name"

    @property
    def table(self) -> sa.Table:
        raise LookupError("a statically read model has no table")

    def field_info(self, name: str) -> FieldInfo | None:
        known = self._fields.get(name)
        if known is not None or self.closed:
            return known
        return StaticFieldInfo(name, "many2one", True, OPEN)


class StaticSchema:
    dialect = "postgresql"  # Odoo's

    def __init__(self, tree: OdooTree) -> None:
        self.tree = tree
        self._cache: dict[str, StaticModelInfo] = {}

    def model_info(self, name: str) -> ModelInfo:
        if name not in self._cache:
            self._cache[name] = StaticModelInfo(self.tree, name)
        return self._cache[name]

    def relation_table(self, name: str) -> sa.Table:
        raise LookupError("a statically read model has no relation table")

    def field_target(self, model: str, field: str) -> tuple[str, bool] | None:
        """For :func:`bastion.expr.compile_expression`: where ``user.<field>`` leads."""
        info = self.model_info(model).field_info(field)
        if info is None:
            return None
        is_many = info.type in ("one2many", "many2many")
        return (info.comodel_name or "", is_many)
