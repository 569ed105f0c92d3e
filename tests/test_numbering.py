"""Document numbers (``bastion.orm.numbering``): never given twice, not even a deleted
document's, nor to two transactions numbering at once; a rolled back transaction gives
its numbers back. On SQLite and PostgreSQL."""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest
import sqlalchemy as sa

from bastion import Command, Environment, Registry
from bastion.orm.numbering import NUMBERING_TABLE, counter_key
from conftest import TEST_ADDONS, RegistryFactory
from pg import wait_for_a_lock_wait

APPS = ("sale", "account", "helpdesk")


@pytest.fixture
def apps(make_registry: RegistryFactory) -> Registry:
    return make_registry(*APPS)


def _customer(env: Environment) -> int:
    return int(env["res.partner"].create({"name": "Customer", "is_company": True}).id)


def _order(env: Environment, partner: int, **vals: object) -> str:
    return str(env["sale.order"].create({"partner_id": partner, **vals}).name)


def _posted_invoice(env: Environment, partner: int, **vals: object) -> object:
    move = env["account.move"].create(
        {
            "move_type": "out_invoice",
            "partner_id": partner,
            "invoice_date": "2026-10-01",
            "invoice_line_ids": [Command.create({"name": "Desk", "price_unit": 100.0})],
            **vals,
        }
    )
    move.action_post()
    return move


def test_a_deleted_documents_number_is_not_given_again(apps: Registry) -> None:
    with apps.transaction() as env:
        partner = _customer(env)
        first, last = _order(env, partner), _order(env, partner)
        assert (first, last) == ("S00001", "S00002")
        env["sale.order"].search([("name", "=", last)]).unlink()
        assert _order(env, partner) == "S00003"

        invoice = _posted_invoice(env, partner)
        number = invoice.name  # type: ignore[attr-defined]
        assert number == "INV/2026/00001"
        invoice.button_cancel()  # type: ignore[attr-defined]
        invoice.unlink()  # type: ignore[attr-defined]
        assert _posted_invoice(env, partner).name == "INV/2026/00002"  # type: ignore[attr-defined]

        ticket = env["helpdesk.ticket"].create({"name": "Broken desk", "partner_id": partner})
        assert ticket.number == "T00001"
        ticket.unlink()
        assert env["helpdesk.ticket"].create({"name": "Again"}).number == "T00002"


def test_numbering_starts_after_the_names_already_in_use(apps: Registry) -> None:
    """A database numbered before the counters existed: the first number taken follows
    the highest of the prefix's shape; names of another shape do not count."""
    with apps.transaction() as env:
        partner = _customer(env)
        for name in ("S00041", "S00007", "S041", "SX0099", "S1000000"):
            _order(env, partner, name=name)
        assert _order(env, partner) == "S00042"
        assert [str(o.name) for o in env["sale.order"].create([{"partner_id": partner}] * 2)] == [
            "S00043",
            "S00044",
        ]


def _started(work: Callable[[], None]) -> tuple[threading.Thread, list[BaseException]]:
    """``work`` running in a thread of its own, and the list its error will be in (for
    the test's assertions: an exception in a thread fails nothing by itself)."""
    errors: list[BaseException] = []

    def run() -> None:
        try:
            work()
        except BaseException as error:
            errors.append(error)

    worker = threading.Thread(target=run)
    worker.start()
    return worker, errors


def _invoice_name(env: Environment, partner: int) -> str:
    return str(_posted_invoice(env, partner).name)  # type: ignore[attr-defined]


def test_a_rolled_back_transaction_gives_its_invoice_numbers_back(apps: Registry) -> None:
    """Invoices are numbered without gaps: a number comes back with a rollback."""
    with apps.transaction() as env:
        partner = _customer(env)
        assert _invoice_name(env, partner) == "INV/2026/00001"
    with pytest.raises(RuntimeError), apps.transaction() as env:
        assert _invoice_name(env, partner) == "INV/2026/00002"
        raise RuntimeError("the request failed after numbering")
    with apps.transaction() as env:
        assert _invoice_name(env, partner) == "INV/2026/00002"
        with pytest.raises(RuntimeError), env.savepoint():
            assert _invoice_name(env, partner) == "INV/2026/00003"
            raise RuntimeError("a step failed")
        assert _invoice_name(env, partner) == "INV/2026/00003"


def test_each_company_numbers_its_own_invoices(apps: Registry) -> None:
    """As Odoo's journals: a company's invoices are numbered without the other
    company's in between, which would be gaps in its own numbers."""
    with apps.transaction() as env:
        partner = _customer(env)
        main = env.ref("base.main_company")
        assert main is not None
        second = int(env["res.company"].create({"name": "Second Company"}).id)
        names = [
            str(_posted_invoice(env, partner, company_id=company).name)  # type: ignore[attr-defined]
            for company in (main.id, second, main.id, second, second)
        ]
        assert names == [
            "INV/2026/00001",
            "INV/2026/00001",
            "INV/2026/00002",
            "INV/2026/00002",
            "INV/2026/00003",
        ]
        by_company = {
            company: env["account.move"].search([("company_id", "=", company)], order="name")
            for company in (main.id, second)
        }
        assert by_company[second].mapped("name") == [f"INV/2026/0000{n}" for n in (1, 2, 3)]


def test_a_companys_first_counted_invoice_follows_its_own_highest_name(apps: Registry) -> None:
    """A database numbered before invoices were counted per company: each company's
    counter starts after the highest invoice name of that company."""
    with apps.transaction() as env:
        partner = _customer(env)
        main = env.ref("base.main_company")
        assert main is not None
        second = int(env["res.company"].create({"name": "Second Company"}).id)
        for company, name in ((main.id, "INV/2026/00003"), (second, "INV/2026/00007")):
            _posted_invoice(env, partner, company_id=company, name=name)
        assert _posted_invoice(env, partner, company_id=second).name == "INV/2026/00008"  # type: ignore[attr-defined]
        assert _posted_invoice(env, partner, company_id=main.id).name == "INV/2026/00004"  # type: ignore[attr-defined]


def test_a_counters_key_names_what_is_wrong_with_a_prefix() -> None:
    assert counter_key("INV/2026/", 2) == "INV/2026/|company=2"
    with pytest.raises(ValueError, match=r"prefix 'X\|company=1' holds '\|company='"):
        counter_key("X|company=1")
    with pytest.raises(ValueError, match="is longer than 64"):
        counter_key("P" * 60, 12345)


def test_a_rolled_back_orders_number_is_not_given_again_on_postgresql(apps: Registry) -> None:
    """Orders are numbered as Odoo's standard sequences number them: on PostgreSQL a
    number is taken for good, so a rolled-back order leaves a gap; on SQLite, where one
    transaction writes at a time, it is the transaction's and comes back."""
    with apps.transaction() as env:
        partner = _customer(env)
        assert _order(env, partner) == "S00001"
    with pytest.raises(RuntimeError), apps.transaction() as env:
        assert _order(env, partner) == "S00002"
        raise RuntimeError("the request failed after numbering")
    with apps.transaction() as env:
        taken = "S00003" if apps.dialect == "postgresql" else "S00002"
        assert _order(env, partner) == taken
        found = env["sale.order"].search([], order="name").mapped("name")
        assert found == ["S00001", taken]


@pytest.mark.parametrize("backend", ["postgresql"])
def test_two_workers_adding_the_counters_table_at_once_both_start(apps: Registry) -> None:
    """A database made before the counters existed, two workers starting on it: the
    second one's CREATE TABLE waits for the first's, then fails; it finds the table
    made and goes on (``add_missing_own_tables``)."""
    with apps.engine.begin() as conn:
        conn.execute(sa.text(f"DROP TABLE {NUMBERING_TABLE}"))
    with apps.engine.connect() as first:
        first.begin()
        apps.numbering.create(first)  # not committed: the second does not see it
        worker, errors = _started(apps.add_missing_own_tables)
        wait_for_a_lock_wait(apps.url)
        first.commit()
    worker.join(timeout=30)
    assert not errors
    with apps.transaction() as env:
        assert _order(env, _customer(env)) == "S00001"


@pytest.mark.parametrize("backend", ["postgresql"])
def test_orders_numbered_at_once_do_not_wait_for_each_other(apps: Registry) -> None:
    """One transaction numbering orders (a long API import) does not hold up another's
    orders and tickets: those are numbered and committed while it is still open."""
    with apps.transaction() as env:
        partner = _customer(env)
        assert _order(env, partner) == "S00001"
    names: list[str] = []

    def other() -> None:
        with apps.transaction() as env:
            names.append(_order(env, partner))
            names.append(str(env["helpdesk.ticket"].create({"name": "Desk"}).number))

    with apps.transaction() as importing:
        batch = importing["sale.order"].create([{"partner_id": partner}] * 3)
        assert batch.mapped("name") == ["S00002", "S00003", "S00004"]
        worker, errors = _started(other)
        worker.join(timeout=30)
        done_meanwhile = not worker.is_alive()
    worker.join(timeout=60)
    assert done_meanwhile and not errors, errors
    assert names == ["S00005", "T00001"]
    with apps.transaction() as env:
        found = env["sale.order"].search([], order="name").mapped("name")
        assert found == ["S00001", "S00002", "S00003", "S00004", "S00005"]


@pytest.mark.parametrize("backend", ["postgresql"])
def test_two_transactions_numbering_invoices_at_once_get_different_numbers(
    apps: Registry,
) -> None:
    """The second waits for the first to end, then numbers after it: with "highest
    name plus one" it read the same highest name and gave the same number."""
    with apps.transaction() as env:
        partner = _customer(env)
        assert _invoice_name(env, partner) == "INV/2026/00001"
    names: list[str] = []

    def second() -> None:
        with apps.transaction() as other:
            names.append(_invoice_name(other, partner))

    with apps.transaction() as env:
        names.append(_invoice_name(env, partner))
        worker, errors = _started(second)
        # Given time to number while this transaction is open: it must wait for it.
        worker.join(timeout=2)
    worker.join(timeout=60)
    assert not worker.is_alive() and not errors, errors
    assert sorted(names) == ["INV/2026/00002", "INV/2026/00003"]


@pytest.mark.parametrize("backend", ["postgresql"])
def test_a_joined_registry_takes_its_numbers_in_the_outer_transaction(apps: Registry) -> None:
    """The audit's simulation runs an app inside a transaction it rolls back: the
    orders it numbered leave no gap."""
    with apps.transaction() as env:
        partner = _customer(env)
        assert _order(env, partner) == "S00001"
    with apps.engine.connect() as connection:
        with connection.begin():
            with apps.joined(connection).transaction() as inside:
                assert _order(inside, partner) == "S00002"
            connection.rollback()
    with apps.transaction() as env:
        assert _order(env, partner) == "S00002"


def test_a_database_made_before_the_counters_gains_them(apps: Registry) -> None:
    """Opened by this version, a database without the counters' table gets it, and
    numbering goes on after the names in use."""
    with apps.transaction() as env:
        partner = _customer(env)
        assert [_order(env, partner) for _ in range(3)] == ["S00001", "S00002", "S00003"]
    apps.numbering.drop(apps.engine)
    apps.dispose()
    reopened = Registry(apps.url, addons_path=[TEST_ADDONS])
    try:
        with reopened.transaction() as env:
            assert _order(env, partner) == "S00004"
    finally:
        reopened.dispose()


def test_portal_users_number_their_tickets_without_reaching_the_counters(apps: Registry) -> None:
    """Customers' portal users take numbers from the same counter through their own
    creates; the counters are no model, so no user, route or API method reads them."""
    with apps.transaction() as env:
        portal = env.ref("base.group_portal")
        company = env.ref("base.main_company")
        assert portal is not None and company is not None
        uids = []
        for name in ("a", "b"):
            customer = env["res.partner"].create({"name": f"Customer {name}", "is_company": True})
            contact = env["res.partner"].create(
                {"name": f"Contact {name}", "parent_id": customer.id}
            )
            user = env["res.users"].create(
                {
                    "login": f"portal_{name}",
                    "name": f"Portal {name}",
                    "partner_id": contact.id,
                    "company_id": company.id,
                    "company_ids": [company.id],
                    "group_ids": [portal.id],
                }
            )
            uids.append((int(user.id), int(customer.id)))
        numbers = []
        for uid, customer_id in uids:
            ticket = env.with_user(uid)["helpdesk.ticket"].create(
                {"name": "Broken desk", "partner_id": customer_id}
            )
            numbers.append(ticket.number)
        assert numbers == ["T00001", "T00002"]
        first = [("number", "=", "T00001")]
        assert len(env.with_user(uids[0][0])["helpdesk.ticket"].search(first)) == 1
        assert not env.with_user(uids[1][0])["helpdesk.ticket"].search(first)
        assert NUMBERING_TABLE not in {spec.table.name for spec in apps.specs.values()}
        assert all(NUMBERING_TABLE.replace("_", ".") not in env.with_user(uid) for uid, _ in uids)
