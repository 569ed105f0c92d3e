"""Field declarations, as in Odoo: ``name = fields.Char(required=True)``.

>>> class SaleOrder(Model):
...     _name = "sale.order"
...     partner_id = fields.Many2one("res.partner", required=True, index=True)
...     margin = fields.Float(groups="sales_team.group_sale_manager")

A field is a descriptor: reading it on a record returns the value (prefetched in
batches over the recordset it came from), assigning it writes. The registry copies
every declared field per model, so a field object knows its model and name.
"""

from __future__ import annotations

import builtins
import copy
import datetime as dt
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, ClassVar, Self, overload

import sqlalchemy as sa

from bastion.domain.schema import INT_MAX, INT_MIN

if TYPE_CHECKING:
    from .model import Model

Default = object | Callable[["Model"], object]
NOT_SET: Any = object()


class Field:
    type: ClassVar[str] = ""
    column_type: ClassVar[builtins.type[sa.types.TypeEngine[Any]] | None] = None
    # What a NULL column reads as (Odoo: False; 0 for numbers).
    null_read: ClassVar[object] = False

    def __init__(
        self,
        string: str | None = None,
        *,
        required: bool = False,
        default: Default = NOT_SET,
        index: bool = False,
        readonly: bool = False,
        groups: str | None = None,
        help: str | None = None,  # noqa: A002 - Odoo's attribute name
        store: bool = True,
        copy: bool = True,
    ) -> None:
        self.string = string
        self.required = required
        self.default = default
        self.index = index
        self.readonly = readonly
        self.groups = groups
        self.help = help
        self.store = store
        self.copy = copy
        self.name = ""
        self.model_name = ""

    # -- the protocol of bastion.domain.schema.FieldInfo ----------------------------
    comodel_name: str | None = None
    inverse_name: str | None = None
    relation: str | None = None
    column1: str | None = None
    column2: str | None = None
    selection_values: tuple[str, ...] = ()

    def __set_name__(self, owner: builtins.type, name: str) -> None:
        self.name = name

    def bound(self, model_name: str, name: str) -> Self:
        """A copy of this declaration attached to one model of one registry."""
        field = copy.copy(self)
        field.name = name
        field.model_name = model_name
        if field.string is None:
            field.string = name.replace("_", " ").title().removesuffix(" Id").removesuffix(" Ids")
        return field

    cascades: bool = False  # a many2one deleted with its target (ondelete="cascade")

    @property
    def has_column(self) -> bool:
        return self.store and self.column_type is not None

    def sql_column(self) -> sa.Column[Any]:
        assert self.column_type is not None
        return sa.Column(self.name, self.column_type(), index=self.index)

    def to_python(self, value: object) -> object:
        """Convert a value given to create/write into the stored representation."""
        if value is False or value is None:
            return None
        return value

    def to_record(self, value: object, record: Model) -> object:
        """Convert a cached value into what attribute access returns (Odoo's shape)."""
        return self.null_read if value is None else value

    def describe(self) -> dict[str, object]:
        """The field as ``fields_get`` reports it."""
        info: dict[str, object] = {
            "type": self.type,
            "string": self.string,
            "required": self.required,
            "readonly": self.readonly,
            "store": self.store,
        }
        if self.help:
            info["help"] = self.help
        return info

    @overload
    def __get__(self, record: None, owner: builtins.type) -> Self: ...
    @overload
    def __get__(self, record: Model, owner: builtins.type) -> Any: ...
    def __get__(self, record: Model | None, owner: builtins.type) -> Any:
        if record is None:
            return self
        return record.read_field(self)

    def __set__(self, record: Model, value: object) -> None:
        record.write({self.name: value})

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.model_name}.{self.name})"


class Char(Field):
    type = "char"
    column_type = sa.String

    def to_python(self, value: object) -> object:
        if value is False or value is None:
            return None
        if not isinstance(value, str):
            raise TypeError(f"expected text, got {type(value).__name__}")
        if "\x00" in value:
            # PostgreSQL's text cannot hold it; refused on SQLite too.
            raise ValueError("text may not hold NUL characters")
        return value


class Text(Char):
    type = "text"
    column_type = sa.Text


class Html(Char):
    """Rich text, sanitised with nh3 (:func:`bastion.sanitize.sanitize_html`) when
    written and again when read: the value a record returns is :class:`Markup` that a
    template may render as is, even for rows that reached the table some other way
    (an import)."""

    type = "html"
    column_type = sa.Text

    def to_python(self, value: object) -> object:
        from bastion.sanitize import sanitize_html  # noqa: PLC0415 - keep fields light

        if value is False or value is None:
            return None
        if not isinstance(value, str):
            raise TypeError(f"expected text, got {type(value).__name__}")
        # Sanitised first: a NUL in markup is an old filter-evasion trick, which the
        # sanitiser drops, so a pasted attack is stored harmless rather than refused.
        return super().to_python(str(sanitize_html(value)))

    def to_record(self, value: object, record: Model) -> object:
        from bastion.sanitize import sanitize_html  # noqa: PLC0415

        return False if value is None else sanitize_html(str(value))


class Binary(Field):
    """Bytes (file contents), stored in the row. Never part of a default ``read``
    listing of large data: callers name it explicitly."""

    type = "binary"
    column_type = sa.LargeBinary

    def to_python(self, value: object) -> object:
        if value is False or value is None:
            return None
        if isinstance(value, bytearray | memoryview):
            return bytes(value)
        if not isinstance(value, bytes):
            raise TypeError(f"expected bytes, got {type(value).__name__}")
        return value

    def to_record(self, value: object, record: Model) -> object:
        return False if value is None else bytes(value)  # type: ignore[call-overload]


def _in_integer_range(value: int, what: str) -> int:
    if not INT_MIN <= value <= INT_MAX:
        raise ValueError(f"{value} is beyond the range of {what} ({INT_MIN} to {INT_MAX})")
    return value


class Integer(Field):
    type = "integer"
    column_type = sa.Integer
    null_read = 0

    def to_python(self, value: object) -> object:
        if value is False or value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int):
            raise TypeError(f"expected an integer, got {type(value).__name__}")
        return _in_integer_range(value, "an integer field")


class Float(Field):
    type = "float"
    column_type = sa.Float
    null_read = 0.0

    def to_python(self, value: object) -> object:
        if value is False or value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise TypeError(f"expected a number, got {type(value).__name__}")
        return float(value)


class Boolean(Field):
    type = "boolean"
    column_type = sa.Boolean

    def to_python(self, value: object) -> object:
        # True/False, and 0/1 as XML-RPC clients and data files send them; text such
        # as "no" would otherwise be stored as True.
        if value is None or isinstance(value, bool):
            return bool(value)
        if isinstance(value, int) and value in (0, 1):
            return bool(value)
        raise TypeError(f"expected True or False, got {value!r}")

    def to_record(self, value: object, record: Model) -> object:
        return bool(value)


class Date(Field):
    type = "date"
    column_type = sa.Date

    def to_python(self, value: object) -> object:
        if value is False or value is None:
            return None
        if isinstance(value, dt.datetime):
            return value.date()
        if isinstance(value, dt.date):
            return value
        if isinstance(value, str):
            return dt.date.fromisoformat(value)
        raise TypeError(f"expected a date, got {type(value).__name__}")


class Datetime(Field):
    type = "datetime"
    column_type = sa.DateTime

    def to_python(self, value: object) -> object:
        if value is False or value is None:
            return None
        if isinstance(value, dt.datetime):
            return value
        if isinstance(value, dt.date):
            return dt.datetime(value.year, value.month, value.day)
        if isinstance(value, str):
            return dt.datetime.fromisoformat(value)
        raise TypeError(f"expected a datetime, got {type(value).__name__}")


class Selection(Field):
    type = "selection"
    column_type = sa.String

    def __init__(self, selection: list[tuple[str, str]], string: str | None = None, **kw: Any):
        super().__init__(string, **kw)
        self.selection = list(selection)
        self.selection_values = tuple(key for key, _label in self.selection)

    def to_python(self, value: object) -> object:
        if value is False or value is None:
            return None
        if value not in self.selection_values:
            raise ValueError(f"{value!r} is not one of {list(self.selection_values)}")
        return value

    def describe(self) -> dict[str, object]:
        info = super().describe()
        info["selection"] = [list(pair) for pair in self.selection]
        return info


class _Relational(Field):
    def __init__(self, comodel_name: str, string: str | None = None, **kw: Any) -> None:
        super().__init__(string, **kw)
        self.comodel_name = comodel_name

    def describe(self) -> dict[str, object]:
        info = super().describe()
        info["relation"] = self.comodel_name
        return info


class Many2one(_Relational):
    type = "many2one"
    column_type = sa.Integer
    ONDELETE = ("set null", "cascade", "restrict")

    def __init__(
        self,
        comodel_name: str,
        string: str | None = None,
        *,
        ondelete: str = "set null",
        **kw: Any,
    ) -> None:
        super().__init__(comodel_name, string, **kw)
        if ondelete not in self.ONDELETE:
            raise ValueError(f"ondelete must be one of {self.ONDELETE}, not {ondelete!r}")
        self.ondelete = ondelete
        self.cascades = ondelete == "cascade"

    def sql_column(self) -> sa.Column[Any]:
        assert self.comodel_name is not None
        target = self.comodel_name.replace(".", "_")
        return sa.Column(
            self.name,
            sa.Integer,
            sa.ForeignKey(f"{target}.id", ondelete=self.ondelete.upper()),
            index=self.index,
        )

    def to_python(self, value: object) -> object:
        if value is False or value is None:
            return None
        from .model import Model  # noqa: PLC0415 - fields are imported by model

        if isinstance(value, Model):
            return value.id or None
        if isinstance(value, bool) or not isinstance(value, int):
            raise TypeError(f"expected a record id, got {type(value).__name__}")
        return _in_integer_range(value, "a record id")

    def to_record(self, value: object, record: Model) -> object:
        assert self.comodel_name is not None
        ids: tuple[int, ...] = () if value is None else (int(value),)  # type: ignore[call-overload]
        return record.related_records(self, ids)


class One2many(_Relational):
    type = "one2many"
    column_type = None

    def __init__(
        self, comodel_name: str, inverse_name: str, string: str | None = None, **kw: Any
    ) -> None:
        super().__init__(comodel_name, string, **kw)
        self.inverse_name = inverse_name

    def to_record(self, value: object, record: Model) -> object:
        assert isinstance(value, tuple)
        return record.related_records(self, value)


class Many2many(_Relational):
    type = "many2many"
    column_type = None

    def __init__(
        self,
        comodel_name: str,
        relation: str | None = None,
        column1: str | None = None,
        column2: str | None = None,
        string: str | None = None,
        **kw: Any,
    ) -> None:
        super().__init__(comodel_name, string, **kw)
        self.relation = relation
        self.column1 = column1
        self.column2 = column2

    def bound(self, model_name: str, name: str) -> Self:
        field = super().bound(model_name, name)
        assert field.comodel_name is not None
        mine, theirs = model_name.replace(".", "_"), field.comodel_name.replace(".", "_")
        if field.relation is None:
            # Odoo's default naming: both tables, sorted, then "_rel".
            first, second = sorted([mine, theirs])
            field.relation = f"{first}_{second}_rel"
        if field.column1 is None:
            field.column1 = f"{mine}_id"
        if field.column2 is None:
            field.column2 = f"{theirs}_id" if theirs != mine else f"{theirs}_other_id"
        return field

    def to_record(self, value: object, record: Model) -> object:
        assert isinstance(value, tuple)
        return record.related_records(self, value)


class Id(Field):
    type = "integer"
    column_type = None  # the primary key is created by the schema builder

    def to_record(self, value: object, record: Model) -> object:
        return value


__all__ = [
    "Binary",
    "Boolean",
    "Char",
    "Date",
    "Datetime",
    "Field",
    "Float",
    "Html",
    "Id",
    "Integer",
    "Many2many",
    "Many2one",
    "One2many",
    "Selection",
    "Text",
]
