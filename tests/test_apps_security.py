"""The business apps' groups, access rights, record rules and field groups, as the
people who use them meet them: two customers with portal users, salespeople, an
accountant, project and helpdesk staff, and a second company.

Every test runs on SQLite and PostgreSQL. The apps and a small dataset are installed
once per backend for the module; each test runs in a transaction rolled back at the
end, so tests never see each other's changes.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest

from bastion import AccessError, Command, Environment, Model, Registry
from bastion.memo import MIN_MEMO_ENTRIES, BoundedMemo
from bastion.orm import crud, kept, shaped
from bastion.security import policy as policy_module
from bastion.security import state as state_module
from bastion.security.policy import SecurityPolicy
from conftest import module_database

APPS = ("contacts", "sale", "account", "project", "helpdesk")
RESTRICTED = {
    "sale.order": ("margin", "internal_note"),
    "sale.order.line": ("purchase_price",),
    "product.product": ("standard_price",),
    "project.task": ("planned_hours",),
    "helpdesk.ticket": ("internal_note",),
    "res.partner": ("comment",),
}


@dataclass(frozen=True)
class World:
    """Ids of the shared dataset, by short name (``ids["order_a1"]``)."""

    ids: dict[str, int]

    def get(self, env: Environment, model: str, *names: str) -> Model:
        return env[model].browse([self.ids[name] for name in names])

    def user(self, env: Environment, name: str) -> Model:
        return self.get(env, "res.users", name)

    def as_user(self, env: Environment, name: str) -> Environment:
        return env.with_user(self.ids[name])


# -- the dataset -----------------------------------------------------------------------
def _user(
    env: Environment,
    login: str,
    *groups: str,
    partner: Model | None = None,
    company: Model | None = None,
) -> Model:
    company = company or env.ref("base.main_company")
    assert company is not None
    vals: dict[str, object] = {
        "login": login,
        "name": login.title(),
        "company_id": company.id,
        "company_ids": [company.id],
        "group_ids": [_ref(env, x).id for x in groups],
    }
    if partner is not None:
        vals["partner_id"] = partner.id
    return env["res.users"].create(vals)


def _ref(env: Environment, xmlid: str) -> Model:
    record = env.ref(xmlid)
    assert record is not None
    return record


def _order(
    env: Environment, partner: Model, user: Model | None, product: Model, **vals: object
) -> Model:
    return env["sale.order"].create(
        {
            "partner_id": partner.id,
            "user_id": user.id if user else False,
            "internal_note": "call before delivery",
            "order_line": [Command.create({"product_id": product.id, "product_uom_qty": 2})],
            **vals,
        }
    )


def _invoice(env: Environment, partner: Model, *, post: bool = True) -> Model:
    move = env["account.move"].create(
        {
            "move_type": "out_invoice",
            "partner_id": partner.id,
            "invoice_date": "2026-10-01",
            "invoice_line_ids": [Command.create({"name": "Desk", "price_unit": 100.0})],
        }
    )
    if post:
        move.action_post()
    return move


def build_world(env: Environment) -> World:
    ids: dict[str, int] = {}
    partners = env["res.partner"]
    company2 = env["res.company"].create({"name": "Second Company"})
    cust_a = partners.create({"name": "Customer A", "is_company": True, "comment": "VIP"})
    cust_b = partners.create({"name": "Customer B", "is_company": True})
    a1 = partners.create({"name": "Anna A", "parent_id": cust_a.id})
    a2 = partners.create({"name": "Arno A", "parent_id": cust_a.id})
    b1 = partners.create({"name": "Bert B", "parent_id": cust_b.id})
    portal = "base.group_portal"
    users = {
        "portal_a": _user(env, "portal_a", portal, partner=a1),
        "portal_b": _user(env, "portal_b", portal, partner=b1),
        "rep": _user(env, "rep", "sale.group_sale_salesman"),
        "rep2": _user(env, "rep2", "sale.group_sale_salesman"),
        "lead": _user(env, "lead", "sale.group_sale_salesman_all_leads"),
        "sale_manager": _user(env, "sale_manager", "sale.group_sale_manager"),
        "rep_c2": _user(env, "rep_c2", "sale.group_sale_salesman", company=company2),
        "billing": _user(env, "billing", "account.group_account_invoice"),
        "account_manager": _user(env, "account_manager", "account.group_account_manager"),
        "project_user": _user(env, "project_user", "project.group_project_user"),
        "project_manager": _user(env, "project_manager", "project.group_project_manager"),
        "agent": _user(env, "agent", "helpdesk.group_helpdesk_user"),
        "helpdesk_manager": _user(env, "helpdesk_manager", "helpdesk.group_helpdesk_manager"),
    }
    ids.update({name: int(user.id) for name, user in users.items()})
    ids.update(cust_a=cust_a.id, cust_b=cust_b.id, a1=a1.id, a2=a2.id, b1=b1.id)
    ids["company2"] = int(company2.id)
    product = env["product.product"].create(
        {"name": "Desk", "list_price": 100.0, "standard_price": 60.0}
    )
    ids["product"] = int(product.id)
    orders = {
        "order_a1": _order(env, cust_a, users["rep"], product),
        "order_a2": _order(env, a2, None, product),
        "order_a3": _order(env, cust_a, users["rep2"], product),
        "order_b1": _order(env, cust_b, users["rep"], product),
        "order_c2": _order(env, cust_a, users["rep_c2"], product, company_id=company2.id),
    }
    ids.update({name: int(order.id) for name, order in orders.items()})
    invoices = {
        "invoice_a": _invoice(env, a1),
        "invoice_a_draft": _invoice(env, cust_a, post=False),
        "invoice_a_unfollowed": _invoice(env, cust_a),
        "invoice_b": _invoice(env, cust_b),
    }
    invoices["invoice_a_unfollowed"].write({"message_partner_ids": [Command.clear()]})
    ids.update({name: int(move.id) for name, move in invoices.items()})
    projects = env["project.project"].create(
        [
            {"name": "Project A", "partner_id": cust_a.id, "privacy_visibility": "portal"},
            {"name": "Project B", "partner_id": cust_b.id, "privacy_visibility": "portal"},
            {"name": "All hands", "privacy_visibility": "employees"},
            {"name": "Secret", "privacy_visibility": "followers"},
        ]
    )
    project_a, project_b, everyone, secret = projects
    project_a.message_subscribe([cust_a.id])
    secret.message_subscribe([users["project_manager"].partner_id.id])
    env["project.collaborator"].create({"project_id": project_b.id, "partner_id": b1.id})
    tasks = env["project.task"].create(
        [
            {"name": "A shared", "project_id": project_a.id, "planned_hours": 4.0},
            {"name": "A internal", "project_id": project_a.id},
            {"name": "B task", "project_id": project_b.id},
            {"name": "Everyone task", "project_id": everyone.id},
            {"name": "Secret task", "project_id": secret.id},
        ]
    )
    tasks[0].message_subscribe([a1.id])
    names = ("project_a", "project_b", "project_everyone", "project_secret")
    ids.update({name: int(p.id) for name, p in zip(names, projects, strict=True)})
    names = ("task_a", "task_a_internal", "task_b", "task_everyone", "task_secret")
    ids.update({name: int(t.id) for name, t in zip(names, tasks, strict=True)})
    tickets = env["helpdesk.ticket"].create(
        [
            {"name": "Broken desk", "partner_id": a1.id, "internal_note": "refund approved"},
            {"name": "Late delivery", "partner_id": b1.id, "internal_note": "supplier issue"},
        ]
    )
    ids.update(ticket_a=tickets[0].id, ticket_b=tickets[1].id)
    agent = users["agent"]
    tickets[0].with_user(users["portal_a"]).message_post("The leg fell off.")
    tickets[0].with_user(agent).message_post("Looks like misuse.", internal=True)
    tickets[0].with_user(agent).message_post("A new leg is on its way.")
    tickets[1].with_user(users["portal_b"]).message_post("Where is my order?")
    attachments = env["ir.attachment"].create(
        [
            {"name": "a.txt", "res_model": "sale.order", "res_id": ids["order_a1"], "datas": b"a"},
            {"name": "b.txt", "res_model": "sale.order", "res_id": ids["order_b1"], "datas": b"b"},
            {"name": "t.txt", "res_model": "helpdesk.ticket", "res_id": ids["ticket_b"]},
        ]
    )
    keys = ("attachment_a", "attachment_b", "attachment_ticket_b")
    ids.update(zip(keys, attachments.ids, strict=True))
    return World({key: int(value) for key, value in ids.items()})


# -- fixtures ----------------------------------------------------------------------------
class _Rollback(Exception):
    pass


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def shared(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Registry, World]]:
    """The apps and the dataset, on a database of each backend, for the module."""
    with module_database(request, tmp_path_factory, *APPS, name="apps") as registry:
        with registry.transaction() as env:
            world = build_world(env)
        yield registry, world


@pytest.fixture
def env(shared: tuple[Registry, World]) -> Iterator[Environment]:
    with contextlib.suppress(_Rollback), shared[0].transaction() as env:
        yield env
        raise _Rollback


@pytest.fixture
def world(shared: tuple[Registry, World]) -> World:
    return shared[1]


def found(env: Environment, model: str, domain: list[object] | None = None) -> set[int]:
    return set(env[model].search(domain or []).ids)


def names(world: World, *keys: str) -> set[int]:
    return {world.ids[key] for key in keys}


# -- portal: sales ---------------------------------------------------------------------
def test_portal_reads_exactly_its_own_orders_and_lines(env: Environment, world: World) -> None:
    portal = world.as_user(env, "portal_a")
    own = names(world, "order_a1", "order_a2", "order_a3")  # order_c2: the other company
    assert found(portal, "sale.order") == own
    assert portal["sale.order"].search_count([]) == 3
    own_lines = set(
        world.get(env, "sale.order", "order_a1", "order_a2", "order_a3").mapped("order_line").ids
    )
    assert found(portal, "sale.order.line") == own_lines
    assert not found(portal, "sale.order", [("id", "=", world.ids["order_b1"])])
    other = world.get(portal, "sale.order", "order_b1")
    with pytest.raises(AccessError):
        other.read(["name"])
    with pytest.raises(AccessError):
        _ = other.name
    with pytest.raises(AccessError):
        world.get(portal, "sale.order", "order_c2").read(["name"])
    with pytest.raises(AccessError):
        world.get(env, "sale.order", "order_b1").order_line.with_env(portal).read(["name"])
    # A contact of the customer sees the orders of its colleagues too (child_of).
    order = world.get(portal, "sale.order", "order_a2")
    assert order.read(["name", "amount_total"])[0]["amount_total"] == 220.0
    assert order.order_line.product_id.name == "Desk"


def test_searches_of_one_shape_keep_each_customer_to_its_own(
    env: Environment, world: World
) -> None:
    """A search's statement is kept per domain shape (``bastion.orm.shaped``) and
    shared by every user whose rules have the same shape: each customer's portal user
    passes its own rule values and its own domain values, and finds its own orders."""
    every = ("order_a1", "order_a2", "order_a3", "order_b1", "order_c2")
    own = {
        "portal_a": names(world, "order_a1", "order_a2", "order_a3"),
        "portal_b": names(world, "order_b1"),
    }
    orders = {key: world.get(env, "sale.order", key) for key in every}
    for _ in range(2):  # the second time from the kept statements
        for login in ("portal_a", "portal_b", "portal_a"):
            portal = world.as_user(env, login)["sale.order"]
            for key, order in orders.items():
                wanted = {order.id} & own[login]
                by_id = [("id", "=", order.id)]
                assert set(portal.search(by_id).ids) == wanted, (login, key)
                assert portal.search_count([("name", "=", order.name)]) == len(wanted)
                rows = portal.search_read([("name", "ilike", order.name)], ["name"])
                assert {row["id"] for row in rows} == wanted, (login, key)
            assert set(portal.search([("state", "in", ["draft", "sale"])]).ids) == own[login]
            # A long list of ids is one parameter of the shape, a long list of amounts
            # padded to 16 values (bastion.domain.shapes): each user's own still.
            many = sorted(world.ids.values())[:12] + [o.id for o in orders.values()]
            assert set(portal.search([("id", "in", many)]).ids) == own[login]
            assert portal.search_count([("id", "not in", many[:-2])]) == len(
                own[login] - set(many[:-2])
            )
            amounts = [float(n) for n in range(200, 210)] + [
                o.amount_total for o in orders.values()
            ]
            assert set(portal.search([("amount_total", "in", amounts)]).ids) == own[login]
            assert portal.search_count([("amount_total", ">", 0.0)]) == len(own[login])
    # One kept statement served both customers' users, whatever the values.
    statements = set()
    for login, key in (("portal_a", "order_a1"), ("portal_b", "order_b1")):
        portal = world.as_user(env, login)["sale.order"]
        domain = [("id", "=", world.ids[key])]
        statements.add(id(crud.search_select(portal, ("name",), domain, 0, 80, None).query))
    assert len(statements) == 1


DOCUMENTS = ("sale.order", "sale.order.line", "account.move", "project.task", "helpdesk.ticket")
VISITORS = ("portal_a", "portal_b", "rep", "rep_c2", "billing", "project_user", "agent")


def _fresh_memos(registry: Registry) -> None:
    """Whatever the security layer and the ORM keep for this registry, dropped: the
    memos made from now on take the limits in force (private state, reset as a
    security change or an addon load would)."""
    policy = registry.security
    policy._shared, policy._values = {}, {}  # type: ignore[attr-defined]
    policy._templates = BoundedMemo(policy_module.MAX_TEMPLATES)  # type: ignore[attr-defined]
    shaped._TEMPLATES.pop(registry, None)
    kept._SUPERUSER.pop(registry, None)


@pytest.fixture
def memo_limit(
    shared: tuple[Registry, World], monkeypatch: pytest.MonkeyPatch
) -> Iterator[Callable[[int], None]]:
    """Sets the limit of every memo, for the memos made from then on; the real limits
    and new memos again afterwards."""

    def set_limit(limit: int) -> None:
        for module, name in (
            (state_module, "STATE_MEMO_ENTRIES"),
            (policy_module, "RULE_MEMO_ENTRIES"),
            (policy_module, "MAX_TEMPLATES"),
            (kept, "MAX_KEPT_STATEMENTS"),
            (shaped, "MAX_SHAPES"),
        ):
            monkeypatch.setattr(module, name, limit)
        _fresh_memos(shared[0])

    yield set_limit
    monkeypatch.undo()
    _fresh_memos(shared[0])


def _seen(env: Environment, world: World) -> dict[tuple[str, str], object]:
    """What each visitor finds of each document model it may read: by an empty
    domain, counted by a domain of a shape, and read."""
    seen: dict[tuple[str, str], object] = {}
    for login in VISITORS:
        user_env = world.as_user(env, login)
        for model in DOCUMENTS:
            if user_env.registry.security.model_allowed(user_env, model, "read"):
                records = user_env[model]
                rows = records.search_read([("id", ">", 0)], ["name"])
                seen[login, model] = (
                    set(records.search([]).ids),
                    records.search_count([("id", "!=", 0)]),
                    sorted((row["id"], row["name"]) for row in rows),
                )
    return seen


def test_memos_too_small_for_the_users_keep_each_customer_to_its_own(
    shared: tuple[Registry, World], memo_limit: Callable[[int], None]
) -> None:
    """The memos of rules, their SQL and the kept statements hold at most a limit of
    entries and drop the least asked for (``bastion.memo``). With room for two entries
    each, every user's rules and statements are dropped and made again at almost every
    call: each user still finds what it found with memos of the real size, never the
    records of the user served just before."""
    registry, world = shared
    with contextlib.suppress(_Rollback), registry.transaction() as env:
        real = _seen(env, world)
        raise _Rollback
    own = real["portal_a", "sale.order"]
    assert isinstance(own, tuple) and own[0] == names(world, "order_a1", "order_a2", "order_a3")
    memo_limit(2)
    with contextlib.suppress(_Rollback), registry.transaction() as env:
        for _ in range(2):
            assert _seen(env, world) == real
        portal = world.as_user(env, "portal_b")
        assert len(registry.security.context_memo(portal)) <= 2
        assert len(registry.security.rule_memo(portal)) <= 2
        raise _Rollback


def test_a_deployments_memo_size_holds_and_keeps_each_customer_to_its_own(
    shared: tuple[Registry, World],
) -> None:
    """``memo_entries`` (``SecurityPolicy.set_memo_entries``, the server's setting)
    sizes the security and values versions' memos made from then on; at the smallest
    size allowed, every user still finds exactly what it found before. Below it, the
    setting is refused and names the minimum."""
    registry, world = shared
    policy = registry.security
    assert isinstance(policy, SecurityPolicy)
    with contextlib.suppress(_Rollback), registry.transaction() as env:
        real = _seen(env, world)
        raise _Rollback
    try:
        policy.set_memo_entries(MIN_MEMO_ENTRIES)
        with contextlib.suppress(_Rollback), registry.transaction() as env:
            assert _seen(env, world) == real
            portal = world.as_user(env, "portal_b")
            for memo in (policy.state(portal).memo, policy.rule_memo(portal)):
                assert isinstance(memo, BoundedMemo) and memo.limit == MIN_MEMO_ENTRIES
            raise _Rollback
        with pytest.raises(ValueError, match=f"at least {MIN_MEMO_ENTRIES}"):
            policy.set_memo_entries(MIN_MEMO_ENTRIES - 1)
    finally:
        policy.set_memo_entries(None)
    with registry.transaction() as env:
        memo = policy.state(env).memo
        assert isinstance(memo, BoundedMemo) and memo.limit == state_module.STATE_MEMO_ENTRIES


def test_portal_cannot_change_orders(env: Environment, world: World) -> None:
    portal = world.as_user(env, "portal_a")
    order = world.get(portal, "sale.order", "order_a1")
    with pytest.raises(AccessError):
        order.write({"note": "free of charge"})
    with pytest.raises(AccessError):
        order.order_line.write({"price_unit": 1.0})
    with pytest.raises(AccessError):
        portal["sale.order"].create({"partner_id": world.ids["cust_a"]})
    with pytest.raises(AccessError):
        order.unlink()
    assert world.get(env, "sale.order", "order_a1").note is False


# -- portal: invoices ----------------------------------------------------------------
def test_portal_reads_posted_invoices_it_follows(env: Environment, world: World) -> None:
    portal = world.as_user(env, "portal_a")
    assert found(portal, "account.move") == names(world, "invoice_a")
    invoice = world.get(env, "account.move", "invoice_a")
    assert found(portal, "account.move.line") == set(invoice.invoice_line_ids.ids)
    for key in ("invoice_a_draft", "invoice_a_unfollowed", "invoice_b"):
        with pytest.raises(AccessError):
            world.get(portal, "account.move", key).read(["name"])
    # The partner field alone grants nothing: following does.
    unfollowed = world.get(env, "account.move", "invoice_a_unfollowed")
    assert unfollowed.partner_id.id == world.ids["cust_a"]
    unfollowed.message_subscribe([world.ids["cust_a"]])
    assert world.ids["invoice_a_unfollowed"] in found(portal, "account.move")


def test_invoice_posting_follows_the_rights(env: Environment, world: World) -> None:
    draft = world.get(env, "account.move", "invoice_a_draft")
    with pytest.raises(AccessError):
        draft.with_user(world.ids["portal_a"]).action_post()
    with pytest.raises(AccessError):
        draft.with_user(world.ids["rep"]).action_post()
    draft.with_user(world.ids["billing"]).action_post()
    assert draft.state == "posted"
    assert str(draft.name).startswith("INV/2026/")
    assert draft.amount_total == 110.0 and draft.amount_residual == 110.0
    draft.write({"payment_state": "paid"})
    assert draft.amount_residual == 0.0
    with pytest.raises(AccessError):
        draft.with_user(world.ids["billing"]).unlink()
    draft.with_user(world.ids["account_manager"]).button_cancel()
    draft.with_user(world.ids["account_manager"]).unlink()
    assert not draft.exists()


# -- portal: projects and tasks ----------------------------------------------------------
def test_portal_projects_follow_visibility_followers_and_collaborators(
    env: Environment, world: World
) -> None:
    portal_a = world.as_user(env, "portal_a")
    portal_b = world.as_user(env, "portal_b")
    assert found(portal_a, "project.project") == names(world, "project_a")
    assert found(portal_a, "project.task") == names(world, "task_a")  # not the unfollowed one
    assert found(portal_b, "project.project") == names(world, "project_b")
    assert found(portal_b, "project.task") == names(world, "task_b")  # as a collaborator
    assert len(found(portal_b, "project.collaborator")) == 1
    assert not found(portal_a, "project.collaborator")
    for key in ("task_b", "task_everyone", "task_secret", "task_a_internal"):
        with pytest.raises(AccessError):
            world.get(portal_a, "project.task", key).read(["name"])
    # Visibility comes first: followers do not help once the project is internal.
    world.get(env, "project.project", "project_a").write({"privacy_visibility": "employees"})
    assert not found(portal_a, "project.project")
    assert not found(portal_a, "project.task")


def test_followers_only_projects_hidden_from_project_users(env: Environment, world: World) -> None:
    user = world.as_user(env, "project_user")
    visible = names(world, "project_a", "project_b", "project_everyone")
    assert found(user, "project.project") == visible
    assert world.ids["task_secret"] not in found(user, "project.task")
    with pytest.raises(AccessError):
        world.get(user, "project.project", "project_secret").read(["name"])
    manager = world.as_user(env, "project_manager")
    assert world.ids["project_secret"] in found(manager, "project.project")
    secret = world.get(env, "project.project", "project_secret")
    secret.message_subscribe([world.user(env, "project_user").partner_id.id])
    assert world.ids["task_secret"] in found(user, "project.task")


# -- portal: helpdesk, messages, attachments ---------------------------------------------
def test_portal_tickets_read_and_open_for_its_own_company(env: Environment, world: World) -> None:
    portal = world.as_user(env, "portal_a")
    assert found(portal, "helpdesk.ticket") == names(world, "ticket_a")
    with pytest.raises(AccessError):
        world.get(portal, "helpdesk.ticket", "ticket_b").read(["name"])
    ticket = portal["helpdesk.ticket"].create(
        {"name": "Drawer stuck", "partner_id": world.ids["cust_a"]}
    )
    assert str(ticket.number).startswith("T") and ticket.stage == "new"
    assert ticket.id in found(portal, "helpdesk.ticket")
    with pytest.raises(AccessError):
        portal["helpdesk.ticket"].create({"name": "Spoof", "partner_id": world.ids["b1"]})
    with pytest.raises(AccessError):
        portal["helpdesk.ticket"].create({"name": "Nobody's"})
    assert not env["helpdesk.ticket"].search([("name", "in", ["Spoof", "Nobody's"])])
    with pytest.raises(AccessError):
        ticket.write({"stage": "solved"})
    with pytest.raises(AccessError):
        ticket.unlink()


def test_portal_reads_public_messages_of_its_ticket_only(env: Environment, world: World) -> None:
    portal = world.as_user(env, "portal_a")
    ticket = world.get(portal, "helpdesk.ticket", "ticket_a")
    bodies = [str(m.body) for m in ticket.messages()]
    assert bodies == ["<p>A new leg is on its way.</p>", "<p>The leg fell off.</p>"]
    assert len(world.get(env, "helpdesk.ticket", "ticket_a").messages()) == 3  # as superuser
    assert all(not m.internal for m in portal["mail.message"].search([]))
    assert not portal["mail.message"].search([("res_id", "=", world.ids["ticket_b"])])
    other = env["mail.message"].search([("res_id", "=", world.ids["ticket_b"])])
    with pytest.raises(AccessError):
        other.with_env(portal).read(["body"])


def test_portal_posts_on_its_own_ticket_only(env: Environment, world: World) -> None:
    portal = world.as_user(env, "portal_a")
    message = world.get(portal, "helpdesk.ticket", "ticket_a").message_post("Any news?")
    assert message.author_id.id == world.ids["a1"]
    with pytest.raises(AccessError):
        world.get(portal, "helpdesk.ticket", "ticket_b").message_post("Hello B")
    with pytest.raises(AccessError):
        world.get(portal, "helpdesk.ticket", "ticket_a").message_post("psst", internal=True)
    with pytest.raises(AccessError):
        world.get(portal, "sale.order", "order_a1").message_post("on an order", internal=True)
    assert not env["mail.message"].search([("body", "ilike", "Hello B")])


def test_attachments_of_other_customers_are_unreadable(env: Environment, world: World) -> None:
    portal = world.as_user(env, "portal_a")
    assert found(portal, "ir.attachment") == names(world, "attachment_a")
    for key in ("attachment_b", "attachment_ticket_b"):
        with pytest.raises(AccessError):
            world.get(portal, "ir.attachment", key).read(["datas"])
    assert world.get(portal, "ir.attachment", "attachment_a").datas == b"a"


# -- field groups --------------------------------------------------------------------
RECORDS = {
    "sale.order": "order_a1",
    "sale.order.line": None,
    "product.product": "product",
    "project.task": "task_a",
    "helpdesk.ticket": "ticket_a",
    "res.partner": "cust_a",
}


def _readable_record(env: Environment, world: World, model: str) -> Model:
    key = RECORDS[model]
    if key is None:
        return world.get(env, "sale.order", "order_a1").order_line
    return world.get(env, model, key)


@pytest.mark.parametrize("model", sorted(RESTRICTED))
def test_portal_never_reads_restricted_fields(env: Environment, world: World, model: str) -> None:
    portal = world.as_user(env, "portal_a")
    record = _readable_record(env, world, model).with_env(portal)
    assert record.read(["id"])  # the record itself is readable
    described = record.fields_get()
    everything = record.read()[0]
    for name in RESTRICTED[model]:
        assert name not in described
        assert name not in everything
        with pytest.raises(AccessError):
            record.read([name])
        with pytest.raises(AccessError):
            _ = record[name]
        with pytest.raises(AccessError):
            portal[model].search([(name, "!=", False)])
    assert all(name in record.sudo().fields_get() for name in RESTRICTED[model])


def test_field_groups_follow_implied_groups(env: Environment, world: World) -> None:
    order = world.get(env, "sale.order", "order_a1")
    assert order.with_user(world.ids["rep"]).internal_note == "call before delivery"
    with pytest.raises(AccessError):
        _ = order.with_user(world.ids["rep"]).margin
    # Administrator implies All Documents implies Own Documents: the closure counts.
    assert order.with_user(world.ids["sale_manager"]).margin == 80.0
    assert order.with_user(world.ids["sale_manager"]).internal_note == "call before delivery"
    task = world.get(env, "project.task", "task_a")
    assert task.with_user(world.ids["project_manager"]).planned_hours == 4.0
    ticket = world.get(env, "helpdesk.ticket", "ticket_a")
    assert ticket.with_user(world.ids["helpdesk_manager"]).internal_note == "refund approved"
    assert env.with_user(world.ids["helpdesk_manager"])["helpdesk.ticket"].search_count([]) == 2
    partner = world.get(env, "res.partner", "cust_a")
    assert partner.with_user(world.ids["agent"]).comment == "VIP"


# -- internal users: sales ---------------------------------------------------------------
def test_salesman_sees_own_and_unassigned_orders(env: Environment, world: World) -> None:
    rep = world.as_user(env, "rep")
    own = names(world, "order_a1", "order_a2", "order_b1")
    assert found(rep, "sale.order") == own
    own_lines = set(
        world.get(env, "sale.order", "order_a1", "order_a2", "order_b1").mapped("order_line").ids
    )
    assert found(rep, "sale.order.line") == own_lines
    other = world.get(rep, "sale.order", "order_a3")
    with pytest.raises(AccessError):
        other.write({"note": "mine now"})
    with pytest.raises(AccessError):
        rep["sale.order"].create({"partner_id": world.ids["cust_a"], "user_id": world.ids["rep2"]})
    created = rep["sale.order"].create({"partner_id": world.ids["cust_b"]})
    assert str(created.name).startswith("S") and created.user_id.id is False
    line = rep["sale.order.line"].create(
        {"order_id": created.id, "product_id": world.ids["product"], "product_uom_qty": 3}
    )
    assert (line.price_subtotal, created.amount_total) == (300.0, 330.0)
    assert created.sudo().margin == 120.0  # the hidden cost was copied as superuser
    for user in ("lead", "sale_manager"):
        everything = names(world, "order_a1", "order_a2", "order_a3", "order_b1") | {created.id}
        assert found(world.as_user(env, user), "sale.order") == everything


def test_multi_company_hides_the_other_company(env: Environment, world: World) -> None:
    in_company2 = world.as_user(env, "rep_c2")
    assert found(in_company2, "sale.order") == names(world, "order_c2")
    assert found(in_company2, "sale.order.line") == set(
        world.get(env, "sale.order", "order_c2").order_line.ids
    )
    for user in ("rep", "lead", "sale_manager"):
        assert world.ids["order_c2"] not in found(world.as_user(env, user), "sale.order")
    # Allowed in both companies: the chosen companies decide.
    lead = world.user(env, "lead")
    lead.write({"company_ids": [Command.link(world.ids["company2"])]})
    both = env.with_user(lead)
    assert world.ids["order_c2"] in found(both, "sale.order")
    only_first = both.with_companies([int(lead.company_id.id)])
    assert world.ids["order_c2"] not in found(only_first, "sale.order")


def test_computed_amounts_are_not_written_by_callers(env: Environment, world: World) -> None:
    from bastion import ValidationError  # noqa: PLC0415

    order = world.get(env, "sale.order", "order_a1")
    assert (order.amount_untaxed, order.amount_tax, order.amount_total) == (200.0, 20.0, 220.0)
    with pytest.raises(ValidationError):
        order.write({"amount_total": 1.0})
    with pytest.raises(ValidationError):
        order.order_line.write({"price_subtotal": 1.0})
    order.order_line.write({"price_unit": 50.0})
    assert (order.amount_total, order.margin) == (110.0, -20.0)
    order.order_line.unlink()
    assert order.amount_total == 0.0
