"""Local data flow inside one Python function, as much as the code checks need.

>>> tree = ast.parse("def f(x):\\n    q = 'a' + x\\n    return q")
>>> flow = Flow.of(tree.body[0])
>>> flow.constant(ast.parse("q", mode="eval").body)
False
>>> sorted(flow.roots(ast.parse("q", mode="eval").body))
['x']

A name is followed through every assignment to it in the function (``=``, ``+=``,
annotated, ``for`` targets, ``name[key] = value`` and ``name.append/extend/update(...)``),
and through module-level assignments of constants, a few levels deep. The flow is
insensitive to order and branches: every value a name is ever given counts.
"""

from __future__ import annotations

import ast
from collections.abc import Callable
from dataclasses import dataclass, field

MAX_DEPTH = 8
# Attributes of ``request`` that hold what the client sent.
REQUEST_INPUTS = frozenset(
    {"params", "httprequest", "get_http_params", "get_json_data", "jsonrequest"}
)
# Calls that return records of the receiver's model (or of env[...]).
RECORD_CALLS = frozenset(
    {"browse", "search", "sudo", "with_user", "with_context", "with_company", "with_env",
     "create", "exists", "ensure_one", "filtered", "filtered_domain", "sorted",
     "search_fetch", "_document_check_access"}
)  # fmt: skip
# Methods that put a value into a container held by a name (``values.update(kw)``).
MUTATORS = frozenset({"append", "extend", "update", "insert", "setdefault", "add"})
# Translation of a literal: the text comes from the addon's own translation files.
TRANSLATE = frozenset({"_", "_lt"})
# Attributes whose value is a trusted identifier, never input (a model's table name).
TRUSTED_ATTRS = frozenset({"_table", "_name", "_description"})
ID_ATTRS = frozenset({"id", "ids"})
REQUEST_NAMES = frozenset({"http.request", "odoo.http.request"})
DOMAIN_OPERATORS = frozenset(
    {"=", "==", "!=", "<>", "<", "<=", ">", ">=", "=?", "in", "not in", "like", "ilike",
     "not like", "not ilike", "=like", "=ilike", "child_of", "parent_of", "any", "not any"}
)  # fmt: skip


def dotted(node: ast.AST) -> str:
    """Example: the func of ``self.env.cr.execute(q)`` -> "self.env.cr.execute"; "" if none."""
    parts: list[str] = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Call):
        parts.append(dotted(node.func) + "()")
    elif isinstance(node, ast.Name):
        parts.append(node.id)
    elif isinstance(node, ast.Subscript):
        parts.append(dotted(node.value) + "[]")
    else:
        return ""
    return ".".join(reversed(parts))


@dataclass
class Flow:
    params: frozenset[str]
    assigned: dict[str, list[ast.expr]] = field(default_factory=dict)
    module: dict[str, list[ast.expr]] = field(default_factory=dict)
    # id() of the values put into a container (``vals["x"] = v``): they flow into the
    # name, but do not make it what they are (a dict holding a record is no record).
    held: set[int] = field(default_factory=set)

    @classmethod
    def of(
        cls, function: ast.FunctionDef | ast.AsyncFunctionDef, module: ast.Module | None = None
    ) -> Flow:
        args = function.args
        names = [a.arg for a in (*args.posonlyargs, *args.args, *args.kwonlyargs)]
        names += [a.arg for a in (args.vararg, args.kwarg) if a is not None]
        flow = cls(frozenset(n for n in names if n not in ("self", "cls")))
        for node in ast.walk(function):
            _collect(node, flow.assigned, flow.held)
        if module is not None:
            for stmt in module.body:
                _collect(stmt, flow.module, set())
        return flow

    def values(self, name: str) -> list[ast.expr] | None:
        if name in self.assigned:
            return self.assigned[name]
        if name in self.module and name not in self.params:
            return self.module[name]
        return None

    def constant(self, node: ast.expr, depth: int = 0, seen: frozenset[str] = frozenset()) -> bool:
        """True when ``node`` can only be a constant string (or number) built from literals."""
        if depth > MAX_DEPTH:
            return False
        if isinstance(node, ast.Constant):
            return True
        if isinstance(node, ast.Name):
            if node.id in seen:  # q += "...": the other assignments decide
                return True
            values = self.values(node.id)
            inner = seen | {node.id}
            return bool(values) and all(self.constant(v, depth + 1, inner) for v in values or [])
        if isinstance(node, ast.Attribute):
            return node.attr in TRUSTED_ATTRS
        if isinstance(node, ast.BinOp):
            left, right = node.left, node.right
            return self.constant(left, depth + 1, seen) and self.constant(right, depth + 1, seen)
        if isinstance(node, ast.JoinedStr):
            return all(
                self.constant(v.value if isinstance(v, ast.FormattedValue) else v, depth + 1, seen)
                for v in node.values
            )
        if isinstance(node, ast.Tuple | ast.List):
            return all(self.constant(e, depth + 1, seen) for e in node.elts)
        if isinstance(node, ast.Call) and dotted(node.func).rpartition(".")[2] in TRANSLATE:
            return all(self.constant(a, depth + 1, seen) for a in node.args[:1])
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            if node.func.attr in ("format", "join", "strip", "lower", "upper"):
                parts = [node.func.value, *node.args, *(k.value for k in node.keywords)]
                return all(self.constant(p, depth + 1, seen) for p in parts)
        return False

    def built(self, node: ast.expr, depth: int = 0, seen: frozenset[str] = frozenset()) -> bool:
        """True when ``node`` is text built by %, +, format() or an f-string from a value
        that is not constant (after following local names)."""
        if depth > MAX_DEPTH or self.constant(node):
            return False
        if isinstance(node, ast.Name):
            if node.id in seen:
                return False
            inner = seen | {node.id}
            return any(self.built(v, depth + 1, inner) for v in self.values(node.id) or [])
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mod | ast.Add):
            return True
        if isinstance(node, ast.JoinedStr):
            return True
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            # psycopg2.sql.SQL("...").format(...) composes identifiers safely.
            receiver = node.func.value
            if isinstance(receiver, ast.Call) and dotted(receiver.func).endswith("SQL"):
                return False
            return node.func.attr == "format"
        return False

    def roots(self, node: ast.expr, depth: int = 0, seen: frozenset[str] = frozenset()) -> set[str]:
        """The parameters and free names a value is computed from (a parameter that is
        reassigned stays a root: its first value came from the caller). A field read
        (``ticket.company_id``) ends the path: the ORM reads it, checking access unless
        in sudo mode; ``.id``/``.ids`` do not (``browse(x).id`` is ``x``), nor does the
        condition of ``a if cond else b``."""
        found: set[str] = set()
        if depth > MAX_DEPTH:
            return found
        for part in _value_names(node):
            if part.id in seen:
                continue
            values = self.assigned.get(part.id)
            if values is None or part.id in self.params:
                found.add(part.id)
            for value in values or []:
                found |= self.roots(value, depth + 1, seen | {part.id})
        return found

    def reads_request(self, node: ast.expr) -> bool:
        """True when ``node`` reads request input (``request.params``, the raw request),
        also as ``http.request``."""
        return self.mentions(node, _request_input)

    def mentions_sudo(self, node: ast.expr, before: int | None = None) -> bool:
        """True when ``node`` is in sudo mode; with ``before`` (the line of its use),
        only through values assigned up to that line: ``m.browse(i)`` is not in sudo
        mode when ``m = m.sudo()`` comes after it."""
        return self.mentions(node, _sudo_call, before=before)

    def mentions_user(self, node: ast.expr) -> bool:
        """True when ``node`` is computed from the current user (``request.env.user``,
        ``env.uid``, ``request.uid``)."""
        return self.mentions(node, _current_user)

    def mentions(
        self,
        node: ast.expr,
        test: Callable[[ast.AST], bool],
        depth: int = 0,
        seen: frozenset[str] = frozenset(),
        before: int | None = None,
    ) -> bool:
        """True when a part of ``node``, or of a value assigned to a name in it (up to
        line ``before`` when given), passes ``test``."""
        if depth > MAX_DEPTH:
            return False
        for part in ast.walk(node):
            if test(part):
                return True
            if isinstance(part, ast.Name) and part.id in self.assigned and part.id not in seen:
                inner = seen | {part.id}
                values = self.assigned[part.id]
                if before is not None:
                    values = [v for v in values if getattr(v, "lineno", 0) <= before]
                if any(self.mentions(v, test, depth + 1, inner, before) for v in values):
                    return True
        return False

    def derived(
        self, node: ast.expr, depth: int = 0, seen: frozenset[str] = frozenset()
    ) -> set[int]:
        """The ``id()`` of the calls a recordset ``node`` is derived from: ``t`` after
        ``t = env["x"].browse(i)``, ``for t in records``, ``t.sudo()``, ``t[0]``,
        ``t.partner_id``. A value put into a dict is not followed."""
        found: set[int] = set()
        if depth > MAX_DEPTH:
            return found
        if isinstance(node, ast.Name) and node.id not in seen:
            inner = seen | {node.id}
            for value in self.assigned.get(node.id, []):
                if id(value) not in self.held:
                    found |= self.derived(value, depth + 1, inner)
        elif isinstance(node, ast.Call):
            found.add(id(node))
            if isinstance(node.func, ast.Attribute) and node.func.attr in RECORD_CALLS:
                found |= self.derived(node.func.value, depth + 1, seen)
        elif isinstance(node, ast.Attribute | ast.Subscript | ast.Starred):
            found |= self.derived(node.value, depth + 1, seen)
        elif isinstance(node, ast.IfExp):
            found |= self.derived(node.body, depth + 1, seen)
            found |= self.derived(node.orelse, depth + 1, seen)
        elif isinstance(node, ast.BoolOp):
            for value in node.values:
                found |= self.derived(value, depth + 1, seen)
        return found

    def record(self, node: ast.expr, depth: int = 0, seen: frozenset[str] = frozenset()) -> bool:
        """True when ``node`` is a recordset: ``env[...]``, ``env.user``, the result of
        ``browse``/``search``/``sudo()``..., a field of a record; not ``self`` (a
        controller in a route) and not what ``read()`` returns."""
        if depth > MAX_DEPTH:
            return False
        if isinstance(node, ast.Name):
            if node.id in seen:
                return False
            inner = seen | {node.id}
            values = [v for v in self.assigned.get(node.id, []) if id(v) not in self.held]
            return any(self.record(v, depth + 1, inner) for v in values)
        if isinstance(node, ast.Call):
            return isinstance(node.func, ast.Attribute) and node.func.attr in RECORD_CALLS
        if isinstance(node, ast.Subscript):
            if dotted(node.value).rpartition(".")[2] == "env":
                return True
            index = node.slice
            numeric = isinstance(index, ast.Constant) and isinstance(index.value, int)
            return (numeric or isinstance(index, ast.Slice)) and self.record(
                node.value, depth + 1, seen
            )
        if isinstance(node, ast.Attribute):
            if node.attr in ("user", "company", "companies"):
                return dotted(node.value).rpartition(".")[2] == "env"
            return self.record(node.value, depth + 1, seen)
        if isinstance(node, ast.IfExp):
            return self.record(node.body, depth + 1, seen) or self.record(
                node.orelse, depth + 1, seen
            )
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitOr | ast.BitAnd):
            return self.record(node.left, depth + 1, seen)
        return False

    def model(self, node: ast.expr) -> str | None:
        """The model name of ``env["x.doc"]`` that ``node`` is computed from, if one."""
        names: list[str] = []

        def test(part: ast.AST) -> bool:
            if (
                isinstance(part, ast.Subscript)
                and dotted(part.value).rpartition(".")[2] == "env"
                and isinstance(part.slice, ast.Constant)
                and isinstance(part.slice.value, str)
            ):
                names.append(part.slice.value)
                return True
            return False

        self.mentions(node, test)
        return names[0] if names else None

    def domain_terms(self, node: ast.expr) -> list[tuple[str, str, ast.expr]]:
        """The ``(field, operator, value)`` terms a domain is built from, through local
        names: literals ``("id", "=", x)`` and Odoo 19's ``Domain("id", "=", x)``."""
        terms: list[tuple[str, str, ast.expr]] = []

        def test(part: ast.AST) -> bool:
            if isinstance(part, ast.Tuple | ast.List) and len(part.elts) == 3:
                items = part.elts
            elif isinstance(part, ast.Call) and dotted(part.func).endswith("Domain"):
                items = part.args
            else:
                return False
            if len(items) == 3:
                name, operator = _text(items[0]), _text(items[1])
                if name is not None and operator in DOMAIN_OPERATORS:
                    terms.append((name, operator, items[2]))
            return False

        self.mentions(node, test)
        return terms


def _value_names(node: ast.AST, called: bool = False) -> list[ast.Name]:
    """The names a value is made of, not through field reads or conditions."""
    if isinstance(node, ast.Name):
        return [node]
    if isinstance(node, ast.Attribute) and not called and node.attr not in ID_ATTRS:
        return []
    if isinstance(node, ast.Call):
        parts = [*node.args, *(k.value for k in node.keywords)]
        return _value_names(node.func, True) + [n for p in parts for n in _value_names(p)]
    if isinstance(node, ast.IfExp):
        return _value_names(node.body) + _value_names(node.orelse)
    return [n for child in ast.iter_child_nodes(node) for n in _value_names(child)]


def _text(node: ast.expr) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    return None


def _is_request(node: ast.AST) -> bool:
    """``request`` or ``http.request`` (``odoo.http.request``)."""
    if isinstance(node, ast.Name):
        return node.id == "request"
    return isinstance(node, ast.Attribute) and dotted(node) in REQUEST_NAMES


def _request_input(part: ast.AST) -> bool:
    return (
        isinstance(part, ast.Attribute) and part.attr in REQUEST_INPUTS and _is_request(part.value)
    )


def _sudo_call(part: ast.AST) -> bool:
    return (
        isinstance(part, ast.Call)
        and isinstance(part.func, ast.Attribute)
        and part.func.attr == "sudo"
    )


def _current_user(part: ast.AST) -> bool:
    if isinstance(part, ast.Attribute) and part.attr in ("user", "uid"):
        owner = dotted(part.value).rpartition(".")[2]
        return owner in ("env", "request", "session") or _is_request(part.value)
    return isinstance(part, ast.Name) and part.id == "uid"


def _collect(node: ast.AST, table: dict[str, list[ast.expr]], held: set[int]) -> None:
    if isinstance(node, ast.Assign):
        for target in node.targets:
            _bind(target, node.value, table, held)
    elif isinstance(node, ast.AnnAssign) and node.value is not None:
        _bind(node.target, node.value, table, held)
    elif isinstance(node, ast.AugAssign) and isinstance(node.target, ast.Name):
        name = node.target.id
        combined = ast.BinOp(ast.Name(name, ast.Load()), node.op, node.value)
        ast.copy_location(combined, node)
        table.setdefault(name, []).append(combined)
    elif isinstance(node, ast.For | ast.AsyncFor | ast.comprehension):
        _bind(node.target, node.iter, table, held)
    elif isinstance(node, ast.withitem) and node.optional_vars is not None:
        _bind(node.optional_vars, node.context_expr, table, held)
    elif isinstance(node, ast.NamedExpr):
        _bind(node.target, node.value, table, held)
    elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
        # values.update(kw), domain.append(term): the container now holds the value.
        receiver = node.func.value
        if node.func.attr in MUTATORS and isinstance(receiver, ast.Name):
            added = [*node.args, *(k.value for k in node.keywords)]
            table.setdefault(receiver.id, []).extend(added)
            held.update(id(value) for value in added)


def _bind(
    target: ast.expr, value: ast.expr, table: dict[str, list[ast.expr]], held: set[int]
) -> None:
    """``a = v``, ``a, b = v`` (each name gets all of ``v``), ``a[k] = v`` (``a`` holds ``v``)."""
    if isinstance(target, ast.Name):
        table.setdefault(target.id, []).append(value)
    elif isinstance(target, ast.Tuple | ast.List):
        for element in target.elts:
            inner = element.value if isinstance(element, ast.Starred) else element
            _bind(inner, value, table, held)
    elif isinstance(target, ast.Subscript) and isinstance(target.value, ast.Name):
        table.setdefault(target.value.id, []).append(value)
        held.add(id(value))
