"""Why a user may or may not do something: the decision of ``bastion.security``,
taken apart.

>>> found = explain(env, user, "sale.order", "read", record_id=42)   # doctest: +SKIP
>>> found.sentence
"bob may not read sale.order 42: the record rule 'Portal: own orders' refuses it."

The explanation lists the user's effective groups and how each was reached (the
chain of implied groups), the access-right rows for the model and whether each grants
the operation, every record rule that applies with its domain for this user and,
term by term, whether the record matches, the fields restricted by groups, and the
verdict. It shows rule domains and the verdict, never values of the record: run as
the user's own environment, it explains without revealing more than it decides.
Term checks run the rule's SQL (the same compiler as the decision, which the property
tests hold equal to the reference evaluator).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import sqlalchemy as sa

from bastion.domain import SqlCompiler, parse_domain
from bastion.errors import BastionError

from .groups import implication_path
from .policy import SecurityPolicy
from .state import RuleDef

if TYPE_CHECKING:
    from bastion.orm import Environment, Model


@dataclass(frozen=True)
class GroupReason:
    name: str
    # direct group first, this group last; a single name when given directly
    chain: tuple[str, ...]


@dataclass(frozen=True)
class AccessRowReason:
    name: str
    group: str  # the group's name, or "everyone"
    perms: tuple[str, ...]
    applies: bool  # the user is in the row's group (or the row has none)
    grants: bool  # applies and grants the operation


@dataclass(frozen=True)
class TermReason:
    term: str
    matches: bool | None  # None: no record given


@dataclass(frozen=True)
class RuleReason:
    name: str
    is_global: bool
    domain: str
    matches: bool | None
    terms: tuple[TermReason, ...] = ()
    error: str | None = None


@dataclass(frozen=True)
class FieldReason:
    field: str
    groups: str
    visible: bool


@dataclass
class Explanation:
    login: str
    model: str
    operation: str
    record_id: int | None
    groups: list[GroupReason] = field(default_factory=list)
    access_rows: list[AccessRowReason] = field(default_factory=list)
    access_granted: bool = False
    global_rules: list[RuleReason] = field(default_factory=list)
    group_rules: list[RuleReason] = field(default_factory=list)
    fields: list[FieldReason] = field(default_factory=list)
    record_exists: bool | None = None
    allowed: bool = False
    sentence: str = ""


def explain(
    env: Environment, user: Model, model: str, operation: str, record_id: int | None = None
) -> Explanation:
    """Explain ``operation`` on ``model`` (and on one record) for ``user``.

    ``env`` is any environment of the transaction; the decision is taken in the
    user's own environment, exactly as the data layer takes it.
    """
    registry = env.registry
    if model not in registry.specs:
        raise BastionError(f"unknown model {model!r}")
    su = env(su=True)
    login = str(su["res.users"].browse(user.id).login)
    mine = su.with_user(user.id)
    policy = _policy(env)
    state = policy.state(mine)
    found = Explanation(login, model, operation, record_id)
    direct = state.direct_groups_of(mine, int(user.id))
    graph = state.groups
    for gid in sorted(state.closure_of(mine, int(user.id)), key=lambda g: graph.names.get(g, "")):
        chain = implication_path(graph.implied, direct, gid)
        found.groups.append(
            GroupReason(
                graph.names.get(gid, str(gid)), tuple(graph.names.get(g, "?") for g in chain)
            )
        )
    groups = state.closure_of(mine, int(user.id))
    for row in state.access.get(model, ()):
        applies = row.group_id is None or row.group_id in groups
        found.access_rows.append(
            AccessRowReason(
                row.name,
                "everyone" if row.group_id is None else graph.names.get(row.group_id, "?"),
                tuple(p for p in ("read", "write", "create", "unlink") if p in row.perms),
                applies,
                applies and operation in row.perms,
            )
        )
    found.access_granted = policy.model_allowed(mine, model, operation)
    spec = registry.model_info(model)
    for name, fld in spec.fields.items():
        if fld.groups:
            found.fields.append(FieldReason(name, fld.groups, policy.user_in(mine, fld.groups)))
    if record_id is not None:
        table = spec.table
        found.record_exists = bool(
            su.cr.scalar(
                sa.select(sa.func.count()).select_from(table).where(table.c.id == record_id)
            )
        )
    global_rules, group_rules = policy.applicable_rules(mine, model, operation)
    found.global_rules = [_rule(mine, rule, record_id) for rule in global_rules]
    found.group_rules = [_rule(mine, rule, record_id) for rule in group_rules]
    _verdict(found, mine)
    return found


def _policy(env: Environment) -> SecurityPolicy:
    policy = env.registry.security
    assert isinstance(policy, SecurityPolicy)
    return policy


def _rule(env: Environment, rule: RuleDef, record_id: int | None) -> RuleReason:
    try:
        domain = _policy(env).evaluated_domain(env, rule)
    except BastionError as exc:
        return RuleReason(rule.name, rule.is_global, rule.text, False, error=str(exc))
    terms = tuple(
        TermReason(
            repr(part if len(part) > 1 else part[0]), _matches(env, rule.model, part, record_id)
        )
        for part in top_level_parts(domain)
    )
    matches = None if record_id is None else all(t.matches for t in terms)
    return RuleReason(rule.name, rule.is_global, repr(domain), matches, terms)


def _matches(
    env: Environment, model: str, domain: list[object], record_id: int | None
) -> bool | None:
    if record_id is None:
        return None
    registry = env.registry
    spec = registry.model_info(model)
    # Rules are computed as superuser: their sub-queries see every row.
    node = parse_domain(domain, spec, registry)
    clause = SqlCompiler(registry).compile(node, spec, spec.table)
    query = sa.select(spec.table.c.id).where(spec.table.c.id == record_id, clause)
    return env.cr.scalar(query) is not None


def top_level_parts(domain: list[object]) -> list[list[object]]:
    """A domain's operands of the implicit AND: ``['|', a, b, c]`` -> ``[['|', a, b], [c]]``."""
    parts: list[list[object]] = []
    index = 0
    while index < len(domain):
        start, needed = index, 1
        while needed and index < len(domain):
            item = domain[index]
            needed += {"&": 1, "|": 1, "!": 0}.get(item, -1) if isinstance(item, str) else -1
            index += 1
        parts.append(list(domain[start:index]))
    return parts


def _verdict(found: Explanation, env: Environment) -> None:
    who, what = found.login, f"{found.operation} {found.model}"
    target = f"{what} {found.record_id}" if found.record_id is not None else what + " records"
    if not found.access_granted:
        granting = sorted({r.group for r in found.access_rows if found.operation in r.perms})
        hint = f" (it is granted to: {', '.join(granting)})" if granting else " (no group has it)"
        found.sentence = f"{who} may not {target}: no access right grants {found.operation}{hint}."
        return
    if found.record_id is None:
        found.allowed = True
        found.sentence = f"{who} may {what} records, within the record rules listed."
        return
    if not found.record_exists:
        found.sentence = f"{who} may not {target}: the record does not exist."
        return
    failing = [r.name for r in found.global_rules if not r.matches]
    if found.group_rules and not any(r.matches for r in found.group_rules):
        failing += [r.name for r in found.group_rules]
    has_document = env.registry.model_info(found.model).access_through is not None
    if not failing and has_document:
        record = env[found.model].browse(found.record_id)
        if not record.has_access(found.operation):
            failing.append("access to the document it belongs to")
    found.allowed = not failing
    if failing:
        names = ", ".join(repr(n) for n in failing)
        found.sentence = f"{who} may not {target}: refused by the record rule(s) {names}."
    elif not found.global_rules and not found.group_rules:
        found.sentence = f"{who} may {target}: an access right grants it and no rule applies."
    else:
        found.sentence = f"{who} may {target}: the access right and every rule that applies agree."
