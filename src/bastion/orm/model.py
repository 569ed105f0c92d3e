"""Models and recordsets, as in Odoo: a model class is also the recordset class.

>>> orders = env["sale.order"].search([("state", "=", "sale")], order="date desc", limit=80)
>>> [order.partner_id.name for order in orders]     # two queries, not 81
>>> orders.read(["name", "amount_total"])

Every operation of a recordset whose environment is not in superuser mode consults
``bastion.security`` (through ``env.registry.security``): access rights, record
rules pushed into the SQL ``WHERE``, field groups. Mutations run inside a savepoint,
so a denial or an error leaves nothing written.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, ClassVar, Self, TypeVar

import sqlalchemy as sa

from bastion.domain.sql_members import one_of
from bastion.errors import AccessError, ConstructionError, MissingError

from . import crud, listing, writes
from .fields import Field

if TYPE_CHECKING:
    from .environment import Environment
    from .schema import ModelSpec

Domain = Sequence[object] | str
F = TypeVar("F", bound=Callable[..., Any])
PUBLIC_MARK = "__bastion_public__"


def public(method: F) -> F:
    """Make a model method callable through the external API (RPC and REST).

    >>> class SaleOrder(Model):
    ...     @public
    ...     def action_confirm(self) -> bool: ...

    Nothing else is: the API calls the CRUD methods and methods marked so, and refuses
    every other name (Odoo lets RPC call any method not starting with ``_``). The
    method runs in the caller's environment, so access rights and rules apply to
    what it does; it must still treat its arguments as untrusted.
    """
    name = getattr(method, "__name__", "")
    if not name or name.startswith("_"):
        raise ConstructionError(f"@public cannot expose {name!r}: private names stay private")
    setattr(method, PUBLIC_MARK, True)
    return method


class Model:
    """Base class of every model. Declare ``_name`` (or ``_inherit`` to extend)."""

    _name: ClassVar[str] = ""
    _inherit: ClassVar[str | Sequence[str] | None] = None
    _description: ClassVar[str | None] = None
    _order: ClassVar[str] = "id"
    _rec_name: ClassVar[str | None] = None
    _parent_name: ClassVar[str | None] = None
    # An abstract model (a mixin such as mail.thread) has no table; models list it in
    # _inherit to receive its fields and methods.
    _abstract: ClassVar[bool] = False
    # Access that follows a document: (model name field, id field), as (res_model,
    # res_id) on messages and attachments. On top of its own rules, a record is
    # reachable for an operation only when its document is, for the operation that
    # _access_through_ops maps it to (bastion.security decides; see rules_for).
    _access_through: ClassVar[tuple[str, str] | None] = None
    # One2many fields whose records a share link of this model's record also grants
    # (an order's lines).
    _share_includes: ClassVar[tuple[str, ...]] = ()
    # Unique constraints as Odoo declares them: (name, "UNIQUE (field, ...)", message),
    # enforced by the database (bastion.orm.unique).
    _sql_constraints: ClassVar[Sequence[tuple[str, str, str]]] = ()
    _access_through_ops: ClassVar[Mapping[str, str]] = {
        "read": "read",
        "create": "write",
        "write": "write",
        "unlink": "write",
    }
    # set on the classes a registry composes
    _spec: ClassVar[ModelSpec]

    __slots__ = ("_ids", "_prefetch", "env")

    if TYPE_CHECKING:
        # Fields are declared per model; to the type checker any of them is Any.
        def __getattr__(self, name: str) -> Any: ...

    def __init__(self, env: Environment, ids: tuple[int, ...], prefetch_ids: Prefetch):
        self.env = env
        self._ids = ids
        self._prefetch: Prefetch = (
            prefetch_ids if isinstance(prefetch_ids, RelatedPrefetch) else prefetch_ids or ids
        )

    # -- recordset basics ------------------------------------------------------------
    @property
    def ids(self) -> list[int]:
        return list(self._ids)

    @property
    def id(self) -> int | bool:
        """The id of a single record; False on an empty recordset (as Odoo)."""
        if not self._ids:
            return False
        return self.ensure_one()._ids[0]

    def __repr__(self) -> str:
        return f"{self._name}{self._ids!r}"

    def __len__(self) -> int:
        return len(self._ids)

    def __bool__(self) -> bool:
        return bool(self._ids)

    def __iter__(self) -> Iterator[Self]:
        for rid in self._ids:
            yield self._with_ids((rid,))

    def __contains__(self, item: object) -> bool:
        return isinstance(item, Model) and item._name == self._name and item.id in self._ids

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Model):
            return NotImplemented
        return self._name == other._name and set(self._ids) == set(other._ids)

    def __hash__(self) -> int:
        return hash((self._name, frozenset(self._ids)))

    def __or__(self, other: Model) -> Self:
        return self._with_ids(tuple(dict.fromkeys(self._ids + other._ids)))

    def __and__(self, other: Model) -> Self:
        theirs = set(other._ids)
        return self._with_ids(tuple(rid for rid in self._ids if rid in theirs))

    def __sub__(self, other: Model) -> Self:
        theirs = set(other._ids)
        return self._with_ids(tuple(rid for rid in self._ids if rid not in theirs))

    def __getitem__(self, key: int | slice | str) -> Any:
        """``records[0]``, ``records[:10]``, or ``record["name"]`` (through the field
        map: only declared fields, never arbitrary attributes)."""
        if isinstance(key, str):
            return self.read_field(self._field(key))
        if isinstance(key, slice):
            return self._with_ids(self._ids[key])
        return self._with_ids((self._ids[key],))

    @property
    def _prefetch_ids(self) -> tuple[int, ...]:
        """The records fetched together with these ones on a cache miss."""
        prefetch = self._prefetch
        return prefetch.resolve() if isinstance(prefetch, RelatedPrefetch) else prefetch

    def _with_ids(self, ids: tuple[int, ...], env: Environment | None = None) -> Self:
        return type(self)(env or self.env, ids, self._prefetch if env is None else ids)

    def browse(self, ids: int | Iterable[int] | None = None) -> Self:
        if ids is None:
            ids = ()
        elif isinstance(ids, int):
            ids = (ids,)
        ids = tuple(ids)
        if not set(map(type, ids)) <= {int}:  # the types at C speed: 10,000 ids at once
            for rid in ids:
                if isinstance(rid, bool) or not isinstance(rid, int):
                    raise TypeError(f"record ids are integers, not {rid!r}")
        return type(self)(self.env, ids, ids)

    def ensure_one(self) -> Self:
        if len(self._ids) != 1:
            raise ValueError(f"expected a single record of {self._name}, got {len(self._ids)}")
        return self

    def with_env(self, env: Environment) -> Self:
        return type(self)(env, self._ids, self._prefetch)

    def sudo(self, flag: bool = True) -> Self:
        return self.with_env(self.env.sudo(flag))

    def with_user(self, user: int | Model) -> Self:
        return self.with_env(self.env.with_user(user))

    def mapped(self, name: str) -> Any:
        """Values of one field over the recordset (a recordset for relations)."""
        field = self._field(name)
        if field.comodel_name is not None:
            result = self.env[field.comodel_name]
            for record in self:
                result = result | record.read_field(field)
            return result
        return [record.read_field(field) for record in self]

    def filtered(self, predicate: Any) -> Self:
        return self._with_ids(tuple(r._ids[0] for r in self if predicate(r)))

    @property
    def display_name(self) -> str | bool:
        name = self._spec.rec_name
        if name not in self._spec.fields:
            return f"{self._name},{self.id}"
        value = self[name]
        return value if isinstance(value, str) else False

    # -- bastion.expr.ExprRecord -------------------------------------------------------
    def expr_field(self, name: str) -> object:
        if name == "ids":
            return self.ids
        if name == "id":
            return self.id if len(self._ids) <= 1 else self.ensure_one().id
        return self.read_field(self._field(name))

    # -- fields ----------------------------------------------------------------------
    @classmethod
    def _field(cls, name: str) -> Field:
        field = cls._spec.fields.get(name)
        if field is None:
            raise ValueError(f"{cls._name} has no field {name!r}")
        return field

    def read_field(self, field: Field) -> Any:
        """The value of ``field`` on this single record, fetched with its neighbours."""
        if field.name == "id":
            return self.id
        record = self.ensure_one()
        rid = record._ids[0]
        env = self.env
        if not env.su:
            env.registry.security.check_fields(env, self._name, [field.name], "read")
        value = crud.cached_value(self, field, rid)
        return field.to_record(value, self)

    def related_records(self, field: Field, ids: tuple[int, ...]) -> Model:
        """Records of ``field``'s comodel, prefetching together with the same field's
        values over this record's whole prefetch set.

        That set is gathered when the related records first miss the cache, not here:
        a loop over N records reaching their partners costs N steps, not N x N.
        """
        assert field.comodel_name is not None
        comodel = self.env[field.comodel_name]
        prefetch = RelatedPrefetch(self.env, self._name, field.name, self._prefetch, ids)
        return type(comodel)(self.env, ids, prefetch)

    def fields_get(
        self, allfields: Sequence[str] | None = None, attributes: Sequence[str] | None = None
    ) -> dict[str, dict[str, object]]:
        """Fields the current user may see, as Odoo describes them; fields restricted
        by ``groups=`` are absent for users outside those groups."""
        env = self.env
        names = [n for n in self._spec.fields if allfields is None or n in allfields]
        if not env.su:
            names = env.registry.security.visible_fields(env, self._name, names)
        result: dict[str, dict[str, object]] = {}
        for name in names:
            info = self._spec.fields[name].describe()
            if attributes:
                info = {k: v for k, v in info.items() if k in attributes}
            result[name] = info
        return result

    # -- access checks ---------------------------------------------------------------
    def check_access(self, operation: str) -> None:
        """Raise AccessError unless the user may ``operation`` every record here."""
        crud.check_operation(self, operation)

    def has_access(self, operation: str) -> bool:
        try:
            self.check_access(operation)
        except (AccessError, MissingError):
            return False
        return True

    def exists(self) -> Self:
        """The records that still exist (regardless of access, as in Odoo)."""
        if not self._ids:
            return self
        table = self._spec.table
        dialect = self.env.cr.dialect.name
        found: set[int] = set()
        for chunk in crud.chunks(self._ids):
            query = sa.select(table.c.id).where(one_of(table.c.id, chunk, dialect))
            found.update(self.env.cr.scalars(query))
        return self._with_ids(tuple(rid for rid in self._ids if rid in found))

    # -- search ----------------------------------------------------------------------
    def search(
        self,
        domain: Domain = (),
        offset: int = 0,
        limit: int | None = None,
        order: str | None = None,
    ) -> Self:
        ids = crud.search_ids(self, domain, offset=offset, limit=limit, order=order)
        return type(self)(self.env, ids, ids)

    def search_count(self, domain: Domain = (), limit: int | None = None) -> int:
        return crud.search_count(self, domain, limit=limit)

    def search_read(
        self,
        domain: Domain = (),
        fields: Sequence[str] | None = None,
        offset: int = 0,
        limit: int | None = None,
        order: str | None = None,
    ) -> list[dict[str, object]]:
        return listing.search_read(self, domain, fields, offset=offset, limit=limit, order=order)

    def filtered_domain(self, domain: Domain) -> Self:
        """The records of this set that match ``domain`` (evaluated in SQL)."""
        if not self._ids:
            return self
        found = set(self.search([("id", "in", list(self._ids)), *_as_list(domain)]).ids)
        return self._with_ids(tuple(rid for rid in self._ids if rid in found))

    # -- read ------------------------------------------------------------------------
    def read(self, fields: Sequence[str] | None = None) -> list[dict[str, object]]:
        return listing.read(self, fields)

    # -- create / write / unlink -------------------------------------------------------
    def create(self, vals_list: Mapping[str, object] | Sequence[Mapping[str, object]]) -> Self:
        single = isinstance(vals_list, Mapping)
        batch = [vals_list] if single else list(vals_list)
        ids = writes.create(self, batch)  # type: ignore[arg-type]
        return type(self)(self.env, ids, ids)

    def write(self, vals: Mapping[str, object]) -> bool:
        writes.write(self, dict(vals))
        return True

    def unlink(self) -> bool:
        writes.unlink(self)
        return True


class RelatedPrefetch:
    """The prefetch set of records reached through a relational field: ``ids``, then
    the field's cached values over the prefetch set of the records it was read on,
    gathered once, on first use."""

    __slots__ = ("_env", "_field_name", "_ids", "_model", "_resolved", "_source")

    def __init__(
        self,
        env: Environment,
        model: str,
        field_name: str,
        source: Prefetch,
        ids: tuple[int, ...],
    ) -> None:
        self._env = env
        self._model = model
        self._field_name = field_name
        self._source = source
        self._ids = ids
        self._resolved: tuple[int, ...] | None = None

    def resolve(self) -> tuple[int, ...]:
        if self._resolved is None:
            source = self._source
            source_ids = source.resolve() if isinstance(source, RelatedPrefetch) else source
            prefetch: dict[int, None] = dict.fromkeys(self._ids)
            records = self._env.cache.get(self._model, {})
            name = self._field_name
            for rid in source_ids:
                value = records.get(rid, {}).get(name)
                if isinstance(value, int):
                    prefetch[value] = None
                elif isinstance(value, tuple):
                    prefetch.update(dict.fromkeys(value))
            self._resolved = tuple(prefetch) or self._ids
        return self._resolved


Prefetch = tuple[int, ...] | RelatedPrefetch


def _as_list(domain: Domain) -> list[object]:
    if isinstance(domain, str):
        from bastion.domain import literal_domain  # noqa: PLC0415

        return literal_domain(domain)
    return list(domain)
