"""What an ``@http.route`` does with request values, followed into the helpers it calls.

>>> scan = scan_route("x/controllers/main.py", Module.of(tree), function, route)  # doctest: +SKIP
>>> [f.check for f in scan.findings]                                              # doctest: +SKIP
['BST-ODOO-ROUTE-IDOR']

A request value is a route parameter (path arguments, ``**kw``) or anything read from
``request.params``, ``request.httprequest``, ``request.get_json_data()``..., followed
through local assignments (:mod:`.code_flow`). A route is read together with the
helpers it calls, methods of its class (``self._get_ticket(ticket_id)``) and functions
of its module, up to :data:`MAX_CALL_DEPTH` calls deep; a parameter of a helper is a
request value when the call passes one.

- IDOR: a route with ``auth='public'`` or ``'user'`` reaches records by a request value
  in sudo mode, ``browse(value)`` or ``search``/``search_read``/``search_fetch`` with a
  term on ``id`` or a ``*_id`` field compared (``=``, ``in``) with a request value, to
  read or write them (``record.write(...)``, ``record.field = value``,
  ``record[field] = value``), and no access check is called anywhere on the way. A
  domain that also binds the search to the user (``request.env.user``), to an access
  token or to a publication flag (``show_in_portal = True``) is a deliberate filter.
- CSRF: a ``type='http'`` route with ``csrf=False`` that writes: it calls
  ``write``/``create``/``unlink``/``copy`` or assigns a field of a record.
- SQL: the ``cr.execute`` calls whose text is built from request input, so that the
  SQL-injection finding can name the route (:attr:`RouteScan.sql`).
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field

from .code_flow import Flow, dotted
from .findings import Finding, finding

FunctionNode = ast.FunctionDef | ast.AsyncFunctionDef

MAX_CALL_DEPTH = 3
CURSORS = ("cr", "_cr", "cursor")
WRITES = frozenset({"write", "create", "unlink", "copy"})
CHECK_CALLS = (
    "check_access", "has_access", "_document_check_access", "consteq", "_get_record_or_404",
)  # fmt: skip
LOOKUPS = frozenset({"browse", "search", "search_read", "search_fetch"})
ID_OPERATORS = frozenset({"=", "==", "=?", "in"})
# A term ``(flag, '=', True)`` on such a field limits a search to published records.
PUBLICATION_MARKS = ("publish", "portal", "public")


@dataclass(frozen=True)
class Route:
    """The options of an ``@http.route(...)`` decorator that the checks read."""

    auth: object = "user"
    csrf: object = True
    type: object = "http"

    @classmethod
    def of(cls, function: FunctionNode) -> Route | None:
        for decorator in function.decorator_list:
            if isinstance(decorator, ast.Call) and dotted(decorator.func).endswith("route"):
                options = {
                    k.arg: k.value.value
                    for k in decorator.keywords
                    if k.arg in ("auth", "csrf", "type") and isinstance(k.value, ast.Constant)
                }
                return cls(**options)
        return None


@dataclass(frozen=True)
class Module:
    """The functions of one source file a route may call."""

    tree: ast.Module
    methods: dict[int, dict[str, FunctionNode]]  # id(method) -> the methods of its class
    functions: dict[str, FunctionNode]
    _read: dict[int, tuple[Flow, list[WriteSite]]] = field(default_factory=dict)

    @classmethod
    def of(cls, tree: ast.Module) -> Module:
        methods: dict[int, dict[str, FunctionNode]] = {}
        for node in ast.walk(tree):
            if isinstance(node, ast.ClassDef):
                members = {f.name: f for f in node.body if isinstance(f, FunctionNode)}
                methods.update((id(f), members) for f in members.values())
        functions = {f.name: f for f in tree.body if isinstance(f, FunctionNode)}
        return cls(tree, methods, functions)

    def read(self, function: FunctionNode) -> tuple[Flow, list[WriteSite]]:
        """The flow and every write site of ``function``, read once per module."""
        if id(function) not in self._read:
            flow = Flow.of(function, self.tree)
            self._read[id(function)] = (flow, write_sites(function, flow, False))
        return self._read[id(function)]

    def callee(self, caller: FunctionNode, call: ast.Call) -> FunctionNode | None:
        """The helper ``self.name(...)`` or ``name(...)`` calls, when this file defines it."""
        func = call.func
        if isinstance(func, ast.Name):
            return self.functions.get(func.id)
        if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name):
            if func.value.id == "self":
                return self.methods.get(id(caller), {}).get(func.attr)
        return None


@dataclass(frozen=True)
class WriteSite:
    node: ast.AST  # the call or the assignment statement
    receiver: ast.expr  # what is written
    text: str  # "write()", or the target of an assignment: "ticket.stage_id"
    call: bool  # a call of write/create/unlink/copy, not an assignment

    @property
    def verb(self) -> str:
        return f"calls {self.text}" if self.call else f"assigns {self.text}"


def write_sites(function: FunctionNode, flow: Flow, records_only: bool = True) -> list[WriteSite]:
    """Calls of ``write``/``create``/``unlink``/``copy`` (on anything), and assignments
    to a field or an item (of a record, unless ``records_only`` is False), in source
    order."""
    sites: list[WriteSite] = []
    for node in ast.walk(function):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            if node.func.attr in WRITES:
                sites.append(WriteSite(node, node.func.value, f"{node.func.attr}()", True))
        elif isinstance(node, ast.Assign | ast.AugAssign | ast.AnnAssign):
            targets: list[ast.expr] = (
                list(node.targets) if isinstance(node, ast.Assign) else [node.target]
            )
            for target in _unpacked(targets):
                if isinstance(target, ast.Attribute | ast.Subscript):
                    if not records_only or flow.record(target.value):
                        text = ast.unparse(target)[:60]
                        sites.append(WriteSite(node, target.value, text, False))
    return sorted(sites, key=lambda s: (getattr(s.node, "lineno", 0), not s.call))


def has_check(function: ast.AST) -> bool:
    """True when ``function`` calls ``check_access*``, ``has_access``, ``consteq``..."""
    for node in ast.walk(function):
        if isinstance(node, ast.Call):
            called = dotted(node.func).rpartition(".")[2]
            if any(check in called for check in CHECK_CALLS):
                return True
    return False


@dataclass
class Reach:
    """A function read in a route's context: the route itself or a helper it calls."""

    function: FunctionNode
    flow: Flow
    tainted: frozenset[str]
    parent: Reach | None = None
    entry: ast.Call | None = None  # the call in ``parent`` that leads here
    # Every write call and field/item assignment: which of them write a record the
    # route looked up is decided by following that record (Flow.derived).
    sites: list[WriteSite] = field(default_factory=list)

    def record_writes(self) -> list[WriteSite]:
        return [s for s in self.sites if s.call or self.flow.record(s.receiver)]

    @property
    def depth(self) -> int:
        return 0 if self.parent is None else self.parent.depth + 1

    def taints(self, node: ast.expr) -> bool:
        return bool(self.flow.roots(node) & self.tainted) or self.flow.reads_request(node)

    def chain(self) -> list[Reach]:
        return [self] if self.parent is None else [*self.parent.chain(), self]


@dataclass(frozen=True)
class RouteScan:
    findings: list[Finding]
    # id() of a cr.execute call whose SQL text is built from request input -> the route
    # (and the helpers) that pass it, for the SQL-injection message.
    sql: dict[int, str]


def scan_route(rel: str, module: Module, function: FunctionNode, route: Route) -> RouteScan:
    reaches = _reaches(module, function)
    found: list[Finding] = []
    label = f"route {function.name} (auth={route.auth!r})"
    if route.auth in ("public", "user") and not any(has_check(r.function) for r in reaches):
        hits = [hit for r in reaches for hit in _lookups(r)]
        if hits:
            found.append(_idor(rel, label, *hits[0]))
    if route.csrf is False and route.type == "http":
        written = [(r, s) for r in reaches for s in r.record_writes()]
        if written:
            reach, site = written[0]
            helper = f" in {reach.function.name}()" if reach.parent else ""
            message = (
                f"route {function.name} has csrf=False and {site.verb}{helper}"
                ": another site can make a logged-in user's browser do it"
            )
            found.append(finding("BST-ODOO-ROUTE-CSRF-WRITE", rel, function.lineno, message))
    sql: dict[int, str] = {}
    for reach in reaches:
        for call in _built_queries(reach):
            caller = f"called by {label}{_path(reach)}" if reach.parent else label
            sql.setdefault(id(call), caller)
    return RouteScan(found, sql)


def _reaches(module: Module, route: FunctionNode) -> list[Reach]:
    """The route and the helpers it calls, breadth first; a helper is read again only
    when it receives other request values than before."""
    flow, sites = module.read(route)
    start = Reach(route, flow, flow.params, sites=sites)
    found = [start]
    pending = [start]
    seen = {(id(route), start.tainted)}
    while pending:
        reach = pending.pop(0)
        if reach.depth >= MAX_CALL_DEPTH:
            continue
        on_path = {id(r.function) for r in reach.chain()}
        calls = [n for n in ast.walk(reach.function) if isinstance(n, ast.Call)]
        for call in sorted(calls, key=lambda c: (c.lineno, c.col_offset)):
            callee = module.callee(reach.function, call)
            if callee is None or id(callee) in on_path:
                continue
            tainted = _passed(call, callee, reach)
            if (id(callee), tainted) in seen:
                continue
            seen.add((id(callee), tainted))
            inner, sites = module.read(callee)
            child = Reach(callee, inner, tainted, reach, call, sites)
            found.append(child)
            pending.append(child)
    return found


def _passed(call: ast.Call, callee: FunctionNode, caller: Reach) -> frozenset[str]:
    """The parameters of ``callee`` that receive a request value from ``call``."""
    args = callee.args
    positional = [a.arg for a in (*args.posonlyargs, *args.args) if a.arg not in ("self", "cls")]
    named = positional + [a.arg for a in args.kwonlyargs]
    vararg = [args.vararg.arg] if args.vararg else []
    tainted: set[str] = set()
    for i, value in enumerate(call.args):
        if isinstance(value, ast.Starred):  # *values: any later positional parameter
            if caller.taints(value.value):
                tainted.update(positional[i:], vararg)
        elif caller.taints(value):
            if i < len(positional):
                tainted.add(positional[i])
            else:
                tainted.update(vararg)
    for keyword in call.keywords:
        if not caller.taints(keyword.value):
            continue
        if keyword.arg is None:  # **kw: any named parameter may come from it
            tainted.update(named, [args.kwarg.arg] if args.kwarg else [])
        elif keyword.arg in named:
            tainted.add(keyword.arg)
        elif args.kwarg is not None:
            tainted.add(args.kwarg.arg)
    return frozenset(tainted)


def _lookups(reach: Reach) -> list[tuple[Reach, ast.Call, str, WriteSite | None]]:
    """Records reached by a request value in sudo mode: (where, call, what, write)."""
    hits: list[tuple[Reach, ast.Call, str, WriteSite | None]] = []
    calls = [n for n in ast.walk(reach.function) if isinstance(n, ast.Call)]
    for call in sorted(calls, key=lambda c: (c.lineno, c.col_offset)):
        what = _request_lookup(reach, call)
        if what is None:
            continue
        assert isinstance(call.func, ast.Attribute)
        sudo = reach.flow.mentions_sudo(call.func.value, call.lineno)
        writes = [
            site
            for where, site in _writes_of(reach, call)
            if sudo or where.flow.mentions_sudo(site.receiver, getattr(site.node, "lineno", None))
        ]
        if sudo or writes:
            hits.append((reach, call, what, writes[0] if writes else None))
    return hits


def _request_lookup(reach: Reach, call: ast.Call) -> str | None:
    """How ``call`` picks records by a request value ("browses x.doc by an id from the
    request", "finds x.doc with search() on id from the request"), or None."""
    func = call.func
    if not isinstance(func, ast.Attribute) or func.attr not in LOOKUPS:
        return None
    model = reach.flow.model(func.value)
    if func.attr == "browse":
        if call.args and reach.taints(call.args[0]):
            return f"browses {model or 'a record'} by an id from the request"
        return None
    domain = call.args[0] if call.args else None
    for keyword in call.keywords:
        if keyword.arg == "domain":
            domain = keyword.value
    if domain is None:
        return None
    terms = reach.flow.domain_terms(domain)
    if any(_deliberate(reach.flow, term) for term in terms):
        return None
    for name, operator, value in terms:
        by_id = name == "id" or name.endswith("_id")
        if by_id and operator in ID_OPERATORS and reach.taints(value):
            return f"finds {model or 'records'} with {func.attr}() on {name} from the request"
    return None


def _deliberate(flow: Flow, term: tuple[str, str, ast.expr]) -> bool:
    """A term that binds a search to the user, an access token or a publication flag."""
    name, _operator, value = term
    if "token" in name or flow.mentions_user(value):
        return True
    published = isinstance(value, ast.Constant) and value.value is True
    return published and any(mark in name for mark in PUBLICATION_MARKS)


def _writes_of(reach: Reach, call: ast.Call) -> list[tuple[Reach, WriteSite]]:
    """Writes of what ``call`` returns, in its function or, through the helper's
    return value, in the functions that called it (``t = self._get(id); t.x = 1``)."""
    found: list[tuple[Reach, WriteSite]] = []
    target: ast.AST = call
    current: Reach | None = reach
    while current is not None:
        found.extend(
            (current, s) for s in current.sites if id(target) in current.flow.derived(s.receiver)
        )
        if current.entry is None:
            break
        target, current = current.entry, current.parent
    return found


def _built_queries(reach: Reach) -> list[ast.Call]:
    found: list[ast.Call] = []
    for node in ast.walk(reach.function):
        if isinstance(node, ast.Call) and node.args and isinstance(node.func, ast.Attribute):
            owner = dotted(node.func.value).rpartition(".")[2]
            if node.func.attr == "execute" and owner in CURSORS:
                query = node.args[0]
                if reach.flow.built(query) and reach.taints(query):
                    found.append(node)
    return found


def _path(reach: Reach) -> str:
    """Where the route leads to a helper: " at line 12 through _get_ticket()"."""
    chain = reach.chain()
    if len(chain) < 2 or chain[1].entry is None:
        return ""
    middle = [r.function.name + "()" for r in chain[1:-1]]
    through = f" through {' -> '.join(middle)}" if middle else ""
    return f" at line {chain[1].entry.lineno}{through}"


def _idor(
    rel: str, label: str, reach: Reach, call: ast.Call, what: str, write: WriteSite | None
) -> Finding:
    line = getattr(call.func, "end_lineno", None) or call.lineno
    if reach.parent is None:
        subject = f"{label} {what}"
    else:
        subject = f"{reach.function.name}(), called by {label}{_path(reach)}, {what}"
    if write is None:
        tail = "in sudo mode and never checks access: any user can read any record"
    else:
        where = getattr(write.node, "lineno", None)
        shown = write.text if write.call else f"{write.text} = ..."
        tail = (
            f"in sudo mode and writes it ({shown}, line {where}) without an access "
            "check: any user can change any record"
        )
    return finding("BST-ODOO-ROUTE-IDOR", rel, line, f"{subject} {tail}")


def _unpacked(targets: list[ast.expr]) -> list[ast.expr]:
    flat: list[ast.expr] = []
    for target in targets:
        if isinstance(target, ast.Tuple | ast.List):
            flat.extend(_unpacked(list(target.elts)))
        else:
            flat.append(target)
    return flat
