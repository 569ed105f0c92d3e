"""Record-rule checks: inconsistent global/groups, no operation, domains outside the
whitelist or naming unknown fields, and the portal isolation analysis.

>>> [f.check for f in check_rules(tree)]                             # doctest: +SKIP
['BST-ODOO-RULE-LEAKY', 'BST-ODOO-PORTAL-NO-RULE']

Isolation, for each model portal users can read: the rules that apply are
``AND(global rules) AND OR(group rules of the portal groups)``. Portal users are kept
apart when one global rule separates them (see :mod:`..simulate`) or when every
applicable group rule does. Otherwise a group rule that does not separate them is
leaky (OR-ed, it opens all its records to every portal user); with no group rule at
all the model has no rule restricting portal.
"""

from __future__ import annotations

from bastion.domain.parse import parse_domain
from bastion.errors import DomainError

from ..domain_schema import StaticSchema
from ..findings import Finding, finding
from ..permissions import (
    access_matrix,
    access_restrictions,
    rule_model,
    rules_applying,
    user_type_groups,
)
from ..security_files import RuleDef
from ..simulate import RuleOutcome, simulate_rule
from ..workspace import OdooTree

# Parser messages that are mistakes of the rule, not of what the audit cannot see.
FIELD_REASONS = ("unknown field", "is not stored", "is not relational")
SHAPE_REASONS = ("unknown operator", "expected a term", "needs two operands", "needs an operand",
                 "a domain must be a list", "the field of a term must be a name")  # fmt: skip


def check_rules(tree: OdooTree) -> list[Finding]:
    schema = StaticSchema(tree)
    outcomes: dict[str, RuleOutcome] = {}
    found: list[Finding] = []
    for rule in tree.security.rules:
        found.extend(_shape(rule))
        outcome = simulate_rule(rule.domain or "[]", schema)
        outcomes[rule.xmlid] = outcome
        found.extend(_domain(tree, schema, rule, outcome))
    found.extend(_isolation(tree, outcomes))
    return found


def _at(check: str, rule: RuleDef, message: str) -> Finding:
    return finding(check, rule.place.rel, rule.place.line, message)


def _shape(rule: RuleDef) -> list[Finding]:
    found: list[Finding] = []
    if rule.global_given is True and rule.groups:
        message = (
            f"rule {rule.xmlid} sets global but has groups ({', '.join(rule.groups)}): Odoo "
            "ignores global, so this is a group rule, OR-ed with the other group rules"
        )
        found.append(_at("BST-ODOO-RULE-GROUPS-GLOBAL", rule, message))
    elif rule.global_given is False and not rule.groups:
        message = f"rule {rule.xmlid} sets global=False but has no groups: it is global anyway"
        found.append(_at("BST-ODOO-RULE-GROUPS-GLOBAL", rule, message))
    if not rule.perms:
        message = f"rule {rule.xmlid} sets every perm_* to false: it restricts no operation"
        found.append(_at("BST-ODOO-RULE-NO-PERM", rule, message))
    return found


def _domain(
    tree: OdooTree, schema: StaticSchema, rule: RuleDef, outcome: RuleOutcome
) -> list[Finding]:
    model = rule_model(tree, rule)
    if outcome.error is not None:
        error = outcome.error
        check = "BST-ODOO-RULE-DOMAIN-INVALID"
        if "is not a field of" in str(error):
            check = "BST-ODOO-RULE-UNKNOWN-FIELD"
        return [_at(check, rule, f"rule {rule.xmlid} on {model}: {error}")]
    if outcome.domains is None or model is None:
        return []
    domain = outcome.domains[0]
    if not isinstance(domain, list | tuple):
        message = f"rule {rule.xmlid} on {model}: the domain is not a list"
        return [_at("BST-ODOO-RULE-DOMAIN-INVALID", rule, message)]
    try:
        parse_domain(list(domain), schema.model_info(model), schema)
    except DomainError as exc:
        reason = exc.reason
        if any(key in reason for key in FIELD_REASONS):
            return [_at("BST-ODOO-RULE-UNKNOWN-FIELD", rule, f"rule {rule.xmlid}: {exc}")]
        if any(key in reason for key in SHAPE_REASONS):
            return [_at("BST-ODOO-RULE-DOMAIN-INVALID", rule, f"rule {rule.xmlid}: {exc}")]
    return []


def _isolation(tree: OdooTree, outcomes: dict[str, RuleOutcome]) -> list[Finding]:
    types = user_type_groups(tree)
    matrix = access_matrix(tree)
    found: list[Finding] = []
    leaky: set[str] = set()
    for kind in ("portal", "public"):
        for model, ops in sorted(matrix[kind].items()):
            rows = ops.get("read")
            if not rows:
                continue
            global_rules, group_rules = rules_applying(tree, model, "read", types[kind])
            restrictions = access_restrictions(tree, model, "read")
            row = rows[0]
            if kind == "public":
                if not global_rules and not group_rules and not restrictions:
                    message = (
                        f"public (anonymous) users may read every {model} record "
                        f"({row.xmlid}) and no record rule restricts them"
                    )
                    found.append(
                        finding("BST-ODOO-PUBLIC-NO-RULE", row.place.rel, row.place.line, message)
                    )
                continue
            if any(outcomes[r.xmlid].separates for r in global_rules):
                continue
            if any(r.domain and simulate_rule(r.domain).separates for r in restrictions):
                continue
            if group_rules and all(outcomes[r.xmlid].separates for r in group_rules):
                continue
            open_rules = [
                r for r in group_rules
                if outcomes[r.xmlid].error is None and not outcomes[r.xmlid].separates
            ]  # fmt: skip
            for rule in open_rules:
                if rule.xmlid not in leaky:
                    leaky.add(rule.xmlid)
                    message = (
                        f"rule {rule.xmlid} on {model} gives every portal user the same "
                        f"records: its domain {rule.domain or '[]'} does not depend on the user"
                    )
                    found.append(_at("BST-ODOO-RULE-LEAKY", rule, message))
            if not group_rules:
                others = ", ".join(r.xmlid for r in global_rules) or "none"
                message = (
                    f"portal users may read {model} ({row.xmlid}) and no rule separates one "
                    f"customer's records from another's (global rules: {others})"
                )
                found.append(
                    finding("BST-ODOO-PORTAL-NO-RULE", row.place.rel, row.place.line, message)
                )
    return found
