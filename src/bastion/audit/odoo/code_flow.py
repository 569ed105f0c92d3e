"""Local data flow inside one Python function, as much as the code checks need.

>>> tree = ast.parse("def f(x):\\n    q = 'a' + x\\n    return q")
>>> flow = Flow.of(tree.body[0])
>>> flow.constant(ast.parse("q", mode="eval").body)
False
>>> sorted(flow.roots(ast.parse("q", mode="eval").body))
['x']

A name is followed through every assignment to it in the function (``=``, ``+=``,
annotated), and through module-level assignments of constants, a few levels deep.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field

MAX_DEPTH = 8
# Attributes whose value is a trusted identifier, never input (a model's table name).
REQUEST_INPUTS = frozenset({"params", "httprequest", "get_http_params", "get_json_data"})
# Translation of a literal: the text comes from the addon's own translation files.
TRANSLATE = frozenset({"_", "_lt"})
TRUSTED_ATTRS = frozenset({"_table", "_name", "_description"})


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

    @classmethod
    def of(
        cls, function: ast.FunctionDef | ast.AsyncFunctionDef, module: ast.Module | None = None
    ) -> Flow:
        args = function.args
        names = [a.arg for a in (*args.posonlyargs, *args.args, *args.kwonlyargs)]
        names += [a.arg for a in (args.vararg, args.kwarg) if a is not None]
        flow = cls(frozenset(n for n in names if n not in ("self", "cls")))
        for node in ast.walk(function):
            _collect(node, flow.assigned)
        if module is not None:
            for stmt in module.body:
                _collect(stmt, flow.module)
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

    def roots(self, node: ast.expr, depth: int = 0) -> set[str]:
        """The parameters and free names a value is computed from."""
        found: set[str] = set()
        if depth > MAX_DEPTH:
            return found
        for part in ast.walk(node):
            if isinstance(part, ast.Name):
                values = self.assigned.get(part.id)
                if values is None:
                    found.add(part.id)
                else:
                    for value in values:
                        found |= self.roots(value, depth + 1)
        return found

    def reads_request(self, node: ast.expr, depth: int = 0) -> bool:
        """True when ``node`` reads request input (``request.params``, the raw request)."""
        if depth > MAX_DEPTH:
            return False
        for part in ast.walk(node):
            if (
                isinstance(part, ast.Attribute)
                and isinstance(part.value, ast.Name)
                and part.value.id == "request"
                and part.attr in REQUEST_INPUTS
            ):
                return True
            if isinstance(part, ast.Name) and part.id in self.assigned:
                if any(self.reads_request(v, depth + 1) for v in self.assigned[part.id]):
                    return True
        return False

    def mentions_sudo(self, node: ast.expr, depth: int = 0) -> bool:
        if depth > MAX_DEPTH:
            return False
        for part in ast.walk(node):
            if isinstance(part, ast.Call) and isinstance(part.func, ast.Attribute):
                if part.func.attr == "sudo":
                    return True
            if isinstance(part, ast.Name) and part.id in self.assigned:
                if any(self.mentions_sudo(v, depth + 1) for v in self.assigned[part.id]):
                    return True
        return False


def _collect(node: ast.AST, table: dict[str, list[ast.expr]]) -> None:
    if isinstance(node, ast.Assign):
        for target in node.targets:
            if isinstance(target, ast.Name):
                table.setdefault(target.id, []).append(node.value)
    elif isinstance(node, ast.AnnAssign) and node.value is not None:
        if isinstance(node.target, ast.Name):
            table.setdefault(node.target.id, []).append(node.value)
    elif isinstance(node, ast.AugAssign) and isinstance(node.target, ast.Name):
        name = node.target.id
        combined = ast.BinOp(ast.Name(name, ast.Load()), node.op, node.value)
        ast.copy_location(combined, node)
        table.setdefault(name, []).append(combined)
