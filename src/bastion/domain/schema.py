"""What the domain language needs to know about models, as Protocols.

The ORM's fields and models satisfy these structurally; the domain package imports
nothing from the ORM, so it stays a pure language layer.
"""

from __future__ import annotations

from typing import Protocol

import sqlalchemy as sa

SCALAR_TYPES = frozenset(
    {"char", "text", "html", "integer", "float", "boolean", "date", "datetime", "selection"}
)
TEXT_TYPES = frozenset({"char", "text", "html", "selection"})
X2MANY_TYPES = frozenset({"one2many", "many2many"})
RELATIONAL_TYPES = X2MANY_TYPES | {"many2one"}
# An integer column's range, PostgreSQL's INTEGER: integer fields and ids. SQLite would
# store more; the same value is refused on both.
INT_MIN, INT_MAX = -(2**31), 2**31 - 1


class FieldInfo(Protocol):
    @property
    def name(self) -> str: ...
    @property
    def type(self) -> str: ...
    @property
    def store(self) -> bool: ...
    @property
    def comodel_name(self) -> str | None: ...
    # one2many: the many2one on the comodel pointing back
    @property
    def inverse_name(self) -> str | None: ...
    # many2many: relation table and its two columns (this side, other side)
    @property
    def relation(self) -> str | None: ...
    @property
    def column1(self) -> str | None: ...
    @property
    def column2(self) -> str | None: ...
    @property
    def selection_values(self) -> tuple[str, ...]: ...


class ModelInfo(Protocol):
    @property
    def model_name(self) -> str: ...
    @property
    def parent_name(self) -> str | None: ...
    @property
    def rec_name(self) -> str: ...
    @property
    def table(self) -> sa.Table: ...
    def field_info(self, name: str) -> FieldInfo | None: ...


class SchemaInfo(Protocol):
    @property
    def dialect(self) -> str:
        """The database SQL is compiled for (``"sqlite"``, ``"postgresql"``): some
        conditions take the form its planner does best with."""
        ...

    def model_info(self, name: str) -> ModelInfo: ...
    def relation_table(self, name: str) -> sa.Table: ...
