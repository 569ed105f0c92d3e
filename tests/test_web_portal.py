"""The customer portal over HTTP: every route, as anonymous, as customer A's portal user,
as customer B's, and as internal users.

B never sees A's records, and an id of A's answers B the very same 404 page as an id
that does not exist. Fields restricted by ``groups=`` and internal notes never reach a
portal page's HTML. Runs on SQLite and PostgreSQL; the data is committed once per
module (the app opens its own transactions), each test gets a fresh app and clients.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from bastion import AccessError, Command, Environment, Registry
from bastion.auth.accounts import set_password
from conftest import module_database
from webapp import WebClient, make_app

APPS = ("contacts", "sale", "account", "project", "helpdesk", "portal")
PASSWORD = "portal-test-passphrase"
# Values of restricted fields and internal notes: never in a portal page.
SECRET_MARKERS = (
    "MARGIN-SECRET-7781",
    "TICKET-INTERNAL-NOTE-5523",
    "PARTNER-COMMENT-9034",
    "INTERNAL-MESSAGE-4410",
    "ORDER-INTERNAL-NOTE-6612",
)


@dataclass
class Customer:
    key: str
    company: int
    portal_login: str
    orders: list[int] = field(default_factory=list)
    order_names: list[str] = field(default_factory=list)
    invoices: list[int] = field(default_factory=list)
    projects: list[int] = field(default_factory=list)
    tasks: list[int] = field(default_factory=list)
    tickets: list[int] = field(default_factory=list)
    attachment: int = 0

    def ids(self, kind: str) -> list[int]:
        ids: list[int] = getattr(self, kind)
        return ids


def _customer(env: Environment, key: str, orders: int) -> Customer:
    company = env["res.partner"].create(
        {"name": f"Customer {key}", "is_company": True, "comment": "PARTNER-COMMENT-9034"}
    )
    contact = env["res.partner"].create({"name": f"Contact {key}", "parent_id": company.id})
    login = f"portal.{key.lower()}"
    user = env["res.users"].create(
        {
            "login": login,
            "name": f"Portal {key}",
            "partner_id": contact.id,
            "group_ids": [Command.link(env.ref("base.group_portal").id)],
            "company_id": env.ref("base.main_company").id,
            "company_ids": [env.ref("base.main_company").id],
        }
    )
    set_password(user, PASSWORD)
    found = Customer(key, int(company.id), login)
    product = env["product.product"].create({"name": f"Widget {key}", "list_price": 10.0})
    for n in range(orders):
        order = env["sale.order"].create(
            {
                "partner_id": contact.id,
                "client_order_ref": f"REF-{key}-{n:02d}",
                "internal_note": "ORDER-INTERNAL-NOTE-6612",
                "order_line": [
                    Command.create(
                        {
                            "product_id": product.id,
                            "name": f"Widget line {key}",
                            "product_uom_qty": 2.0,
                            "price_unit": 10.0,
                            "purchase_price": 3.0,
                        }
                    )
                ],
            }
        )
        found.orders.append(int(order.id))
        found.order_names.append(str(order.name))
    invoice = env["account.move"].create(
        {
            "partner_id": contact.id,
            "move_type": "out_invoice",
            "invoice_origin": f"ORIGIN-{key}",
            "invoice_line_ids": [
                Command.create({"name": f"Invoice line {key}", "quantity": 1.0, "price_unit": 5.0})
            ],
        }
    )
    invoice.action_post()
    found.invoices.append(int(invoice.id))
    project = env["project.project"].create(
        {"name": f"Project {key}", "partner_id": company.id, "privacy_visibility": "portal"}
    )
    project.message_subscribe([company.id])
    found.projects.append(int(project.id))
    task = env["project.task"].create(
        {"name": f"Task {key}", "project_id": project.id, "partner_id": contact.id}
    )
    task.message_subscribe([company.id])
    found.tasks.append(int(task.id))
    ticket = env["helpdesk.ticket"].create(
        {
            "name": f"Ticket {key}",
            "partner_id": contact.id,
            "description": f"<p>Printer {key} is <b>broken</b></p>",
            "internal_note": "TICKET-INTERNAL-NOTE-5523",
        }
    )
    found.tickets.append(int(ticket.id))
    ticket.message_post(f"Public reply for {key}")
    ticket.message_post("INTERNAL-MESSAGE-4410", internal=True)
    attachment = env["ir.attachment"].create(
        {
            "name": f"report-{key}.txt",
            "res_model": "helpdesk.ticket",
            "res_id": ticket.id,
            "datas": f"attachment of {key}".encode(),
            "mimetype": "text/plain",
        }
    )
    found.attachment = int(attachment.id)
    return found


@dataclass
class World:
    registry: Registry
    a: Customer
    b: Customer


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def world(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[World]:
    with module_database(request, tmp_path_factory, *APPS, name="portal") as registry:
        with registry.transaction() as env:
            a = _customer(env, "A", orders=25)
            b = _customer(env, "B", orders=3)
            internal = env["res.users"].create(
                {
                    "login": "agent",
                    "name": "Agent",
                    "group_ids": [
                        Command.link(env.ref("helpdesk.group_helpdesk_user").id),
                        Command.link(env.ref("sale.group_sale_manager").id),
                    ],
                    "company_id": env.ref("base.main_company").id,
                    "company_ids": [env.ref("base.main_company").id],
                }
            )
            set_password(internal, PASSWORD)
        yield World(registry, a, b)


@pytest.fixture
def app(world: World) -> object:
    return make_app(world.registry)


def client(app: object, login: str | None = None) -> WebClient:
    web = WebClient(app)  # type: ignore[arg-type]
    if login is not None:
        web.login(login, PASSWORD)
    return web


KINDS = ("orders", "invoices", "projects", "tasks", "tickets")


# -- anonymous ----------------------------------------------------------------------------
@pytest.mark.parametrize("path", ["/my", "/my/orders", "/my/orders/1", "/my/security", "/odoo"])
def test_anonymous_is_sent_to_login(app: object, path: str) -> None:
    response = client(app).get(path)
    assert response.status_code == 303
    assert response.headers["location"].startswith("/web/login?redirect=")


def test_anonymous_cannot_download_attachments(app: object, world: World) -> None:
    response = client(app).get(f"/my/attachments/{world.a.attachment}")
    assert response.status_code == 303
    assert b"attachment of A" not in response.content


# -- isolation ------------------------------------------------------------------------------
def test_home_counts_only_own_documents(app: object, world: World) -> None:
    page = client(app, world.a.portal_login).get("/my")
    assert page.status_code == 200
    assert 'id="tile-orders"><span class="count">25</span>' in page.text
    b_page = client(app, world.b.portal_login).get("/my")
    assert 'id="tile-orders"><span class="count">3</span>' in b_page.text


@pytest.mark.parametrize("kind", KINDS)
def test_lists_hold_only_own_records(app: object, world: World, kind: str) -> None:
    b = client(app, world.b.portal_login)
    page = b.get(f"/my/{kind}")
    assert page.status_code == 200
    for rid in world.b.ids(kind):
        assert f'/my/{kind}/{rid}"' in page.text
    for rid in world.a.ids(kind):
        assert f'/my/{kind}/{rid}"' not in page.text
    assert "Customer A" not in page.text and " A<" not in page.text


@pytest.mark.parametrize("kind", KINDS)
def test_another_customers_record_is_the_missing_page(app: object, world: World, kind: str) -> None:
    b = client(app, world.b.portal_login)
    own = b.get(f"/my/{kind}/{world.b.ids(kind)[0]}")
    assert own.status_code == 200
    theirs = b.get(f"/my/{kind}/{world.a.ids(kind)[0]}")
    missing = b.get(f"/my/{kind}/987654")
    assert theirs.status_code == missing.status_code == 404
    assert theirs.content == missing.content  # byte for byte: nothing tells them apart
    assert "Customer A" not in theirs.text


def test_print_view_and_lines_follow_the_same_rules(app: object, world: World) -> None:
    a = client(app, world.a.portal_login)
    order = world.a.orders[0]
    printed = a.get(f"/my/orders/{order}/print")
    assert printed.status_code == 200 and "Widget line A" in printed.text
    assert a.get(f"/my/orders/{world.b.orders[0]}/print").status_code == 404
    assert a.get(f"/my/invoices/{world.b.invoices[0]}/print").status_code == 404
    invoice = a.get(f"/my/invoices/{world.a.invoices[0]}/print")
    assert "Invoice line A" in invoice.text


def test_attachments_download_only_through_a_readable_document(app: object, world: World) -> None:
    a = client(app, world.a.portal_login)
    own = a.get(f"/my/attachments/{world.a.attachment}")
    assert own.status_code == 200
    assert own.content == b"attachment of A"
    assert own.headers["content-disposition"].startswith("attachment;")
    theirs = a.get(f"/my/attachments/{world.b.attachment}")
    assert theirs.status_code == 404 and b"attachment of B" not in theirs.content


def test_invented_kinds_and_non_numeric_ids_are_missing(app: object, world: World) -> None:
    a = client(app, world.a.portal_login)
    assert a.get("/my/secrets").status_code == 404
    assert a.get("/my/orders/abc").status_code == 404
    assert a.get("/my/orders/-1").status_code == 404


# -- what a portal page never shows ----------------------------------------------------------
def test_restricted_fields_and_internal_notes_never_reach_portal_html(
    app: object, world: World
) -> None:
    a = client(app, world.a.portal_login)
    pages = [
        "/my",
        *(f"/my/{kind}" for kind in KINDS),
        *(f"/my/{kind}/{world.a.ids(kind)[0]}" for kind in KINDS),
        f"/my/orders/{world.a.orders[0]}/print",
        f"/my/invoices/{world.a.invoices[0]}/print",
    ]
    for path in pages:
        page = a.get(path)
        assert page.status_code == 200, path
        for marker in SECRET_MARKERS:
            assert marker not in page.text, (path, marker)
    ticket = a.get(f"/my/tickets/{world.a.tickets[0]}")
    assert "Public reply for A" in ticket.text
    assert "<b>broken</b>" in ticket.text  # sanitised Html is rendered as Html


def test_internal_users_see_internal_notes(app: object, world: World) -> None:
    agent = client(app, "agent")
    ticket = agent.get(f"/my/tickets/{world.a.tickets[0]}")
    assert ticket.status_code == 200
    assert "INTERNAL-MESSAGE-4410" in ticket.text


# -- paging, sorting, search -------------------------------------------------------------------
def test_pages_sorting_and_search(app: object, world: World) -> None:
    a = client(app, world.a.portal_login)
    first = a.get("/my/orders?sortby=name")
    assert "Page 1 of 2" in first.text
    second = a.get("/my/orders?sortby=name&page=2")
    names = sorted(world.a.order_names)
    assert names[0] in first.text and names[-1] in second.text
    assert names[-1] not in first.text
    found = a.get("/my/orders?search=REF-A-07")
    assert found.text.count('href="/my/orders/') == 1
    nothing = a.get("/my/orders?search=REF-B-00")  # B's reference: A finds nothing
    assert nothing.text.count('href="/my/orders/') == 0
    assert a.get("/my/orders?page=99&sortby=bogus").status_code == 200


# -- posting messages ---------------------------------------------------------------------
def test_post_a_message_on_own_ticket(app: object, world: World) -> None:
    a = client(app, world.a.portal_login)
    ticket = world.a.tickets[0]
    payload = '<img src=x onerror=alert(1)> Hello & "bye"'
    response = a.submit(
        f"/my/tickets/{ticket}", f"/my/tickets/{ticket}/messages", {"body": payload}
    )
    assert response.status_code == 303
    page = a.get(f"/my/tickets/{ticket}")
    assert '&lt;img src=x onerror=alert(1)&gt; Hello &amp; "bye"' in page.text
    assert "<img" not in page.text


def test_cannot_post_on_another_customers_ticket(app: object, world: World) -> None:
    b = client(app, world.b.portal_login)
    target = world.a.tickets[0]
    response = b.submit(
        f"/my/tickets/{world.b.tickets[0]}", f"/my/tickets/{target}/messages", {"body": "hi"}
    )
    assert response.status_code == 404
    with world.registry.transaction() as env:
        posted = env["mail.message"].search([("res_id", "=", target), ("body", "ilike", "hi")])
        assert not any(m.author_name == "Portal B" for m in posted)


def test_rejected_message_keeps_the_text(app: object, world: World) -> None:
    a = client(app, world.a.portal_login)
    ticket = world.a.tickets[0]
    response = a.post(
        f"/my/tickets/{ticket}/messages", data={"body": "typed text stays", "csrf_token": "bad"}
    )
    assert response.status_code == 403
    assert "typed text stays" in response.text
    empty = a.submit(f"/my/tickets/{ticket}", f"/my/tickets/{ticket}/messages", {"body": "  "})
    assert empty.status_code == 400 and "Write a message" in empty.text


def test_orders_take_no_messages_from_the_portal(app: object, world: World) -> None:
    a = client(app, world.a.portal_login)
    order = world.a.orders[0]
    response = a.submit(f"/my/orders/{order}", f"/my/orders/{order}/messages", {"body": "x"})
    assert response.status_code == 404


# -- headers and cookies ---------------------------------------------------------------------
def test_pages_carry_security_headers_and_no_store(app: object, world: World) -> None:
    a = client(app, world.a.portal_login)
    page = a.get("/my/orders")
    assert "frame-ancestors 'none'" in page.headers["content-security-policy"]
    assert page.headers["x-content-type-options"] == "nosniff"
    assert page.headers["cache-control"] == "no-store"


def test_session_cookie_flags(app: object, world: World) -> None:
    web = client(app)
    response = web.login(world.a.portal_login, PASSWORD)
    cookie = response.headers["set-cookie"]
    assert "bastion_session=" in cookie and "HttpOnly" in cookie and "SameSite=lax" in cookie


def test_templates_dir_has_no_unescaped_output() -> None:
    """No template opts out of autoescaping: ``|safe`` and ``autoescape false`` never
    appear; Markup comes only from the sanitiser or the templates themselves."""
    root = Path(__file__).resolve().parent.parent / "src" / "bastion" / "web" / "templates"
    for template in root.rglob("*.html"):
        text = template.read_text()
        assert "|safe" not in text.replace(" ", ""), template
        assert "autoescape false" not in text, template


# -- share links ---------------------------------------------------------------------------
LINK = re.compile(r'id="share-link" value="([^"]+)"')


def _share(app: object, world: World, order: int, days: str = "14") -> str:
    agent = client(app, "agent")
    response = agent.submit(
        f"/my/orders/{order}", f"/my/orders/{order}/share", {"days": days, "name": "accountant"}
    )
    assert response.status_code == 200, response.text[:300]
    found = LINK.search(response.text)
    assert found
    return found.group(1).replace("http://testserver", "")


def test_a_share_link_opens_one_document_to_anyone(app: object, world: World) -> None:
    order = world.a.orders[0]
    path = _share(app, world, order)
    visitor = client(app)
    page = visitor.get(path)
    assert page.status_code == 200
    assert world.a.order_names[0] in page.text and "Widget line A" in page.text
    assert page.headers["referrer-policy"] == "no-referrer"
    for marker in SECRET_MARKERS:
        assert marker not in page.text
    # The link is not a session: the rest of the portal stays closed to the visitor.
    assert visitor.get(f"/my/orders/{order}").status_code == 303
    b = client(app, world.b.portal_login)
    assert b.get(path).status_code == 200
    assert b.get(f"/my/orders/{order}").status_code == 404


def test_tampered_revoked_and_expired_links_are_missing(app: object, world: World) -> None:
    order = world.a.orders[1]
    path = _share(app, world, order)
    visitor = client(app)
    missing = visitor.get("/s/nothing-here")
    assert missing.status_code == 404
    assert visitor.get(path[:-2] + ("AA" if not path.endswith("AA") else "BB")).content == (
        missing.content
    )
    agent = client(app, "agent")
    with world.registry.transaction() as env:
        share = env["portal.share"].search([("res_id", "=", order)], limit=1)
        share_id = int(share.id)
    revoked = agent.submit(f"/my/orders/{order}", f"/my/shares/{share_id}/revoke", {})
    assert revoked.status_code == 303
    assert visitor.get(path).status_code == 404
    other = _share(app, world, world.a.orders[2])
    with world.registry.transaction() as env:
        share = env["portal.share"].search([("res_id", "=", world.a.orders[2])], limit=1)
        share.write({"expires_at": share.expires_at.replace(year=2000)})
    assert visitor.get(other).status_code == 404


def test_a_link_to_a_deleted_order_never_opens_the_next_one(app: object, world: World) -> None:
    """The share goes with its order; the next order, another customer's, gets
    another id (SQLite gave it the deleted one, and with it the link)."""
    with world.registry.transaction() as env:
        contact = env["res.users"].search([("login", "=", world.a.portal_login)]).partner_id
        order = int(env["sale.order"].create({"partner_id": contact.id}).id)
    path = _share(app, world, order)
    visitor = client(app)
    assert visitor.get(path).status_code == 200
    with world.registry.transaction() as env:
        env["sale.order"].browse([order]).unlink()
        assert not env["portal.share"].search([("res_id", "=", order)])
        contact = env["res.users"].search([("login", "=", world.b.portal_login)]).partner_id
        newer = env["sale.order"].create({"partner_id": contact.id, "client_order_ref": "B-NEW"})
        assert newer.id > order
    page = visitor.get(path)
    assert page.status_code == 404
    assert "B-NEW" not in page.text


def test_only_users_who_read_a_document_share_it(app: object, world: World) -> None:
    a = client(app, world.a.portal_login)
    order = world.a.orders[0]
    refused = a.submit(f"/my/orders/{order}", f"/my/orders/{order}/share", {"days": "5"})
    assert refused.status_code == 404  # portal users create no links
    agent = client(app, "agent")
    too_long = agent.submit(f"/my/orders/{order}", f"/my/orders/{order}/share", {"days": "365"})
    assert too_long.status_code == 400 and "between 1 and 90 days" in too_long.text


def test_a_grant_opens_one_record_and_its_lines_for_reading_only(world: World) -> None:
    order_id, other_id = world.a.orders[0], world.a.orders[1]
    with world.registry.transaction() as env:
        public = env.ref("base.public_user")
        assert public is not None
        plain = env.with_user(public)
        assert not plain["sale.order"].has_access("read")
        shared = plain.with_grant("sale.order", order_id)
        assert shared["sale.order"].search([]).ids == [order_id]
        lines = shared["sale.order.line"].search([])
        assert set(lines.mapped("order_id").ids) == {order_id}
        with pytest.raises(AccessError):
            shared["sale.order"].browse(other_id).read(["name"])
        with pytest.raises(AccessError):
            shared["sale.order"].browse(order_id).write({"note": "changed"})
        with pytest.raises(AccessError):  # field groups still apply
            shared["sale.order"].browse(order_id).read(["margin"])
        assert not shared["account.move"].has_access("read")
        # The grant belongs to this visitor: another user's environment has none.
        agent = env["res.users"].search([("login", "=", "agent")])
        assert shared.with_user(agent).grants == frozenset()


def test_internal_roles_see_what_their_rules_allow(app: object, world: World) -> None:
    """A salesperson limited to their own documents sees no order of anyone else on
    the same pages; the sales manager sees both customers'."""
    with world.registry.transaction() as env:
        rep = env["res.users"].create(
            {
                "login": "rep",
                "name": "Rep",
                "group_ids": [Command.link(env.ref("sale.group_sale_salesman").id)],
                "company_id": env.ref("base.main_company").id,
                "company_ids": [env.ref("base.main_company").id],
            }
        )
        set_password(rep, PASSWORD)
        env["sale.order"].browse(world.a.orders[0]).write({"user_id": rep.id})
        others = env["sale.order"].browse(world.b.orders[0])
        others.write({"user_id": env.ref("base.user_admin").id})
    try:
        seller = client(app, "rep")
        assert seller.get(f"/my/orders/{world.a.orders[0]}").status_code == 200
        assert seller.get(f"/my/orders/{world.b.orders[0]}").status_code == 404
        manager = client(app, "agent")
        for order in (world.a.orders[0], world.b.orders[0]):
            assert manager.get(f"/my/orders/{order}").status_code == 200
        assert manager.get("/odoo").status_code == 200
        assert client(app, world.a.portal_login).get("/odoo").status_code == 404
    finally:
        with world.registry.transaction() as env:
            env["sale.order"].browse([world.a.orders[0], world.b.orders[0]]).write(
                {"user_id": False}
            )
            env["res.users"].search([("login", "=", "rep")]).write({"active": False})


def test_a_customer_opens_a_ticket_for_its_own_company(app: object, world: World) -> None:
    a = client(app, world.a.portal_login)
    assert 'id="new-ticket"' in a.get("/my/tickets").text
    bad = a.submit("/my/tickets/new", "/my/tickets/new", {"name": " ", "description": "kept"})
    assert bad.status_code == 400 and ">kept</textarea>" in bad.text
    created = a.submit(
        "/my/tickets/new",
        "/my/tickets/new",
        {"name": "Printer <b>jam</b>", "description": "It <script>x</script> jams."},
    )
    assert created.status_code == 303
    page = a.get(created.headers["location"])
    assert "Printer &lt;b&gt;jam&lt;/b&gt;" in page.text and "<script>" not in page.text
    b = client(app, world.b.portal_login)
    assert b.get(created.headers["location"]).status_code == 404
    with world.registry.transaction() as env:
        ticket = env["helpdesk.ticket"].search([("name", "=", "Printer <b>jam</b>")])
        assert ticket.partner_id.commercial_partner_id.id == world.a.company
        ticket.unlink()


def test_staff_without_helpdesk_rights_open_no_ticket_here(app: object, world: World) -> None:
    with world.registry.transaction() as env:
        clerk = env["res.users"].create(
            {
                "login": "clerk",
                "name": "Clerk",
                "group_ids": [Command.link(env.ref("base.group_user").id)],
            }
        )
        set_password(clerk, PASSWORD)
    assert client(app, "clerk").get("/my/tickets/new").status_code == 404


def test_another_customer_cannot_revoke_a_share_link(app: object, world: World) -> None:
    order = world.a.orders[3]
    path = _share(app, world, order)
    with world.registry.transaction() as env:
        share_id = int(env["portal.share"].search([("res_id", "=", order)], limit=1).id)
    for login in (world.b.portal_login, world.a.portal_login):
        outsider = client(app, login)
        response = outsider.submit("/my", f"/my/shares/{share_id}/revoke", {})
        assert response.status_code == 404  # portal users reach no share record
    assert client(app).get(path).status_code == 200  # the link still works
