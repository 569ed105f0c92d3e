"""The peers Bastion is measured against: hand-written SQL, PostgreSQL row-level
security, and load-then-filter in Python, each with the predicate of the real rules.

>>> pred = PREDICATES[("sale.order", True)]          # the portal rule of sale orders
>>> HandSql(conn, "postgresql").search(DOCS["sale.order"], pred, params)  # doctest: +SKIP

The predicates restate, by hand, what the addons' ``security/*.xml`` say for the bench
users (``m`` is the document's table):

- sale orders: multi-company AND (portal: ``partner_id child_of`` the commercial
  partner; salesman: own or unassigned);
- invoices: multi-company AND (portal: posted, of an invoice type, a follower in the
  commercial partner's tree; billing: all);
- tasks: multi-company AND (portal: project shared with portal AND (a follower in the
  tree OR the user's partner collaborates on the project); project user: project not
  followers-only OR the user's partner follows the project);
- helpdesk tickets (create): multi-company AND ``partner_id child_of`` the tree.

``child_of`` is the recursive CTE over ``parent_id``, its ids as an array on
PostgreSQL, as Bastion compiles it (docs/performance.md); ``%(name)s`` are the user's
values, bound once per statement.
A many2many condition is an uncorrelated ``m.id IN (SELECT owner FROM relation WHERE
...)``: PostgreSQL runs it once (a hashed SubPlan) even under an ``OR``, where a
correlated ``EXISTS`` re-runs the CTE inside it for every row (measured: 400 ms against
a few ms for the portal task count at 10k).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

TREE = (
    "(WITH RECURSIVE tree(id) AS (SELECT id FROM res_partner WHERE id = %(commercial)s "
    "UNION SELECT p.id FROM res_partner p JOIN tree t ON p.parent_id = t.id) "
    "SELECT id FROM tree)"
)
# Membership in the tree as Bastion writes it on PostgreSQL (``= ANY(ARRAY(...))``,
# bastion.domain.sql_members): PostgreSQL estimates a recursive CTE at 401 rows whatever
# it holds, and with a plain ``IN`` hash-joined a scan of the documents or links to a
# customer's five partners. The SQLite text says ``IN`` (dialect_sql).
IN_TREE = f"= ANY(ARRAY{TREE})"
COMPANY = "(m.company_id IS NULL OR m.company_id = ANY(%(companies)s))"
INVOICE_TYPES = "('out_invoice', 'out_refund', 'in_invoice', 'in_refund')"

# Text of constants only (no value reaches it: the user's are bound parameters).
PREDICATES: dict[tuple[str, bool], str] = {  # noqa: S608
    ("sale.order", True): f"{COMPANY} AND m.partner_id {IN_TREE}",
    ("sale.order", False): f"{COMPANY} AND (m.user_id = %(uid)s OR m.user_id IS NULL)",
    ("account.move", True): (
        f"{COMPANY} AND m.state = 'posted' AND m.move_type IN {INVOICE_TYPES} AND m.id IN "  # noqa: S608
        "(SELECT f.account_move_id FROM account_move_res_partner_rel f "
        f"WHERE f.res_partner_id {IN_TREE})"
    ),
    ("account.move", False): COMPANY,
    ("project.task", True): (
        f"{COMPANY} AND m.project_id IN (SELECT id FROM project_project "  # noqa: S608
        "WHERE privacy_visibility = 'portal') AND (m.id IN (SELECT f.project_task_id FROM "
        f"project_task_res_partner_rel f WHERE f.res_partner_id {IN_TREE}) "
        "OR m.project_id IN (SELECT c.project_id FROM project_collaborator c "
        "WHERE c.partner_id = %(partner)s))"
    ),
    ("project.task", False): (
        f"{COMPANY} AND (m.project_id IN (SELECT id FROM project_project "  # noqa: S608
        "WHERE privacy_visibility <> 'followers') OR m.project_id IN (SELECT "
        "f.project_project_id FROM project_project_res_partner_rel f "
        "WHERE f.res_partner_id = %(partner)s))"
    ),
    ("helpdesk.ticket", True): f"{COMPANY} AND m.partner_id {IN_TREE}",
}

# The indexes one would add by hand for these queries (the rule columns and the
# follower tables are indexed by the registry already): the list pages' sort keys,
# and the portal list of orders by customer then date.
HAND_INDEXES = (
    "CREATE INDEX bench_sale_order_date ON sale_order (date_order DESC, id DESC)",
    "CREATE INDEX bench_sale_order_partner_date ON sale_order "
    "(partner_id, date_order DESC, id DESC)",
    "CREATE INDEX bench_account_move_date ON account_move (invoice_date DESC, id DESC)",
    "CREATE INDEX bench_project_task_deadline ON project_task (date_deadline DESC, id DESC)",
)


@dataclass(frozen=True)
class Doc:
    """A document model as the list page shows it."""

    model: str
    table: str
    order: str  # as Bastion takes it
    sql_order: str  # the same, as SQL
    fields: tuple[str, ...]  # read by the list page
    many2one: str  # the list's many2one, shown with its related name
    related_table: str
    active: bool  # has an active field: Bastion's search adds active = True


DOCS = {
    "sale.order": Doc(
        "sale.order",
        "sale_order",
        "date_order desc, id desc",
        "m.date_order DESC NULLS FIRST, m.id DESC NULLS FIRST",
        ("name", "partner_id", "date_order", "state", "amount_total"),
        "partner_id",
        "res_partner",
        False,
    ),
    "account.move": Doc(
        "account.move",
        "account_move",
        "invoice_date desc, id desc",
        "m.invoice_date DESC NULLS FIRST, m.id DESC NULLS FIRST",
        ("name", "partner_id", "invoice_date", "state", "amount_total"),
        "partner_id",
        "res_partner",
        False,
    ),
    "project.task": Doc(
        "project.task",
        "project_task",
        "date_deadline desc, id desc",
        "m.date_deadline DESC NULLS FIRST, m.id DESC NULLS FIRST",
        ("name", "project_id", "stage", "date_deadline"),
        "project_id",
        "project_project",
        True,
    ),
}


def dialect_sql(text: str, dialect: str) -> str:
    """The PostgreSQL text as is, or its SQLite spelling (arrays as JSON)."""
    if dialect == "postgresql":
        return text
    text = text.replace(IN_TREE, f"IN {TREE}")
    text = re.sub(r"= ANY\(%\((\w+)\)s\)", r"IN (SELECT value FROM json_each(:\1))", text)
    return re.sub(r"%\((\w+)\)s", r":\1", text)


def dialect_params(params: dict[str, Any], dialect: str) -> dict[str, Any]:
    if dialect == "postgresql":
        return params
    return {k: json.dumps(v) if isinstance(v, list | tuple) else v for k, v in params.items()}


# -- hand-written SQL --------------------------------------------------------------------
class HandSql:
    """The queries one writes for exactly this user: one statement each, dict rows.

    ``conn`` is a psycopg connection (dict rows) or a sqlite3 connection
    (``sqlite3.Row``); every call is its own transaction, as a request would be.
    """

    def __init__(self, conn: Any, dialect: str) -> None:
        self.conn = conn
        self.dialect = dialect

    def _rows(self, text: str, params: dict[str, Any]) -> list[dict[str, Any]]:
        cur = self.conn.execute(
            dialect_sql(text, self.dialect), dialect_params(params, self.dialect)
        )
        rows = [dict(row) for row in cur.fetchall()]
        self.conn.commit()
        return rows

    def search_read(self, doc: Doc, pred: str, params: dict[str, Any]) -> list[dict[str, Any]]:
        columns = ", ".join(f"m.{name}" for name in doc.fields)
        active = " AND m.active" if doc.active else ""
        text = (
            f"SELECT m.id, {columns}, r.name AS {doc.many2one}_name FROM {doc.table} m "  # noqa: S608
            f"LEFT JOIN {doc.related_table} r ON r.id = m.{doc.many2one} "
            f"WHERE {pred}{active} ORDER BY {doc.sql_order} LIMIT 80"
        )
        return self._rows(text, params)

    def search_count(self, doc: Doc, pred: str, params: dict[str, Any]) -> int:
        active = " AND m.active" if doc.active else ""
        text = f"SELECT count(*) AS n FROM {doc.table} m WHERE {pred}{active}"  # noqa: S608
        return int(self._rows(text, params)[0]["n"])

    def allowed(self, doc: Doc, pred: str, params: dict[str, Any], ids: Sequence[int]) -> set[int]:
        text = f"SELECT m.id FROM {doc.table} m WHERE m.id = ANY(%(ids)s) AND {pred}"  # noqa: S608
        return {int(row["id"]) for row in self._rows(text, {**params, "ids": list(ids)})}


# -- row-level security ------------------------------------------------------------------
ROLES = {True: "bench_portal", False: "bench_internal"}
SETTINGS = ("uid", "partner", "commercial", "companies")


def policy_predicate(pred: str, table: str) -> str:
    """A predicate over the session settings, each read once per statement (an
    InitPlan: the lesson of the RLS performance guides), on the policy's table."""
    text = re.sub(r"\bm\.", f"{table}.", pred)
    # A cast of the sub-select: ANY (sub-select) would mean "any row", not an array.
    companies = "CAST((SELECT current_setting('app.companies')) AS int[])"
    text = text.replace("%(companies)s", companies)
    return re.sub(r"%\((\w+)\)s", r"(SELECT current_setting('app.\1')::int)", text)


def rls_setup_statements(existing_roles: set[str]) -> Iterator[str]:
    """Roles (cluster-wide: made once per server), grants and policies: ``bench_portal``
    and ``bench_internal`` read under the same predicates; portal users insert tickets,
    salesmen insert orders."""
    tables = ("sale_order", "account_move", "project_task", "helpdesk_ticket")
    for role in ROLES.values():
        if role not in existing_roles:
            yield f"CREATE ROLE {role} NOLOGIN NOBYPASSRLS"
        yield f"GRANT SELECT ON ALL TABLES IN SCHEMA public TO {role}"
        yield f"GRANT INSERT ON helpdesk_ticket, sale_order TO {role}"
        yield (
            f"GRANT INSERT ON helpdesk_ticket_res_partner_rel, res_partner_sale_order_rel TO {role}"
        )
        yield f"GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO {role}"
    for table in tables:
        yield f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY"
    for (model, portal), pred in PREDICATES.items():
        table = model.replace(".", "_")
        role = ROLES[portal]
        using = policy_predicate(pred, table)
        yield f"CREATE POLICY bench_read_{role} ON {table} FOR SELECT TO {role} USING ({using})"
    creates = {("helpdesk.ticket", True), ("sale.order", False)}
    for model, portal in creates:
        table = model.replace(".", "_")
        role = ROLES[portal]
        check = policy_predicate(PREDICATES[(model, portal)], table)
        yield (
            f"CREATE POLICY bench_create_{role} ON {table} FOR INSERT TO {role} "
            f"WITH CHECK ({check})"
        )


class Rls:
    """The same statements without a predicate, run as a non-superuser role whose
    policies hold the rules; the user's values in session settings."""

    def __init__(self, conn: Any, portal: bool, params: dict[str, Any]) -> None:
        self.conn = conn
        self.hand = HandSql(conn, "postgresql")
        conn.execute(f"SET ROLE {ROLES[portal]}")
        for name in SETTINGS:
            value = params[name]
            text = "{" + ",".join(map(str, value)) + "}" if isinstance(value, list) else str(value)
            conn.execute("SELECT set_config(%s, %s, false)", (f"app.{name}", text))
        conn.commit()

    def search_read(self, doc: Doc) -> list[dict[str, Any]]:
        return self.hand.search_read(doc, "TRUE", {})

    def search_count(self, doc: Doc) -> int:
        return self.hand.search_count(doc, "TRUE", {})

    def allowed(self, doc: Doc, ids: Sequence[int]) -> set[int]:
        return self.hand.allowed(doc, "TRUE", {}, ids)


# -- load-then-filter --------------------------------------------------------------------
RowPredicate = Callable[[dict[str, Any], "NaiveContext"], bool]


class NaiveContext:
    """What a per-object check needs beyond the row: the partner hierarchy (parents
    fetched as they are met), followers of the rows at hand, the projects."""

    def __init__(self, conn: Any, dialect: str, params: dict[str, Any]) -> None:
        self.conn = conn
        self.dialect = dialect
        self.params = params
        self.parents: dict[int, int | None] = {}
        self.followers: dict[int, tuple[int, ...]] = {}
        self.projects: dict[int, tuple[str, frozenset[int], frozenset[int]]] | None = None

    def query(self, text: str, params: dict[str, Any]) -> list[tuple[Any, ...]]:
        cur = self.conn.execute(
            dialect_sql(text, self.dialect), dialect_params(params, self.dialect)
        )
        return [tuple(row) for row in cur.fetchall()]

    def in_tree(self, partner: int | None) -> bool:
        """``partner child_of [commercial]``: walk up from the partner."""
        anchor = self.params["commercial"]
        seen: set[int] = set()
        while partner is not None and partner not in seen:
            if partner == anchor:
                return True
            seen.add(partner)
            partner = self.parents.get(partner)
        return False

    def load_parents(self, partners: set[int]) -> None:
        todo = {p for p in partners if p not in self.parents}
        while todo:
            rows = self.query(
                "SELECT id, parent_id FROM res_partner WHERE id = ANY(%(ids)s)", {"ids": list(todo)}
            )
            self.parents.update({int(r[0]): r[1] for r in rows})
            todo = {int(r[1]) for r in rows if r[1] is not None and r[1] not in self.parents}

    def load_followers(self, relation: str, column1: str, column2: str, ids: list[int]) -> None:
        rows = self.query(
            f"SELECT {column1}, {column2} FROM {relation} WHERE {column1} = ANY(%(ids)s)",  # noqa: S608
            {"ids": ids},
        )
        found: dict[int, list[int]] = {rid: [] for rid in ids}
        for rid, partner in rows:
            found[int(rid)].append(int(partner))
        self.followers.update({rid: tuple(p) for rid, p in found.items()})
        self.load_parents({p for ps in found.values() for p in ps})

    def load_projects(self) -> None:
        if self.projects is not None:
            return
        followers: dict[int, set[int]] = {}
        for pid, partner in self.query(
            "SELECT project_project_id, res_partner_id FROM project_project_res_partner_rel", {}
        ):
            followers.setdefault(int(pid), set()).add(int(partner))
        collaborators: dict[int, set[int]] = {}
        for pid, partner in self.query(
            "SELECT project_id, partner_id FROM project_collaborator", {}
        ):
            collaborators.setdefault(int(pid), set()).add(int(partner))
        self.projects = {
            int(pid): (
                str(vis),
                frozenset(followers.get(int(pid), ())),
                frozenset(collaborators.get(int(pid), ())),
            )
            for pid, vis in self.query("SELECT id, privacy_visibility FROM project_project", {})
        }


def _company(row: dict[str, Any], ctx: NaiveContext) -> bool:
    return row["company_id"] is None or row["company_id"] in ctx.params["companies"]


def _followed(row: dict[str, Any], ctx: NaiveContext) -> bool:
    return any(ctx.in_tree(p) for p in ctx.followers.get(row["id"], ()))


def _task_portal(row: dict[str, Any], ctx: NaiveContext) -> bool:
    assert ctx.projects is not None
    project = ctx.projects.get(row["project_id"])
    if project is None or project[0] != "portal":
        return False
    return _followed(row, ctx) or ctx.params["partner"] in project[2]


def _task_user(row: dict[str, Any], ctx: NaiveContext) -> bool:
    assert ctx.projects is not None
    project = ctx.projects.get(row["project_id"])
    return project is not None and (
        project[0] != "followers" or ctx.params["partner"] in project[1]
    )


ROW_RULES: dict[tuple[str, bool], RowPredicate] = {
    ("sale.order", True): lambda r, c: _company(r, c) and c.in_tree(r["partner_id"]),
    ("sale.order", False): lambda r, c: (
        _company(r, c) and (r["user_id"] is None or r["user_id"] == c.params["uid"])
    ),
    ("account.move", True): lambda r, c: (
        _company(r, c)
        and r["state"] == "posted"
        and r["move_type"] in ("out_invoice", "out_refund", "in_invoice", "in_refund")
        and _followed(r, c)
    ),
    ("account.move", False): _company,
    ("project.task", True): lambda r, c: _company(r, c) and _task_portal(r, c),
    ("project.task", False): lambda r, c: _company(r, c) and _task_user(r, c),
    ("helpdesk.ticket", True): lambda r, c: _company(r, c) and c.in_tree(r["partner_id"]),
}
# The columns each rule reads, and whether it needs followers / projects.
RULE_COLUMNS = {
    "sale.order": ("company_id", "partner_id", "user_id"),
    "account.move": ("company_id", "state", "move_type"),
    "project.task": ("company_id", "project_id", "active"),
    "helpdesk.ticket": ("company_id", "partner_id"),
}
FOLLOWERS = {
    "account.move": ("account_move_res_partner_rel", "account_move_id", "res_partner_id"),
    "project.task": ("project_task_res_partner_rel", "project_task_id", "res_partner_id"),
}
NAIVE_BATCH = 1000


class Naive:
    """Load-then-filter, as per-object authorization libraries do: read candidate rows
    (in the list's order, a batch at a time), decide each one in Python."""

    def __init__(self, conn: Any, dialect: str, portal: bool, params: dict[str, Any]) -> None:
        self.conn = conn
        self.dialect = dialect
        self.portal = portal
        self.params = params

    def _matching(
        self, doc: Doc, where: str, params: dict[str, Any], limit: int | None
    ) -> list[dict[str, Any]]:
        ctx = NaiveContext(self.conn, self.dialect, self.params)
        rule = ROW_RULES[(doc.model, self.portal)]
        names = list(dict.fromkeys(("id", *doc.fields, *RULE_COLUMNS[doc.model])))
        text = (
            f"SELECT {', '.join('m.' + n for n in names)} FROM {doc.table} m "  # noqa: S608
            f"WHERE {where} ORDER BY {doc.sql_order}"
        )
        if doc.model == "project.task":
            ctx.load_projects()
        # PostgreSQL: a server-side cursor, so stopping at the limit stops the transfer.
        cur = self.conn.cursor("naive") if self.dialect == "postgresql" else self.conn.cursor()
        cur.execute(dialect_sql(text, self.dialect), dialect_params(params, self.dialect))
        found: list[dict[str, Any]] = []
        while limit is None or len(found) < limit:
            batch = [dict(zip(names, row, strict=True)) for row in cur.fetchmany(NAIVE_BATCH)]
            if not batch:
                break
            if doc.model in FOLLOWERS:
                ctx.load_followers(*FOLLOWERS[doc.model], [r["id"] for r in batch])
            if doc.model == "sale.order":
                ctx.load_parents({r["partner_id"] for r in batch})
            for row in batch:
                if rule(row, ctx):
                    found.append(row)
                    if limit is not None and len(found) == limit:
                        break
        cur.close()
        self.conn.commit()
        return found

    def search_read(self, doc: Doc) -> list[dict[str, Any]]:
        return self._matching(doc, "m.active" if doc.active else "TRUE", {}, 80)

    def search_count(self, doc: Doc) -> int:
        return len(self._matching(doc, "m.active" if doc.active else "TRUE", {}, None))

    def allowed(self, doc: Doc, ids: Sequence[int]) -> set[int]:
        rows = self._matching(doc, "m.id = ANY(%(ids)s)", {"ids": list(ids)}, None)
        return {int(r["id"]) for r in rows}
