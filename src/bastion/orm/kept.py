"""Statements kept beside the rules they hold, so SQLAlchemy walks them once.

SQLAlchemy caches a statement's compiled form by its cache key, and it computes that
key by walking the whole statement, the rules' EXISTS and sub-queries included, every
time a new statement object is executed (a tenth of a one-record check's Python time,
more for a list page with its names). A statement object made once and executed again
has its key memoised. Rule clauses are shared by every user whose rules have the same
shape (``SecurityPolicy.rule_sql``), and a caller's domain by every search of the same
shape (``bastion.orm.shaped``), so a statement built from such parts only (no value of
the caller's: the domain's values, ids, limits and offsets are parameters) is kept
here, per security version, for all those users. On PostgreSQL a statement kept here
is run by psycopg directly (``bastion.orm.direct``).

>>> kept_statement(records, ("count", id(where)), (where,), build)  # doctest: +SKIP
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Hashable
from typing import TYPE_CHECKING, TypeVar, cast

import sqlalchemy as sa

from bastion.memo import BoundedMemo

from . import direct

if TYPE_CHECKING:
    from .model import Model
    from .registry import ModelRegistry

T = TypeVar("T")

# Kept statements per security version (a superuser's: per schema generation) at most:
# shapes x field lists x orders is small for an application, but the domains, orders
# and fields come from callers (the API). Past it the least asked for go first.
MAX_KEPT_STATEMENTS = 2048

_KEPT = "kept statements"

# registry -> (schema generation, the superuser's kept statements)
Kept = BoundedMemo[Hashable, tuple[tuple[object, ...], object]]
_SUPERUSER: weakref.WeakKeyDictionary[ModelRegistry, tuple[int, Kept]] = weakref.WeakKeyDictionary()


def _kept(records: Model) -> Kept:
    """Where ``records``' environment keeps its statements."""
    env = records.env
    if env.su:
        generation = env.registry.schema_generation
        entry = _SUPERUSER.get(env.registry)
        if entry is None or entry[0] != generation:
            entry = _SUPERUSER[env.registry] = (generation, _new())
        return entry[1]
    memo = env.registry.security.context_memo(env)
    found = memo.get(_KEPT)
    if not isinstance(found, BoundedMemo):
        found = memo.setdefault(_KEPT, _new())
    return cast(Kept, found)


def _new() -> Kept:
    return BoundedMemo(MAX_KEPT_STATEMENTS)


def kept_statement(
    records: Model, key: Hashable, parts: tuple[object, ...], build: Callable[[], T]
) -> T:
    """The statement ``build`` makes, kept under ``key`` for the security version.

    ``key`` names the ``parts`` the statement is built from by ``id()`` (clauses have
    no cheap equality); the entry holds them, so an id cannot be reused by another
    object while the entry lives, and a part rebuilt since (a new version, another
    shape) gives a new key. A superuser's statements hold no rules: they are kept per
    registry and schema generation rather than per security version (the version's
    own state is read as superuser, before there is a version to keep them in).
    """
    kept = _kept(records)
    found = kept.get(key)
    if found is not None and len(found[0]) == len(parts):
        if all(old is new for old, new in zip(found[0], parts, strict=True)):
            return cast(T, found[1])
    statement = build()
    kept[key] = (parts, statement)
    if isinstance(statement, sa.Select):
        direct.register(statement)
    return statement
