"""Unique constraints, declared as Odoo declares them (``_sql_constraints``).

>>> class Users(Model):                                            # doctest: +SKIP
...     _sql_constraints = [
...         ("login_key", "UNIQUE (login)", "Two users cannot have the same login."),
...     ]

A check in Python (search for the value, then write it) cannot see a row another
transaction has written and not yet committed: two requests creating the same login at
once both pass it. The database can: each constraint is a unique index named as Odoo
names its constraints, ``<table>_<name>`` (``res_users_login_key``). A create or write
that breaks one raises ``ValidationError`` with the declared message; the savepoint the
write runs in has undone it, so the transaction goes on.

Only ``UNIQUE (field, ...)`` over stored fields is accepted. Odoo's other form, ``CHECK
(...)``, is SQL text that Bastion would have to run as written: it is refused with the
model and the constraint named, to be written as a Python check instead.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

import psycopg
import sqlalchemy as sa

from bastion.errors import ConstructionError, ValidationError

from .fields import Field

_UNIQUE = re.compile(r"\s*unique\s*\(([^()]*)\)\s*", re.IGNORECASE)
_NAME = re.compile(r"[a-z_][a-z0-9_]*")
MAX_INDEX_NAME = 63  # PostgreSQL's identifiers; a longer one would be cut


@dataclass(frozen=True)
class UniqueConstraint:
    name: str  # the index's: <table>_<declared name>
    fields: tuple[str, ...]
    message: str

    def matches(self, error: sa.exc.IntegrityError, table: str) -> bool:
        """Whether ``error`` is this constraint's violation."""
        orig = error.orig
        if isinstance(orig, psycopg.Error):
            return orig.diag.constraint_name == self.name
        # SQLite names the columns: "UNIQUE constraint failed: res_users.login".
        columns = ", ".join(f"{table}.{name}" for name in self.fields)
        return str(orig) == f"UNIQUE constraint failed: {columns}"


def unique_constraints(
    model: str, table: sa.Table, fields: Mapping[str, Field], declared: Sequence[object]
) -> tuple[UniqueConstraint, ...]:
    """The model's ``_sql_constraints``, checked, each with its unique index on
    ``table``."""
    found: list[UniqueConstraint] = []
    for entry in declared:
        if not (
            isinstance(entry, tuple | list)
            and len(entry) == 3
            and all(isinstance(part, str) for part in entry)
        ):
            raise ConstructionError(
                f"{model}: each _sql_constraints entry is (name, definition, message), "
                f"not {entry!r}"
            )
        name, definition, message = entry
        where = f"{model}: _sql_constraints {name!r}"
        if not _NAME.fullmatch(name) or len(f"{table.name}_{name}") > MAX_INDEX_NAME:
            raise ConstructionError(
                f"{where}: a constraint's name is lower-case letters, digits and _, "
                f"and {table.name}_<name> at most {MAX_INDEX_NAME} characters"
            )
        parsed = _UNIQUE.fullmatch(definition)
        if parsed is None:
            raise ConstructionError(
                f"{where}: only UNIQUE (field, ...) is supported, not {definition!r}; "
                "write other checks in Python"
            )
        names = tuple(part.strip() for part in parsed.group(1).split(","))
        for field_name in names:
            fld = fields.get(field_name)
            if fld is None or not fld.has_column:
                raise ConstructionError(f"{where}: {field_name!r} is not a stored field")
        if len(set(names)) != len(names):
            raise ConstructionError(f"{where}: a field is named twice in {definition!r}")
        constraint = UniqueConstraint(f"{table.name}_{name}", names, message)
        sa.Index(constraint.name, *(table.c[n] for n in names), unique=True)
        found.append(constraint)
    return tuple(found)


@contextmanager
def unique_violations(
    model: str, table: sa.Table, constraints: Sequence[UniqueConstraint]
) -> Iterator[None]:
    """A violation of one of ``constraints`` raised in the block becomes a
    ValidationError with its message (put it outside the savepoint that undoes it)."""
    try:
        yield
    except sa.exc.IntegrityError as exc:
        for constraint in constraints:
            if constraint.matches(exc, table.name):
                raise ValidationError(
                    f"{constraint.message} ({model}: {', '.join(constraint.fields)})"
                ) from exc
        raise
