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
from bastion.memo import BoundedMemo, Memo

from .groups import Graph, closure
from .rule_values import ValueSources

if TYPE_CHECKING:
    from bastion.orm.environment import Environment
    from bastion.orm.registry import ModelRegistry

PERMS = ("read", "write", "create", "unlink")
# Entries of a security version's memo (SecurityState.memo) at most: a user's groups,
# access answers, combined rules and their SQL, about fifteen for a portal user of four
# document models, so a worker keeps those of its few thousand most recent users.
STATE_MEMO_ENTRIES = 65_536


def new_state_memo(entries: int | None = None) -> BoundedMemo[object, object]:
    """A security version's memo of ``entries`` (None: STATE_MEMO_ENTRIES)."""
    return BoundedMemo(STATE_MEMO_ENTRIES if entries is None else entries)


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


def _int(value: object) -> int:
    assert isinstance(value, int)
    return value


def _ints(value: object) -> list[int]:
    assert isinstance(value, list)
    return [_int(v) for v in value]


def _pair(value: object) -> tuple[int, str] | None:
    """A many2one as read() gives it, (id, display name), or None for False."""
    if value is False:
        return None
    assert isinstance(value, tuple | list) and len(value) == 2
    return _int(value[0]), str(value[1])


def _model_of(models: dict[int, str], value: object) -> str:
    pair = _pair(value)
    assert pair is not None  # model_id is required
    return models[pair[0]]


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
_COMPILED: weakref.WeakKeyDictionary[
    ModelRegistry, tuple[int, BoundedMemo[str, CompiledExpression]]
] = weakref.WeakKeyDictionary()
MAX_COMPILED = 4096


def kept_rule_text(registry: ModelRegistry, text: str) -> CompiledExpression:
    """``compile_rule_text``, kept while the models stay as they are: a security
    version is loaded after every change (a user given a group), and its rules are
    nearly all the previous version's. A text that does not compile raises each time."""
    entry = _COMPILED.get(registry)
    if entry is None or entry[0] != registry.schema_generation:
        entry = _COMPILED[registry] = (registry.schema_generation, BoundedMemo(MAX_COMPILED))
    kept = entry[1]
    found = kept.get(text)
    if found is None:
        found = compile_rule_text(registry, text)
        kept[text] = found
    return found


# registry -> (schema generation, the rules' texts, what they read)
_SOURCES: weakref.WeakKeyDictionary[ModelRegistry, tuple[int, frozenset[str], ValueSources]] = (
    weakref.WeakKeyDictionary()
)


def kept_sources(registry: ModelRegistry, rules: Sequence[RuleDef]) -> ValueSources:
    """``ValueSources.of_rules``, kept while the rule texts and the models stay the
    same: most security versions change groups or users (a portal signup), not rules,
    and finding what the rules read walks every rule and every many2one."""
    texts = frozenset(rule.text for rule in rules if rule.expression is not None)
    kept = _SOURCES.get(registry)
    if kept is not None and kept[0] == registry.schema_generation and kept[1] == texts:
        return kept[2]
    sources = ValueSources.of_rules(rules, registry)
    _SOURCES[registry] = (registry.schema_generation, texts, sources)
    return sources


@dataclass(frozen=True)
class GroupGraph:
    """Groups, their implications, names and XML ids (all of them: a small table)."""

    implied: Graph
    names: dict[int, str]
    xmlids: dict[str, int]

    @classmethod
    def load(cls, env: Environment) -> GroupGraph:
        su = env(su=True)
        implied: dict[int, tuple[int, ...]] = {}
        names: dict[int, str] = {}
        # Rows rather than records: a version is loaded after every security change,
        # and reading records field by field made most of its time (docs/performance.md).
        for row in su["res.groups"].search_read([], ["name", "category_id", "implied_ids"]):
            gid = _int(row["id"])
            implied[gid] = tuple(_ints(row["implied_ids"]))
            category = _pair(row["category_id"])
            # res.groups.full_name: "Category / Name"
            names[gid] = f"{category[1]} / {row['name']}" if category else str(row["name"])
        xmlids: dict[str, int] = {}
        data = su["ir.model.data"].search_read(
            [("model", "=", "res.groups")], ["module", "name", "res_id"]
        )
        for row in data:
            xmlids[f"{row['module']}.{row['name']}"] = _int(row["res_id"])
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
    memo: Memo = field(default_factory=new_state_memo)

    @classmethod
    def load(cls, env: Environment, memo_entries: int | None = None) -> SecurityState:
        """Groups, access rights and rules; users' groups are read as they are asked
        for (:meth:`direct_groups_of`): a database has many users, few of them active
        in one version (with 10,000 users, reading all their groups made a load take
        140 ms instead of 5, docs/performance.md). The memo keeps ``memo_entries``
        (None: STATE_MEMO_ENTRIES)."""
        su = env(su=True)
        registry = env.registry
        groups = GroupGraph.load(su)
        models = {
            _int(row["id"]): str(row["model"]) for row in su["ir.model"].search_read([], ["model"])
        }
        perm_fields = [f"perm_{p}" for p in PERMS]
        access: dict[str, list[AccessRow]] = {}
        for row in su["ir.model.access"].search_read(
            [], ["name", "model_id", "group_id", *perm_fields]
        ):
            perms = frozenset(p for p in PERMS if row[f"perm_{p}"])
            group = _pair(row["group_id"])
            access.setdefault(_model_of(models, row["model_id"]), []).append(
                AccessRow(str(row["name"]), group[0] if group else None, perms)
            )
        rules: dict[str, list[RuleDef]] = {}
        for row in su["ir.rule"].search_read(
            [], ["name", "model_id", "groups", "domain_force", *perm_fields]
        ):
            text = str(row["domain_force"] or "[]")
            try:
                compiled: CompiledExpression | None = kept_rule_text(registry, text)
            except Exception:  # noqa: BLE001 - a rule that no longer compiles denies
                compiled = None
            model = _model_of(models, row["model_id"])
            rules.setdefault(model, []).append(
                RuleDef(
                    id=_int(row["id"]),
                    name=str(row["name"]),
                    model=model,
                    groups=frozenset(_ints(row["groups"])),
                    perms=frozenset(p for p in PERMS if row[f"perm_{p}"]),
                    text=text,
                    expression=compiled,
                )
            )
        every = [rule for model_rules in rules.values() for rule in model_rules]
        sources = kept_sources(registry, every)
        return cls(groups, access, rules, sources, new_state_memo(memo_entries))

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
