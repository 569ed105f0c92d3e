"""Python code checks on an addon's sources (read with ``ast``, never imported).

>>> [f.check for f in check_python(sources)]                       # doctest: +SKIP
['BST-ODOO-SQL-INJECTION', 'BST-ODOO-ROUTE-IDOR']

- SQL text built by ``%``, ``+``, ``format()`` or an f-string reaching ``cr.execute``,
  followed through local assignments (a constant query with parameters is fine);
- ``eval``/``exec``/``safe_eval`` and ``getattr`` of values that are not constants;
- ``Markup(...)`` of values that are not constants;
- routes (``auth='public'`` or ``'user'``) that ``sudo()`` and ``browse()`` an id
  coming from the request without an access check; ``csrf=False`` routes that write;
- public model methods (no leading ``_``, not ``@api.model``) that write in sudo mode
  without an access check.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator

from .code_flow import Flow, dotted
from .findings import Finding, finding
from .static_models import PySource

CURSORS = ("cr", "_cr", "cursor")
WRITES = frozenset({"write", "create", "unlink", "copy"})
CHECK_CALLS = ("check_access", "_document_check_access", "consteq", "_get_record_or_404")
EXEMPT_DECORATORS = frozenset(
    {"model", "model_create_multi", "depends", "onchange", "constrains", "autovacuum",
     "ondelete", "depends_context"}
)  # fmt: skip
ORM_METHODS = frozenset(
    {"create", "write", "unlink", "copy", "read", "default_get", "name_get", "name_search",
     "search", "search_read", "fields_get", "init", "toggle_active", "action_archive",
     "action_unarchive"}
)  # fmt: skip


def check_python(sources: list[PySource]) -> list[Finding]:
    found: list[Finding] = []
    for source in sources:
        for function, in_model in _functions(source.tree):
            flow = Flow.of(function, source.tree)
            found.extend(_calls(source, function, flow))
            route = _route(function)
            if route is not None:
                found.extend(_route_checks(source, function, flow, route))
            elif in_model:
                found.extend(_public_method(source, function, flow))
    return found


def _functions(
    module: ast.Module,
) -> Iterator[tuple[ast.FunctionDef | ast.AsyncFunctionDef, bool]]:
    for node in ast.walk(module):
        if isinstance(node, ast.ClassDef):
            in_model = any(
                isinstance(s, ast.Assign)
                and any(
                    isinstance(t, ast.Name) and t.id in ("_name", "_inherit") for t in s.targets
                )
                for s in node.body
            )
            for item in node.body:
                if isinstance(item, ast.FunctionDef | ast.AsyncFunctionDef):
                    yield item, in_model
        elif isinstance(node, ast.Module):
            for item in node.body:
                if isinstance(item, ast.FunctionDef | ast.AsyncFunctionDef):
                    yield item, False


def _calls(
    source: PySource, function: ast.FunctionDef | ast.AsyncFunctionDef, flow: Flow
) -> list[Finding]:
    found: list[Finding] = []
    for node in ast.walk(function):
        if not isinstance(node, ast.Call) or not node.args:
            continue
        name = dotted(node.func)
        last = name.rpartition(".")[2]
        first = node.args[0]
        if last == "execute" and name.rpartition(".")[0].rpartition(".")[2] in CURSORS:
            if flow.built(first):
                message = (
                    f"{name}() runs SQL text built from values (line {first.lineno}): "
                    "pass them as query parameters"
                )
                found.append(_at("BST-ODOO-SQL-INJECTION", source, node, message))
        elif name in ("eval", "exec") or last == "safe_eval":
            if not flow.constant(first):
                message = f"{name}() evaluates a value that is not a constant"
                found.append(_at("BST-ODOO-EVAL-NONCONST", source, node, message))
        elif name == "getattr" and len(node.args) >= 2 and not flow.constant(node.args[1]):
            message = f"getattr() with a computed name ({ast.unparse(node.args[1])[:60]})"
            found.append(_at("BST-ODOO-GETATTR-NONCONST", source, node, message))
        elif last == "Markup" and not flow.constant(first):
            message = f"Markup({ast.unparse(first)[:60]}) marks a value as safe HTML unescaped"
            found.append(_at("BST-ODOO-MARKUP-NONCONST", source, node, message))
    return found


def _at(check: str, source: PySource, node: ast.AST, message: str) -> Finding:
    return finding(check, source.rel, getattr(node, "lineno", None), message)


def _route(function: ast.FunctionDef | ast.AsyncFunctionDef) -> dict[str, object] | None:
    """The keyword arguments of an ``@http.route(...)`` decorator, or None."""
    for decorator in function.decorator_list:
        if isinstance(decorator, ast.Call) and dotted(decorator.func).endswith("route"):
            options: dict[str, object] = {"auth": "user", "csrf": True, "type": "http"}
            for keyword in decorator.keywords:
                if keyword.arg and isinstance(keyword.value, ast.Constant):
                    options[keyword.arg] = keyword.value.value
            return options
    return None


def _has_check(function: ast.AST) -> bool:
    for node in ast.walk(function):
        if isinstance(node, ast.Call):
            called = dotted(node.func).rpartition(".")[2]
            if any(check in called for check in CHECK_CALLS):
                return True
    return False


def _writes(function: ast.AST) -> list[ast.Call]:
    return [
        node
        for node in ast.walk(function)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr in WRITES
    ]


def _route_checks(
    source: PySource,
    function: ast.FunctionDef | ast.AsyncFunctionDef,
    flow: Flow,
    route: dict[str, object],
) -> list[Finding]:
    found: list[Finding] = []
    if route["auth"] in ("public", "user") and not _has_check(function):
        for node in ast.walk(function):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
                continue
            if node.func.attr != "browse" or not node.args:
                continue
            argument = node.args[0]
            from_request = flow.roots(argument) & flow.params or flow.reads_request(argument)
            if from_request and flow.mentions_sudo(node.func.value):
                message = (
                    f"route {function.name} (auth={route['auth']!r}) browses an id from the "
                    "request in sudo mode and never checks access: any user can read any record"
                )
                found.append(_at("BST-ODOO-ROUTE-IDOR", source, node, message))
                break
    if route["csrf"] is False and route["type"] == "http":
        writes = [c.func.attr for c in _writes(function) if isinstance(c.func, ast.Attribute)]
        if writes:
            message = (
                f"route {function.name} has csrf=False and calls {writes[0]}()"
                ": another site can make a logged-in user's browser do it"
            )
            found.append(_at("BST-ODOO-ROUTE-CSRF-WRITE", source, function, message))
    return found


def _public_method(
    source: PySource, function: ast.FunctionDef | ast.AsyncFunctionDef, flow: Flow
) -> list[Finding]:
    if function.name.startswith("_") or function.name in ORM_METHODS:
        return []
    for decorator in function.decorator_list:
        target = decorator.func if isinstance(decorator, ast.Call) else decorator
        if dotted(target).rpartition(".")[2] in EXEMPT_DECORATORS:
            return []
    if _has_check(function):
        return []
    for node in _writes(function):
        assert isinstance(node.func, ast.Attribute)
        if flow.mentions_sudo(node.func.value):
            message = (
                f"public method {function.name} calls sudo().{node.func.attr}() without an "
                "access check; RPC lets any user with access to the model call it"
            )
            return [_at("BST-ODOO-PUBLIC-METHOD-SUDO-WRITE", source, node, message)]
    return []
