"""Environments: who is asking, inside which transaction, for which companies.

>>> with registry.transaction() as env:          # superuser, commits on success
...     alice = env.ref("base.user_admin")
...     as_alice = env.with_user(alice)          # record rules apply from here on
...     as_alice["res.partner"].search([])

No thread-locals: an environment is passed explicitly, and every recordset carries
the environment it was obtained from. Environments of one transaction share its
connection; each (user, superuser flag, companies) has its own record cache, so a
value fetched under one user's rights is never served to another.

A user's allowed companies (the rules' ``company_ids``) are read in one statement,
once per transaction, or once per security version when the security layer's version
follows them (:class:`VersionedContext`).
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol, cast, runtime_checkable

import sqlalchemy as sa

from bastion.errors import AccessError, MissingError
from bastion.memo import Memo

from .crud import order_by

if TYPE_CHECKING:
    from .model import Model
    from .registry import ModelRegistry

SUPERUSER_ID = 1

# model -> record id -> field name -> stored value
RecordCache = dict[str, dict[int, dict[str, object]]]
# Read access granted to single records beyond the user's own rights (share links).
Grants = frozenset[tuple[str, int]]


@dataclass(frozen=True)
class Scope:
    """What a credential may do at most, within the user's rights (an API key's
    scope): only read, and/or only some models. None: no narrowing."""

    read_only: bool = False
    models: frozenset[str] | None = None


EnvKey = tuple[int, bool, tuple[int, ...] | None, Grants, Scope | None]

# Writes to these models may change a user's allowed companies.
COMPANY_SOURCES = frozenset({"res.users", "res.company"})


@runtime_checkable
class VersionedContext(Protocol):
    """A security layer whose version changes whenever a user's companies do
    (``res.users.company_id`` / ``company_ids`` among the fields it watches): the
    companies read for a security context may then be kept for the whole version.

    ``context_memo`` returns the memo of the version a transaction sees (its own once
    it changed security data itself), as ``SecurityState.memo``.
    """

    def context_memo(self, env: Environment) -> Memo: ...


@functools.cache
def _follows_companies(kind: type) -> bool:
    # Once per class: isinstance() against a runtime-checkable protocol inspects the
    # class's attributes at every call (1.5% of a one-record check).
    return issubclass(kind, VersionedContext)


class Transaction:
    """One database transaction and the state attached to it."""

    def __init__(self, registry: ModelRegistry, connection: sa.Connection) -> None:
        self.registry = registry
        self.connection = connection
        self.caches: dict[EnvKey, RecordCache] = {}
        # Set by the security layer: the committed security version this transaction
        # started from, and a private cache once it changed security data itself.
        self.security_token: str | None = None
        self.security_local: dict[Any, Any] | None = None
        # Set when a savepoint rolled back after security data changed: the bump of
        # the security version may be gone with it.
        self.security_undone = False
        # uid -> allowed companies, main first, as this transaction last read them.
        self.user_companies: dict[int, tuple[int, ...]] = {}
        # Set once this transaction wrote users or companies: from then on what it reads
        # of them is its own (maybe never committed), not the security version's.
        self.companies_written = False
        # Set once this transaction started writing users or groups: the users' groups
        # it reads may be its own from then on, and so is its security state (the
        # shared one it copies, the copy; bastion.security.policy).
        self.groups_written = False
        self.groups_state: tuple[Any, Any] | None = None
        # The committed version of the user values bound into rules (see
        # bastion.security.rule_values), and the memo of those values this transaction
        # uses: None until first asked for; shared by the transactions of one version
        # until this one writes something the values are read from (then private).
        self.values_token: str | None = None
        self.rule_memo: Memo | None = None
        self.rule_memo_private = False
        # model -> ids this transaction created: nobody else can have bound rule
        # values read from them.
        self.created: dict[str, set[int]] = {}
        # Whether it created, wrote or deleted records, and whether it changed the
        # values version: checked before it commits (SecurityPolicy.before_commit).
        self.wrote_data = False
        self.values_bumped = False

    def cache(self, key: EnvKey) -> RecordCache:
        return self.caches.setdefault(key, {})

    def invalidate(self, model: str | None = None, ids: Iterable[int] | None = None) -> None:
        """Forget cached values: all, one model's, or some records' (in every env)."""
        if self.rule_memo_private:
            self.rule_memo = None  # the shared memo is the security layer's to drop
        if model is None or model in COMPANY_SOURCES:
            self.user_companies.clear()
            self.companies_written = True
        if model is None:
            self.caches.clear()
            return
        for cache in self.caches.values():
            if ids is None:
                cache.pop(model, None)
                continue
            records = cache.get(model)
            if records:
                for rid in ids:
                    records.pop(rid, None)


class Environment:
    def __init__(
        self,
        transaction: Transaction,
        uid: int,
        su: bool,
        company_ids: tuple[int, ...] | None = None,
        grants: Grants = frozenset(),
        scope: Scope | None = None,
    ) -> None:
        self.transaction = transaction
        self.registry = transaction.registry
        self.uid = uid
        self.su = su
        self._company_ids = company_ids
        self.grants = grants
        self.scope = scope
        self.key: EnvKey = (uid, su, company_ids, grants, scope)
        self._effective_companies: tuple[int, ...] | None = None

    def __repr__(self) -> str:
        grants = f" grants={sorted(self.grants)}" if self.grants else ""
        return f"<Environment uid={self.uid} su={self.su} companies={self._company_ids}{grants}>"

    @property
    def cr(self) -> sa.Connection:
        """The SQLAlchemy connection of this transaction (for the ORM's own use)."""
        return self.transaction.connection

    @property
    def cache(self) -> RecordCache:
        return self.transaction.cache(self.key)

    @contextmanager
    def savepoint(self) -> Iterator[None]:
        """Run a block so that any error undoes all of it (caches included)."""
        try:
            with self.cr.begin_nested():
                yield
        except BaseException:
            self.transaction.invalidate()
            self.transaction.values_bumped = False  # maybe undone with the block
            if self.transaction.security_local is not None:
                # Security data changed inside the block may be undone: reload it.
                self.transaction.security_local = {}
                self.transaction.security_undone = True
            raise

    def __getitem__(self, model_name: str) -> Model:
        cls = self.registry.model_class(model_name)
        return cls(self, (), ())

    def __contains__(self, model_name: str) -> bool:
        return model_name in self.registry.specs

    # -- who -----------------------------------------------------------------------
    @property
    def user(self) -> Model:
        """The current user, as a record of a superuser environment (as in Odoo)."""
        return self(su=True)["res.users"].browse(self.uid)

    def __call__(
        self,
        *,
        user: int | Model | None = None,
        su: bool | None = None,
        company_ids: tuple[int, ...] | None | bool = False,
    ) -> Environment:
        uid = self.uid if user is None else _user_id(user)
        companies = self._company_ids if company_ids is False else company_ids
        assert companies is None or isinstance(companies, tuple)
        # A grant or a scope belongs to this caller: another user's environment starts
        # without them.
        same = uid == self.uid
        return Environment(
            self.transaction,
            uid,
            self.su if su is None else su,
            companies,
            self.grants if same else frozenset(),
            self.scope if same else None,
        )

    def with_user(self, user: int | Model) -> Environment:
        """An environment of ``user``, with security enforced (superuser mode off)."""
        uid = _user_id(user)
        return self(user=uid, su=False, company_ids=None)

    def with_grant(self, model: str, record_id: int) -> Environment:
        """This environment, plus read access to one record of ``model`` (and to the
        lines its model lists in ``_share_includes``), as a share link gives.

        Only the authentication layer makes grants, after checking the link; the
        security layer adds them to the rules for reading, and for nothing else.
        """
        if model not in self.registry.specs:
            raise KeyError(f"unknown model {model!r}")
        return Environment(
            self.transaction,
            self.uid,
            self.su,
            self._company_ids,
            self.grants | {(model, int(record_id))},
            self.scope,
        )

    def with_scope(self, scope: Scope | None) -> Environment:
        """This environment, narrowed to what ``scope`` allows (never widened)."""
        return Environment(
            self.transaction, self.uid, self.su, self._company_ids, self.grants, scope
        )

    def sudo(self, flag: bool = True) -> Environment:
        return self(su=flag)

    # -- companies -----------------------------------------------------------------
    def with_companies(self, company_ids: Iterable[int | Model]) -> Environment:
        """Restrict the allowed companies; the first one is the current company.

        A user may only pick among their own companies (``company_ids``).
        """
        ids = tuple(_record_id(c) for c in company_ids)
        if not ids:
            raise ValueError("with_companies needs at least one company")
        if not self.su:
            own = set(self.user_company_ids())
            foreign = [cid for cid in ids if cid not in own]
            if foreign:
                raise AccessError(
                    f"companies {foreign} are not among the user's allowed companies",
                    model="res.company",
                    operation="read",
                    ids=foreign,
                )
        return self(company_ids=ids)

    def user_company_ids(self) -> tuple[int, ...]:
        """The user's own companies, the main one first, then the others in the
        companies' order (read as superuser)."""
        txn = self.transaction
        found = txn.user_companies.get(self.uid)
        if found is not None:
            return found
        memo = self._version_memo()
        key = ("user companies", self.uid)
        shared = None if memo is None else memo.get(key)
        if isinstance(shared, tuple):
            found = shared
        else:
            found = self._read_user_companies()
            if memo is not None:
                memo[key] = found
        txn.user_companies[self.uid] = found
        return found

    def _version_memo(self) -> Memo | None:
        """Where the companies may be kept beyond this transaction: the security
        version's memo, when that version follows them and this transaction has not
        written users or companies itself."""
        security = self.registry.security
        if self.transaction.companies_written or not _follows_companies(type(security)):
            return None
        return cast(VersionedContext, security).context_memo(self)

    def _read_user_companies(self) -> tuple[int, ...]:
        # One statement, where reading the user record and then its company_ids took
        # two: the user's main company beside each allowed company, in their order.
        registry = self.registry
        users = registry.model_info("res.users")
        allowed = users.fields["company_ids"]
        assert allowed.relation and allowed.column1 and allowed.column2 and allowed.comodel_name
        relation = registry.relation_table(allowed.relation)
        companies = registry.model_info(allowed.comodel_name).table
        user_table = users.table
        joined = user_table.outerjoin(
            relation, relation.c[allowed.column1] == user_table.c.id
        ).outerjoin(companies, companies.c.id == relation.c[allowed.column2])
        su_companies = self(su=True)[allowed.comodel_name]
        query = (
            sa.select(user_table.c.company_id, companies.c.id)
            .select_from(joined)
            .where(user_table.c.id == self.uid)
            .order_by(*order_by(su_companies, None, companies))
        )
        rows = self.cr.execute(query).all()
        if not rows:
            raise MissingError(f"res.users({self.uid}) cannot be read", model="res.users")
        main = rows[0][0]
        others = [int(cid) for _main, cid in rows if cid is not None and cid != main]
        return (int(main), *others) if main else tuple(others)

    @property
    def company_ids(self) -> tuple[int, ...]:
        """Allowed companies, the current one first: the ones chosen with
        ``with_companies``, else the user's own."""
        if self._effective_companies is None:
            chosen = self._company_ids
            self._effective_companies = chosen if chosen is not None else self.user_company_ids()
        return self._effective_companies

    @property
    def companies(self) -> Model:
        return self(su=True)["res.company"].browse(self.company_ids)

    @property
    def company(self) -> Model:
        companies = self.companies
        return companies.browse(companies.ids[:1])

    # -- xml ids -------------------------------------------------------------------
    def ref(self, xmlid: str, raise_if_not_found: bool = True) -> Model | None:
        """The record behind an XML id such as ``base.group_portal``."""
        found = self.registry.xmlid_lookup(self.cr, xmlid)
        if found is None:
            if raise_if_not_found:
                raise MissingError(f"no record with XML id {xmlid!r}", model="ir.model.data")
            return None
        model, res_id = found
        return self[model].browse(res_id)


def _record_id(value: int | Model) -> int:
    if isinstance(value, int):
        return value
    return int(value.ensure_one().id)


def _user_id(user: int | Model) -> int:
    return _record_id(user)
