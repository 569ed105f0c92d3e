"""Python code checks on an addon's sources (read with ``ast``, never imported).

>>> [f.check for f in check_python(sources)]                       # doctest: +SKIP
['BST-ODOO-SQL-INJECTION', 'BST-ODOO-ROUTE-IDOR']

- SQL text built by ``%``, ``+``, ``format()`` or an f-string reaching ``cr.execute``,
  followed through local assignments (a constant query with parameters is fine);
  critical when a route passes request input into it, directly or through helpers;
- ``eval``/``exec``/``safe_eval`` and ``getattr`` of values that are not constants;
- ``Markup(...)`` of values that are not constants;
- routes that reach records by a request value in sudo mode without an access check,
  and ``csrf=False`` routes that write (:mod:`.route_checks`);
- public model methods (no leading ``_``, not ``@api.model``) that write in sudo mode
  (``sudo().write()``, or a field assigned on a sudo record) without an access check.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator

from .code_flow import Flow, dotted
from .findings import Finding, Severity, finding
from .route_checks import CURSORS, Module, Route, has_check, scan_route, write_sites
from .static_models import PySource

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
        module = Module.of(source.tree)
        functions = list(_functions(source.tree))
        # A helper reached from two routes is reported once, for the first route.
        routes: dict[tuple[str, int | None], Finding] = {}
        routed: dict[int, str] = {}  # cr.execute calls fed by request input -> the route
        for function, _in_model in functions:
            route = Route.of(function)
            if route is not None:
                scan = scan_route(source.rel, module, function, route)
                for item in scan.findings:
                    routes.setdefault((item.check, item.line), item)
                for call, caller in scan.sql.items():
                    routed.setdefault(call, caller)
        found.extend(routes.values())
        for function, in_model in functions:
            flow = Flow.of(function, source.tree)
            found.extend(_calls(source, function, flow, routed))
            if in_model and Route.of(function) is None:
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
    source: PySource,
    function: ast.FunctionDef | ast.AsyncFunctionDef,
    flow: Flow,
    routed: dict[int, str],
) -> list[Finding]:
    found: list[Finding] = []
    for node in ast.walk(function):
        if not isinstance(node, ast.Call) or not node.args:
            continue
        name = dotted(node.func)
        last = name.rpartition(".")[2]
        first = node.args[0]
        if last == "execute" and name.rpartition(".")[0].rpartition(".")[2] in CURSORS:
            if id(node) in routed:
                message = (
                    f"{name}() runs SQL text built from request input ({routed[id(node)]}): "
                    "pass the values as query parameters"
                )
                found.append(
                    _at("BST-ODOO-SQL-INJECTION", source, node, message, Severity.CRITICAL)
                )
            elif flow.built(first):
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


def _at(
    check: str, source: PySource, node: ast.AST, message: str, severity: Severity | None = None
) -> Finding:
    return finding(check, source.rel, getattr(node, "lineno", None), message, severity)


def _public_method(
    source: PySource, function: ast.FunctionDef | ast.AsyncFunctionDef, flow: Flow
) -> list[Finding]:
    if function.name.startswith("_") or function.name in ORM_METHODS:
        return []
    for decorator in function.decorator_list:
        target = decorator.func if isinstance(decorator, ast.Call) else decorator
        if dotted(target).rpartition(".")[2] in EXEMPT_DECORATORS:
            return []
    if has_check(function):
        return []
    sites = [s for s in write_sites(function, flow) if flow.mentions_sudo(s.receiver)]
    # A call is named first: sudo().write() is the usual shape, an assignment the rarer.
    for site in sorted(sites, key=lambda s: not s.call):
        what = f"calls sudo().{site.text}" if site.call else f"{site.verb} on a sudo record"
        message = (
            f"public method {function.name} {what} without an access check; RPC lets "
            "any user with access to the model call it"
        )
        return [_at("BST-ODOO-PUBLIC-METHOD-SUDO-WRITE", source, site.node, message)]
    return []
