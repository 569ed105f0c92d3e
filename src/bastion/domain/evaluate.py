"""The reference evaluator: the same AST, evaluated in pure Python on loaded records.

>>> matches(node, model, record_id, schema, data)  # doctest: +SKIP
True

It is the oracle of the property tests (the SQL path must agree with it record by
record) and the engine of ``explain``. It favours plain, obviously-correct code over
speed. ``data`` maps model name -> record id -> field name -> value, with many2one
values as ids (or None) and x2many values as tuples of ids.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from functools import lru_cache

from .nodes import And, Any, Constant, Node, Not, Or, Reference, Term
from .schema import X2MANY_TYPES, FieldInfo, ModelInfo, SchemaInfo

Dataset = Mapping[str, Mapping[int, Mapping[str, object]]]
# Whether a record of a comodel may be seen by sub-queries (the searching user's
# record rules); None means everything is visible, as for rules (computed as superuser).
Visibility = Callable[[str, int], bool]


def matches(
    node: Node,
    model: ModelInfo,
    record_id: int,
    schema: SchemaInfo,
    data: Dataset,
    visible: Visibility | None = None,
) -> bool:
    return _Evaluator(schema, data, visible).node(node, model, record_id)


def filter_ids(
    node: Node,
    model: ModelInfo,
    schema: SchemaInfo,
    data: Dataset,
    visible: Visibility | None = None,
) -> set[int]:
    """Ids of every record of ``model`` in ``data`` that ``node`` accepts."""
    evaluator = _Evaluator(schema, data, visible)
    return {rid for rid in data.get(model.model_name, {}) if evaluator.node(node, model, rid)}


@lru_cache(maxsize=1024)
def like_regex(pattern: str, ignore_case: bool) -> re.Pattern[str]:
    """SQL LIKE (``%``, ``_``, backslash escapes) as a regular expression."""
    out: list[str] = []
    chars = iter(pattern)
    for char in chars:
        if char == "\\":
            out.append(re.escape(next(chars, "\\")))
        elif char == "%":
            out.append(".*")
        elif char == "_":
            out.append(".")
        else:
            out.append(re.escape(char))
    return re.compile("".join(out), re.DOTALL | (re.IGNORECASE if ignore_case else 0))


class _Evaluator:
    def __init__(self, schema: SchemaInfo, data: Dataset, visible: Visibility | None) -> None:
        self.schema = schema
        self.data = data
        self.visible = visible

    def node(self, node: Node, model: ModelInfo, rid: int) -> bool:
        if isinstance(node, Constant):
            return node.value
        if isinstance(node, And):
            return all(self.node(child, model, rid) for child in node.children)
        if isinstance(node, Or):
            return any(self.node(child, model, rid) for child in node.children)
        if isinstance(node, Not):
            return not self.node(node.child, model, rid)
        if isinstance(node, Any):
            return self.any(node, model, rid)
        if isinstance(node, Reference):
            return self.reference(node, model, rid)
        return self.term(node, model, rid)

    def _value(self, model: ModelInfo, rid: int, field: str) -> object:
        if field == "id":
            return rid
        return self.data[model.model_name][rid].get(field)

    def _related(self, field: FieldInfo, model: ModelInfo, rid: int) -> tuple[int, ...]:
        value = self._value(model, rid, field.name)
        if field.type in X2MANY_TYPES:
            assert isinstance(value, tuple)
            return value
        return () if value is None or value is False else (int(value),)  # type: ignore[call-overload]

    def any(self, node: Any, model: ModelInfo, rid: int) -> bool:
        field = model.field_info(node.field)
        assert field is not None and field.comodel_name is not None
        comodel = self.schema.model_info(field.comodel_name)
        found = any(
            (self.visible is None or self.visible(comodel.model_name, related))
            and self.node(node.domain, comodel, related)
            for related in self._related(field, model, rid)
        )
        return not found if node.negate else found

    def reference(self, node: Reference, model: ModelInfo, rid: int) -> bool:
        if self._value(model, rid, node.model_field) != node.model:
            return False
        target_id = self._value(model, rid, node.id_field)
        records = self.data.get(node.model, {})
        if not isinstance(target_id, int) or target_id not in records:
            return False
        return self.node(node.domain, self.schema.model_info(node.model), target_id)

    def term(self, node: Term, model: ModelInfo, rid: int) -> bool:
        field = model.field_info(node.field)
        assert field is not None
        if field.type in X2MANY_TYPES:
            return self.x2many(node, field, model, rid)
        value = self._value(model, rid, node.field)
        op = node.operator
        if op == "=":
            return _equals(field, value, node.value)
        if op == "!=":
            return not _equals(field, value, node.value)
        if op in ("in", "not in"):
            assert isinstance(node.value, tuple)
            found = any(_equals(field, value, v) for v in node.value)
            return found if op == "in" else not found
        if op in ("<", "<=", ">", ">="):
            if value is None:
                return False
            return bool(_COMPARE[op](value, node.value))
        if op in ("child_of", "parent_of"):
            if value is None:
                return False
            target = (
                model if field.name == "id" else self.schema.model_info(str(field.comodel_name))
            )
            return self.in_hierarchy(target, op, int(value), node.value)  # type: ignore[call-overload]
        return self.like(op, value, node.value)

    def like(self, op: str, value: object, pattern: object) -> bool:
        assert isinstance(pattern, str)
        negate = op.startswith("not ")
        positive = op.replace("not ", "")
        if not positive.startswith("="):
            pattern = f"%{pattern}%"
        found = value is not None and bool(
            like_regex(pattern, positive.endswith("ilike")).fullmatch(str(value))
        )
        return not found if negate else found

    def ancestors(self, model: ModelInfo, rid: int) -> list[int]:
        """``rid`` and every parent above it, nearest first."""
        assert model.parent_name is not None
        records = self.data[model.model_name]
        chain: list[int] = []
        current: object = rid
        while isinstance(current, int) and current in records and current not in chain:
            chain.append(current)
            current = records[current].get(model.parent_name)
        return chain

    def in_hierarchy(self, model: ModelInfo, op: str, rid: int, ids: object) -> bool:
        assert isinstance(ids, tuple)
        if op == "child_of":
            return any(a in ids for a in self.ancestors(model, rid))
        return any(rid in self.ancestors(model, other) for other in ids)

    def x2many(self, node: Term, field: FieldInfo, model: ModelInfo, rid: int) -> bool:
        related = self._related(field, model, rid)
        op, value = node.operator, node.value
        if op in ("child_of", "parent_of"):
            comodel = self.schema.model_info(str(field.comodel_name))
            return any(self.in_hierarchy(comodel, op, r, value) for r in related)
        if op in ("=", "!="):
            found = not related if value is False else value in related
            return found if op == "=" else not found
        assert isinstance(value, tuple) and op in ("in", "not in")
        ids = [v for v in value if v is not False and v is not None]
        found = any(r in ids for r in related) or (len(ids) < len(value) and not related)
        return found if op == "in" else not found


def _equals(field: FieldInfo, value: object, expected: object) -> bool:
    """Odoo's ``=``: False/None stands for "not set" (and for False on booleans)."""
    if field.type == "boolean":
        actual = bool(value)
        return actual is bool(expected)
    if expected is False or expected is None:
        return value is None
    return value is not None and value == expected


_COMPARE: dict[str, Callable[[object, object], object]] = {
    "<": lambda a, b: a < b,  # type: ignore[operator]
    "<=": lambda a, b: a <= b,  # type: ignore[operator]
    ">": lambda a, b: a > b,  # type: ignore[operator]
    ">=": lambda a, b: a >= b,  # type: ignore[operator]
}
