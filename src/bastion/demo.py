"""The demo database: a company, its staff, thirty customers (six portal users among
them) and a year of orders, invoices, projects and support tickets.

>>> logins = load_demo(Registry("sqlite:///var/demo.db"))          # doctest: +SKIP
>>> [(login.login, login.role) for login in logins][:2]           # doctest: +SKIP
[('admin', 'Administrator'), ('sales.rep', 'Salesperson (own documents)')]

Everything is drawn from ``random.Random(seed)`` and dated relative to
:data:`DEMO_DATE`, never the clock: the same seed gives the same database.
:func:`create_demo_records` makes the records (no passwords); :func:`load_demo`
installs the apps, calls it and sets the passwords, in one transaction.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass

from bastion.errors import ValidationError
from bastion.orm import Command, Environment, Model
from bastion.registry import Registry
from bastion.sanitize import plaintext_to_html

DEMO_APPS = ("contacts", "sale", "account", "project", "helpdesk", "portal")
DEMO_DATE = dt.date(2026, 11, 1)
COMPANY_NAME = "Bastion Demo Ltd"
# Published demo passwords (printed by `make demo`): readable, long enough, free of the
# logins and absent from leaked-password lists.
STAFF_PASSWORD = "bastion-demo-2026"  # noqa: S105 - public by design
PORTAL_PASSWORD = "portal-demo-2026"  # noqa: S105 - public by design


@dataclass(frozen=True)
class DemoLogin:
    login: str
    password: str
    role: str
    customer: str | None = None


# (login, name, groups, role)
STAFF = (
    ("sales.rep", "Tom Becker", ("sale.group_sale_salesman",), "Salesperson (own documents)"),
    ("sales.manager", "Sarah Mitchell", ("sale.group_sale_manager",), "Sales administrator"),
    ("accountant", "Priya Natarajan", ("account.group_account_invoice",), "Billing"),
    ("project.manager", "Lena Fischer", ("project.group_project_manager",), "Project admin"),
    ("support", "Omar Haddad", ("helpdesk.group_helpdesk_user",), "Helpdesk agent"),
)
ADMIN_GROUPS = (
    "sale.group_sale_manager",
    "account.group_account_manager",
    "project.group_project_manager",
    "helpdesk.group_helpdesk_manager",
)
# The first four customers have portal users: two each for the first two.
CUSTOMERS = (
    "Northwind Traders", "Bluebird Logistics", "Copperleaf Studio", "Juniper Health",
    "Alder & Finch", "Brightwater Foods", "Cobalt Mechanics", "Driftwood Hotels",
    "Elmstead Schools", "Foxglove Florists", "Granite Peak Outdoors", "Harbourlight Media",
    "Ironbridge Engineering", "Kestrel Aviation", "Lumen Optics", "Marigold Bakery",
    "Nettlefield Farms", "Oakridge Dental", "Pinecrest Realty", "Quayside Marine",
    "Redfern Architects", "Saltmarsh Brewing", "Thistle Textiles", "Umber Ceramics",
    "Vantage Analytics", "Willowbrook Care", "Yarrow Pharmacy", "Zephyr Cycles",
    "Cinder Lane Games", "Meadowsweet Spa",
)  # fmt: skip
# (customer index, login): two portal users for each of the first two customers.
PORTAL_LOGINS = (
    (0, "portal.northwind"), (0, "portal.northwind2"), (1, "portal.bluebird"),
    (1, "portal.bluebird2"), (2, "portal.copperleaf"), (3, "portal.juniper"),
)  # fmt: skip
PORTAL_CUSTOMERS = sorted({index for index, _login in PORTAL_LOGINS})
CITIES = (
    ("Leeds", "LS1"), ("Bristol", "BS1"), ("York", "YO1"), ("Bath", "BA1"),
    ("Norwich", "NR2"), ("Exeter", "EX4"), ("Chester", "CH1"), ("Durham", "DH1"),
)  # fmt: skip
STREETS = ("Mill Lane", "High Street", "Station Road", "Church Walk", "Quay Street", "Park Row")
FIRST_NAMES = (
    "Alice", "Ben", "Chloe", "Daniel", "Emma", "Farid", "Grace", "Hugo", "Isla", "Jonas",
    "Keira", "Liam", "Maya", "Nikhil", "Olivia", "Pavel", "Rosa", "Samir", "Tess", "Yusuf",
)  # fmt: skip
LAST_NAMES = (
    "Archer", "Bose", "Carter", "Dubois", "Evans", "Fontaine", "Garcia", "Hughes", "Ito",
    "Jensen", "Kowalski", "Lindqvist", "Moreau", "Nakamura", "Okafor", "Price", "Rossi",
)  # fmt: skip
# (code, name, price, cost)
PRODUCTS = (
    ("DESK-01", "Standing desk", 520.0, 310.0), ("CHR-02", "Ergonomic chair", 340.0, 190.0),
    ("MON-27", "27-inch monitor", 290.0, 205.0), ("DOCK-03", "USB-C dock", 149.0, 88.0),
    ("KBD-04", "Mechanical keyboard", 119.0, 61.0), ("LMP-05", "Desk lamp", 59.0, 24.0),
    ("CAB-06", "Filing cabinet", 210.0, 120.0), ("WBD-07", "Whiteboard", 95.0, 47.0),
    ("SRV-INST", "On-site installation (hour)", 85.0, 40.0),
    ("SRV-TRAIN", "Training session (half day)", 450.0, 150.0),
    ("SRV-SUPP", "Support plan (month)", 199.0, 60.0), ("HDS-08", "Headset", 89.0, 43.0),
    ("CAM-09", "Conference camera", 640.0, 410.0), ("PHN-10", "Desk phone", 130.0, 72.0),
    ("RCK-11", "Server rack", 980.0, 700.0),
)  # fmt: skip
ORDER_NOTE = "Payment within 30 days. Prices exclude delivery outside the mainland."
SALE_NOTES = (
    "Wants a discount on the next order.", "Slow payer: check the balance first.",
    "Competitor quoted 8% less.", "Renewal likely in spring.",
)  # fmt: skip
TASKS = (
    "Kick-off meeting", "Collect requirements", "Site survey", "Draft the plan",
    "Review the budget", "Order hardware", "Configure accounts", "Migrate the data",
    "Write the user guide", "Train the team", "Acceptance tests", "Fix reported issues",
    "Weekly status report", "Security review", "Go-live checklist", "Close the project",
)  # fmt: skip
TICKETS = (
    "Invoice address is wrong", "Delivery arrived damaged", "Cannot log in to the portal",
    "Monitor flickers", "Missing item in the last delivery", "Request a copy of an invoice",
    "Chair wheel broken", "Dock does not charge the laptop", "Change of contact person",
    "Training date needs moving", "Headset microphone too quiet", "Order status unclear",
)  # fmt: skip
CUSTOMER_LINES = (
    "Could you look into this, please?", "We are still waiting for an answer.",
    "Thanks, that fixed it.", "Attached is a photo of the problem.",
    "Can someone call me tomorrow morning?",
)  # fmt: skip
AGENT_LINES = (
    "Thank you for reporting this, we are on it.", "A replacement ships today.",
    "Could you send us the serial number?", "This is now solved on our side.",
)  # fmt: skip
TICKET_STAGES = ["new", "in_progress", "waiting", "solved", "cancelled"]
INTERNAL_LINES = (
    "Customer is on the premium plan: prioritise.", "Supplier confirmed a faulty batch.",
    "Second report this month, escalate to the vendor.", "Refund approved by finance.",
)  # fmt: skip


# What load_demo returns, known without opening the database (the CLI prints it for
# a demo database loaded earlier).
DEMO_LOGINS: tuple[DemoLogin, ...] = (
    DemoLogin("admin", STAFF_PASSWORD, "Administrator"),
    *(DemoLogin(login, STAFF_PASSWORD, role) for login, _name, _groups, role in STAFF),
    *(
        DemoLogin(login, PORTAL_PASSWORD, "Portal user", CUSTOMERS[index])
        for index, login in PORTAL_LOGINS
    ),
)
BY_LOGIN = {login.login: login for login in DEMO_LOGINS}


def load_demo(registry: Registry, *, seed: int = 7) -> list[DemoLogin]:
    """Install the apps (if needed) and create the demo records and passwords."""
    from bastion.auth.accounts import set_password  # noqa: PLC0415 - auth is optional here

    registry.install(*DEMO_APPS)
    with registry.transaction() as env:
        # Reproducible made-up data, not secrets: a seeded PRNG is what is wanted.
        pairs = create_demo_records(env, random.Random(seed))  # noqa: S311
        for user, login in pairs:
            set_password(user, login.password)
    return [login for _user, login in pairs]


def create_demo_records(env: Environment, rng: random.Random) -> list[tuple[Model, DemoLogin]]:
    """The demo records, created as the superuser ``env``; the users with their logins."""
    if env["res.users"].search_count(
        [("login", "=", STAFF[0][0]), ("active", "in", [True, False])]
    ):
        raise ValidationError("the demo data is already loaded in this database")
    company = env.ref("base.main_company")
    assert company is not None
    company.write({"name": COMPANY_NAME})
    company.partner_id.write({"name": COMPANY_NAME, "city": "Leeds", "website": "bastion.test"})
    staff = _staff(env, company)
    customers, contacts = _customers(env, rng)
    portal = _portal_users(env, customers, contacts)
    products = env["product.product"].create(
        [
            {"default_code": c, "name": n, "list_price": p, "standard_price": s}
            for c, n, p, s in PRODUCTS
        ]
    )
    orders = _orders(env, rng, customers, contacts, products, staff)
    _invoices(env, rng, orders, customers, products)
    _projects(env, rng, customers, portal, staff)
    _tickets(env, rng, customers, contacts, portal, staff)
    return [*staff.values(), *portal]


def _staff(env: Environment, company: Model) -> dict[str, tuple[Model, DemoLogin]]:
    admin = env.ref("base.user_admin")
    assert admin is not None
    admin.write({"group_ids": [Command.link(_ref(env, x)) for x in ADMIN_GROUPS]})
    partners = env["res.partner"].create(
        [
            {"name": name, "email": f"{login}@bastion.test", "parent_id": company.partner_id.id}
            for login, name, _groups, _role in STAFF
        ]
    )
    users = env["res.users"].create(
        [
            {
                "login": login,
                "name": name,
                "partner_id": partner.id,
                "company_id": company.id,
                "company_ids": [company.id],
                "group_ids": [_ref(env, x) for x in ("base.group_user", *groups)],
            }
            for (login, name, groups, _role), partner in zip(STAFF, partners, strict=True)
        ]
    )
    found = {"admin": (admin, BY_LOGIN["admin"])}
    for user, (login, _name, _groups, _role) in zip(users, STAFF, strict=True):
        found[login] = (user, BY_LOGIN[login])
    return found


def _customers(env: Environment, rng: random.Random) -> tuple[Model, list[Model]]:
    """The customer companies, and each one's contacts (2 or 3)."""
    rows = []
    for name in CUSTOMERS:
        city, zip_code = rng.choice(CITIES)
        domain = _slug(name) + ".example"
        rows.append(
            {
                "name": name,
                "is_company": True,
                "email": f"office@{domain}",
                "website": f"https://{domain}",
                "street": f"{rng.randint(1, 120)} {rng.choice(STREETS)}",
                "city": city,
                "zip": f"{zip_code} {rng.randint(1, 9)}AB",
                "country": "United Kingdom",
                "phone": f"+44 113 {rng.randint(100, 999)} {rng.randint(1000, 9999)}",
                "vat": f"GB{rng.randint(100000000, 999999999)}",
                "comment": rng.choice(SALE_NOTES) if rng.random() < 0.4 else False,
            }
        )
    customers = env["res.partner"].create(rows)
    people: list[dict[str, object]] = []
    for customer in customers:
        domain = str(customer.email).partition("@")[2]
        for first, last in _people(rng, rng.randint(2, 3)):
            people.append(
                {
                    "name": f"{first} {last}",
                    "parent_id": customer.id,
                    "email": f"{first.lower()}.{last.lower()}@{domain}",
                    "mobile": f"+44 7{rng.randint(100, 999)} {rng.randint(100000, 999999)}",
                }
            )
    created = env["res.partner"].create(people)
    by_parent: dict[int, list[int]] = {}
    for contact in created:
        by_parent.setdefault(int(contact.parent_id.id), []).append(int(contact.id))
    contacts = [created.browse(by_parent[int(c.id)]) for c in customers]
    return customers, contacts


def _people(rng: random.Random, count: int) -> list[tuple[str, str]]:
    return list(zip(rng.sample(FIRST_NAMES, count), rng.sample(LAST_NAMES, count), strict=True))


def _portal_users(
    env: Environment, customers: Model, contacts: list[Model]
) -> list[tuple[Model, DemoLogin]]:
    found: list[tuple[Model, DemoLogin]] = []
    portal_group = _ref(env, "base.group_portal")
    company = env.ref("base.main_company")
    assert company is not None
    for position, (index, login) in enumerate(PORTAL_LOGINS):
        second = [i for i, _login in PORTAL_LOGINS[:position]].count(index)
        contact = contacts[index][second]
        user = env["res.users"].create(
            {
                "login": login,
                "name": contact.name,
                "partner_id": contact.id,
                "company_id": company.id,
                "company_ids": [company.id],
                "group_ids": [portal_group],
            }
        )
        found.append((user, BY_LOGIN[login]))
    return found


def _orders(
    env: Environment,
    rng: random.Random,
    customers: Model,
    contacts: list[Model],
    products: Model,
    staff: dict[str, tuple[Model, DemoLogin]],
) -> Model:
    """About 150 orders: 28 to 31 for each portal customer, the rest spread out."""
    owners = [i for i in PORTAL_CUSTOMERS for _ in range(28 + rng.randint(0, 3))]
    others = [i for i in range(len(customers)) if i not in PORTAL_CUSTOMERS]
    owners += [rng.choice(others) for _ in range(150 - len(owners))]
    salespeople = [int(staff["sales.rep"][0].id), int(staff["sales.manager"][0].id), False]
    specs = []
    for index in owners:
        date = _moment(rng, DEMO_DATE - dt.timedelta(days=rng.randint(1, 365)))
        recent = (DEMO_DATE - date.date()).days < 45
        state = rng.choices(
            ["draft", "sent", "sale", "cancel"], [4, 3, 2, 1] if recent else [1, 1, 7, 1]
        )[0]
        specs.append(
            {
                "partner_id": rng.choice([customers[index], *contacts[index]]).id,
                "user_id": rng.choices(salespeople, [3, 4, 3])[0],
                "date_order": date,
                "validity_date": date.date() + dt.timedelta(days=30),
                "state": state,
                "note": ORDER_NOTE,
                "client_order_ref": f"PO-{rng.randint(1000, 9999)}"
                if rng.random() < 0.3
                else False,
                "internal_note": rng.choice(SALE_NOTES) if rng.random() < 0.25 else False,
            }
        )
    specs.sort(key=lambda vals: vals["date_order"])  # numbers follow the dates
    orders = env["sale.order"].create(specs)
    lines = []
    for order in orders:
        for position, product in enumerate(rng.sample(list(products), rng.randint(1, 5))):
            discount = rng.choice([1.0, 1.0, 1.0, 0.95, 0.9])
            lines.append(
                {
                    "order_id": order.id,
                    "sequence": 10 * (position + 1),
                    "product_id": product.id,
                    "name": product.name,
                    "product_uom_qty": float(rng.randint(1, 10)),
                    "price_unit": round(product.list_price * discount, 2),
                    "purchase_price": product.standard_price,
                }
            )
    env["sale.order.line"].create(lines)
    return orders


def _invoices(
    env: Environment, rng: random.Random, orders: Model, customers: Model, products: Model
) -> None:
    """One invoice per confirmed order, and standalone ones up to a hundred; most
    posted (numbered in date order), some draft, some cancelled."""
    drafts: list[tuple[dt.date, dict[str, object], list[dict[str, object]]]] = []
    for order in orders.filtered(lambda o: o.state == "sale"):
        date = order.date_order.date() + dt.timedelta(days=rng.randint(0, 10))
        lines = [
            {"name": line.name, "quantity": line.product_uom_qty, "price_unit": line.price_unit}
            for line in order.order_line
        ]
        origin = {"partner_id": order.partner_id.id, "invoice_origin": order.name}
        drafts.append((min(date, DEMO_DATE - dt.timedelta(days=1)), origin, lines))
    while len(drafts) < 100:
        product = products[rng.randrange(len(products))]
        partner = customers[rng.randrange(len(customers))]
        line = {"name": product.name, "quantity": 1.0, "price_unit": product.list_price}
        date = DEMO_DATE - dt.timedelta(days=rng.randint(1, 365))
        drafts.append((date, {"partner_id": partner.id}, [line]))
    drafts.sort(key=lambda draft: draft[0])
    created = env["account.move"].create(
        [
            {
                **vals,
                "move_type": "out_invoice",
                "invoice_date": date,
                "invoice_date_due": date + dt.timedelta(days=30),
                "narration": ORDER_NOTE,
            }
            for date, vals, _lines in drafts
        ]
    )
    env["account.move.line"].create(
        [
            {**line, "move_id": move.id, "sequence": 10 * (position + 1)}
            for move, (_date, _vals, lines) in zip(created, drafts, strict=True)
            for position, line in enumerate(lines)
        ]
    )
    fates = rng.choices(["posted", "draft", "cancel"], [82, 10, 8], k=len(created))
    fate_of = dict(zip(created.ids, fates, strict=True))
    created.filtered(lambda m: fate_of[m.id] == "posted").action_post()
    created.filtered(lambda m: fate_of[m.id] == "cancel").button_cancel()
    by_payment: dict[str, list[int]] = {}
    for move in created.filtered(lambda m: m.state == "posted"):
        weights = [2, 1, 7] if move.invoice_date_due < DEMO_DATE else [7, 1, 2]
        payment = rng.choices(["not_paid", "partial", "paid"], weights)[0]
        by_payment.setdefault(payment, []).append(int(move.id))
    for payment, ids in sorted(by_payment.items()):
        created.browse(ids).write({"payment_state": payment})


def _projects(
    env: Environment,
    rng: random.Random,
    customers: Model,
    portal: list[tuple[Model, DemoLogin]],
    staff: dict[str, tuple[Model, DemoLogin]],
) -> None:
    """Four projects shared with portal customers (two through followers, two through
    collaborators), one for all employees and one invitation-only."""
    manager = staff["project.manager"][0]
    admin = staff["admin"][0]
    portal_partners = {
        i: [user.partner_id for user, login in portal if login.customer == customers[i].name]
        for i in PORTAL_CUSTOMERS
    }
    plans = [
        ("Warehouse rollout", customers[0], "portal", "followers"),
        ("Fleet tracking portal", customers[1], "portal", "collaborators"),
        ("Brand refresh", customers[2], "portal", "followers"),
        ("Patient intake forms", customers[3], "portal", "collaborators"),
        ("IT infrastructure", None, "employees", None),
        ("Office move 2027", None, "followers", None),
    ]
    for number, (title, customer, visibility, sharing) in enumerate(plans):
        project = env["project.project"].create(
            {
                "name": f"{customer.name}: {title}" if customer else title,
                "partner_id": customer.id if customer else False,
                "user_id": manager.id,
                "privacy_visibility": visibility,
                "description": str(plaintext_to_html(f"{title}, planned for {DEMO_DATE.year}.")),
            }
        )
        if visibility == "followers":
            project.message_subscribe([manager.partner_id.id, admin.partner_id.id])
        if sharing == "followers" and customer is not None:
            project.message_subscribe([customer.id])
        if sharing == "collaborators":
            env["project.collaborator"].create(
                [{"project_id": project.id, "partner_id": p.id} for p in portal_partners[number]]
            )
        names = [*TASKS, *(f"Follow-up: {name}" for name in rng.sample(TASKS, 4))]
        stages = ["todo", "in_progress", "done", "cancelled"]
        tasks = env["project.task"].create(
            [
                {
                    "name": name,
                    "project_id": project.id,
                    "partner_id": customer.id if customer else False,
                    "user_ids": [u.id for u in rng.sample([manager, admin], rng.randint(0, 2))],
                    "stage": rng.choices(stages, [3, 3, 4, 1])[0],
                    "priority": rng.choice(["0", "0", "1"]),
                    "date_deadline": DEMO_DATE + dt.timedelta(days=rng.randint(-120, 90)),
                    "description": str(plaintext_to_html(f"{name} for {title.lower()}.")),
                    "planned_hours": float(rng.choice([2, 4, 8, 16, 24])),
                    "sequence": 10 * (position + 1),
                }
                for position, name in enumerate(names)
            ]
        )
        if sharing == "followers" and customer is not None:
            # Most tasks are shared with the customer; a few stay internal.
            tasks.filtered(lambda _t: rng.random() < 0.8).message_subscribe([customer.id])


def _tickets(
    env: Environment,
    rng: random.Random,
    customers: Model,
    contacts: list[Model],
    portal: list[tuple[Model, DemoLogin]],
    staff: dict[str, tuple[Model, DemoLogin]],
) -> None:
    """Sixty tickets, each with a short conversation; some internal notes."""
    agent = staff["support"][0]
    owners = [i for i in PORTAL_CUSTOMERS for _ in range(8)]
    others = [i for i in range(len(customers)) if i not in PORTAL_CUSTOMERS]
    owners += [rng.choice(others) for _ in range(60 - len(owners))]
    portal_partners = [user.partner_id for user, _login in portal]
    opened_tickets: list[tuple[dt.datetime, dict[str, object], Model]] = []
    for index in owners:
        people = [p for p in portal_partners if p.parent_id == customers[index]]
        author = rng.choice(people or list(contacts[index]))
        opened = _moment(rng, DEMO_DATE - dt.timedelta(days=rng.randint(1, 200)))
        stage = rng.choices(TICKET_STAGES, [2, 3, 2, 5, 1])[0]
        closed = opened + dt.timedelta(days=rng.randint(1, 9))
        subject = rng.choice(TICKETS)
        vals = {
            "name": subject,
            "partner_id": author.id,
            "user_id": agent.id if stage != "new" else False,
            "stage": stage,
            "priority": rng.choice(["0", "1", "1", "2", "3"]),
            "description": str(plaintext_to_html(f"{subject}. {rng.choice(CUSTOMER_LINES)}")),
            "internal_note": rng.choice(INTERNAL_LINES) if rng.random() < 0.65 else False,
            "date_open": opened,
            "date_closed": closed if stage in ("solved", "cancelled") else False,
        }
        opened_tickets.append((opened, vals, author))
    opened_tickets.sort(key=lambda ticket: ticket[0])  # numbers follow the dates
    tickets = env["helpdesk.ticket"].create([vals for _opened, vals, _author in opened_tickets])
    authors = [author for _opened, _vals, author in opened_tickets]
    messages: list[dict[str, object]] = []
    attachments: list[dict[str, object]] = []
    for ticket, author in zip(tickets, authors, strict=True):
        when = ticket.date_open
        for turn in range(rng.randint(1, 4)):
            when = when + dt.timedelta(hours=rng.randint(1, 30))
            internal = turn > 0 and rng.random() < 0.3
            writer = agent.partner_id if internal or turn % 2 else author
            lines = INTERNAL_LINES if internal else AGENT_LINES if turn % 2 else CUSTOMER_LINES
            messages.append(
                {
                    "res_model": "helpdesk.ticket",
                    "res_id": ticket.id,
                    "body": str(plaintext_to_html(rng.choice(lines))),
                    "author_id": writer.id,
                    "author_name": writer.name,
                    "internal": internal,
                    "date": when,
                }
            )
        if rng.random() < 0.2:
            attachments.append(
                {
                    "name": "error-report.txt",
                    "res_model": "helpdesk.ticket",
                    "res_id": ticket.id,
                    "mimetype": "text/plain",
                    "datas": f"Ticket {ticket.number}: {ticket.name}\n".encode(),
                }
            )
    env["mail.message"].create(messages)
    env["ir.attachment"].create(attachments)


def _moment(rng: random.Random, day: dt.date) -> dt.datetime:
    return dt.datetime(
        day.year, day.month, day.day, rng.randint(8, 17), rng.choice([0, 15, 30, 45])
    )


def _ref(env: Environment, xmlid: str) -> int:
    record = env.ref(xmlid)
    assert record is not None
    return int(record.id)


def _slug(name: object) -> str:
    words = "".join(c if c.isalnum() else " " for c in str(name).lower()).split()
    return "-".join(words)


__all__ = [
    "DEMO_APPS",
    "DEMO_DATE",
    "DEMO_LOGINS",
    "DemoLogin",
    "create_demo_records",
    "load_demo",
]
