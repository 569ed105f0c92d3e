"""Whitelisted expressions for record rules and XML ``eval`` attributes, without ``eval``.

Example::

    >>> compiled = compile_expression("[('company_id', 'in', company_ids)]", RULE_PROFILE)
    >>> compiled.evaluate({"company_ids": [1, 2]})
    [('company_id', 'in', [1, 2])]

Odoo evaluates ``domain_force`` and ``eval="..."`` texts with ``safe_eval``, a filter over
real Python bytecode that has been escaped again and again (CVE-2020-29396, CVE-2021-44547,
odoo#25444 where ``company.sudo().user_ids.write(...)`` was reachable from a record in the
context). Here the text is parsed with :mod:`ast`, checked against a whitelist of node types,
names and calls, then *interpreted* node by node: nothing is compiled to bytecode and no
attribute named by the text is looked up with ``getattr``; record attributes go through
:meth:`ExprRecord.expr_field`, which only knows declared fields.
"""

from __future__ import annotations

import ast
import keyword
import operator
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cached_property
from types import MappingProxyType
from typing import Any, Protocol, TypeGuard, runtime_checkable

from bastion.errors import ExpressionError

__all__ = [
    "RULE_PROFILE", "CompiledExpression", "ExprProfile", "ExprRecord", "SchemaLookup",
    "compile_expression", "data_profile",
]  # fmt: skip

MAX_TEXT = 20_000
MAX_NODES = 2_000
MAX_DEPTH = 50
MAX_STR = 4_096
MAX_INT = 2**63
MAX_ELEMENTS = 10_000

# ORM entry points that must never be reachable from a record (odoo#25444). They are not
# fields, so a schema refuses them anyway; naming them keeps schema-less checks as strict.
_FORBIDDEN_ATTRS = frozenset({
    "sudo", "env", "with_user", "with_context", "with_company", "with_env", "browse", "write",
    "create", "unlink", "copy", "search", "search_read", "search_count", "read", "mapped",
    "filtered", "filtered_domain", "sorted", "exists", "ensure_one", "pool",
})  # fmt: skip

_COMPARE: dict[type[ast.cmpop], Callable[[Any, Any], object]] = {
    ast.Eq: operator.eq, ast.NotEq: operator.ne, ast.Lt: operator.lt, ast.LtE: operator.le,
    ast.Gt: operator.gt, ast.GtE: operator.ge, ast.Is: operator.is_, ast.IsNot: operator.is_not,
    ast.In: lambda a, b: a in b, ast.NotIn: lambda a, b: a not in b,
}  # fmt: skip
_UNARY = (ast.Not, ast.USub, ast.UAdd)
# Exact types only (``type(x) in ...``): a subclass or a recordset could bring its own
# __add__ / __getitem__, i.e. host code the text would get to run.
_NUMBERS = (int, float, bool)
_SIZED = (list, tuple, set, frozenset, dict, str)
# Host callables and comparisons fail in ordinary ways; those become ExpressionError.
_EVAL_FAILURES = (TypeError, ValueError, KeyError, IndexError, ArithmeticError)


class SchemaLookup(Protocol):
    """Example: ``schema.field_target("res.users", "partner_id") == ("res.partner", False)``."""

    def field_target(self, model: str, field: str) -> tuple[str, bool] | None:
        """Example: ``("res.company", True)`` for a many2many, ``("", False)`` for a scalar,
        None if ``model`` has no such field."""
        ...


@runtime_checkable
class ExprRecord(Protocol):
    """Example: ``user.expr_field("partner_id").expr_field("id") == 3``.

    A record or recordset exposed to expressions (implemented by the ORM's recordsets).
    """

    def expr_field(self, name: str) -> object:
        """Example: ``rec.expr_field("ids") == [3]``.

        Value of declared field ``name``, or of ``id`` (int, or False when empty) / ``ids``
        (list[int]); relational fields give ExprRecords. KeyError for anything else.
        """
        ...


# Per class: isinstance() against a runtime-checkable protocol inspects the class's
# attributes at every call (a fifth of evaluating a user's rules).
_RECORD_TYPES: dict[type, bool] = {}


def _is_record(value: object) -> TypeGuard[ExprRecord]:
    kind = type(value)
    found = _RECORD_TYPES.get(kind)
    if found is None:
        found = _RECORD_TYPES[kind] = issubclass(kind, ExprRecord)
    return found


def _allowed_identifier(name: str) -> bool:
    return name.isidentifier() and not keyword.iskeyword(name) and not name.startswith("_")


@dataclass(frozen=True, eq=False)  # identity eq/hash: usable as a cache key
class ExprProfile:
    """Example: ``ExprProfile(names={"user": "res.users"}, functions={"len": len})``.

    ``names`` maps each allowed free name to its model when it is a record (else None);
    ``functions`` maps each allowed call target, plain or dotted (``Command.link``).
    """

    names: Mapping[str, str | None]
    functions: Mapping[str, Callable[..., object]]

    def __post_init__(self) -> None:
        # Read-only copies: mutating the caller's dicts later must not widen a profile that
        # expressions were already checked against.
        object.__setattr__(self, "names", MappingProxyType(dict(self.names)))
        object.__setattr__(self, "functions", MappingProxyType(dict(self.functions)))
        for name in self.names:
            if not _allowed_identifier(name) or name in _FORBIDDEN_ATTRS:
                raise ExpressionError(f"invalid profile name {name!r}", node="ExprProfile")
        for dotted, function in self.functions.items():
            if not all(map(_allowed_identifier, dotted.split("."))) or not callable(function):
                raise ExpressionError(f"invalid profile function {dotted!r}", node="ExprProfile")


_NO_PROFILE = ExprProfile(names={}, functions={})


def _dotted(node: ast.expr) -> str | None:
    """Example: the func of ``Command.link(1)`` -> "Command.link"; None if not a dotted name."""
    parts: list[str] = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name):
        return None
    parts.append(node.id)
    return ".".join(reversed(parts))


def _refuse(message: str, text: str, node: ast.AST, label: str | None = None) -> ExpressionError:
    """Example: ``raise _refuse("no", text, node)`` -> ExpressionError naming node and place."""
    if label is None:
        label = type(node).__name__
        if isinstance(node, ast.Attribute):
            label = f"Attribute {node.attr!r}"
        elif isinstance(node, ast.Name):
            label = f"Name {node.id!r}"
        elif isinstance(node, ast.Call) and (dotted := _dotted(node.func)) is not None:
            label = f"Call {dotted!r}"
    # getattr with fixed names: hand-built trees (see CompiledExpression) may lack locations.
    line, column = getattr(node, "lineno", None), getattr(node, "col_offset", None)
    return ExpressionError(message, text=text, node=label, line=line, column=column)


def _check_constant(node: ast.Constant, text: str) -> None:
    value = node.value
    if value is not None and type(value) not in (str, int, float, bool):
        raise _refuse(f"{type(value).__name__} literals are not allowed", text, node)
    if type(value) is str and len(value) > MAX_STR:
        raise _refuse(f"string literal longer than {MAX_STR} characters", text, node)
    if type(value) is int and abs(value) > MAX_INT:
        raise _refuse("integer literal out of range (abs > 2**63)", text, node)


def _check_size(value: object, text: str, node: ast.AST) -> object:
    if type(value) in _SIZED and len(value) > MAX_ELEMENTS:  # type: ignore[arg-type]
        raise _refuse(f"result has more than {MAX_ELEMENTS} elements", text, node)
    if type(value) is int and abs(value) > MAX_INT:
        raise _refuse("integer result out of range (abs > 2**63)", text, node)
    return value


@dataclass(frozen=True)
class CompiledExpression:
    """Example: ``compile_expression("user.id", RULE_PROFILE).evaluate({"user": u}) == 7``.

    ``profile`` is the profile the tree was checked against; evaluation enforces it again,
    so even a hand-built instance cannot reach more than its profile allows.
    """

    text: str
    tree: ast.Expression
    profile: ExprProfile = _NO_PROFILE

    def evaluate(
        self,
        values: Mapping[str, object],
        functions: Mapping[str, Callable[..., object]] | None = None,
    ) -> object:
        """Example: ``expr.evaluate({}, {"ref": loader.ref})``.

        ``values`` gives the free names; ``functions`` overrides callables for names the
        profile allows (others are ignored: the text could not have called them anyway).
        """
        table = dict(self.profile.functions)
        table.update((k, f) for k, f in (functions or {}).items() if k in table)
        return _Evaluator(self.text, self.profile, values, table).evaluate_node(self.tree.body)

    @cached_property
    def names_read(self) -> frozenset[str]:
        """Example: ``[('company_id', 'in', company_ids)]`` reads ``{"company_ids"}``.

        The profile's free names the text reads. Under a profile whose functions are
        pure (the rule profile's are), an evaluation depends on those values only, so
        its result may be shared by every caller that gives the same ones."""
        return frozenset(
            node.id
            for node in ast.walk(self.tree)
            if isinstance(node, ast.Name) and node.id in self.profile.names
        )

    def field_reads(self, schema: SchemaLookup) -> frozenset[tuple[str, str]]:
        """Example: ``user.partner_id.commercial_partner_id.id`` reads
        ``{("res.users", "partner_id"), ("res.partner", "commercial_partner_id")}``.

        Every (model, field) an evaluation may read from the records the profile names,
        found in the text alone: what a cache of its results has to watch."""
        reads: set[tuple[str, str]] = set()
        for node in ast.walk(self.tree):
            if not isinstance(node, ast.Attribute):
                continue
            chain: list[str] = []
            root: ast.expr = node
            while isinstance(root, ast.Attribute):
                chain.insert(0, root.attr)
                root = root.value
            if not isinstance(root, ast.Name):
                continue
            model = self.profile.names.get(root.id)
            # Each prefix of a chain is an Attribute of its own: only the last link of
            # this one is new.
            for position, name in enumerate(chain):
                if not model or name in ("id", "ids"):
                    break
                if position == len(chain) - 1:
                    reads.add((model, name))
                target = schema.field_target(model, name)
                model = target[0] if target else None
        return frozenset(reads)


class _Checker:
    """Example: ``_Checker(text, RULE_PROFILE, None).check(tree.body)`` raises or returns."""

    def __init__(self, text: str, profile: ExprProfile, schema: SchemaLookup | None) -> None:
        self.text, self.profile, self.schema = text, profile, schema
        self.nodes = 0

    def refuse(self, message: str, node: ast.AST, label: str | None = None) -> ExpressionError:
        return _refuse(message, self.text, node, label)

    def check(self, node: ast.expr, depth: int = 1) -> None:
        # The size and depth bounds come first: they keep this recursion, and the
        # evaluator's over the same tree, within MAX_DEPTH frames.
        self.measure(node, depth)
        children: list[ast.expr | None] = []
        if isinstance(node, ast.Constant):
            _check_constant(node, self.text)
        elif isinstance(node, (ast.List, ast.Tuple, ast.Set)):
            children = list(node.elts)
        elif isinstance(node, ast.Dict):
            for key, value in zip(node.keys, node.values, strict=True):
                if key is None:
                    raise self.refuse("dict unpacking is not allowed", value, "DictUnpack")
                if not (isinstance(key, ast.Constant) and type(key.value) in (str, int, float)):
                    raise self.refuse("dict keys must be string or number literals", key)
            children = [*node.keys, *node.values]
        elif isinstance(node, ast.Name):
            self.name(node)
        elif isinstance(node, ast.Attribute):
            self.attribute(node, depth)
        elif isinstance(node, ast.Call):
            if _dotted(node.func) not in self.profile.functions:
                for part in ast.walk(node.func):  # name the dunder / ORM method if there is one
                    if isinstance(part, ast.Attribute) and (
                        part.attr.startswith("_") or part.attr in _FORBIDDEN_ATTRS
                    ):
                        raise self.refuse(f"attribute {part.attr!r} is not allowed", part)
                raise self.refuse("only whitelisted functions can be called", node)
            if node.keywords:
                raise self.refuse("keyword arguments are not allowed", node.keywords[0], "keyword")
            children = list(node.args)
        elif isinstance(node, ast.BinOp):
            if not isinstance(node.op, (ast.Add, ast.Sub)):
                op = type(node.op).__name__
                raise self.refuse(f"operator {op} is not allowed", node, op)
            children = [node.left, node.right]
        elif isinstance(node, ast.UnaryOp):
            if not isinstance(node.op, _UNARY):
                op = type(node.op).__name__
                raise self.refuse(f"operator {op} is not allowed", node, op)
            children = [node.operand]
        elif isinstance(node, ast.BoolOp):
            children = list(node.values)
        elif isinstance(node, ast.Compare):  # every ast.cmpop is allowed, incl. is / in
            children = [node.left, *node.comparators]
        elif isinstance(node, ast.IfExp):
            children = [node.test, node.body, node.orelse]
        elif isinstance(node, ast.Subscript):
            index = node.slice
            if isinstance(index, ast.Slice):
                if index.step is not None:
                    raise self.refuse("slices with a step are not allowed", index, "Slice")
                children = [node.value, index.lower, index.upper]
            else:
                children = [node.value, index]
        else:
            raise self.refuse(f"{type(node).__name__} is not allowed in expressions", node)
        for child in children:
            if child is not None:
                self.check(child, depth + 1)

    def measure(self, node: ast.AST, depth: int) -> None:
        self.nodes += 1
        if self.nodes > MAX_NODES:
            raise self.refuse(f"expression has more than {MAX_NODES} nodes", node)
        if depth > MAX_DEPTH:
            raise self.refuse(f"expression is nested deeper than {MAX_DEPTH}", node)

    def name(self, node: ast.Name) -> None:
        if not isinstance(node.ctx, ast.Load):
            raise self.refuse("names can only be read", node)
        if node.id.startswith("_") or node.id not in self.profile.names:
            raise self.refuse(f"name {node.id!r} is not allowed here", node)

    def attribute(self, node: ast.Attribute, depth: int) -> None:
        chain: list[ast.Attribute] = []
        root: ast.expr = node
        while isinstance(root, ast.Attribute):
            if chain:  # the first link was measured by check()
                depth += 1
                self.measure(root, depth)
            chain.append(root)
            root = root.value
        self.measure(root, depth + 1)
        chain.reverse()
        for link in chain:  # dunders first: the most telling message for an attack
            if link.attr.startswith("_") or link.attr in _FORBIDDEN_ATTRS:
                raise self.refuse(f"attribute {link.attr!r} is not allowed", link)
        if not isinstance(root, ast.Name):
            raise self.refuse("attributes can only be read from record names", chain[0])
        self.name(root)
        # The model of the value read so far: "" when unknown (no schema), None when the
        # value is not a record (a scalar field, id, ids) and has no attributes at all.
        model: str | None = self.profile.names[root.id]
        for link in chain:
            if model is None:
                raise self.refuse(f"{link.attr!r} is read from a value that is not a record", link)
            if link.attr in ("id", "ids"):
                model = None
            elif self.schema is not None:
                target = self.schema.field_target(model, link.attr)
                if target is None:
                    raise self.refuse(f"{link.attr!r} is not a field of {model}", link)
                model = target[0] or None
            else:
                model = ""


class _Evaluator:
    """Example: ``_Evaluator(text, profile, {"user": u}, table).evaluate_node(tree.body)``.

    Mirrors _Checker and re-checks names, attributes, calls and types, so that a tree that
    skipped the checker still cannot reach anything outside its profile.
    """

    def __init__(
        self,
        text: str,
        profile: ExprProfile,
        values: Mapping[str, object],
        functions: Mapping[str, Callable[..., object]],
    ) -> None:
        self.text, self.profile, self.values, self.functions = text, profile, values, functions

    def evaluate_node(self, node: ast.expr) -> object:
        try:
            value = self.dispatch(node)
            # Host data (free names, fields) passes as is; only what the text builds is bounded.
            if isinstance(node, (ast.Name, ast.Attribute)):
                return value
            return _check_size(value, self.text, node)
        except _EVAL_FAILURES as exc:
            message = f"evaluation failed: {type(exc).__name__}: {exc}"
            raise _refuse(message, self.text, node) from exc

    def dispatch(self, node: ast.expr) -> object:
        if isinstance(node, ast.Constant):
            _check_constant(node, self.text)
            return node.value
        if isinstance(node, (ast.List, ast.Tuple, ast.Set)):
            items = [self.evaluate_node(elt) for elt in node.elts]
            kind = {ast.List: list, ast.Tuple: tuple, ast.Set: set}[type(node)]
            return kind(items)
        if isinstance(node, ast.Dict):
            result: dict[object, object] = {}
            for key, value in zip(node.keys, node.values, strict=True):
                if not isinstance(key, ast.Constant):
                    raise _refuse("dict keys must be literals", self.text, node)
                result[self.evaluate_node(key)] = self.evaluate_node(value)
            return result
        if isinstance(node, ast.Name):
            if node.id.startswith("_") or node.id not in self.profile.names:
                raise _refuse(f"name {node.id!r} is not allowed here", self.text, node)
            if node.id not in self.values:
                raise _refuse(f"no value given for {node.id!r}", self.text, node)
            return self.values[node.id]
        if isinstance(node, ast.Attribute):
            if node.attr.startswith("_") or node.attr in _FORBIDDEN_ATTRS:
                raise _refuse(f"attribute {node.attr!r} is not allowed", self.text, node)
            base = self.evaluate_node(node.value)
            if not _is_record(base):
                raise _refuse(f"{node.attr!r} is read from a non-record", self.text, node)
            try:
                return base.expr_field(node.attr)
            except KeyError:
                raise _refuse(f"{node.attr!r} is not a field", self.text, node) from None
        if isinstance(node, ast.Call):
            dotted = _dotted(node.func)
            if dotted is None or dotted not in self.profile.functions or node.keywords:
                raise _refuse("only whitelisted functions can be called", self.text, node)
            return self.functions[dotted](*[self.evaluate_node(arg) for arg in node.args])
        if isinstance(node, ast.BinOp):
            return self.binop(node)
        if isinstance(node, ast.UnaryOp):
            operand = self.evaluate_node(node.operand)
            if isinstance(node.op, ast.Not):
                return not operand
            if type(operand) not in _NUMBERS or not isinstance(node.op, _UNARY):
                raise _refuse("unary minus/plus needs a number", self.text, node)
            return -operand if isinstance(node.op, ast.USub) else +operand  # type: ignore[operator]
        if isinstance(node, ast.BoolOp):
            is_and = isinstance(node.op, ast.And)
            for operand_node in node.values[:-1]:
                outcome = self.evaluate_node(operand_node)
                if bool(outcome) != is_and:  # short-circuit and return the operand, as Python
                    return outcome
            return self.evaluate_node(node.values[-1])
        if isinstance(node, ast.Compare):
            left = self.evaluate_node(node.left)
            for cmp, right_node in zip(node.ops, node.comparators, strict=True):
                right = self.evaluate_node(right_node)
                if not _COMPARE[type(cmp)](left, right):
                    return False
                left = right
            return True
        if isinstance(node, ast.IfExp):
            return self.evaluate_node(node.body if self.evaluate_node(node.test) else node.orelse)
        if isinstance(node, ast.Subscript):
            return self.subscript(node)
        raise _refuse(f"{type(node).__name__} is not allowed in expressions", self.text, node)

    def binop(self, node: ast.BinOp) -> object:
        left, right = self.evaluate_node(node.left), self.evaluate_node(node.right)
        kinds = type(left), type(right)
        numbers = kinds[0] in _NUMBERS and kinds[1] in _NUMBERS
        if isinstance(node.op, ast.Add) and numbers:
            return left + right  # type: ignore[operator]
        if isinstance(node.op, ast.Add) and kinds[0] is kinds[1] and kinds[0] in (str, list, tuple):
            # Refuse before building: host sequences may already be large.
            if len(left) + len(right) > MAX_ELEMENTS:  # type: ignore[arg-type]
                raise _refuse(f"result has more than {MAX_ELEMENTS} elements", self.text, node)
            return left + right  # type: ignore[operator]
        if isinstance(node.op, ast.Sub) and (
            numbers or (kinds[0] in (set, frozenset) and kinds[1] in (set, frozenset))
        ):
            return left - right  # type: ignore[operator]
        op = type(node.op).__name__
        message = f"{op} not supported between {kinds[0].__name__} and {kinds[1].__name__}"
        raise _refuse(message, self.text, node, op)

    def subscript(self, node: ast.Subscript) -> object:
        container = self.evaluate_node(node.value)
        if type(container) not in (list, tuple, str):
            raise _refuse("only lists, tuples and strings can be indexed", self.text, node)
        index = node.slice
        if isinstance(index, ast.Slice):
            if index.step is not None:
                raise _refuse("slices with a step are not allowed", self.text, index, "Slice")
            bounds = [
                None if b is None else self.evaluate_node(b) for b in (index.lower, index.upper)
            ]
            if any(b is not None and type(b) is not int for b in bounds):
                raise _refuse("slice bounds must be integers", self.text, index, "Slice")
            return container[slice(*bounds)]  # type: ignore[index]
        position = self.evaluate_node(index)
        if type(position) is not int:
            raise _refuse("index must be an integer", self.text, index)
        return container[position]  # type: ignore[index]


def _position(text: str, index: int) -> tuple[int, int]:
    return text.count("\n", 0, index) + 1, index - (text.rfind("\n", 0, index) + 1)


def _shift(tree: ast.Expression, lines: int, columns: int) -> None:
    """Move every location ``lines`` down, and those on the first line ``columns`` right:
    from the stripped text's coordinates back to the original's."""
    for node in ast.walk(tree):
        if isinstance(node, (ast.expr, ast.keyword, ast.arg)):
            if node.lineno == 1:
                node.col_offset += columns
            if node.end_lineno == 1 and node.end_col_offset is not None:
                node.end_col_offset += columns
            node.lineno += lines
            if node.end_lineno is not None:
                node.end_lineno += lines


def compile_expression(
    text: str, profile: ExprProfile, *, schema: SchemaLookup | None = None
) -> CompiledExpression:
    """Example: ``compile_expression("[('user_id', '=', user.id)]", RULE_PROFILE)``.

    Parse with ``ast.parse(mode="eval")`` and check statically; raise ExpressionError
    naming the node, line and column. With ``schema``, attribute chains rooted at a record
    name are type-checked field by field (``user.partner_id.commercial_partner_id.id``).
    """
    if not isinstance(text, str):
        raise ExpressionError("expression text must be a string", node="Expression")
    if len(text) > MAX_TEXT:
        message = f"expression longer than {MAX_TEXT} characters"
        raise ExpressionError(message, text=text, node="Expression")
    if "\x00" in text:
        line, column = _position(text, text.index("\x00"))
        raise ExpressionError("null byte", text=text, node="Expression", line=line, column=column)
    # Odoo strips eval texts (XML attributes are often indented); locations are shifted back
    # afterwards so that errors point into the original text.
    lead_line, lead_col = _position(text, len(text) - len(text.lstrip()))
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except SyntaxError as exc:
        line, column = exc.lineno or 1, (exc.offset or 1) - 1
        column += lead_col if line == 1 else 0
        message, line = f"syntax error: {exc.msg}", line + lead_line - 1
        error = ExpressionError(message, text=text, node="SyntaxError", line=line, column=column)
        raise error from None
    except (ValueError, RecursionError, MemoryError) as exc:  # too deep or too big to parse
        message = f"cannot parse: {type(exc).__name__}"
        raise ExpressionError(message, text=text, node="Expression") from None
    if lead_line > 1 or lead_col:
        _shift(tree, lead_line - 1, lead_col)
    _Checker(text, profile, schema).check(tree.body)
    return CompiledExpression(text, tree, profile)


# --- rule profile: small stand-ins for builtins, bounded and typed ------------------------


def _items(value: object) -> list[Any]:
    if type(value) not in _SIZED or len(value) > MAX_ELEMENTS:  # type: ignore[arg-type]
        raise TypeError(f"expected a collection of at most {MAX_ELEMENTS} elements")
    return list(value)  # type: ignore[call-overload, no-any-return]


def _len(value: object) -> int:
    if _is_record(value):
        value = value.expr_field("ids")
    if type(value) not in _SIZED:
        raise TypeError("len() takes a collection or a record")
    return len(value)  # type: ignore[arg-type]


def _int(value: object = 0) -> int:
    if type(value) not in (int, float, bool, str):
        raise TypeError("int() takes a number or a string")
    return int(value)  # type: ignore[call-overload, no-any-return]


def _str(value: object = "") -> str:
    if value is not None and type(value) not in (int, float, bool, str):
        raise TypeError("str() takes a number, a string or None")
    return str(value)


def _ordered(args: tuple[object, ...]) -> list[Any]:
    items = _items(args[0]) if len(args) == 1 else list(args)
    if not (all(type(i) in _NUMBERS for i in items) or all(type(i) is str for i in items)):
        raise TypeError("min()/max() compare numbers or strings only")
    return items


RULE_PROFILE = ExprProfile(
    names={"user": "res.users", "company_id": None, "company_ids": None},
    functions={
        "len": _len,
        "list": lambda value=(): _items(value),
        "tuple": lambda value=(): tuple(_items(value)),
        "set": lambda value=(): set(_items(value)),
        "int": _int,
        "str": _str,
        "bool": lambda value=False: bool(value),
        "min": lambda *args: min(_ordered(args)),
        "max": lambda *args: max(_ordered(args)),
    },
)


# --- data profile: ref() and Odoo's Command helpers ---------------------------------------


def _record_id(value: object) -> int:
    if type(value) is not int:
        raise TypeError("a record id must be an integer")
    return value


def _vals(value: object) -> object:
    if type(value) is not dict:
        raise TypeError("values must be a dict")
    return value


def data_profile(ref: Callable[[str], int]) -> ExprProfile:
    """Example: ``data_profile(loader.ref)`` accepts ``[Command.link(ref('base.group_user'))]``.

    Literals, ``ref('xml.id')`` and ``Command.create/update/delete/unlink/link/clear/set``
    returning Odoo's command tuples; no free names.
    """

    def checked_ref(xmlid: object) -> int:
        if type(xmlid) is not str:
            raise TypeError("ref() takes an XML id string")
        return ref(xmlid)

    return ExprProfile(
        names={},
        functions={
            "ref": checked_ref,
            "Command.create": lambda vals: (0, 0, _vals(vals)),
            "Command.update": lambda rid, vals: (1, _record_id(rid), _vals(vals)),
            "Command.delete": lambda rid: (2, _record_id(rid), 0),
            "Command.unlink": lambda rid: (3, _record_id(rid), 0),
            "Command.link": lambda rid: (4, _record_id(rid), 0),
            "Command.clear": lambda: (5, 0, 0),
            "Command.set": lambda ids: (6, 0, [_record_id(i) for i in _items(ids)]),
        },
    )
