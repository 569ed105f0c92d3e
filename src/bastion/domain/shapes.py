"""A caller's domain with its values taken out, so that one statement serves every
search of the same shape.

>>> shape, values = domain_shape(node, model)  # doctest: +SKIP
>>> shape            # Term("state", "in", (Value(0), Value(1)))      # doctest: +SKIP
>>> values           # ("sale", "sent")                                 # doctest: +SKIP

A search with a domain used to build its SQL expression and its statement anew at
every call, and SQLAlchemy to walk the whole statement, the rules in it, for its cache
key: measured at PostgreSQL 10k, a portal user's count of orders ``state in ('sale',
'sent')`` took 0.44-0.52 ms of client time where the count of all took 0.13. With the
values as named parameters, the statement is built once per shape (``bastion.orm.kept``)
and each call brings only its values.

Only values the compiler binds as they are become parameters: strings, numbers, dates,
and the pattern of a ``like`` (written as the compiler would write it, see
:func:`like_pattern`). ``True``, ``False`` and ``None`` choose the SQL (``IS NULL``,
``OR col IS NULL``) and stay in the shape. Terms the compiler may turn into sub-queries
over other models (paths, ``any``, to-many fields, references) read the user's rules on
those models, so a domain holding one has no shape and is compiled for each call, as
before.
"""

from __future__ import annotations

import datetime
import decimal
from dataclasses import dataclass

from .nodes import LIKE_OPERATORS, And, Constant, Node, Not, Or, Term
from .schema import X2MANY_TYPES, ModelInfo

# The most values one shape takes out: longer lists (the ids an API call sends) would
# make one statement per length, each kept; they are compiled per call instead.
MAX_VALUES = 32
# Subclasses included (an IntEnum, Markup): left in the shape, an IntEnum's 0 would be
# equal to False there, and share its template (``IS NULL``). A bool is an int to
# isinstance, and is tested first: it must stay in the shape.
_BOUND_TYPES = (str, int, float, decimal.Decimal, datetime.date)


@dataclass(frozen=True, slots=True)
class Value:
    """The place of the ``index``-th value taken out of a domain."""

    index: int


def like_pattern(operator: str, value: str) -> str:
    """What a ``like`` term matches its column against: ``=like`` and ``=ilike`` take
    the value as a pattern, the others look for it anywhere."""
    return value if operator.startswith("=") else f"%{value}%"


def domain_shape(node: Node, model: ModelInfo) -> tuple[Node, tuple[object, ...]] | None:
    """``node`` with each bound value replaced by a :class:`Value`, and the values in
    index order; None when the node holds a term that has no shape (see above)."""
    values: list[object] = []
    shape = _walk(node, model, values)
    if shape is None or len(values) > MAX_VALUES:
        return None
    return shape, tuple(values)


def _walk(node: Node, model: ModelInfo, values: list[object]) -> Node | None:
    if isinstance(node, Constant):
        return node
    if isinstance(node, And | Or):
        children = []
        for child in node.children:
            shaped = _walk(child, model, values)
            if shaped is None:
                return None
            children.append(shaped)
        return type(node)(tuple(children))
    if isinstance(node, Not):
        inner = _walk(node.child, model, values)
        return None if inner is None else Not(inner)
    if not isinstance(node, Term):
        return None  # Any, Reference: sub-queries over other models
    field = model.field_info(node.field)
    if field is None or field.type in X2MANY_TYPES:
        return None
    if node.operator in LIKE_OPERATORS:
        if not isinstance(node.value, str):
            return None
        pattern = like_pattern(node.operator, node.value)
        return Term(node.field, node.operator, _taken(pattern, values))
    if isinstance(node.value, tuple):
        return Term(node.field, node.operator, tuple(_taken(v, values) for v in node.value))
    return Term(node.field, node.operator, _taken(node.value, values))


def _taken(value: object, values: list[object]) -> object:
    if isinstance(value, bool) or not isinstance(value, _BOUND_TYPES):
        return value
    values.append(value)
    return Value(len(values) - 1)


__all__ = ["MAX_VALUES", "Value", "domain_shape", "like_pattern"]
