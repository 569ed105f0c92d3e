"""The user's values in record rules (``user.commercial_partner_id.id``) live in
partners and users that change without touching any security data. They are kept
across transactions for as long as the database's values version holds, and that
version changes with every write to a field some rule reads (bastion.security.rule_values).

Each test commits through one registry (one worker) and reads through another on the
same database, whose memo of the values was already warm, as a second worker's would be.
"""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa

from bastion import Environment, Registry
from bastion.security.policy import VALUES_ROW, VERSION_TABLE
from conftest import TEST_ADDONS

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


def values_token(registry: Registry) -> object:
    with registry.engine.connect() as conn:
        table = sa.table(VERSION_TABLE, sa.column("id"), sa.column("token"))
        return conn.scalar(sa.select(table.c.token).where(table.c.id == VALUES_ROW))


def test_new_records_and_documents_keep_the_values_version(make_registry: Any) -> None:
    """Creating contacts (their commercial partner is written, but nobody can have read
    it yet) and orders does not make every worker bind its users' values again."""
    writer, reader, world = setup(make_registry)
    before = values_token(writer)
    with writer.transaction() as su:
        customer(su, "Customer C")
        su["sale.order"].create({"partner_id": world["a"][0]})
        su["res.partner"].browse(world["a"][0]).write({"name": "Customer A (renamed)"})
    assert values_token(writer) == before
    with writer.transaction() as su:
        su["res.partner"].browse(world["a"][1]).write({"parent_id": world["b"][0]})
    assert values_token(writer) != before
    reader.dispose()


def test_values_bound_in_a_rolled_back_transaction_are_not_kept(make_registry: Any) -> None:
    writer, reader, world = setup(make_registry)
    uid, (_a, contact, order_a), (company_b, _b, order_b) = world["uid"], world["a"], world["b"]
    reader.dispose()
    assert visible_orders(writer, uid) == [order_a]
    with writer.engine.connect() as connection:
        with connection.begin():
            inside = writer.joined(connection)
            with inside.transaction() as su:
                su["res.partner"].browse(contact).write({"parent_id": company_b})
                assert su.with_user(uid)["sale.order"].search([]).ids == [order_b]
            connection.rollback()
    assert visible_orders(writer, uid) == [order_a]
    with writer.transaction() as su:
        su["res.partner"].browse(contact).write({"parent_id": company_b})
        assert su.with_user(uid)["sale.order"].search([]).ids == [order_b]
        su.cr.rollback()
    assert visible_orders(writer, uid) == [order_a]


def test_a_rule_over_an_x2many_sees_records_created_since(make_registry: Any) -> None:
    """A rule listing records through an x2many (``user.partner_id.child_ids``): a new
    contact joins the list without any write to the partner the user reads."""
    writer, reader, world = setup(make_registry)
    uid, (company_a, contact, order_a) = world["uid"], world["a"]
    with writer.transaction() as su:
        su["ir.rule"].create(
            {
                "name": "orders of the user's company or of the user's own contacts",
                "model_id": su["ir.model"].search([("model", "=", "sale.order")]).id,
                "domain_force": "[('partner_id', 'in', "
                "user.partner_id.child_ids.ids + [user.commercial_partner_id.id])]",
            }
        )
    assert visible_orders(reader, uid) == [order_a]
    with writer.transaction() as su:
        child = su["res.partner"].create({"name": "New contact", "parent_id": contact})
        new_order = int(su["sale.order"].create({"partner_id": child.id}).id)
        su["sale.order"].create({"partner_id": contact})  # the contact's own: not listed
    assert visible_orders(reader, uid) == [order_a, new_order]
    assert visible_orders(writer, uid) == [order_a, new_order]
    assert company_a
    reader.dispose()


def test_a_move_after_an_undone_security_change_still_reaches_other_workers(
    make_registry: Any,
) -> None:
    """A savepoint that rolls back a rule takes the security version's bump with it:
    the partner moved afterwards must still make the other workers bind again."""
    writer, reader, world = setup(make_registry)
    uid, (_a, contact, order_a), (company_b, _b, order_b) = world["uid"], world["a"], world["b"]
    assert visible_orders(reader, uid) == [order_a]
    with writer.transaction() as su:
        try:
            with su.savepoint():
                su["ir.rule"].create(
                    {
                        "name": "undone",
                        "model_id": su["ir.model"].search([("model", "=", "sale.order")]).id,
                        "domain_force": "[(0, '=', 1)]",
                    }
                )
                raise LookupError("undo the rule")
        except LookupError:
            pass
        su["res.partner"].browse(contact).write({"parent_id": company_b})
    assert visible_orders(reader, uid) == [order_b]
    reader.dispose()


# -- a rule committed while a write of what it reads runs ----------------------------
# Which writes change the values version depends on the rules a transaction started
# with; a rule committed meanwhile may read what it wrote (SecurityPolicy.before_commit).
# On SQLite a writing transaction holds the write lock from its BEGIN: no rule can be
# committed meanwhile, and these interleavings cannot happen.
EMAIL_RULE = "[('partner_id.email', '=', user.partner_id.email)]"


def email_rule(su: Environment) -> None:
    su["ir.rule"].create(
        {
            "name": "orders of a partner with the user's email",
            "model_id": su["ir.model"].search([("model", "=", "sale.order")]).id,
            "domain_force": EMAIL_RULE,
        }
    )


def emails(make_registry: Any) -> tuple[Registry, Registry, dict[str, Any]]:
    writer, reader, world = setup(make_registry)
    company_a, contact, _order = world["a"]
    with writer.transaction() as su:
        su["res.partner"].browse(company_a).write({"email": "orders@a.example"})
        su["res.partner"].browse(contact).write({"email": "old@a.example"})
    return writer, reader, world


@pytest.mark.parametrize("backend", ["postgresql"])
def test_a_rule_committed_during_a_write_of_what_it_reads_sees_that_write(
    make_registry: Any,
) -> None:
    writer, reader, world = emails(make_registry)
    uid, (_company_a, contact, order_a) = world["uid"], world["a"]
    assert visible_orders(reader, uid) == [order_a]  # the reader's memo is warm
    with writer.transaction() as su:
        # No rule reads a partner's email yet: this write alone changes no version.
        su["res.partner"].browse(contact).write({"email": "orders@a.example"})
        with writer.transaction() as admin:
            email_rule(admin)
        # The other worker binds the new rule's value from the email still committed.
        assert visible_orders(reader, uid) == []
    assert visible_orders(reader, uid) == [order_a]
    assert visible_orders(writer, uid) == [order_a]
    reader.dispose()


@pytest.mark.parametrize("backend", ["postgresql"])
def test_a_write_committed_while_a_rule_is_written_changes_the_values_version(
    make_registry: Any,
) -> None:
    """The rule's transaction holds the security row: the write cannot tell whether the
    rule reads what it wrote, and changes the values version without waiting."""
    writer, reader, world = emails(make_registry)
    uid, (_company_a, contact, order_a) = world["uid"], world["a"]
    before = values_token(writer)
    with writer.transaction() as admin:
        email_rule(admin)
        with writer.transaction() as su:
            su["res.partner"].browse(contact).write({"email": "orders@a.example"})
        assert values_token(writer) != before
    assert visible_orders(reader, uid) == [order_a]
    reader.dispose()


def test_a_transaction_its_code_ended_is_left_as_it_is(make_registry: Any) -> None:
    """The check before the commit runs on an open transaction only: one the caller
    rolled back or committed itself has nothing left to check."""
    writer, reader, world = emails(make_registry)
    contact = world["a"][1]
    reader.dispose()
    with writer.transaction() as su:
        su["res.partner"].browse(contact).write({"email": "new@a.example"})
        su.cr.rollback()
    with writer.transaction() as su:
        assert su["res.partner"].browse(contact).email == "old@a.example"
        su["res.partner"].browse(contact).write({"email": "new@a.example"})
        su.cr.commit()
    with writer.transaction() as su:
        assert su["res.partner"].browse(contact).email == "new@a.example"


def test_a_deletion_the_database_carries_into_a_field_rules_read_rebinds_the_values(
    make_registry: Any,
) -> None:
    """``user.partner_id.team_id``: deleting a unit deletes its teams, and the database
    empties the partners' team, though no rule reads units."""
    writer: Registry = make_registry("test_cascade")
    with writer.transaction() as su:
        unit = su["test.unit"].create({"name": "North"})
        team = su["test.team"].create({"name": "Support", "unit_id": unit.id})
        partner = su["res.partner"].create({"name": "Member", "team_id": team.id})
        uid = (
            su["res.users"]
            .create(
                {
                    "login": "member",
                    "name": "Member",
                    "partner_id": partner.id,
                    "group_ids": [su.ref("base.group_portal").id],
                }
            )
            .id
        )
        su["ir.rule"].create(
            {
                "name": "notes of the user's team",
                "model_id": su["ir.model"].search([("model", "=", "test.note")]).id,
                "domain_force": "[('team_id', '=', user.partner_id.team_id.id)]",
            }
        )
        teamless = su["test.note"].create({"name": "for no team"}).id
        for_team = su["test.note"].create({"name": "for the team", "team_id": team.id}).id
    reader = Registry(writer.url, addons_path=[TEST_ADDONS])

    def notes(registry: Registry) -> list[int]:
        with registry.transaction() as su:
            return sorted(su.with_user(uid)["test.note"].search([]).ids)

    assert notes(reader) == [for_team]
    with writer.transaction() as su:
        su["test.unit"].browse(unit.id).unlink()
    # The user has no team now, nor has the team's note: both are the notes of no team.
    assert notes(reader) == sorted([teamless, for_team])
    reader.dispose()
