"""The security configuration of a database, loaded once per version and cached.

>>> config = SecurityState.load(env)          # doctest: +SKIP
>>> config.closure_of(env, uid)               # effective groups of a user

Everything here is read as superuser, so nothing is filtered by the rules it serves.
A version token in the database changes whenever groups, access rights, rules or
users' groups change (in any transaction or worker); a cache built for one token is
never used for another.
"""

from __future__ import annotations

import weakref
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from bastion.expr import RULE_PROFILE, CompiledExpression, compile_expression

from .groups import Graph, closure
from .rule_values import ValueSources

if TYPE_CHECKING:
    from bastion.orm.environment import Environment
    from bastion.orm.registry import ModelRegistry

PERMS = ("read", "write", "create", "unlink")


@dataclass(frozen=True)
class AccessRow:
    name: str
    group_id: int | None
    perms: frozenset[str]


@dataclass(frozen=True)
class RuleDef:
    id: int
    name: str
    model: str
    groups: frozenset[int]
    perms: frozenset[str]
    text: str
    expression: CompiledExpression | None  # None: the text failed to compile (deny)

    @property
    def is_global(self) -> bool:
        return not self.groups


class RegistrySchema:
    """bastion.expr.SchemaLookup over a registry: rule attribute chains are checked
    against declared fields."""

    def __init__(self, registry: ModelRegistry) -> None:
        self.registry = registry

    def field_target(self, model: str, field_name: str) -> tuple[str, bool] | None:
        spec = self.registry.specs.get(model)
        fld = None if spec is None else spec.fields.get(field_name)
        if fld is None:
            return None
        if fld.comodel_name is None:
            return ("", False)
        return (fld.comodel_name, fld.type != "many2one")


def compile_rule_text(registry: ModelRegistry, text: str) -> CompiledExpression:
    return compile_expression(text, RULE_PROFILE, schema=RegistrySchema(registry))


# registry -> (schema generation, rule text -> its compiled form)
_COMPILED: weakref.WeakKeyDictionary[ModelRegistry, tuple[int, dict[str, CompiledExpression]]] = (
    weakref.WeakKeyDictionary()
)
MAX_COMPILED = 4096


def kept_rule_text(registry: ModelRegistry, text: str) -> CompiledExpression:
    """``compile_rule_text``, kept while the models stay as they are: a security
    version is loaded after every change (a user given a group), and its rules are
    nearly all the previous version's. A text that does not compile raises each time."""
    generation, kept = _COMPILED.get(registry, (-1, {}))
    if generation != registry.schema_generation or len(kept) >= MAX_COMPILED:
        kept = {}
        _COMPILED[registry] = (registry.schema_generation, kept)
    found = kept.get(text)
    if found is None:
        found = compile_rule_text(registry, text)
        kept[text] = found
    return found


@dataclass(frozen=True)
class GroupGraph:
    """Groups, their implications, names and XML ids (all of them: a small table)."""

    implied: Graph
    names: dict[int, str]
    xmlids: dict[str, int]

    @classmethod
    def load(cls, env: Environment) -> GroupGraph:
        su = env(su=True)
        groups = su["res.groups"].search([])
        implied = {int(g.id): tuple(g.implied_ids.ids) for g in groups}
        names = {int(g.id): str(g.full_name) for g in groups}
        xmlids: dict[str, int] = {}
        data = su["ir.model.data"].search([("model", "=", "res.groups")])
        for row in data.read(["module", "name", "res_id"]):
            xmlids[f"{row['module']}.{row['name']}"] = int(row["res_id"])  # type: ignore[call-overload]
        return cls(implied, names, xmlids)


def direct_groups(
    env: Environment, user_ids: Sequence[int] | None = None
) -> dict[int, tuple[int, ...]]:
    """The groups given to each user directly (all users, inactive included, when
    ``user_ids`` is None)."""
    users = env(su=True)["res.users"]
    if user_ids is None:
        users = users.search([("active", "in", [True, False])])
    else:
        users = users.browse(user_ids)
    return {int(u.id): tuple(u.group_ids.ids) for u in users}


@dataclass
class SecurityState:
    groups: GroupGraph
    access: dict[str, list[AccessRow]]
    rules: dict[str, list[RuleDef]]
    sources: ValueSources  # what the rules' user values are read from
    memo: dict[object, object] = field(default_factory=dict)

    @classmethod
    def load(cls, env: Environment) -> SecurityState:
        """Groups, access rights and rules; users' groups are read as they are asked
        for (:meth:`direct_groups_of`): a database has many users, few of them active
        in one version (with 10,000 users, reading all their groups made a load take
        140 ms instead of 5, docs/performance.md)."""
        su = env(su=True)
        registry = env.registry
        groups = GroupGraph.load(su)
        access: dict[str, list[AccessRow]] = {}
        for acl in su["ir.model.access"].search([]):
            perms = frozenset(p for p in PERMS if acl[f"perm_{p}"])
            group = acl.group_id.id or None
            access.setdefault(str(acl.model_id.model), []).append(
                AccessRow(str(acl.name), group, perms)
            )
        rules: dict[str, list[RuleDef]] = {}
        for rule in su["ir.rule"].search([]):
            text = str(rule.domain_force or "[]")
            try:
                compiled: CompiledExpression | None = kept_rule_text(registry, text)
            except Exception:  # noqa: BLE001 - a rule that no longer compiles denies
                compiled = None
            model = str(rule.model_id.model)
            rules.setdefault(model, []).append(
                RuleDef(
                    id=int(rule.id),
                    name=str(rule.name),
                    model=model,
                    groups=frozenset(rule.groups.ids),
                    perms=frozenset(p for p in PERMS if rule[f"perm_{p}"]),
                    text=text,
                    expression=compiled,
                )
            )
        every = [rule for model_rules in rules.values() for rule in model_rules]
        sources = ValueSources.of_rules(every, registry)
        return cls(groups, access, rules, sources)

    def direct_groups_of(self, env: Environment, uid: int) -> tuple[int, ...]:
        """The groups given to ``uid`` directly, read in ``env``'s transaction the
        first time they are asked for, and kept for the version.

        A transaction reads what was committed when it started or later, never older:
        what it keeps in a shared state is at least as new as the state's version. Only
        transactions that started before a newer version can see those groups, as if
        they had started a moment later. A transaction writing users or groups is given
        a state of its own (``SecurityPolicy.state``), so what it reads of its own
        writes never reaches another one.
        """
        key = ("groups", uid)
        found = self.memo.get(key)
        if isinstance(found, tuple):
            return found
        read = direct_groups(env, [uid]).get(uid, ())
        self.memo[key] = read
        return read

    def closure_of(self, env: Environment, uid: int) -> frozenset[int]:
        """The effective groups of ``uid``: its own and all they imply."""
        key = ("closure", uid)
        found = self.memo.get(key)
        if isinstance(found, frozenset):
            return found
        effective = closure(self.groups.implied, self.direct_groups_of(env, uid))
        self.memo[key] = effective
        return effective

    def group_id(self, xmlid: str) -> int | None:
        return self.groups.xmlids.get(xmlid)
