"""The model registry: engine, tables, composed model classes, transactions.

>>> reg = ModelRegistry("sqlite:///var/app.db")
>>> reg.add_models("base", [ResPartner, ResUsers])       # doctest: +SKIP
>>> with reg.transaction() as env: ...

SQLite is the default (WAL, foreign keys on, case-sensitive LIKE so that ``like``
and ``ilike`` differ as on PostgreSQL); PostgreSQL goes through psycopg 3. The
security policy is attached by :class:`bastion.registry.Registry`.
"""

from __future__ import annotations

import copy
import logging
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, NamedTuple, Protocol, Self, cast

import sqlalchemy as sa
from sqlalchemy.engine import make_url

from bastion.errors import ConstructionError
from bastion.memo import Memo

from .environment import SUPERUSER_ID, Environment, Transaction
from .fields import Field, Many2many
from .model import PUBLIC_MARK, Model
from .numbering import apart_engine, numbering_table
from .schema import (
    ModelSpec,
    add_order_index,
    build_relation_table,
    build_table,
    id_field,
    table_name,
)
from .unique import unique_constraints

if TYPE_CHECKING:
    from bastion.domain import Node
    from bastion.domain.sql import Restriction, RuleSql
    from bastion.errors import AccessError


class Declarations(NamedTuple):
    declared: dict[str, list[tuple[str, type[Model]]]]
    specs: dict[str, ModelSpec]
    classes: dict[str, type[Model]]
    relations: dict[str, sa.Table]


class SecurityHooks(Protocol):
    """What the ORM asks of ``bastion.security`` (implemented there)."""

    def begin(self, transaction: Transaction) -> None: ...
    def check_model(self, env: Environment, model: str, operation: str) -> None: ...
    def model_allowed(self, env: Environment, model: str, operation: str) -> bool: ...
    def check_fields(
        self, env: Environment, model: str, fields: Iterable[str], operation: str
    ) -> None: ...
    def visible_fields(self, env: Environment, model: str, fields: Iterable[str]) -> list[str]: ...
    def user_in(self, env: Environment, groups_spec: str) -> bool: ...
    def rule_node(self, env: Environment, model: str, operation: str) -> Node: ...
    def rule_sql(
        self, env: Environment, node: Node, model: ModelSpec, table: sa.FromClause
    ) -> RuleSql: ...
    def restriction(self, env: Environment) -> Restriction: ...
    def context_memo(self, env: Environment) -> Memo: ...
    def rule_denial(
        self, env: Environment, model: str, operation: str, ids: list[int]
    ) -> AccessError: ...
    def changing(self, env: Environment, model: str) -> None: ...
    def before_commit(self, transaction: Transaction) -> None: ...
    def changed(
        self,
        env: Environment,
        model: str,
        fields: set[str] | None,
        ids: Iterable[int] | None = None,
    ) -> None: ...


def _public_methods(cls: type[Model]) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for klass in reversed(cls.__mro__):
        for attr, value in vars(klass).items():
            if callable(value) and getattr(value, PUBLIC_MARK, False):
                found[attr] = value
            elif attr in found:  # overridden without the mark: no longer public
                del found[attr]
    return found


def create_engine(url: str) -> sa.Engine:
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    if parsed.get_backend_name() != "sqlite":
        # No pool_pre_ping: the first statement of every transaction (the versions,
        # see ModelRegistry.transaction) finds a dead connection as the ping would, and
        # is run again on a new one, without the extra round trip per checkout.
        return sa.create_engine(parsed)
    engine = sa.create_engine(parsed)
    in_memory = parsed.database in (None, "", ":memory:")

    @sa.event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy, not the driver, open transactions, so SAVEPOINT works.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.execute("PRAGMA case_sensitive_like = ON")
        cursor.execute("PRAGMA busy_timeout = 10000")
        if not in_memory:
            cursor.execute("PRAGMA journal_mode = WAL")
        cursor.close()

    @sa.event.listens_for(engine, "begin")
    def _on_begin(connection: sa.Connection) -> None:
        # IMMEDIATE takes the write lock up front: two writers wait instead of failing
        # with SQLITE_BUSY half-way through a transaction.
        connection.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


_LOGGER = logging.getLogger(__name__)


def _create_unique_index(conn: sa.Connection, index: sa.Index) -> None:
    """A unique constraint new to an existing table, whose rows may break it: then, as
    Odoo does, the registry warns and goes on without it (only the Python checks
    apply), and tries again at the next start."""
    try:
        with conn.begin_nested():
            index.create(conn, checkfirst=True)
    except sa.exc.IntegrityError as exc:
        first_line = str(exc.orig).partition("\n")[0]
        _LOGGER.warning(
            "the unique constraint %s is not enforced: rows of %s already break it (%s); "
            "it is created at the first start after they are fixed",
            index.name,
            index.table.name if index.table is not None else "?",
            first_line,
        )


def _warn_of_reused_ids(conn: sa.Connection, metadata: sa.MetaData) -> None:
    """Warn of the SQLite tables made before Bastion created them with AUTOINCREMENT.
    SQLite gives the highest deleted id of such a table to its next row: a record's
    messages, attachments and share links are deleted with it, but whatever else names
    the id outside the database (a link to its page, a log line) reaches the new row.
    SQLite cannot add AUTOINCREMENT to a table: the data must move to a new database."""
    master = sa.table("sqlite_master", sa.column("name"), sa.column("sql"))
    ours = [
        t.name for t in metadata.tables.values() if t.dialect_options["sqlite"]["autoincrement"]
    ]
    rows = conn.execute(sa.select(master.c.name, master.c.sql).where(master.c.name.in_(ours)))
    old = sorted(name for name, sql in rows if "AUTOINCREMENT" not in str(sql).upper())
    if old:
        shown = ", ".join(old[:5]) + (f" and {len(old) - 5} more" if len(old) > 5 else "")
        _LOGGER.warning(
            "%d SQLite tables give a deleted record's id to the next one (made before "
            "Bastion used AUTOINCREMENT): %s; move the data to a new database to end it",
            len(old),
            shown,
        )


class _StaleConnectionError(Exception):
    """The first statement of a transaction found its pooled connection closed."""


class ModelRegistry:
    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = create_engine(url)
        self.metadata = sa.MetaData()
        # The documents' counters (bastion.orm.numbering): created with the models.
        self.numbering = numbering_table(self.metadata)
        self.numbering_apart = apart_engine(self.engine)
        self.specs: dict[str, ModelSpec] = {}
        self.classes: dict[str, type[Model]] = {}
        self._declared: dict[str, list[tuple[str, type[Model]]]] = {}
        self.relations: dict[str, sa.Table] = {}
        # (comodel, many2one name) -> models whose one2many mirrors that many2one
        self._mirrors: dict[tuple[str, str], list[str]] | None = None
        # Counts the changes of the models (an addon loaded, a failed load undone): what
        # is built from them for the registry's life is built again after one.
        self.schema_generation = 0
        self._joined: sa.Connection | None = None
        self.security: SecurityHooks

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    # -- bastion.domain.schema.SchemaInfo ---------------------------------------------
    def model_info(self, name: str) -> ModelSpec:
        spec = self.specs.get(name)
        if spec is None:
            raise ConstructionError(f"unknown model {name!r}")
        return spec

    def relation_table(self, name: str) -> sa.Table:
        return self.relations[name]

    def model_class(self, name: str) -> type[Model]:
        cls = self.classes.get(name)
        if cls is None:
            raise KeyError(f"unknown model {name!r}")
        return cls

    # -- building models ----------------------------------------------------------------
    def add_models(self, module: str, classes: Iterable[type[Model]]) -> list[str]:
        """Declare the model classes of ``module``; returns the models touched."""
        touched: list[str] = []
        for cls in classes:
            own = cls.__dict__
            name = own.get("_name")
            inherit = own.get("_inherit")
            parents = [inherit] if isinstance(inherit, str) else list(inherit or [])
            if not name:
                if not parents:
                    raise ConstructionError(
                        f"{cls.__qualname__} declares neither _name nor _inherit"
                    )
                name = parents[0]
            if name not in parents and name in self._declared:
                raise ConstructionError(f"model {name!r} is declared twice ({module})")
            for parent in parents:
                if parent not in self._declared:
                    raise ConstructionError(
                        f"{cls.__qualname__} inherits {parent!r}, which is not loaded; "
                        f"add its module to 'depends' of {module!r}"
                    )
            chain = self._declared.setdefault(name, [])
            if name not in parents:
                # A new model built from others (prototype inheritance) starts with
                # their declarations.
                for parent in parents:
                    chain.extend(self._declared[parent])
            chain.append((module, cls))
            touched.append(name)
        self._mirrors = None
        self.schema_generation += 1
        for name in touched:
            self._compose(name)
        # Relations may point at models composed later in the same batch.
        for name in touched:
            self._build_relations(self.specs[name])
        return touched

    def _compose(self, name: str) -> None:
        chain = self._declared[name]
        bases = tuple(dict.fromkeys(cls for _module, cls in reversed(chain)))
        module, origin = next((m, cls) for m, cls in chain if cls.__dict__.get("_name") == name)
        abstract = bool(origin.__dict__.get("_abstract", False))
        declared: dict[str, Field] = {}
        for _module, cls in chain:
            for klass in reversed(cls.__mro__):
                if klass is object or klass is Model:
                    continue
                for attr, value in klass.__dict__.items():
                    if isinstance(value, Field):
                        declared[attr] = value
        fields: dict[str, Field] = {"id": id_field(name)}
        for attr, value in declared.items():
            fields[attr] = value.bound(name, attr)
        composed = cast(
            type[Model],
            type(
                name.replace(".", "_"),
                bases,
                # _abstract is not inherited: a model built on a mixin has a table.
                {"_name": name, "_abstract": abstract, "__module__": bases[0].__module__},
            ),
        )
        parent_name = composed._parent_name
        if parent_name is not None:
            if parent_name not in fields or fields[parent_name].type != "many2one":
                raise ConstructionError(f"{name}: _parent_name {parent_name!r} is not a many2one")
        for attr, fld in fields.items():
            if attr != "id":  # Model.id stays the recordset property
                setattr(composed, attr, fld)
        # An abstract model's table is never created: it lives in a MetaData of its own.
        table = build_table(name, fields, sa.MetaData() if abstract else self.metadata)
        through = composed._access_through
        if through is not None:
            for part in through:
                if part not in fields or not fields[part].has_column:
                    raise ConstructionError(
                        f"{name}: _access_through names {part!r}, not a stored field"
                    )
        rec_name = composed._rec_name or ("name" if "name" in fields else "id")
        spec = ModelSpec(
            model_name=name,
            description=composed._description or name,
            module=module,
            table=table,
            fields=fields,
            order=composed._order,
            rec_name=rec_name,
            parent_name=parent_name,
            column_fields=tuple(f for f in fields.values() if f.has_column),
            abstract=abstract,
            access_through=through,
            access_through_ops=dict(composed._access_through_ops),
            share_includes=tuple(composed._share_includes),
            unique=unique_constraints(name, table, fields, composed._sql_constraints),
            public_methods=_public_methods(composed),
        )
        for included in spec.share_includes:
            if included not in fields or fields[included].type != "one2many":
                raise ConstructionError(
                    f"{name}: _share_includes names {included!r}, not a one2many"
                )
        spec.parse_order(None)  # a wrong _order fails now, not at the first search
        add_order_index(spec, self.dialect)  # list pages read in order, not sort
        composed._spec = spec
        self.specs[name] = spec
        self.classes[name] = composed

    def _build_relations(self, spec: ModelSpec) -> None:
        if spec.abstract:
            return  # built for each model that inherits the mixin
        for fld in spec.fields.values():
            if fld.comodel_name is not None and fld.comodel_name not in self._declared:
                raise ConstructionError(
                    f"{spec.model_name}.{fld.name} refers to unknown model {fld.comodel_name!r}"
                )
            if isinstance(fld, Many2many):
                self.relations[fld.relation or ""] = build_relation_table(fld, self.metadata)
            if fld.type == "one2many":
                inverse = self.specs[fld.comodel_name or ""].fields.get(fld.inverse_name or "")
                if inverse is None or inverse.type != "many2one":
                    raise ConstructionError(
                        f"{spec.model_name}.{fld.name}: {fld.comodel_name} has no many2one "
                        f"{fld.inverse_name!r} to serve as its inverse"
                    )

    def snapshot(self) -> Declarations:
        """The declared models, to restore if loading an addon fails half-way."""
        declared = {name: list(chain) for name, chain in self._declared.items()}
        return Declarations(declared, dict(self.specs), dict(self.classes), dict(self.relations))

    def restore(self, state: Declarations) -> None:
        self._declared, self.specs, self.classes, self.relations = state
        self._mirrors = None
        self.schema_generation += 1

    def one2many_mirrors(self, model: str, many2one_names: Iterable[str]) -> set[str]:
        """Models with a one2many whose inverse is one of ``model``'s many2one fields."""
        if self._mirrors is None:
            mirrors: dict[tuple[str, str], list[str]] = {}
            for spec in self.specs.values():
                for fld in spec.fields.values():
                    if fld.type == "one2many" and fld.comodel_name and fld.inverse_name:
                        key = (fld.comodel_name, fld.inverse_name)
                        mirrors.setdefault(key, []).append(spec.model_name)
            self._mirrors = mirrors
        found: set[str] = set()
        for name in many2one_names:
            found.update(self._mirrors.get((model, name), ()))
        return found

    def create_schema(self) -> None:
        """Create missing tables, add missing columns and missing indexes (a database
        made by an older version gains the new ones); never drops anything."""
        with self.engine.begin() as conn:
            self.metadata.create_all(conn, checkfirst=True)
            inspector = sa.inspect(conn)
            preparer = conn.dialect.identifier_preparer
            for table in self.metadata.tables.values():
                existing = {c["name"] for c in inspector.get_columns(table.name)}
                for column in table.columns:
                    if column.name in existing:
                        continue
                    # DDL from identifiers of declared models, quoted by the dialect;
                    # no value ever reaches this text.
                    ddl = sa.schema.CreateColumn(column).compile(dialect=conn.dialect)
                    conn.exec_driver_sql(
                        f"ALTER TABLE {preparer.format_table(table)} ADD COLUMN {ddl}"
                    )
                present = {ix["name"] for ix in inspector.get_indexes(table.name)}
                for index in table.indexes:
                    # A name the dialect shortened is not in ``present``: checkfirst asks.
                    if index.name in present:
                        continue
                    if index.unique:
                        _create_unique_index(conn, index)
                    else:
                        index.create(conn, checkfirst=True)
            if conn.dialect.name == "sqlite":
                _warn_of_reused_ids(conn, self.metadata)

    def add_missing_own_tables(self) -> None:
        """Create the tables of the ORM's own (the document counters) that a database
        made by an older version lacks; the models' tables come with their addons."""
        try:
            with self.engine.begin() as conn:
                self.numbering.create(conn, checkfirst=True)
        except sa.exc.DBAPIError:
            # Another worker, starting at the same time, created it between the check
            # and the CREATE.
            with self.engine.connect() as conn:
                if not sa.inspect(conn).has_table(self.numbering.name):
                    raise

    # -- transactions -------------------------------------------------------------------
    @contextmanager
    def transaction(self) -> Iterator[Environment]:
        """A superuser environment in a new transaction: commit on success, roll back
        on any exception."""
        if self._joined is not None:
            with self._joined.begin_nested():
                txn = Transaction(self, self._joined)
                self.security.begin(txn)
                # It sees the uncommitted data of the transaction it joined: its
                # security state must not be shared with real transactions.
                txn.security_local = {}
                yield Environment(txn, SUPERUSER_ID, su=True)
            return
        for retry in (True, False):
            try:
                with self.engine.begin() as connection:
                    txn = Transaction(self, connection)
                    try:
                        self.security.begin(txn)
                    except sa.exc.DBAPIError as error:
                        # A pooled connection the server closed (a restart, an idle
                        # timeout): SQLAlchemy invalidated it and the pool's older
                        # ones; nothing ran yet, so start again on a new connection.
                        if retry and error.connection_invalidated:
                            raise _StaleConnectionError from error
                        raise
                    yield Environment(txn, SUPERUSER_ID, su=True)
                    self.security.before_commit(txn)
                return
            except _StaleConnectionError:
                continue

    def joined(self, connection: sa.Connection) -> Self:
        """This registry, but each transaction is a savepoint inside ``connection``'s
        open transaction: a web app served on it sees, and is rolled back with, what
        that transaction did (the audit's simulation). The original is unchanged."""
        view = copy.copy(self)
        view._joined = connection
        # Numbers too are the outer transaction's, undone with it.
        view.numbering_apart = None
        return view

    def xmlid_lookup(self, connection: sa.Connection, xmlid: str) -> tuple[str, int] | None:
        module, _, name = xmlid.partition(".")
        if not name:
            raise ValueError(f"an XML id is 'module.name', not {xmlid!r}")
        table = self.specs["ir.model.data"].table
        row = connection.execute(
            sa.select(table.c.model, table.c.res_id).where(
                table.c.module == module, table.c.name == name
            )
        ).first()
        return None if row is None else (str(row[0]), int(row[1]))

    def dispose(self) -> None:
        self.engine.dispose()
        if self.numbering_apart is not None:
            self.numbering_apart.dispose()


__all__ = ["ModelRegistry", "create_engine", "table_name"]
