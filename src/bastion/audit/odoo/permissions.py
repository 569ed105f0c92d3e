"""Effective permissions of portal, public and internal users across a whole tree.

>>> graph = GroupGraph.of(tree.security)                       # doctest: +SKIP
>>> graph.chain(["base.group_portal"], "base.group_user")      # doctest: +SKIP
['base.group_portal', 'x.group_helper', 'base.group_user']
>>> matrix = access_matrix(tree)                                # doctest: +SKIP
>>> sorted(matrix["portal"]["helpdesk.ticket"])                 # doctest: +SKIP
['read']

The group closure is :func:`bastion.security.groups.closure` over the tree's
``implied_ids`` (a -> b) and ``implied_by_ids`` (b -> a) edges. A user type's closure
starts from its group alone: what every user of that type has. Access rights follow
Odoo: ``ir.model.access`` rows of the user's groups or with no group add up;
``ir.access`` rows with a group grant, rows without one only narrow.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from bastion.security.groups import closure, implication_path

from .catalog import USER_TYPE_GROUPS
from .security_files import OPERATIONS, AccessRow, RuleDef, SecurityData
from .workspace import OdooTree


@dataclass(frozen=True)
class GroupGraph:
    ids: dict[str, int]
    names: dict[int, str]
    edges: dict[int, tuple[int, ...]]

    @classmethod
    def of(cls, security: SecurityData) -> GroupGraph:
        ids: dict[str, int] = {}

        def number(xmlid: str) -> int:
            return ids.setdefault(xmlid, len(ids))

        edges: dict[int, set[int]] = {}
        for group in security.groups.values():
            source = number(group.xmlid)
            for target in group.implied:
                edges.setdefault(source, set()).add(number(target))
            for origin in group.implied_by:
                edges.setdefault(number(origin), set()).add(source)
        for xmlid in USER_TYPE_GROUPS.values():
            number(xmlid)
        names = {i: x for x, i in ids.items()}
        return cls(ids, names, {k: tuple(sorted(v)) for k, v in edges.items()})

    def closure(self, groups: Iterable[str]) -> frozenset[str]:
        start = [self.ids[g] for g in groups if g in self.ids]
        extra = {g for g in groups if g not in self.ids}
        return frozenset({self.names[i] for i in closure(self.edges, start)} | extra)

    def chain(self, start: Iterable[str], goal: str) -> list[str]:
        """The shortest implication chain from one of ``start`` to ``goal`` ([] if none)."""
        if goal not in self.ids:
            return []
        first = [self.ids[g] for g in start if g in self.ids]
        return [self.names[i] for i in implication_path(self.edges, first, self.ids[goal])]


def user_type_groups(tree: OdooTree) -> dict[str, frozenset[str]]:
    """``{"portal": closure of base.group_portal, ...}`` for the three user types."""
    graph = GroupGraph.of(tree.security)
    return {kind: graph.closure([group]) for kind, group in USER_TYPE_GROUPS.items()}


def access_model(tree: OdooTree, row: AccessRow) -> str:
    """The model name of an access row (its XML id when no model of the tree matches)."""
    if not row.model_is_xmlid:
        return row.model
    return tree.model_name(row.model) or row.model


def rule_model(tree: OdooTree, rule: RuleDef) -> str | None:
    if rule.model is None:
        return None
    return tree.model_name(rule.model) or rule.model


Matrix = dict[str, dict[str, dict[str, list[AccessRow]]]]


def access_matrix(tree: OdooTree) -> Matrix:
    """user type -> model -> operation -> the rows that grant it (missing: not granted)."""
    types = user_type_groups(tree)
    matrix: Matrix = {kind: {} for kind in types}
    for kind, groups in types.items():
        for row in tree.security.access:
            if row.kind == "access" and row.group is None:
                continue  # an Odoo 19 restriction narrows, it grants nothing
            if row.group is not None and row.group not in groups:
                continue
            model = access_model(tree, row)
            for op in row.perms:
                matrix[kind].setdefault(model, {}).setdefault(op, []).append(row)
    return matrix


def rules_applying(
    tree: OdooTree, model: str, operation: str, groups: frozenset[str]
) -> tuple[list[RuleDef], list[RuleDef]]:
    """(global rules, group rules of ``groups``) restricting ``operation`` on ``model``."""
    global_rules: list[RuleDef] = []
    group_rules: list[RuleDef] = []
    for rule in tree.security.rules:
        if not rule.active or operation not in rule.perms or rule_model(tree, rule) != model:
            continue
        if not rule.groups:
            global_rules.append(rule)
        elif groups.intersection(rule.groups):
            group_rules.append(rule)
    return global_rules, group_rules


def access_restrictions(tree: OdooTree, model: str, operation: str) -> list[AccessRow]:
    """Odoo 19 ``ir.access`` rows without a group: they narrow like global rules."""
    return [
        row
        for row in tree.security.access
        if row.kind == "access"
        and row.group is None
        and operation in row.perms
        and access_model(tree, row) == model
    ]


__all__ = [
    "OPERATIONS", "GroupGraph", "Matrix", "access_matrix", "access_model",
    "access_restrictions", "rule_model", "rules_applying", "user_type_groups",
]  # fmt: skip
