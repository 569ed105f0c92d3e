"""The user's values in record rules (``user.commercial_partner_id.id``) are bound in
each transaction, not once per security version: they live in partners and users that
change without touching any security data.

Each test commits through one registry (one worker) and reads through another on the
same database, whose security state was already warm, as a second worker's would be.
"""

from __future__ import annotations

from typing import Any

from bastion import Environment, Registry

APPS = ("contacts", "sale")


def customer(env: Environment, name: str) -> tuple[int, int, int]:
    """(company, contact, order of that company) ids."""
    company = env["res.partner"].create({"name": name, "is_company": True})
    contact = env["res.partner"].create({"name": f"{name} contact", "parent_id": company.id})
    order = env["sale.order"].create({"partner_id": company.id})
    return int(company.id), int(contact.id), int(order.id)


def visible_orders(registry: Registry, uid: int) -> list[int]:
    with registry.transaction() as su:
        return sorted(su.with_user(uid)["sale.order"].search([]).ids)


def setup(make_registry: Any) -> tuple[Registry, Registry, dict[str, Any]]:
    writer: Registry = make_registry(*APPS)
    with writer.transaction() as su:
        a = customer(su, "Customer A")
        b = customer(su, "Customer B")
        user = su["res.users"].create(
            {
                "login": "moving",
                "name": "Moving",
                "partner_id": a[1],
                "group_ids": [su.ref("base.group_portal").id],
                "company_id": su.ref("base.main_company").id,
                "company_ids": [su.ref("base.main_company").id],
            }
        )
        uid = int(user.id)
    reader = Registry(writer.url)  # another worker: loads the installed addons
    return writer, reader, {"a": a, "b": b, "uid": uid}


def test_a_contact_moved_to_another_customer_sees_that_customers_orders(
    make_registry: Any,
) -> None:
    writer, reader, world = setup(make_registry)
    uid, (_a, contact, order_a), (company_b, _b, order_b) = world["uid"], world["a"], world["b"]
    assert visible_orders(reader, uid) == [order_a]  # the reader's state is now warm
    with writer.transaction() as su:
        su["res.partner"].browse(contact).write({"parent_id": company_b})
    assert visible_orders(reader, uid) == [order_b]
    assert visible_orders(writer, uid) == [order_b]
    reader.dispose()


def test_a_user_given_another_partner_sees_that_customers_orders(make_registry: Any) -> None:
    writer, reader, world = setup(make_registry)
    uid, (_a, _c, order_a), (_company_b, contact_b, order_b) = (
        world["uid"],
        world["a"],
        world["b"],
    )
    assert visible_orders(reader, uid) == [order_a]
    with writer.transaction() as su:
        su["res.users"].browse(uid).write({"partner_id": contact_b})
    assert visible_orders(reader, uid) == [order_b]
    reader.dispose()


def test_within_one_transaction_a_write_rebinds_the_values(make_registry: Any) -> None:
    writer, reader, world = setup(make_registry)
    uid, (_a, contact, order_a), (company_b, _b, order_b) = world["uid"], world["a"], world["b"]
    reader.dispose()
    with writer.transaction() as su:
        orders = su.with_user(uid)["sale.order"]
        assert orders.search([]).ids == [order_a]
        su["res.partner"].browse(contact).write({"parent_id": company_b})
        assert orders.search([]).ids == [order_b]
