"""The one place where access is decided. The ORM consults it for every operation
of an environment that is not in superuser mode.

>>> registry.security.check_model(env, "sale.order", "write")   # doctest: +SKIP
>>> registry.security.rule_node(env, "sale.order", "read")      # the rules, as a domain

Decisions, as ODOO-SEMANTICS.md describes them:

- access rights: the union of the rows of the user's effective groups; a row with no
  group applies to everyone; no row, no access;
- record rules: ``AND(global rules) AND OR(group rules of the user's groups)`` for
  the operation; inactive rules are ignored; no rule means allowed;
- field groups: ``"a,b"`` is a OR b, ``"!a"`` is NOT a.
"""

from __future__ import annotations

import dataclasses
import itertools
import secrets
from collections.abc import Iterable
from typing import TYPE_CHECKING, cast

import sqlalchemy as sa

from bastion.domain import (
    FALSE,
    TRUE,
    Node,
    Reference,
    SqlCompiler,
    Term,
    conjunction,
    disjunction,
    parse_domain,
)
from bastion.domain.schema import ModelInfo
from bastion.domain.slots import parametrised
from bastion.domain.sql import Restriction, RuleSql, SqlBool
from bastion.errors import AccessError, BastionError
from bastion.memo import MIN_MEMO_ENTRIES, BoundedMemo, Memo
from bastion.orm.first_read import first_read

from .state import RuleDef, SecurityState, new_state_memo

if TYPE_CHECKING:
    from bastion.orm.environment import Environment, Transaction
    from bastion.orm.registry import ModelRegistry

# Models whose changes alter security decisions, and the fields that matter
# (None: every field).
WATCHED: dict[str, frozenset[str] | None] = {
    "res.groups": frozenset({"implied_ids", "user_ids", "name", "category_id"}),
    # Companies too: the companies read for a user are kept for a whole version.
    "res.users": frozenset({"group_ids", "active", "company_id", "company_ids"}),
    # A deleted company leaves its users' allowed companies (cascade); a renamed one
    # moves in their order.
    "res.company": frozenset({"name"}),
    "ir.model.access": None,
    "ir.rule": None,
    "ir.model.data": None,
}
# The models whose writes may change a user's groups (``res_groups_users_rel``).
GROUP_SOURCES = frozenset({"res.users", "res.groups"})
# The rule profile's free names that come from the environment's companies.
COMPANY_NAMES = frozenset({"company_id", "company_ids"})
NO_NAMES: frozenset[str] = frozenset()  # a rule that does not compile reads nothing
VERSION_TABLE = "ir_security_version"
# Rows of the version table: the security configuration, and the records the rules'
# user values are read from (bastion.security.rule_values).
SECURITY_ROW, VALUES_ROW = 1, 2
# Rule shapes whose SQL is kept (a few per rule and model; more only as rules change).
MAX_TEMPLATES = 4096
# Entries of a values version's memo at most: a user's rules evaluated and combined,
# per model and operation (as STATE_MEMO_ENTRIES).
RULE_MEMO_ENTRIES = 65_536


class SecurityPolicy:
    def __init__(self, registry: ModelRegistry) -> None:
        self.registry = registry
        # Both are kept per security version and per schema generation of the models
        # (an addon loaded into the registry: the rules compile against new tables).
        self._shared: dict[tuple[str, int], SecurityState] = {}
        # (security token, values token, generation) -> the rule values bound then
        self._values: dict[tuple[str, str, int], Memo] = {}
        # The entries of each of those memos (None: the module's defaults).
        self._memo_entries: int | None = None
        self.version_table = sa.Table(
            VERSION_TABLE,
            registry.metadata,
            sa.Column("id", sa.Integer, primary_key=True),
            sa.Column("token", sa.String(64), nullable=False),
        )
        # Built once, and without parameters (the table holds a row per kind of
        # version), so that on PostgreSQL it goes with the BEGIN (orm.first_read):
        # it runs at the start of every transaction.
        table = self.version_table
        self._versions = sa.select(table.c.id, table.c.token)
        # The security version as committed now, its row share-locked until this
        # transaction ends; no row while a security change holds it (see before_commit).
        self._security_now = (
            sa.select(table.c.token)
            .where(table.c.id == SECURITY_ROW)
            .with_for_update(read=True, skip_locked=True)
        )
        # (rule shape, model) -> (table, parameter prefix, SQL), for one schema generation of
        # the models: see _template.
        self._templates: BoundedMemo[tuple[Node, str], tuple[sa.FromClause, str, SqlBool]] = (
            BoundedMemo(MAX_TEMPLATES)
        )
        self._templates_generation = registry.schema_generation
        # next() on a count is atomic: two threads never number two templates alike.
        self._template_numbers = itertools.count()

    def set_memo_entries(self, entries: int | None) -> None:
        """Keep up to ``entries`` entries in each security version's memo and each
        values version's memo (None: STATE_MEMO_ENTRIES and RULE_MEMO_ENTRIES). A
        portal user takes about fifteen in each, so the defaults serve a few thousand
        active users per worker; past them, users evicted since their last request
        pay their rules' evaluation again (0.3-0.4 ms). The memos kept so far are
        dropped, to be made again at that size."""
        if entries is not None and entries < MIN_MEMO_ENTRIES:
            raise ValueError(f"memo entries must be at least {MIN_MEMO_ENTRIES}, not {entries}")
        self._memo_entries = entries
        self._shared, self._values = {}, {}

    def _rule_memo_entries(self) -> int:
        return RULE_MEMO_ENTRIES if self._memo_entries is None else self._memo_entries

    # -- versioning ------------------------------------------------------------------
    def begin(self, transaction: Transaction) -> None:
        """Remember which committed versions this transaction starts from (one
        statement: the cost of knowing what other workers changed)."""
        connection = transaction.connection
        rows = first_read(connection, self._versions)
        if rows is None:
            rows = [tuple(row) for row in connection.execute(self._versions)]
        tokens = {int(row_id): str(token) for row_id, token in rows}
        transaction.security_token = tokens.get(SECURITY_ROW)
        transaction.values_token = tokens.get(VALUES_ROW)

    def _bump(self, txn: Transaction, row: int) -> str:
        table = self.version_table
        token = secrets.token_hex(16)
        connection = txn.connection
        updated = connection.execute(sa.update(table).where(table.c.id == row).values(token=token))
        if updated.rowcount == 0:
            connection.execute(sa.insert(table).values(id=row, token=token))
        if row == VALUES_ROW:
            txn.values_bumped = True
        return token

    def before_commit(self, transaction: Transaction) -> None:
        """Just before a transaction that wrote records commits without changing the
        values version: change it after all if the security version moved meanwhile.

        Whether a write changes the values version depends on the rules the
        transaction started with. A rule committed while it ran may read a field it
        wrote; another worker may then have bound that rule's values from the
        field's old value, and kept them under the new security version until some
        later write. Share-locking the security row closes the window: a security
        change committed since the start shows as a new token, one in progress as a
        locked row (skipped, no wait), and one that starts later waits for this
        commit. On SQLite a writing transaction holds the database's write lock
        from its BEGIN, so the token is always the one it started with."""
        if (
            not transaction.wrote_data
            or transaction.values_bumped
            or transaction.security_local is not None
            or not transaction.connection.in_transaction()  # ended by its code
        ):
            return
        now = transaction.connection.execute(self._security_now).scalar()
        if now is None and transaction.security_token is None:
            return  # no security version yet (a database being installed)
        if now != transaction.security_token:
            self._bump(transaction, VALUES_ROW)

    def changing(self, env: Environment, model: str) -> None:
        """Before a create, write or unlink of ``model``: the rule values this
        transaction binds from now on may come from its own uncommitted writes, so
        they must not go into the memo other transactions share (the checks of the
        write itself bind some). For users and groups, from now on it gets a security
        state of its own (see :meth:`state`)."""
        txn = env.transaction
        if model in GROUP_SOURCES:
            txn.groups_written = True
        if txn.security_local is None and self.state(env).sources.reads_from(model):
            txn.rule_memo, txn.rule_memo_private = None, True

    def changed(
        self,
        env: Environment,
        model: str,
        fields: set[str] | None,
        ids: Iterable[int] | None = None,
    ) -> None:
        """After a create (``ids`` new), write or unlink (``fields`` None) of ``model``."""
        txn = env.transaction
        txn.wrote_data = True
        if model in WATCHED:
            watched = WATCHED[model]
            if watched is None or fields is None or fields & watched:
                txn.security_token = self._bump(txn, SECURITY_ROW)
                # From now on this transaction sees uncommitted security data: it gets
                # a cache of its own, never shared, rebuilt at each change.
                txn.security_local = {}
                txn.rule_memo, txn.rule_memo_private = None, True
                # Values fetched under the old rules must be fetched again.
                txn.caches = {key: cache for key, cache in txn.caches.items() if key[1]}
        if txn.security_local is not None:
            # This transaction changed security data (its memo is private): once it
            # commits, every worker sees a new security version, and with it new memos
            # of values. Nothing to bump, and no state to load after each data record;
            # unless a savepoint undid a change, maybe the version's bump with it.
            if txn.security_undone:
                txn.values_token = self._bump(txn, VALUES_ROW)
            return
        sources = self.state(env).sources
        if not sources.reads_from(model, deleting=fields is None):
            return
        # Private (as since changing()); what the write's own checks bound may predate it.
        txn.rule_memo, txn.rule_memo_private = None, True
        created = txn.created.get(model, set())
        existing = ids is None or not created.issuperset(ids)
        if sources.watches(model, fields, existing=existing):
            txn.values_token = self._bump(txn, VALUES_ROW)

    def rule_memo(self, env: Environment) -> Memo:
        """Where the rules' user values of ``env``'s transaction are kept: shared by
        every transaction of the same versions, until one writes what they come from."""
        txn = env.transaction
        memo = txn.rule_memo
        if memo is not None:
            return memo
        if txn.rule_memo_private or txn.security_local is not None:
            memo, txn.rule_memo_private = BoundedMemo(self._rule_memo_entries()), True
        else:
            generation = self.registry.schema_generation
            key = (txn.security_token or "", txn.values_token or "", generation)
            memo = self._values.get(key)
            if memo is None:
                memo = BoundedMemo(self._rule_memo_entries())
                self._values = {key: memo}  # older versions are never asked for again
        txn.rule_memo = memo
        return memo

    def state(self, env: Environment) -> SecurityState:
        txn = env.transaction
        if txn.security_local is not None:
            local = txn.security_local.get("state")
            if local is None:
                local = SecurityState.load(env, self._memo_entries)
                txn.security_local["state"] = local
            assert isinstance(local, SecurityState)
            return local
        token = (txn.security_token or "", self.registry.schema_generation)
        shared = self._shared.get(token)
        if shared is None:
            shared = SecurityState.load(env, self._memo_entries)
            self._shared = {token: shared}  # older versions are never asked for again
        if txn.groups_written:
            # Writing users or groups: the groups it reads from now on may be its own,
            # uncommitted, and so may all that is derived from them. The same
            # configuration, with a memo of its own.
            own = txn.groups_state
            if own is None or own[0] is not shared:
                memo = new_state_memo(self._memo_entries)
                own = (shared, dataclasses.replace(shared, memo=memo))
                txn.groups_state = own
            return cast(SecurityState, own[1])
        return shared

    # -- access rights ----------------------------------------------------------------
    @staticmethod
    def _outside_scope(env: Environment, model: str, operation: str) -> bool:
        """Whether the credential's scope (an API key's) excludes the operation."""
        scope = env.scope
        if scope is None or env.su:
            return False
        return (scope.read_only and operation != "read") or (
            scope.models is not None and model not in scope.models
        )

    def model_allowed(self, env: Environment, model: str, operation: str) -> bool:
        if self._outside_scope(env, model, operation):
            return False
        state = self.state(env)
        key = ("acl", env.uid, env.grants, model, operation)
        found = state.memo.get(key)
        if found is None:
            groups = state.closure_of(env, env.uid)
            found = any(
                operation in row.perms and (row.group_id is None or row.group_id in groups)
                for row in state.access.get(model, ())
            ) or (operation == "read" and self.grant_node(env, model) != FALSE)
            state.memo[key] = found
        return bool(found)

    def check_model(self, env: Environment, model: str, operation: str) -> None:
        if env.su or self.model_allowed(env, model, operation):
            return
        scope = env.scope
        if scope is not None and self._outside_scope(env, model, operation):
            raise AccessError(
                f"This API key does not allow to {operation} '{model}' records (its scope: "
                + ("read only" if scope.read_only else "read and write")
                + (f", models {', '.join(sorted(scope.models))}" if scope.models else "")
                + ").",
                model=model,
                operation=operation,
            )
        state = self.state(env)
        granting = sorted(
            {
                state.groups.names.get(row.group_id, str(row.group_id))
                for row in state.access.get(model, ())
                if operation in row.perms and row.group_id is not None
            }
        )
        description = self.registry.model_info(model).description
        if granting:
            hint = "This operation is allowed for the groups: " + ", ".join(granting) + "."
        else:
            hint = "No group is allowed this operation."
        raise AccessError(
            f"You are not allowed to {operation} '{description}' ({model}) records. {hint}",
            model=model,
            operation=operation,
            groups=granting,
        )

    # -- field groups -------------------------------------------------------------------
    def user_in(self, env: Environment, groups_spec: str) -> bool:
        """Odoo's group expression: ``"a,b"`` is a OR b, ``"!a"`` is NOT a."""
        state = self.state(env)
        mine = state.closure_of(env, env.uid)
        positives: list[str] = []
        for item in (part.strip() for part in groups_spec.split(",")):
            if not item:
                continue
            if item.startswith("!"):
                gid = state.group_id(item[1:])
                if gid is not None and gid in mine:
                    return False
            else:
                positives.append(item)
        if not positives:
            return True
        return any(state.group_id(x) in mine for x in positives if state.group_id(x) is not None)

    def visible_fields(self, env: Environment, model: str, fields: Iterable[str]) -> list[str]:
        spec = self.registry.model_info(model)
        result = []
        for name in fields:
            fld = spec.fields.get(name)
            if fld is None or fld.groups is None or env.su or self.user_in(env, fld.groups):
                result.append(name)
        return result

    def check_fields(
        self, env: Environment, model: str, fields: Iterable[str], operation: str
    ) -> None:
        if env.su:
            return
        names = list(fields)
        visible = set(self.visible_fields(env, model, names))
        restricted = [name for name in names if name not in visible]
        if not restricted:
            return
        spec = self.registry.model_info(model)
        groups = sorted({str(spec.fields[name].groups) for name in restricted})
        raise AccessError(
            f"You are not allowed to {operation} the field(s) "
            f"{', '.join(repr(n) for n in restricted)} of '{spec.description}' ({model}); "
            f"they are restricted to the groups: {', '.join(groups)}.",
            model=model,
            operation=operation,
            fields=restricted,
            groups=groups,
        )

    # -- record rules ------------------------------------------------------------------
    def applicable_rules(
        self, env: Environment, model: str, operation: str
    ) -> tuple[list[RuleDef], list[RuleDef]]:
        """(global rules, group rules of the user's groups) for ``operation``."""
        state = self.state(env)
        mine = state.closure_of(env, env.uid)
        rules = [r for r in state.rules.get(model, ()) if operation in r.perms]
        return (
            [r for r in rules if r.is_global],
            [r for r in rules if not r.is_global and r.groups & mine],
        )

    def rule_domain(self, env: Environment, rule: RuleDef) -> Node:
        """One rule's domain for the current user; a rule that fails to evaluate
        denies (fails closed) rather than letting everything through.

        The user's values live in records that change without a new security version
        (a contact moved to another customer changes ``user.commercial_partner_id``):
        they are kept per values version (:meth:`rule_memo`), by the values the rule
        reads: a rule that reads no name is evaluated once for everybody, one that
        reads only ``company_ids`` once per set of companies. The parsed domain is
        shared, per security version, by every user who binds the same values, so the
        compiled SQL is too."""
        memo = self.rule_memo(env)
        names = NO_NAMES if rule.expression is None else rule.expression.names_read
        if names <= COMPANY_NAMES:  # nothing read from the user record
            key: tuple[object, ...] = ("rule", rule.id, env.company_ids if names else None)
        else:
            key = ("rule", rule.id, env.uid, env.company_ids)
        found = memo.get(key)
        if found is None:
            found = memo[key] = self._evaluate_rule(env, rule)
        return cast(Node, found)

    def evaluated_domain(self, env: Environment, rule: RuleDef) -> list[object]:
        """The rule's domain for the current user, as a list (raises BastionError when
        the rule does not evaluate)."""
        if rule.expression is None:
            raise BastionError(f"the rule {rule.name!r} does not compile")
        su = env(su=True)
        companies = list(env.company_ids)
        values = {
            "user": su["res.users"].browse(env.uid),
            "company_id": companies[0] if companies else False,
            "company_ids": companies,
        }
        domain = rule.expression.evaluate(values)
        if not isinstance(domain, list | tuple):
            raise BastionError(f"the rule {rule.name!r} does not give a list")
        return list(domain)

    def _evaluate_rule(self, env: Environment, rule: RuleDef) -> Node:
        try:
            domain = self.evaluated_domain(env, rule)
            key = ("parsed", rule.model, _frozen(domain))
            memo = self.state(env).memo
            found = memo.get(key)
            if found is None:
                spec = self.registry.model_info(rule.model)
                found = memo[key] = parse_domain(domain, spec, self.registry)
            return cast(Node, found)
        except BastionError:
            return FALSE

    def rule_node(self, env: Environment, model: str, operation: str) -> Node:
        if env.su:
            return TRUE
        memo = self.rule_memo(env)
        key = ("rules", env.uid, env.company_ids, env.grants, model, operation)
        found = memo.get(key)
        if found is None:
            found = memo[key] = self._combined_rules(env, model, operation)
        return cast(Node, found)

    def _combined_rules(self, env: Environment, model: str, operation: str) -> Node:
        global_rules, group_rules = self.applicable_rules(env, model, operation)
        parts = [self.rule_domain(env, r) for r in global_rules]
        if group_rules:
            parts.append(disjunction([self.rule_domain(env, r) for r in group_rules]))
        parts.append(self.document_node(env, model, operation))
        # Without any access right of its own the user's rules do not count: only what
        # is granted (an environment reaches here after check_model).
        acl = self._acl_of_groups(env, model, operation)
        grants = self.grant_node(env, model) if operation == "read" else FALSE
        # The same parts give the same node object in every transaction of a version:
        # rule_sql keeps the compiled SQL by that object.
        key = ("combined", model, operation, acl, grants, tuple(parts))
        memo = self.state(env).memo
        found = memo.get(key)
        if found is None:
            own = conjunction(parts) if acl else FALSE
            found = disjunction([own, grants]) if operation == "read" else own
            memo[key] = found
        return cast(Node, found)

    def _acl_of_groups(self, env: Environment, model: str, operation: str) -> bool:
        if not env.grants:
            return True  # model_allowed said yes, or the caller checked it
        state = self.state(env)
        groups = state.closure_of(env, env.uid)
        return any(
            operation in row.perms and (row.group_id is None or row.group_id in groups)
            for row in state.access.get(model, ())
        )

    def grant_node(self, env: Environment, model: str) -> Node:
        """The records of ``model`` an environment's grants open for reading: the
        granted record itself, and the lines its model shares (``_share_includes``)."""
        if not env.grants:
            return FALSE
        parts: list[Node] = []
        for granted_model, record_id in sorted(env.grants):
            if granted_model == model:
                parts.append(Term("id", "=", record_id))
            spec = self.registry.model_info(granted_model)
            for name in spec.share_includes:
                field = spec.fields[name]
                if field.comodel_name == model and field.inverse_name:
                    parts.append(Term(field.inverse_name, "=", record_id))
        return disjunction(parts)

    def document_node(self, env: Environment, model: str, operation: str) -> Node:
        """For a model whose access follows a document (``_access_through``, as a
        message's ``res_model``/``res_id``): the document must be one the user may
        ``operation`` (mapped by ``_access_through_ops``), access right and rules
        included. TRUE for other models; a record pointing at no document, or at a
        model the user has no right on, matches nothing."""
        spec = self.registry.model_info(model)
        if spec.access_through is None:
            return TRUE
        model_field, id_field = spec.access_through
        wanted = spec.access_through_ops.get(operation, operation)
        documents: list[Node] = [
            Reference(model_field, id_field, name, self.rule_node(env, name, wanted))
            for name, other in sorted(self.registry.specs.items())
            if name != model
            and not other.abstract
            and other.access_through is None
            and self.model_allowed(env, name, wanted)
        ]
        return disjunction(documents)

    def rule_sql(
        self, env: Environment, node: Node, model: ModelInfo, table: sa.FromClause
    ) -> RuleSql:
        """``node`` (a user's rules, from :meth:`rule_node`) compiled for ``table``.

        Compiling is most of the Python time of a short query (issue 3 measured it at
        more than half of a check_access). The SQL is built once per rule shape (see
        :meth:`_template`), with the ids taken out as named parameters
        (``bastion.domain.slots``): another customer's user, whose rules differ only
        by the ids, gets the same clause and SQLAlchemy's cached statement, with
        their own ``params``. The bound result is kept beside the node, which is the
        same object for a whole security version. Only for a model's own table; an
        alias (a sub-query) is compiled each time, the values in it.
        """
        if table is not model.table:
            return RuleSql(SqlCompiler(self.registry).compile(node, model, table), {})
        state = self.state(env)
        key = ("sql", id(node), model.model_name)
        found = state.memo.get(key)
        # The memo holds the node too: its id cannot be reused while the entry lives.
        if isinstance(found, tuple) and found[0] is node:
            return cast(RuleSql, found[1])
        shape, ids = parametrised(node, model, self.registry)
        prefix, clause = self._template(shape, model)
        bound = RuleSql(clause, {f"{prefix}{i}": rid for i, rid in enumerate(ids)})
        state.memo[key] = (node, bound)
        return bound

    def _template(self, shape: Node, model: ModelInfo) -> tuple[str, SqlBool]:
        """The SQL of a rule shape on ``model``'s table, and its parameters' prefix.

        Kept while the models stay as they are, not per security version: it depends
        on the shape and the schema only. So after any security change (a group
        membership, an edited rule) the statements holding unchanged rules keep their
        text, and SQLAlchemy's compiled form of them, whichever user asks first; an
        addon loaded into the registry starts them anew. The prefixes are unique, so
        two templates in one statement never share a parameter name.
        """
        generation = self.registry.schema_generation
        if generation != self._templates_generation:
            # New models; the numbers stay unique regardless.
            self._templates = BoundedMemo(MAX_TEMPLATES)
            self._templates_generation = generation
        key = (shape, model.model_name)
        found = self._templates.get(key)
        # Compiled for the current table: not by a request that ran while an addon
        # loaded, for the models it replaced.
        if found is not None and found[0] is model.table:
            return found[1], found[2]
        prefix = f"rule{next(self._template_numbers)}_"
        clause = SqlCompiler(self.registry, slot_prefix=prefix).compile(shape, model, model.table)
        self._templates[key] = (model.table, prefix, clause)
        return prefix, clause

    def context_memo(self, env: Environment) -> Memo:
        """The memo of the security version ``env``'s transaction sees (see
        ``bastion.orm.environment.VersionedContext``)."""
        return self.state(env).memo

    def restriction(self, env: Environment) -> Restriction:
        """For sub-queries of a user's own domain: only the related records the user
        may read (access right required, rules applied)."""

        def restrict(model: ModelInfo) -> Node | None:
            self.check_model(env, model.model_name, "read")
            node = self.rule_node(env, model.model_name, "read")
            return None if node == TRUE else node

        return restrict

    def rule_denial(
        self, env: Environment, model: str, operation: str, ids: list[int]
    ) -> AccessError:
        """An AccessError naming the rules that refuse ``ids``; no record data."""
        global_rules, group_rules = self.applicable_rules(env, model, operation)
        spec = self.registry.model_info(model)
        table = spec.table
        failing: list[str] = []

        def passing(rule: RuleDef) -> set[int]:
            clause = SqlCompiler(self.registry).compile(self.rule_domain(env, rule), spec, table)
            query = sa.select(table.c.id).where(table.c.id.in_(ids), clause)
            return set(env.cr.scalars(query))

        for rule in global_rules:
            if passing(rule) != set(ids):
                failing.append(rule.name)
        document = self.document_node(env, model, operation)
        if document != TRUE:
            clause = SqlCompiler(self.registry).compile(document, spec, table)
            query = sa.select(table.c.id).where(table.c.id.in_(ids), clause)
            if set(env.cr.scalars(query)) != set(ids):
                failing.append(f"access to the document ({'/'.join(spec.access_through or ())})")
        if group_rules:
            granted: set[int] = set()
            for rule in group_rules:
                granted |= passing(rule)
            if granted != set(ids):
                failing.extend(rule.name for rule in group_rules)
        return AccessError(
            f"You are not allowed to {operation} '{spec.description}' ({model}) records "
            f"{ids}: refused by the record rule(s) "
            + ", ".join(repr(name) for name in failing)
            + ".",
            model=model,
            operation=operation,
            ids=ids,
            rules=failing,
        )


def _frozen(value: object) -> object:
    """An evaluated domain as a hashable key: lists become tuples, recursively, and
    each value keeps its type (True and 1 are different keys)."""
    if isinstance(value, list | tuple):
        return (type(value).__name__, tuple(_frozen(v) for v in value))
    if isinstance(value, set | frozenset):
        return ("set", frozenset(_frozen(v) for v in value))
    if isinstance(value, dict):
        return ("dict", tuple(sorted((str(k), _frozen(v)) for k, v in value.items())))
    ids = getattr(value, "_ids", None)  # a recordset (user.company_ids)
    if isinstance(ids, tuple):
        return ("records", str(getattr(value, "_name", "")), ids)
    return (type(value).__name__, value)
