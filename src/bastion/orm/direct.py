"""Kept statements run through psycopg directly, SQLAlchemy's work on them done once.

A kept statement (``bastion.orm.kept``) is executed again and again with new
parameters. SQLAlchemy prepares each execution anew: it finds the compiled form in its
cache, builds an execution context, a cursor result and its rows. Measured at
PostgreSQL 10k (client and server on separate cores), that was 0.05-0.07 ms of a
0.5 ms one-record check; hand-written SQL through psycopg pays none of it. Here the
compiled text, the parameters' conversions and the result columns' conversions are
worked out once per statement, from SQLAlchemy's own compiler and types, and each
execution is a psycopg ``execute`` and ``fetchall`` on the connection's open
transaction. The text is SQLAlchemy's compilation of the Core statement, as its own
execution would send it; every value goes as a parameter. Errors are raised as
SQLAlchemy raises them (``sa.exc.DBAPIError`` subclasses; a lost connection is
invalidated).

Whenever SQLAlchemy would do more than that, the statement goes through SQLAlchemy:
another driver, no transaction open or one SQLAlchemy holds inactive, execution events
listened to (the tests' and the bench's statement logs), statement logging on, a
parameter SQLAlchemy would refuse, or a compiled form this path does not reproduce
(positional or expanding parameters, escaped names). Parameters SQLAlchemy writes into
the text at execution (``literal_execute``: a search's offset and limit) are rendered
by SQLAlchemy too, once per set of their values.
"""

from __future__ import annotations

import logging
import weakref
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, cast

import psycopg
import sqlalchemy as sa

Processor = Callable[[Any], Any]

# Texts kept per form, one per set of values written into it (offset and limit): the
# offsets come from callers, paging through a list.
MAX_TEXTS = 64
# Per kept statement, its form for the driver (None: not worked out yet). Weak: a
# statement goes when its security version's memo does.
_FORMS: weakref.WeakKeyDictionary[sa.Select[Any], _Form | None] = weakref.WeakKeyDictionary()
_LOGGER = logging.getLogger("sqlalchemy.engine.Engine")


@dataclass
class _Form:
    dialect: sa.Dialect
    compiled: sa.sql.compiler.SQLCompiler | None  # None: this path does not apply to it
    text: str = ""
    binds: dict[str, Processor] = field(default_factory=dict)
    columns: list[sa.types.TypeEngine[Any]] = field(default_factory=list)
    # Per result column, its conversion; None until the first description is seen.
    results: list[Processor | None] | None = None
    # The parameters written into the text at execution, and the texts so written.
    literal: tuple[str, ...] = ()
    texts: dict[tuple[object, ...], str] = field(default_factory=dict)


def register(statement: sa.Select[Any]) -> None:
    """Let ``statement`` (kept: executed many times) run through the driver."""
    _FORMS.setdefault(statement, None)


def fetch_all(
    connection: sa.Connection, statement: sa.Select[Any], params: Mapping[str, object]
) -> Sequence[Sequence[Any]]:
    """Every row of ``statement`` executed with ``params``, as
    ``connection.execute(statement, params).all()`` returns them (tuples here)."""
    form = _form(connection, statement)
    if form is not None and _plain(connection):
        values = _values(form, params)
        if values is not None:
            return _run(connection, form, _text(form, values), values)
    return connection.execute(statement, params).all()


def runs_direct(connection: sa.Connection, statement: sa.Select[Any]) -> bool:
    """Whether :func:`fetch_all` would run ``statement`` through the driver now."""
    return _form(connection, statement) is not None and _plain(connection)


def scalars(
    connection: sa.Connection, statement: sa.Select[Any], params: Mapping[str, object]
) -> list[Any]:
    """The first column of every row, as ``connection.scalars(...).all()``."""
    return [row[0] for row in fetch_all(connection, statement, params)]


def _form(connection: sa.Connection, statement: sa.Select[Any]) -> _Form | None:
    try:
        form = _FORMS[statement]
    except KeyError:
        return None  # not kept: SQLAlchemy's cache serves it better
    dialect = connection.dialect
    if form is None or form.dialect is not dialect:
        form = _compile(statement, dialect)
        _FORMS[statement] = form
    return form if form.compiled is not None else None


def _compile(statement: sa.Select[Any], dialect: sa.Dialect) -> _Form:
    if dialect.driver != "psycopg":
        return _Form(dialect, None)
    compiled = statement.compile(dialect=dialect)
    assert isinstance(compiled, sa.sql.compiler.SQLCompiler)
    if compiled.positional or compiled.post_compile_params or compiled.escaped_bind_names:
        return _Form(dialect, None)
    literal = compiled.literal_execute_params
    binds: dict[str, Processor] = {}
    for bind, name in compiled.bind_names.items():
        processor = bind.type.dialect_impl(dialect).bind_processor(dialect)
        if processor is not None and bind not in literal:
            binds[name] = processor
    columns = [column.type for column in statement.selected_columns]
    names = tuple(sorted(compiled.bind_names[bind] for bind in literal))
    return _Form(dialect, compiled, compiled.string, binds, columns, literal=names)


def _plain(connection: sa.Connection) -> bool:
    """Whether SQLAlchemy would only send the statement: an active transaction, no
    execution events, no statement logging."""
    if connection.closed or connection.invalidated:
        return False
    transaction = connection.get_transaction()
    if transaction is None or not transaction.is_active:
        return False
    return not observed(connection)


def observed(connection: sa.Connection) -> bool:
    """Whether something watches the statements SQLAlchemy sends on ``connection``
    (execution events: statement logs, tracing; or statement logging): then every
    statement must go through SQLAlchemy, ``first_read``'s too."""
    if connection.engine.echo or _LOGGER.isEnabledFor(logging.INFO):
        return True
    # SQLAlchemy's own flags, set by the first listener and never cleared: none set,
    # nothing listens (0.4 µs where reading the dispatch lists took 3.9, and this runs
    # at least twice per call). Once set, the lists say whether anything still does.
    # Private names: should SQLAlchemy rename them, the lists are read as before.
    if not (
        getattr(connection, "_has_events", True)
        or getattr(connection.engine, "_has_events", True)
        or getattr(connection.dialect, "_has_events", True)
    ):
        return False
    dispatch = connection.dispatch
    return bool(
        dispatch.before_execute
        or dispatch.after_execute
        or dispatch.before_cursor_execute
        or dispatch.after_cursor_execute
        or connection.dialect.dispatch.handle_error
    )


def _values(form: _Form, params: Mapping[str, object]) -> dict[str, Any] | None:
    """The parameters as the driver takes them; None when SQLAlchemy would refuse them
    (a value missing), so that its execution raises its own error."""
    assert form.compiled is not None
    try:
        values = dict(form.compiled.construct_params(dict(params)) or {})
    except sa.exc.SQLAlchemyError:
        return None
    for name, processor in form.binds.items():
        if name in values:
            values[name] = processor(values[name])
    return values


def _text(form: _Form, values: dict[str, Any]) -> str:
    """The text to send with ``values``, from which the parameters written into it are
    taken out."""
    if not form.literal:
        return form.text
    key = tuple(values[name] for name in form.literal)
    text = form.texts.get(key)
    if text is None:
        assert form.compiled is not None
        text = form.compiled.construct_expanded_state(values).statement
        if len(form.texts) < MAX_TEXTS:
            form.texts[key] = text
    for name in form.literal:
        del values[name]
    return text


def _run(
    connection: sa.Connection, form: _Form, text: str, values: dict[str, Any]
) -> Sequence[Sequence[Any]]:
    driver = connection.connection.driver_connection
    assert isinstance(driver, psycopg.Connection)
    cursor = driver.cursor()
    try:
        cursor.execute(text, values)
        rows = cursor.fetchall()
        results = form.results
        if results is None:
            results = form.results = _result_processors(form, cursor)
    except psycopg.Error as error:
        raise _translated(connection, text, values, error, cursor) from error
    finally:
        cursor.close()
    if not any(results):
        return rows
    return [
        tuple(
            value if convert is None else convert(value)
            for value, convert in zip(row, results, strict=True)
        )
        for row in rows
    ]


def _result_processors(form: _Form, cursor: psycopg.Cursor[Any]) -> list[Processor | None]:
    """Each result column's conversion, as SQLAlchemy's cursor result would apply it
    (from the column's type and the type the server describes)."""
    description = cursor.description or []
    dialect = form.dialect
    return [
        column.dialect_impl(dialect).result_processor(dialect, described.type_code)
        for column, described in zip(form.columns, description, strict=True)
    ]


def _translated(
    connection: sa.Connection,
    text: str,
    values: Mapping[str, Any],
    error: psycopg.Error,
    cursor: psycopg.Cursor[Any],
) -> sa.exc.DBAPIError:
    """``error`` as SQLAlchemy would raise it; a lost connection is invalidated, so the
    pool does not hand it out again."""
    lost = connection.dialect.is_disconnect(
        cast(Any, error), connection.connection, cast(Any, cursor)
    )
    if lost:
        connection.invalidate(error)
    translated = sa.exc.DBAPIError.instance(
        text,
        values,
        error,
        psycopg.Error,
        connection_invalidated=lost,
        dialect=connection.dialect,
    )
    assert isinstance(translated, sa.exc.DBAPIError)
    return translated
