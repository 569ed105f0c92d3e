"""Parse, validate and normalise Odoo domains into the AST of :mod:`.nodes`.

>>> parse_domain([("state", "=", "sale"), "|", ("a", "=", 1), ("b", "!=", False)], model, schema)
... # doctest: +SKIP

A domain is a list in prefix notation: ``'&'`` and ``'|'`` take two operands, ``'!'``
one, consecutive items are implicitly AND-ed. Each term is validated against the
model: unknown fields, unstored fields, bad operators and values of the wrong type
raise :class:`~bastion.errors.DomainError` naming the term. Values are converted to
the field's Python type. Text domains are read with :func:`ast.literal_eval` only.
"""

from __future__ import annotations

import ast
import datetime as dt
from collections.abc import Sequence
from typing import cast

from bastion.errors import DomainError

from .nodes import (
    ALL_OPERATORS,
    FALSE,
    TRUE,
    Any,
    Constant,
    Node,
    Not,
    Reference,
    Term,
    conjunction,
    disjunction,
    negation,
)
from .schema import (
    INT_MAX,
    INT_MIN,
    RELATIONAL_TYPES,
    TEXT_TYPES,
    X2MANY_TYPES,
    FieldInfo,
    ModelInfo,
    SchemaInfo,
)

MAX_DOMAIN_TEXT = 100_000
MAX_DEPTH = 20  # nesting of any/not any/paths
# Terms and operators of one domain: far beyond any rule or search a person writes, and
# below what SQL parsers take (SQLite refuses expressions nested 1,000 deep).
MAX_ITEMS = 1_000


def literal_domain(text: str) -> list[object]:
    """Read a domain written as Python literal text (no names, no calls)."""
    if len(text) > MAX_DOMAIN_TEXT:
        raise DomainError(f"domain text longer than {MAX_DOMAIN_TEXT} characters")
    try:
        value = ast.literal_eval(text.strip() or "[]")
    except (ValueError, SyntaxError, MemoryError, RecursionError) as exc:
        raise DomainError(f"domain text is not a literal list: {exc}") from None
    if not isinstance(value, list | tuple):
        raise DomainError("a domain must be a list", term=value)
    return list(value)


def parse_domain(
    domain: Sequence[object] | str, model: ModelInfo, schema: SchemaInfo, *, _depth: int = 0
) -> Node:
    """Parse ``domain`` for ``model`` into a normalised :data:`Node`."""
    if isinstance(domain, str):
        domain = literal_domain(domain)
    if not isinstance(domain, list | tuple):
        raise DomainError("a domain must be a list", term=domain, model=model.model_name)
    if _depth > MAX_DEPTH:
        raise DomainError("domain nested too deeply", model=model.model_name)
    items = list(domain)
    if len(items) > MAX_ITEMS:
        raise DomainError(
            f"a domain holds at most {MAX_ITEMS} terms and operators, not {len(items)}",
            model=model.model_name,
        )
    stack: list[Node] = []
    # Prefix notation read right to left: operands are pushed, operators pop them.
    for item in reversed(items):
        if item == "&" or item == "|":
            if len(stack) < 2:
                raise DomainError(f"operator {item!r} needs two operands", model=model.model_name)
            left, right = stack.pop(), stack.pop()
            combine = conjunction if item == "&" else disjunction
            stack.append(combine([left, right]))
        elif item == "!":
            if not stack:
                raise DomainError("operator '!' needs an operand", model=model.model_name)
            stack.append(negation(stack.pop()))
        else:
            stack.append(_parse_term(item, model, schema, _depth))
    # Whatever is left is implicitly AND-ed, in reading order.
    return conjunction(list(reversed(stack)))


def _parse_term(item: object, model: ModelInfo, schema: SchemaInfo, depth: int) -> Node:
    if isinstance(item, bool) or not isinstance(item, list | tuple) or len(item) != 3:
        raise DomainError(
            "expected a term (field, operator, value) or one of '&', '|', '!'",
            term=item,
            model=model.model_name,
        )
    path, operator, value = item
    if path in (0, 1) and operator == "=" and value in (0, 1) and not isinstance(path, bool):
        return TRUE if path == value else FALSE
    if not isinstance(path, str) or not path:
        raise DomainError("the field of a term must be a name", term=item, model=model.model_name)
    if not isinstance(operator, str) or operator.lower() not in ALL_OPERATORS:
        raise DomainError(f"unknown operator {operator!r}", term=item, model=model.model_name)
    operator = operator.lower()
    name, _, rest = path.partition(".")
    field = _field(model, name, item)
    if rest:
        return _parse_path(field, rest, operator, value, item, schema, depth)
    if operator == "=?":
        if value is None or value is False or value == [] or value == ():
            return TRUE
        operator = "="
    if operator in ("any", "not any"):
        comodel = _comodel(field, schema, item, model)
        sub = parse_domain(_as_domain(value, item, model), comodel, schema, _depth=depth + 1)
        return Any(field.name, sub, operator == "not any")
    return _parse_leaf(field, operator, value, item, model, schema, depth)


def _parse_path(
    field: FieldInfo,
    rest: str,
    operator: str,
    value: object,
    item: object,
    schema: SchemaInfo,
    depth: int,
) -> Node:
    """``a.b op v`` is ``a any [(b, op, v)]``; on an x2many, a negative operator means
    that no related record matches the positive one (as Odoo does)."""
    comodel = _comodel(field, schema, item, None)
    negated = operator in ("!=", "not in", "not like", "not ilike", "not any")
    negate = field.type in X2MANY_TYPES and negated and operator != "not any"
    if negate:
        positive = {"!=": "=", "not in": "in", "not like": "like", "not ilike": "ilike"}
        operator = positive[operator]
    try:
        sub = parse_domain([(rest, operator, value)], comodel, schema, _depth=depth + 1)
    except DomainError as exc:
        # Name the term as the caller wrote it; the model is where the path went wrong.
        raise DomainError(exc.reason, term=item, model=exc.model) from None
    return Any(field.name, sub, negate=negate)


def _parse_leaf(
    field: FieldInfo,
    operator: str,
    value: object,
    item: object,
    model: ModelInfo,
    schema: SchemaInfo,
    depth: int,
) -> Node:
    ftype = field.type
    if operator in ("like", "not like", "ilike", "not ilike", "=like", "=ilike"):
        if ftype in RELATIONAL_TYPES:
            # ('partner_id', 'ilike', 'Azure'): a search on the related record's name.
            comodel = _comodel(field, schema, item, model)
            positive = operator.replace("not ", "")
            sub = parse_domain(
                [(comodel.rec_name, positive, value)], comodel, schema, _depth=depth + 1
            )
            return Any(field.name, sub, negate=operator.startswith("not "))
        if ftype not in TEXT_TYPES:
            raise DomainError(
                f"operator {operator!r} needs a text field, {field.name!r} is {ftype}",
                term=item,
                model=model.model_name,
            )
        if not isinstance(value, str):
            raise DomainError(
                f"operator {operator!r} needs a string value", term=item, model=model.model_name
            )
        if operator.startswith("=") and (len(value) - len(value.rstrip("\\"))) % 2:
            raise DomainError(
                "a pattern cannot end with a lone escape character '\\'",
                term=item,
                model=model.model_name,
            )
        return Term(field.name, operator, value)
    if operator in ("child_of", "parent_of"):
        target = _hierarchy_model(field, schema, model, item)
        ids = _ids(value, item, model)
        if not ids:
            return FALSE
        if target.parent_name is None:
            # Without a hierarchy, child_of/parent_of degrade to 'in', as in Odoo.
            return _parse_leaf(field, "in", list(ids), item, model, schema, depth)
        return Term(field.name, operator, ids)
    if operator in ("in", "not in"):
        values = value if isinstance(value, list | tuple | set | frozenset) else [value]
        converted = _converted_list(field, tuple(values), item, model)
        if not converted:
            return FALSE if operator == "in" else TRUE
        return Term(field.name, operator, converted)
    # comparison operators
    if isinstance(value, list | tuple) and operator in ("=", "!="):
        return _parse_leaf(
            field, "in" if operator == "=" else "not in", value, item, model, schema, depth
        )
    if operator in ("<", "<=", ">", ">="):
        if ftype in X2MANY_TYPES or ftype == "boolean":
            kind = "a boolean" if ftype == "boolean" else "a to-many"
            raise DomainError(
                f"operator {operator!r} cannot compare {kind} field",
                term=item,
                model=model.model_name,
            )
        if value is False or value is None:
            return FALSE  # comparing with False never matches, as in Odoo
    converted_value = _convert(field, value, item, model, allow_false=operator in ("=", "!="))
    return Term(field.name, operator, converted_value)


def _field(model: ModelInfo, name: str, item: object) -> FieldInfo:
    field = model.field_info(name)
    if field is None:
        raise DomainError(f"unknown field {name!r}", term=item, model=model.model_name)
    if not field.store:
        raise DomainError(
            f"field {name!r} is not stored and cannot be searched",
            term=item,
            model=model.model_name,
        )
    return field


def _comodel(
    field: FieldInfo, schema: SchemaInfo, item: object, model: ModelInfo | None
) -> ModelInfo:
    if field.type not in RELATIONAL_TYPES or field.comodel_name is None:
        raise DomainError(
            f"field {field.name!r} is not relational",
            term=item,
            model=model.model_name if model else None,
        )
    return schema.model_info(field.comodel_name)


def _hierarchy_model(
    field: FieldInfo, schema: SchemaInfo, model: ModelInfo, item: object
) -> ModelInfo:
    if field.name == "id":
        return model
    return _comodel(field, schema, item, model)


def _as_domain(value: object, item: object, model: ModelInfo) -> Sequence[object]:
    if isinstance(value, str):
        return literal_domain(value)
    if isinstance(value, list | tuple):
        return value
    raise DomainError("'any' needs a domain as value", term=item, model=model.model_name)


def _ids(value: object, item: object, model: ModelInfo) -> tuple[int, ...]:
    values = value if isinstance(value, list | tuple | set | frozenset) else [value]
    ids: list[int] = []
    for v in values:
        if v is False or v is None:
            continue
        if isinstance(v, bool) or not isinstance(v, int):
            raise DomainError("expected record ids", term=item, model=model.model_name)
        ids.append(v)
    return tuple(sorted(set(ids)))


def _convert(
    field: FieldInfo, value: object, item: object, model: ModelInfo, *, allow_false: bool
) -> object:
    """The value converted to the field's Python type; False stays False (= NULL)."""
    if value is None or value is False:
        if field.type == "boolean":
            return False
        if not allow_false:
            raise DomainError("False is not a comparable value", term=item, model=model.model_name)
        return False
    ftype = field.type
    try:
        return _CONVERTERS[ftype](field, value)
    except (TypeError, ValueError) as exc:
        raise DomainError(
            f"value {value!r} does not fit field {field.name!r} ({ftype}): {exc}",
            term=item,
            model=model.model_name,
        ) from None


def _converted_list(
    field: FieldInfo, values: tuple[object, ...], item: object, model: ModelInfo
) -> tuple[object, ...]:
    """An ``in`` list converted to the field's Python type, False kept (= NULL).

    A list of plain integers for an integer or relational field, or of plain strings
    for a text field, is checked as a whole: its types, then its range, at C speed. An
    API caller's ids come so, and one at a time they took 25 µs per 100 ids (issue 3).
    Any other list is converted value by value, which names the value that does not
    fit."""
    converter = _CONVERTERS.get(field.type)
    if values and (converter is _to_int or converter is _to_text):
        types = set(map(type, values))
        if converter is _to_int and types == {int}:
            ints = cast("tuple[int, ...]", values)
            if INT_MIN <= min(ints) and max(ints) <= INT_MAX:
                return values
        elif converter is _to_text and types == {str}:
            return values
    return tuple(_convert(field, v, item, model, allow_false=True) for v in values)


def _to_text(field: FieldInfo, value: object) -> str:
    if not isinstance(value, str):
        raise TypeError("expected a string")
    return value


def _to_selection(field: FieldInfo, value: object) -> str:
    text = _to_text(field, value)
    if field.selection_values and text not in field.selection_values:
        raise ValueError(f"not one of {list(field.selection_values)}")
    return text


def _to_int(field: FieldInfo, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError("expected an integer")
    if not INT_MIN <= value <= INT_MAX:
        raise TypeError(f"{value} is out of range for an integer column")
    return value


def _to_float(field: FieldInfo, value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError("expected a number")
    return float(value)


def _to_bool(field: FieldInfo, value: object) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    raise TypeError("expected True or False")


def _to_date(field: FieldInfo, value: object) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        return dt.date.fromisoformat(value[:10])
    raise TypeError("expected a date or 'YYYY-MM-DD'")


def _to_datetime(field: FieldInfo, value: object) -> dt.datetime:
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    if isinstance(value, dt.datetime):
        # Columns hold naive UTC: an aware value is converted, not compared as is.
        if value.tzinfo is not None:
            return value.astimezone(dt.UTC).replace(tzinfo=None)
        return value
    if isinstance(value, dt.date):
        return dt.datetime(value.year, value.month, value.day)
    raise TypeError("expected a datetime or 'YYYY-MM-DD HH:MM:SS'")


_CONVERTERS = {
    "char": _to_text,
    "text": _to_text,
    "html": _to_text,
    "selection": _to_selection,
    "integer": _to_int,
    "float": _to_float,
    "boolean": _to_bool,
    "date": _to_date,
    "datetime": _to_datetime,
    "many2one": _to_int,
    "one2many": _to_int,
    "many2many": _to_int,
}


def fields_in(node: Node, model: ModelInfo, schema: SchemaInfo) -> set[tuple[str, str]]:
    """Every (model, field) a domain reads, paths included (for field-group checks)."""
    found: set[tuple[str, str]] = set()
    _collect(node, model, schema, found)
    return found


def _collect(node: Node, model: ModelInfo, schema: SchemaInfo, found: set[tuple[str, str]]) -> None:
    if isinstance(node, Constant):
        return
    if isinstance(node, Term):
        found.add((model.model_name, node.field))
    elif isinstance(node, Any):
        found.add((model.model_name, node.field))
        field = model.field_info(node.field)
        assert field is not None and field.comodel_name is not None
        _collect(node.domain, schema.model_info(field.comodel_name), schema, found)
    elif isinstance(node, Reference):
        found.update({(model.model_name, node.model_field), (model.model_name, node.id_field)})
        _collect(node.domain, schema.model_info(node.model), schema, found)
    elif isinstance(node, Not):
        _collect(node.child, model, schema, found)
    else:
        for child in node.children:
            _collect(child, model, schema, found)
