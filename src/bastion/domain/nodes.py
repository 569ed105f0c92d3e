"""The domain AST: small immutable nodes shared by the SQL compiler and the evaluator.

>>> Or((Term(("state",), "=", "sale"), Not(Term(("amount",), "<", 10))))  # doctest: +SKIP

A normalised domain is a tree of :class:`And`, :class:`Or`, :class:`Not`,
:class:`Term`, :class:`Any` and :data:`TRUE`/:data:`FALSE`. Paths are already split
(``partner_id.name`` becomes an :class:`Any` over ``partner_id`` holding the term on
``name``); ``!`` has been pushed down to the terms that have a negated operator.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypeAlias

# Operators a Term may carry after normalisation (``=?`` and dotted paths are resolved
# away; ``any``/``not any`` become Any nodes).
COMPARISON_OPERATORS = frozenset({"=", "!=", "<", "<=", ">", ">="})
LIKE_OPERATORS = frozenset({"like", "not like", "ilike", "not ilike", "=like", "=ilike"})
SET_OPERATORS = frozenset({"in", "not in"})
HIERARCHY_OPERATORS = frozenset({"child_of", "parent_of"})
TERM_OPERATORS = COMPARISON_OPERATORS | LIKE_OPERATORS | SET_OPERATORS | HIERARCHY_OPERATORS
ANY_OPERATORS = frozenset({"any", "not any"})
ALL_OPERATORS = TERM_OPERATORS | ANY_OPERATORS | {"=?"}

# Operators that match the records where the positive form does not (NULL included).
NEGATIONS = {
    "=": "!=",
    "!=": "=",
    "in": "not in",
    "not in": "in",
    "like": "not like",
    "not like": "like",
    "ilike": "not ilike",
    "not ilike": "ilike",
}


@dataclass(frozen=True, slots=True)
class Constant:
    """A leaf that is always true or always false: ``(1, '=', 1)`` / ``(0, '=', 1)``."""

    value: bool


TRUE = Constant(True)
FALSE = Constant(False)


@dataclass(frozen=True, slots=True)
class Term:
    """``field op value`` on one stored field of the current model.

    ``value`` has been converted to the field's Python type (ints for relations,
    ``date`` for dates...); lists are tuples so the node stays hashable.
    """

    field: str
    operator: str
    value: object


@dataclass(frozen=True, slots=True)
class Any:
    """``field any subdomain`` over a relational field (``negate`` for ``not any``).

    The sub-domain applies to the field's comodel.
    """

    field: str
    domain: Node
    negate: bool = False


@dataclass(frozen=True, slots=True)
class Reference:
    """The document a record points at through a (model name, id) pair of fields, as
    a message's ``res_model``/``res_id``, is a record of ``model`` matching ``domain``.

    Never written by users: the security layer builds it for models whose access
    follows the document they belong to (messages, attachments).
    """

    model_field: str
    id_field: str
    model: str
    domain: Node


@dataclass(frozen=True, slots=True)
class Not:
    child: Node


@dataclass(frozen=True, slots=True)
class And:
    children: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class Or:
    children: tuple[Node, ...]


Node: TypeAlias = Constant | Term | Any | Reference | Not | And | Or


def conjunction(nodes: list[Node] | tuple[Node, ...]) -> Node:
    """AND of ``nodes``, simplified: TRUE operands vanish, a FALSE one wins."""
    flat: list[Node] = []
    for node in nodes:
        if node == TRUE:
            continue
        if node == FALSE:
            return FALSE
        if isinstance(node, And):
            flat.extend(node.children)
        else:
            flat.append(node)
    if not flat:
        return TRUE
    return flat[0] if len(flat) == 1 else And(tuple(flat))


def disjunction(nodes: list[Node] | tuple[Node, ...]) -> Node:
    """OR of ``nodes``, simplified: FALSE operands vanish, a TRUE one wins."""
    flat: list[Node] = []
    for node in nodes:
        if node == FALSE:
            continue
        if node == TRUE:
            return TRUE
        if isinstance(node, Or):
            flat.extend(node.children)
        else:
            flat.append(node)
    if not flat:
        return FALSE
    return flat[0] if len(flat) == 1 else Or(tuple(flat))


def negation(node: Node) -> Node:
    """NOT ``node`` pushed down: De Morgan through And/Or, negated operators on terms.

    Every node is two-valued (a NULL column makes a positive term false, never
    unknown), so ``!(a = 1)`` is exactly ``a != 1`` and matches NULL rows, as in Odoo.
    """
    if isinstance(node, Constant):
        return Constant(not node.value)
    if isinstance(node, Not):
        return node.child
    if isinstance(node, And):
        return disjunction([negation(child) for child in node.children])
    if isinstance(node, Or):
        return conjunction([negation(child) for child in node.children])
    if isinstance(node, Any):
        return Any(node.field, node.domain, not node.negate)
    if isinstance(node, Reference):
        return Not(node)
    negated = NEGATIONS.get(node.operator)
    if negated is not None:
        return Term(node.field, negated, node.value)
    return Not(node)
