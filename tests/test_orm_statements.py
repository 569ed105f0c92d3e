"""Statements per call, and the same answers with fewer of them.

A short call (check_access of one record, a list page, the display names of a read)
used to spend most of its time in round trips: the user's companies read as two
statements per transaction, a rule check before a fetch that holds the same rule,
and a rule check beside each comodel's fetch of display names. These tests pin the
statement counts (behaviour, counted with a ``before_cursor_execute`` listener, never
timed), check that the fewer statements give the same rows and the same errors, and
that each model's default order has its index.

Every test runs on SQLite and PostgreSQL. The read-only tests share one database per
backend (sale installed, a small dataset committed); tests that commit get their own.
"""

from __future__ import annotations

import contextlib
import re
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import pytest
import sqlalchemy as sa
from hypothesis import given, settings
from hypothesis import strategies as st

from bastion import AccessError, Environment, MissingError, Model, Registry
from bastion.domain import SqlCompiler
from bastion.domain.sql_members import listed_as_one
from bastion.memo import BoundedMemo
from bastion.orm import kept
from bastion.orm.crud import fetch_checked, user_node
from bastion.orm.environment import VersionedContext
from bastion.orm.schema import MAX_NAME, OrderTerm, order_index_name
from conftest import RegistryFactory, module_database

ORDERS_OF_A = 90  # customer A's orders in the main company, by the salesman
ORDER_INDEX = "ix_sale_order__order_date_order_desc_id_desc"
M2O = ["partner_id", "user_id", "company_id"]


@dataclass(frozen=True)
class World:
    portal: int  # a contact of customer A
    rep: int  # salesman (own documents), main and second company
    main_company: int
    second_company: int
    allowed: tuple[int, ...]  # orders both users may read
    rep_only: tuple[int, ...]  # the second company's orders, and the unassigned ones
    forbidden: tuple[int, ...]  # another salesman's orders of customer B
    missing: tuple[int, ...]  # ids no order has


class Refused(Exception):
    """Raised to roll a transaction back."""


def _ref(env: Environment, xmlid: str) -> Model:
    record = env.ref(xmlid)
    assert record is not None
    return record


def build_world(env: Environment) -> World:
    partners = env["res.partner"]
    main = _ref(env, "base.main_company")
    second = env["res.company"].create({"name": "Second Company"})
    cust_a = partners.create({"name": "Customer A", "is_company": True})
    cust_b = partners.create({"name": "Customer B", "is_company": True})
    contact = partners.create({"name": "Anna A", "parent_id": cust_a.id})

    def user(login: str, group: str, companies: Sequence[Model], **vals: object) -> Model:
        return env["res.users"].create(
            {
                "login": login,
                "name": login.title(),
                "company_id": companies[0].id,
                "company_ids": [c.id for c in companies],
                "group_ids": [_ref(env, group).id],
                **vals,
            }
        )

    portal = user("portal_a", "base.group_portal", [main], partner_id=contact.id)
    rep = user("rep", "sale.group_sale_salesman", [main, second])
    rep2 = user("rep2", "sale.group_sale_salesman", [main])

    def orders(count: int, partner: Model, salesman: Model | None, company: Model) -> Model:
        return env["sale.order"].create(
            [
                {
                    "partner_id": partner.id,
                    "user_id": salesman.id if salesman else False,
                    "company_id": company.id,
                    "date_order": f"2026-{1 + i % 12:02d}-{1 + i % 28:02d} 10:00:00",
                }
                for i in range(count)
            ]
        )

    allowed = orders(ORDERS_OF_A, cust_a, rep, main)
    rep_only = orders(6, cust_a, rep, second) | orders(4, cust_b, None, main)
    forbidden = orders(10, cust_b, rep2, main)
    last = max(forbidden.ids)
    return World(
        portal=int(portal.id),
        rep=int(rep.id),
        main_company=int(main.id),
        second_company=int(second.id),
        allowed=tuple(allowed.ids),
        rep_only=tuple(rep_only.ids),
        forbidden=tuple(forbidden.ids),
        missing=(last + 1000, last + 1001, last + 1002),
    )


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def shared(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Registry, World]]:
    with module_database(request, tmp_path_factory, "sale", name="stmts") as registry:
        with registry.transaction() as env:
            world = build_world(env)
        yield registry, world


@contextlib.contextmanager
def statements(registry: Registry) -> Iterator[list[str]]:
    """The statements sent while the block runs (transaction control left out)."""
    sent: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if not statement.lstrip().upper().startswith(("BEGIN", "SAVEPOINT", "RELEASE")):
            sent.append(statement)

    sa.event.listen(registry.engine, "before_cursor_execute", record)
    try:
        yield sent
    finally:
        sa.event.remove(registry.engine, "before_cursor_execute", record)


def versions_reads(registry: Registry) -> int:
    """The versions read among the statements a listener sees: one on both backends
    (on PostgreSQL it goes with the BEGIN, through libpq, only when no listener
    watches: ``bastion.orm.first_read``)."""
    return 1


@contextlib.contextmanager
def rolled_back(registry: Registry) -> Iterator[Environment]:
    with contextlib.suppress(Refused), registry.transaction() as env:
        yield env
        raise Refused


# -- statement counts ------------------------------------------------------------------
@pytest.mark.parametrize("who", ["portal", "rep"])
def test_check_access_of_one_record(shared: tuple[Registry, World], who: str) -> None:
    registry, world = shared
    uid = world.portal if who == "portal" else world.rep
    order = world.allowed[0]
    with rolled_back(registry) as env:  # warm: the security version is loaded
        env.with_user(uid)["sale.order"].browse(order).check_access("read")
    with statements(registry) as sent, rolled_back(registry) as env:
        env.with_user(uid)["sale.order"].browse(order).check_access("read")
    # the versions (on PostgreSQL sent with the BEGIN, orm.first_read), the check
    # itself: the companies and the user's values in the rules (the portal's
    # user.commercial_partner_id) are kept while their version holds
    assert len(sent) == versions_reads(registry) + 1, sent


@pytest.mark.parametrize("who", ["portal", "rep"])
def test_search_read_of_80(shared: tuple[Registry, World], who: str) -> None:
    registry, world = shared
    uid = world.portal if who == "portal" else world.rep
    fields = ["name", "partner_id", "date_order", "state", "amount_total"]
    with rolled_back(registry) as env:
        env.with_user(uid)["sale.order"].search_read([], fields, limit=80)
    with statements(registry) as sent, rolled_back(registry) as env:
        rows = env.with_user(uid)["sale.order"].search_read([], fields, limit=80)
    assert len(rows) == 80
    # the versions (with the BEGIN on PostgreSQL), then the page: the search fetches
    # the columns too (rules in its WHERE) and the partners' names, under the partners'
    # rules (bastion.orm.listing)
    assert len(sent) == versions_reads(registry) + 1, sent
    assert "FROM res_partner" in sent[-1], sent


def test_search_read_fetches_the_fields_asked_for_only(shared: tuple[Registry, World]) -> None:
    """As Odoo's: the records are not handed back, so their other columns would be
    loaded for nothing; with no fields, every stored one the user may see."""
    registry, world = shared
    with rolled_back(registry) as env:
        orders = env.with_user(world.rep)["sale.order"]
        with statements(registry) as sent:
            rows = orders.search_read([], ["name", "partner_id"], limit=5)
        every = orders.search_read([], None, limit=5)
    page = next(text for text in sent if "ORDER BY" in text and "FROM sale_order" in text)
    assert "sale_order.name" in page and "sale_order.partner_id" in page, page
    assert "sale_order.note" not in page and "sale_order.amount_total" not in page, page
    assert {key for row in rows for key in row} == {"id", "name", "partner_id"}
    assert [(row["id"], row["name"], row["partner_id"]) for row in every] == [
        (row["id"], row["name"], row["partner_id"]) for row in rows
    ]
    assert {"note", "amount_total", "state"} <= set(every[0])
    assert "margin" not in every[0]  # a manager's field: not the salesman's


def test_a_fetch_sends_the_same_text_for_any_number_of_ids(
    shared: tuple[Registry, World],
) -> None:
    """The ids go as one parameter, an array on PostgreSQL, a JSON array on SQLite:
    one statement text, parsed and prepared once, whatever the size of the
    recordset."""
    registry, world = shared
    texts: list[str] = []
    for count in (2, 3, 40):
        with statements(registry) as sent, rolled_back(registry) as env:
            env.with_user(world.rep)["sale.order"].browse(world.allowed[:count]).read(["name"])
        texts.append(sent[-1])
    assert len(set(texts)) == 1, texts
    assert ("= ANY (" if registry.dialect == "postgresql" else "json_each(") in texts[0]


def test_a_check_is_one_statement_text_whatever_the_ids(
    shared: tuple[Registry, World],
) -> None:
    """check_access keeps its statement per rule clause with the ids as a parameter:
    one text for any single id and one for any several (an array, a JSON array on
    SQLite); and
    the kept statement still tells refused ids from missing ones."""
    registry, world = shared
    texts: dict[int, set[str]] = {}
    for ids in ([world.allowed[0]], [world.allowed[1]], world.allowed[:3], world.allowed[3:9]):
        with statements(registry) as sent, rolled_back(registry) as env:
            env.with_user(world.portal)["sale.order"].browse(ids).check_access("read")
        texts.setdefault(min(len(ids), 2), set()).add(sent[-1])
    assert all(len(found) == 1 for found in texts.values()), texts
    with rolled_back(registry) as env:
        orders = env.with_user(world.portal)["sale.order"]
        mixed = [world.allowed[0], world.forbidden[0], world.missing[0]]
        with pytest.raises(AccessError):
            orders.browse(mixed).check_access("read")
        with pytest.raises(MissingError):
            orders.browse(world.missing[:2]).check_access("read")
        orders.browse(world.allowed[:40]).check_access("read")


def test_a_check_of_thousands_of_ids_is_one_statement(
    shared: tuple[Registry, World],
) -> None:
    """Up to 10,000 ids go in one check statement, as one parameter (the rules'
    sub-queries run once); an SQLite older than 3.38 binds each id, by 1,000. Either
    way the same answer: all of the customer's orders pass, one of customer B's among
    them refuses the lot and is named."""
    registry, world = shared
    with rolled_back(registry) as env:
        first = env["sale.order"].browse(world.allowed[0])
        like_first = {
            "partner_id": first.partner_id.id,
            "user_id": first.user_id.id,
            "company_id": first.company_id.id,
        }
        created = env["sale.order"].create([dict(like_first) for _ in range(1_400)])
        ids = [*world.allowed, *created.ids]
        orders = env.with_user(world.portal)["sale.order"]
        with statements(registry) as sent:
            orders.browse(ids).check_access("read")
        checks = [text for text in sent if text.lstrip().startswith("SELECT sale_order.id")]
        assert len(checks) == (1 if listed_as_one(registry.dialect) else 2), checks
        intruder = [*ids[:1_200], world.forbidden[0], *ids[1_200:]]
        with pytest.raises(AccessError) as refused:
            orders.browse(intruder).check_access("read")
        assert refused.value.ids == (world.forbidden[0],)
        assert str(world.forbidden[0]) in str(refused.value)


def test_a_sub_query_under_the_related_rules_names_each_alias_once(
    shared: tuple[Registry, World],
) -> None:
    """A portal search on a partner's name: the domain's sub-query over res_partner
    carries the user's partner rule, a hierarchy walk over res_partner again. Each
    alias of the domain's SQL has its own name (the rule used to be numbered apart
    from the domain, and a correlated reference inside it could have named the outer
    alias), and the answer is the superuser's search intersected with what the user
    may read."""
    registry, world = shared
    domain = [("partner_id.name", "ilike", "customer")]
    with rolled_back(registry) as env:
        orders = env.with_user(world.portal)["sale.order"]
        compiler = SqlCompiler(registry, registry.security.restriction(orders.env))
        table = orders._spec.table
        clause = compiler.compile(user_node(orders, domain), orders._spec, table)
        sql = str(sa.select(table.c.id).where(clause).compile(dialect=registry.engine.dialect))
        found = set(orders.search(domain).ids)
        expected = set(env["sale.order"].search(domain).ids) & set(world.allowed)
    aliases = re.findall(r" AS (\w+__\d+)", sql)
    assert len(aliases) == 3, sql  # the domain's sub-query, the rule's walk (two)
    assert len(aliases) == len(set(aliases)), sql
    assert found == expected and expected


def test_read_of_three_many2one_fields(shared: tuple[Registry, World]) -> None:
    registry, world = shared
    with rolled_back(registry) as env:
        orders = env.with_user(world.rep)["sale.order"].search([], limit=80)
        assert len(orders) == 80
        with statements(registry) as sent:
            rows = orders.read(M2O)
        # the orders' fetch holds the names too, each under its comodel's rules: no
        # separate rule check, no fetch per comodel (bastion.orm.listing)
        assert len(sent) == 1, sent
        assert rows == reference_read(orders, M2O)
        # a display name fetches the name column, not the comodel's every column; the
        # others come when asked for, under the same rules
        partners = next(s for s in sent if "FROM res_partner" in s)
        assert "res_partner.email" not in partners and "res_partner.name" in partners
        partner = orders[0].partner_id
        assert partner.email == partner.sudo().email


def reference_read(records: Model, names: Sequence[str]) -> list[dict[str, object]]:
    """What read() must return, built from check_access and superuser values: a
    many2one shows its display name only when the user may read that record."""
    records.check_access("read")
    rows = []
    for record in records.sudo():
        row: dict[str, object] = {"id": record.id}
        for name in names:
            value = record[name]
            if records._spec.fields[name].type != "many2one":
                row[name] = value
            elif not value:
                row[name] = False
            else:
                readable = value.with_env(records.env).has_access("read")
                row[name] = (value.id, value.display_name if readable else False)
        rows.append(row)
    return rows


def test_display_names_hide_what_the_user_cannot_read(shared: tuple[Registry, World]) -> None:
    registry, world = shared
    with rolled_back(registry) as env:
        orders = env.with_user(world.portal)["sale.order"].browse(world.allowed[:5])
        assert orders.env.company_ids == (world.main_company,)
        # the user's values in the rules are read once per security version; a test
        # before this one may have changed users (and so the version) in its transaction
        orders.read(["name"])
        with statements(registry) as sent:
            rows = orders.read(M2O)
        assert rows == reference_read(orders, M2O)
        assert len(sent) == 1, sent


def test_a_list_page_names_only_what_the_user_may_read(shared: tuple[Registry, World]) -> None:
    """The page's names are sub-queries under each comodel's rules: the portal user
    sees its customer's name, not the salesman's (res.users is not readable to it)."""
    registry, world = shared
    with rolled_back(registry) as env:
        orders = env.with_user(world.portal)["sale.order"]
        orders.search_read([], ["name"], limit=1)  # the versions are read
        with statements(registry) as sent:
            rows = orders.search_read([], M2O, limit=80, order="date_order desc")
        assert len(sent) == 1, sent
        customer_a = env["res.partner"].search([("name", "=", "Customer A")]).id
        assert {row["partner_id"] for row in rows} == {(customer_a, "Customer A")}
        assert {row["user_id"] for row in rows} == {(world.rep, False)}
        assert rows == reference_read(orders.search([], limit=80, order="date_order desc"), M2O)
        # search_read hands back values, not records: it keeps nothing in the cache
        # (shaping the rows as they come saves filling it to read it back), and the
        # record's own reads hold the same rules: the name the user may not read is
        # refused
        first = orders.browse(rows[0]["id"])
        with statements(registry) as again:
            assert first.partner_id.name == "Customer A"
        assert again, "nothing of the page was kept"
        with pytest.raises(AccessError):
            first.user_id.name  # noqa: B018


@pytest.mark.parametrize("who", ["portal", "rep"])
def test_a_list_of_partners_names_their_parents_under_the_same_rules(
    shared: tuple[Registry, World], who: str
) -> None:
    """res.partner's parent_id points to its own model, whose table a name's sub-query
    would correlate to: those names come from a statement of their own, the same."""
    registry, world = shared
    uid = world.portal if who == "portal" else world.rep
    fields = ["name", "parent_id", "commercial_partner_id"]
    with rolled_back(registry) as env:
        partners = env.with_user(uid)["res.partner"]
        rows = partners.search_read([], fields, order="name")
        assert any(row["parent_id"] for row in rows)
        assert rows == reference_read(partners.search([], order="name"), fields)


def portal_of_customer_b(env: Environment, world: World) -> int:
    customer_b = env["res.partner"].search([("name", "=", "Customer B")])
    contact = env["res.partner"].create({"name": "Bert B", "parent_id": customer_b.id})
    user = env["res.users"].create(
        {
            "login": "portal_b",
            "name": "Portal B",
            "partner_id": contact.id,
            "company_id": world.main_company,
            "company_ids": [world.main_company],
            "group_ids": [_ref(env, "base.group_portal").id],
        }
    )
    return int(user.id)


def test_another_customers_portal_user_sees_none_of_the_first_ones_names(
    shared: tuple[Registry, World],
) -> None:
    registry, world = shared
    with rolled_back(registry) as env:
        customer_b = env["res.partner"].search([("name", "=", "Customer B")])
        as_b = env.with_user(portal_of_customer_b(env, world))
        orders = as_b["sale.order"].search_read([], M2O)
        assert {row["id"] for row in orders} == set(world.forbidden) | set(world.rep_only[-4:])
        assert {row["partner_id"] for row in orders} == {(customer_b.id, "Customer B")}
        names = {row["name"] for row in as_b["res.partner"].search_read([], ["name", "parent_id"])}
        assert names == {"Customer B", "Bert B"}


# -- the same answers ----------------------------------------------------------------------
def outcome(call: Any) -> tuple[object, ...]:
    try:
        result = call()
    except (AccessError, MissingError) as error:
        return (type(error).__name__, str(error), error.ids, getattr(error, "rules", ()))
    return ("ok", result)


def test_read_and_check_access_refuse_alike(shared: tuple[Registry, World]) -> None:
    registry, world = shared
    mixes = [
        [world.allowed[0], world.forbidden[0], world.missing[0]],
        [world.forbidden[1], world.allowed[1], world.forbidden[0]],
        [world.allowed[0], world.missing[0], world.missing[1]],
        [world.missing[2]],
        [world.forbidden[0]],
        [world.rep_only[0], world.allowed[2]],
    ]
    with rolled_back(registry) as env:
        for uid in (world.portal, world.rep):
            orders = env.with_user(uid)["sale.order"]
            for ids in mixes:
                records = orders.browse(ids)
                expected = outcome(lambda records=records: records.check_access("read"))
                got = outcome(lambda records=records: records.read(["name"]))
                if expected[0] == "ok":
                    assert got[0] == "ok", (uid, ids, got)
                else:
                    assert got == expected, (uid, ids)
    # forbidden beside missing: the forbidden ones are named, the missing ones are not
    with rolled_back(registry) as env:
        mix = env.with_user(world.portal)["sale.order"].browse(
            [world.allowed[0], world.forbidden[0], world.missing[0]]
        )
        with pytest.raises(AccessError) as denied:
            mix.read(["name"])
        assert denied.value.ids == (world.forbidden[0],)
        assert denied.value.rules == ("Sales orders: portal reads its own",)
        with pytest.raises(MissingError) as missing:
            mix.browse([world.allowed[0], world.missing[0]]).read(["name"])
        assert missing.value.ids == (world.missing[0],)


@settings(max_examples=40)
@given(data=st.data())
def test_read_equals_check_access_and_search(
    shared: tuple[Registry, World], data: st.DataObject
) -> None:
    registry, world = shared
    pool = [*world.allowed[:6], *world.rep_only[:4], *world.forbidden[:4], *world.missing]
    ids = data.draw(st.lists(st.sampled_from(pool), max_size=8), label="ids")
    uid = data.draw(st.sampled_from([world.portal, world.rep]), label="uid")
    fields = data.draw(
        st.lists(st.sampled_from(["name", "state", "amount_total", *M2O]), unique=True),
        label="fields",
    )
    with rolled_back(registry) as env:
        records = env.with_user(uid)["sale.order"].browse(ids)
        expected = outcome(lambda: records.check_access("read"))
        got = outcome(lambda: records.read(fields))
        if expected[0] != "ok":
            assert got == expected
            return
        assert got[0] == "ok", got
        rows = got[1]
        assert isinstance(rows, list)
        assert [row["id"] for row in rows] == list(ids)
        found = records.search([("id", "in", list(ids))])
        assert set(found.ids) == set(ids)
        assert rows == reference_read(records, fields)


@settings(max_examples=30)
@given(data=st.data())
def test_search_read_in_one_fetch_equals_search_then_read(
    shared: tuple[Registry, World], data: st.DataObject
) -> None:
    """search_read loads the columns in its search statement (search_fetch): the same
    rows, in the same order, as the search followed by the reference read."""
    registry, world = shared
    uid = data.draw(st.sampled_from([world.portal, world.rep]), label="uid")
    domain = data.draw(
        st.sampled_from(
            [
                [],
                [("state", "=", "draft")],
                [("amount_total", ">", 100)],
                [("partner_id.name", "ilike", "customer")],
                ["|", ("user_id", "=", False), ("state", "!=", "sale")],
            ]
        ),
        label="domain",
    )
    fields = data.draw(
        st.lists(st.sampled_from(["name", "state", "amount_total", *M2O]), unique=True),
        label="fields",
    )
    order = data.draw(st.sampled_from([None, "date_order desc", "name", "amount_total desc"]))
    limit = data.draw(st.sampled_from([None, 1, 7, 80]), label="limit")
    offset = data.draw(st.sampled_from([0, 3]), label="offset")
    with rolled_back(registry) as env:
        orders = env.with_user(uid)["sale.order"]
        rows = orders.search_read(domain, fields, offset=offset, limit=limit, order=order)
    with rolled_back(registry) as env:
        orders = env.with_user(uid)["sale.order"]
        found = orders.search(domain, offset=offset, limit=limit, order=order)
        assert rows == reference_read(found, fields)


@pytest.mark.parametrize("who", ["portal", "rep"])
def test_search_read_shapes_its_rows_as_read_does(shared: tuple[Registry, World], who: str) -> None:
    """Columns only: the values are shaped from the search's rows, nothing is cached
    (the records are not handed back). With a field that is no column (the lines, a
    one2many) it reads through the cache as read() does. Both give read()'s rows, and
    the other customer's orders are in neither."""
    registry, world = shared
    uid = world.portal if who == "portal" else world.rep
    columns = ["name", "state", "amount_total", "date_order", *M2O]
    for fields in (columns, [*columns, "order_line"], ["id"]):
        with rolled_back(registry) as env:
            orders = env.with_user(uid)["sale.order"]
            rows = orders.search_read([], fields, order="date_order desc, id")
            cached = set(orders.env.cache.get("sale.order", {}))
            found = orders.search([], order="date_order desc, id")
            assert rows == found.read(fields)
            assert [row["id"] for row in rows] == found.ids
            assert cached == (set() if "order_line" not in fields else set(found.ids))
            assert set(found.ids) <= set(world.allowed) | (
                set(world.rep_only) if who == "rep" else set()
            )


# -- kept statements ----------------------------------------------------------------------
@contextlib.contextmanager
def executed(registry: Registry) -> Iterator[list[object]]:
    """The statement objects executed while the block runs (SQLAlchemy's, not text)."""
    sent: list[object] = []

    def record(_conn: Any, clause: object, *_args: Any) -> None:
        sent.append(clause)

    sa.event.listen(registry.engine, "before_execute", record)
    try:
        yield sent
    finally:
        sa.event.remove(registry.engine, "before_execute", record)


def list_and_count(env: Environment, offset: int = 0) -> tuple[list[dict[str, object]], int]:
    orders = env["sale.order"]
    rows = orders.search_read([], M2O, offset=offset, limit=5, order="date_order desc, id")
    return rows, orders.search_count([])


def test_two_customers_run_one_kept_page_statement_each_with_their_own_rows(
    shared: tuple[Registry, World],
) -> None:
    """The list page and pager of an empty domain are statement objects kept per rule
    shape: another customer's portal user runs the very same objects, with its own
    ids, offset and limit as parameters, and gets its own orders and nothing of the
    first one's."""
    registry, world = shared
    with rolled_back(registry) as env:
        portal_b = portal_of_customer_b(env, world)
        for uid in (world.portal, portal_b):  # each user's values and companies read
            list_and_count(env.with_user(uid))
        with executed(registry) as first:
            rows_a, count_a = list_and_count(env.with_user(world.portal), offset=5)
        with executed(registry) as second:
            rows_b, count_b = list_and_count(env.with_user(portal_b), offset=5)
        with executed(registry) as next_page:
            rows_b2, _ = list_and_count(env.with_user(portal_b), offset=10)
    assert len(first) == len(second) == len(next_page) == 2
    assert all(a is b for a, b in zip(first, second, strict=True))
    assert all(a is b for a, b in zip(second, next_page, strict=True))
    assert count_a == ORDERS_OF_A and count_b == len(world.forbidden) + 4
    assert {row["id"] for row in rows_a} <= set(world.allowed)
    b_orders = set(world.forbidden) | set(world.rep_only[-4:])
    assert {row["id"] for row in rows_b + rows_b2} <= b_orders
    assert not {row["id"] for row in rows_b} & {row["id"] for row in rows_b2}
    assert {row["partner_id"][1] for row in rows_b + rows_b2} == {"Customer B"}  # type: ignore[index]


def test_a_kept_list_statement_follows_a_rule_edited_in_the_transaction(
    shared: tuple[Registry, World],
) -> None:
    registry, world = shared
    with rolled_back(registry) as env:
        portal = env.with_user(world.portal)
        before = {row["id"] for row in list_and_count(portal)[0]}
        assert len(before) == 5
        narrow = sorted(world.allowed)[:2]
        rule = _ref(env, "sale.sale_order_rule_portal")
        rule.write({"domain_force": f"[('id', 'in', {narrow})]"})
        rows, count = list_and_count(portal)
        assert {row["id"] for row in rows} == set(narrow) and count == 2


def test_a_kept_list_statement_still_checks_the_order_fields(
    shared: tuple[Registry, World],
) -> None:
    registry, world = shared
    with rolled_back(registry) as env:
        orders = env.with_user(world.rep)["sale.order"]
        for _ in range(2):  # the second call finds the statement kept
            with pytest.raises(AccessError, match="margin"):
                orders.search_read([], ["name"], limit=5, order="margin desc")


def test_callers_varying_the_order_keep_no_more_statements_than_the_cap(
    shared: tuple[Registry, World], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Orders and field lists come from callers (the API): past the cap the least asked
    for kept statements go, and every call answers the same."""
    registry, world = shared
    monkeypatch.setattr(kept, "MAX_KEPT_STATEMENTS", 4)
    orders = ["name", "name desc", "date_order", "date_order desc", "id desc", "state, id"]
    with rolled_back(registry) as env:
        records = env.with_user(world.rep)["sale.order"]
        memo = registry.security.context_memo(records.env)
        memo.pop("kept statements", None)  # what earlier tests kept, under the real cap
        for order in orders:
            rows = records.search_read([], ["name"], limit=3, order=order)
            expected = records.search([("id", "!=", 0)], limit=3, order=order)
            assert [row["id"] for row in rows] == expected.ids
            assert len(memo["kept statements"]) <= 4  # type: ignore[arg-type]


class _KeepsNothing(BoundedMemo[object, object]):
    """Kept statements that keep none: every statement is built for its call."""

    def __setitem__(self, key: object, value: object) -> None:
        pass


@settings(max_examples=30)
@given(data=st.data())
def test_a_kept_statement_answers_as_one_built_for_the_call(
    shared: tuple[Registry, World], data: st.DataObject
) -> None:
    """An empty domain runs a kept statement, the same domain written as a term a
    statement built anew: the same rows, counts and pages, for orders and for partners
    (whose empty domain holds Odoo's implicit active = True)."""
    registry, world = shared
    uid = data.draw(st.sampled_from([world.portal, world.rep]), label="uid")
    model, fields, orders = data.draw(
        st.sampled_from(
            [
                ("sale.order", [*M2O, "name"], [None, "date_order desc", "name, id desc"]),
                ("res.partner", ["name", "parent_id"], [None, "name desc", "id"]),
            ]
        ),
        label="model",
    )
    order = data.draw(st.sampled_from(orders), label="order")
    limit = data.draw(st.sampled_from([None, 1, 7, 80]), label="limit")
    offset = data.draw(st.sampled_from([0, 3, 95]), label="offset")
    answers = []
    for domain in ([], [("id", "!=", 0)]):
        with rolled_back(registry) as env:
            records = env.with_user(uid)[model]
            answers.append(
                (
                    records.search_read(domain, fields, offset=offset, limit=limit, order=order),
                    records.search(domain, offset=offset, limit=limit, order=order).ids,
                    records.search_count(domain),
                    records.search_count(domain, limit=limit),
                )
            )
    assert answers[0] == answers[1]


def test_two_customers_read_their_own_orders_through_one_kept_statement(
    shared: tuple[Registry, World],
) -> None:
    """A read by ids and an attribute read run statements kept per rule shape, the ids
    a parameter: another customer's portal user runs the very same objects, reads its
    own orders and is refused the first customer's, by id and by attribute."""
    registry, world = shared
    with rolled_back(registry) as env:
        portal_b = portal_of_customer_b(env, world)
        b_orders = env.with_user(portal_b)["sale.order"].search([], limit=3).ids
        reads: list[list[object]] = []
        for uid, own, other in ((world.portal, list(world.allowed[:3]), b_orders[0]),
                                (portal_b, b_orders, world.allowed[0])):  # fmt: skip
            orders = env.with_user(uid)["sale.order"]
            orders.browse(own[:1]).read(["name"])  # each user's values and companies read
            with executed(registry) as sent:
                rows = orders.browse(own[1:2]).read(["name", "partner_id"])
                assert orders.browse(own[2:3]).client_order_ref is not None
            reads.append(sent)
            assert [row["id"] for row in rows] == own[1:2]
            for ids in ([other], [own[0], other]):
                with pytest.raises(AccessError) as refused:
                    orders.browse(ids).read(["name"])
                assert "Customer" not in str(refused.value)
            with pytest.raises(AccessError):
                _ = orders.browse([other]).name
    assert len(reads[0]) == len(reads[1]) == 2
    assert all(a is b for a, b in zip(reads[0], reads[1], strict=True))


@settings(max_examples=30)
@given(data=st.data())
def test_a_kept_read_answers_as_one_built_for_the_call(
    shared: tuple[Registry, World], data: st.DataObject
) -> None:
    """The same read by ids, attribute reads and errors with statements kept and
    with none kept (each built for its call), for allowed, forbidden and missing ids."""
    registry, world = shared
    uid = data.draw(st.sampled_from([world.portal, world.rep]), label="uid")
    pool = [*world.allowed[:5], *world.rep_only[:3], *world.forbidden[:3], *world.missing]
    ids = data.draw(st.lists(st.sampled_from(pool), min_size=1, max_size=6), label="ids")
    fields = data.draw(st.sampled_from([["name"], [*M2O, "name"], None]), label="fields")

    def answer() -> object:
        with rolled_back(registry) as env:
            partners = env["res.partner"].search([("name", "in", ["Anna A", "Customer B"])])
            followed = env["sale.order"].browse([*world.allowed[:3], *world.forbidden[:2]])
            followed.write({"message_partner_ids": [(6, 0, partners.ids)]})
            orders = env.with_user(uid)["sale.order"].browse(ids)
            try:
                # The names alone first (as display names are fetched), then every column.
                fetched = sorted(fetch_checked(orders, ids, ["name"]))
                names = [fetched, [order.name for order in orders]]
                links = [(order.order_line.ids, order.message_partner_ids.ids) for order in orders]
                return orders.read(fields), names, links
            except (AccessError, MissingError) as error:
                return type(error).__name__, str(error)

    kept_answer = answer()
    with rolled_back(registry) as env:
        memo = registry.security.context_memo(env)  # the security version's
    saved = memo.pop("kept statements", None)
    assert isinstance(saved, BoundedMemo) and any(key[0] == "fetch" for key in saved)
    memo["kept statements"] = _KeepsNothing(2)
    try:
        built_answer = answer()
    finally:
        memo["kept statements"] = saved
    assert built_answer == kept_answer


# -- the user's companies -------------------------------------------------------------------
@pytest.fixture
def fresh(make_registry: RegistryFactory) -> Iterator[tuple[Registry, Registry, World]]:
    """A database of its own, and two registries on it (two workers)."""
    registry = make_registry("sale")
    other = Registry(registry.url)
    for each in (registry, other):
        # The security version follows users' companies: they are kept for it.
        assert isinstance(each.security, VersionedContext)
    with registry.transaction() as env:
        world = build_world(env)
    yield registry, other, world
    other.dispose()


def both_of(world: World) -> tuple[int, ...]:
    return (world.main_company, world.second_company)


def visible_companies(registry: Registry, world: World) -> tuple[tuple[int, ...], int]:
    with rolled_back(registry) as env:
        rep = env.with_user(world.rep)
        return rep.company_ids, rep["sale.order"].search_count([])


def test_a_change_of_companies_counts_from_the_next_transaction(
    fresh: tuple[Registry, Registry, World],
) -> None:
    registry, other, world = fresh
    both = both_of(world)
    everything = len(world.allowed) + len(world.rep_only)
    for each in (registry, other, registry, other):  # the second time from the cache
        assert visible_companies(each, world) == (both, everything)

    with contextlib.suppress(Refused), registry.transaction() as env:  # rolled back
        env["res.users"].browse(world.rep).write({"company_ids": [(3, world.second_company)]})
        # the same transaction sees its own change at once
        assert env.with_user(world.rep).company_ids == (world.main_company,)
        raise Refused
    assert visible_companies(registry, world) == (both, everything)

    with registry.transaction() as env:  # committed
        env["res.users"].browse(world.rep).write({"company_ids": [(3, world.second_company)]})
    for each in (registry, other):  # this worker and another one
        assert visible_companies(each, world) == ((world.main_company,), everything - 6)

    with registry.transaction() as env:  # the main company moves
        env["res.users"].browse(world.rep).write(
            {"company_ids": [(4, world.second_company)], "company_id": world.second_company}
        )
    for each in (other, registry):
        assert visible_companies(each, world) == (
            (world.second_company, world.main_company),
            everything,
        )


def test_companies_are_read_once_per_version_when_it_follows_them(
    fresh: tuple[Registry, Registry, World],
) -> None:
    registry, _other, world = fresh
    visible_companies(registry, world)  # warm
    with statements(registry) as sent, rolled_back(registry) as env:
        env.with_user(world.rep).company_ids  # noqa: B018 - the read under test
    companies = [s for s in sent if "res_company_users_rel" in s]
    assert companies == [], sent  # kept for the security version
    with rolled_back(registry) as env:
        env.with_user(world.rep).with_companies([world.second_company])
        env["res.company"].browse(world.second_company).write({"name": "Renamed"})
        # a transaction that wrote companies reads them again, and shares nothing
        with statements(registry) as sent:
            assert env.with_user(world.rep).company_ids == both_of(world)
        assert [s for s in sent if "res_company_users_rel" in s], sent


# -- order indexes -----------------------------------------------------------------------------
def order_indexes(registry: Registry, table: str) -> dict[str, list[str | None]]:
    with registry.engine.connect() as conn:
        found = sa.inspect(conn).get_indexes(table)
    return {
        str(ix["name"]): list(ix["column_names"]) for ix in found if "__order_" in str(ix["name"])
    }


def test_the_default_order_has_an_index(shared: tuple[Registry, World]) -> None:
    registry, _world = shared
    assert order_indexes(registry, "sale_order") == {ORDER_INDEX: ["date_order", "id"]}
    assert order_indexes(registry, "sale_order_line") == {
        "ix_sale_order_line__order_order_id_sequence_id": ["order_id", "sequence", "id"]
    }
    assert order_indexes(registry, "res_partner") == {
        "ix_res_partner__order_name_id": ["name", "id"]
    }
    # ordered by id alone: the primary key serves it
    tables_by_id = [s.table.name for s in registry.specs.values() if s.order in ("id", "id desc")]
    assert tables_by_id
    for table in tables_by_id:
        if sa.inspect(registry.engine).has_table(table):
            assert order_indexes(registry, table) == {}, table
    if registry.dialect == "postgresql":
        with registry.engine.connect() as conn:
            (found,) = [
                ix for ix in sa.inspect(conn).get_indexes("sale_order") if ix["name"] == ORDER_INDEX
            ]
        assert found.get("column_sorting") == {"date_order": ("desc",), "id": ("desc",)}


def test_create_schema_adds_the_order_index_to_an_older_database(
    make_registry: RegistryFactory,
) -> None:
    registry = make_registry("sale")
    with registry.engine.begin() as conn:  # as a database made before order indexes
        for name in (ORDER_INDEX, "ix_res_partner__order_name_id"):
            conn.execute(sa.schema.DropIndex(sa.Index(name)))
    assert order_indexes(registry, "sale_order") == {}
    registry.create_schema()
    assert order_indexes(registry, "sale_order") == {ORDER_INDEX: ["date_order", "id"]}
    assert "ix_res_partner__order_name_id" in order_indexes(registry, "res_partner")
    registry.create_schema()  # nothing left to add
    assert order_indexes(registry, "sale_order") == {ORDER_INDEX: ["date_order", "id"]}
    reopened = Registry(registry.url)
    try:
        assert ORDER_INDEX in {ix.name for ix in reopened.specs["sale.order"].table.indexes}
    finally:
        reopened.dispose()


def test_order_index_names_are_predictable_and_fit() -> None:
    terms = [OrderTerm("date_order", True), OrderTerm("id", True)]
    assert order_index_name("sale_order", terms) == ORDER_INDEX
    nulls = [OrderTerm("day", False, True), OrderTerm("id")]
    assert order_index_name("t", nulls) == "ix_t__order_day_nulls_first_id"
    long_terms = [OrderTerm(f"field_number_{i}", True) for i in range(6)]
    long_name = order_index_name("a_rather_long_model_table_name", long_terms)
    assert len(long_name) == MAX_NAME
    assert long_name == order_index_name("a_rather_long_model_table_name", long_terms)
    other = order_index_name("a_rather_long_model_table_name", long_terms[:-1] + [OrderTerm("x")])
    assert other != long_name


# -- connections the server closed ----------------------------------------------------------
def end_other_connections(registry: Registry) -> None:
    """What a server restart or an idle timeout does to a pool: every other session of
    the database is terminated, and gone once this returns."""
    others = (
        "SELECT pid FROM pg_stat_activity "
        "WHERE datname = current_database() AND pid <> pg_backend_pid()"
    )
    # Autocommit: pg_stat_activity is a snapshot per transaction.
    admin = sa.create_engine(
        registry.engine.url, poolclass=sa.pool.NullPool, isolation_level="AUTOCOMMIT"
    )
    try:
        with admin.connect() as conn:
            conn.execute(sa.text(f"SELECT pg_terminate_backend(pid) FROM ({others}) AS o"))  # noqa: S608 - constant
            for _ in range(500):  # termination is asynchronous; a few ms
                if not conn.execute(sa.text(others)).first():
                    return
                time.sleep(0.01)
    finally:
        admin.dispose()
    raise AssertionError("the other sessions outlived pg_terminate_backend")


@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
def test_a_closed_pooled_connection_is_replaced_before_the_transaction_starts(
    registry: Registry,
) -> None:
    """The pool does not ping (a round trip per call): the versions read, the first
    statement of every transaction, finds the dead connection and the transaction
    starts again on a new one; nothing has run yet, so nothing is lost."""
    with registry.transaction() as env:
        partner = env["res.partner"].create({"name": "Before"})
    end_other_connections(registry)
    with registry.transaction() as env:
        assert env["res.partner"].browse(partner.id).name == "Before"
        env["res.partner"].browse(partner.id).write({"name": "After"})
    with registry.transaction() as env:
        assert env["res.partner"].browse(partner.id).name == "After"


@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
def test_a_connection_closed_inside_a_transaction_fails_it_and_the_next_one_works(
    registry: Registry,
) -> None:
    """Once a transaction has run a statement it is never run again behind the
    caller's back: the error reaches it, the write is gone, the next call works."""
    with registry.transaction() as env:
        partner = env["res.partner"].create({"name": "Kept"})
    with pytest.raises(sa.exc.OperationalError), registry.transaction() as env:
        env["res.partner"].browse(partner.id).write({"name": "Lost"})
        end_other_connections(registry)
        env["res.partner"].search_count([])  # the first statement after the end
    with registry.transaction() as env:
        assert env["res.partner"].browse(partner.id).name == "Kept"
