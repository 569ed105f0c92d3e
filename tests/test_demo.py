"""The demo data: what it contains, who can log in, what the portal users see, and
that the same seed gives the same data. On SQLite, where `make demo` runs."""

from __future__ import annotations

import contextlib
import random
from collections.abc import Iterator
from pathlib import Path

import pytest

from bastion import Environment, Registry, ValidationError
from bastion.auth.accounts import check_password
from bastion.demo import (
    DEMO_APPS,
    DEMO_LOGINS,
    DemoLogin,
    create_demo_records,
    load_demo,
)


def fresh_registry(folder: Path) -> Registry:
    registry = Registry(f"sqlite:///{folder / 'demo.db'}")
    registry.install(*DEMO_APPS)
    return registry


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Registry, list[DemoLogin]]]:
    """One database with the demo loaded, for the whole module (read only)."""
    registry = Registry(f"sqlite:///{tmp_path_factory.mktemp('demo') / 'demo.db'}")
    try:
        logins = load_demo(registry)
        yield registry, logins
    finally:
        registry.dispose()


class _Rollback(Exception):
    pass


@pytest.fixture
def env(demo: tuple[Registry, list[DemoLogin]]) -> Iterator[Environment]:
    """A superuser environment on the demo database, rolled back after the test."""
    with contextlib.suppress(_Rollback), demo[0].transaction() as env:
        yield env
        raise _Rollback


def count(env: Environment, model: str, domain: list[object] | None = None) -> int:
    return env[model].search_count(domain or [])


def test_logins_exist_with_their_passwords(
    demo: tuple[Registry, list[DemoLogin]], env: Environment
) -> None:
    logins = demo[1]
    assert logins == list(DEMO_LOGINS)
    assert [d.login for d in logins[:6]] == [
        "admin",
        "sales.rep",
        "sales.manager",
        "accountant",
        "project.manager",
        "support",
    ]
    portal = [d for d in logins if d.customer is not None]
    assert len(portal) == 6 and len({d.customer for d in portal}) == 4
    portal_group = env.ref("base.group_portal")
    for login in logins:
        user = env["res.users"].search([("login", "=", login.login)])
        assert len(user) == 1, login.login
        if login.login in ("admin", "portal.juniper"):  # Argon2 is slow on purpose
            assert check_password(user, login.password), login.login
        assert len(login.password) >= 12 and login.login not in login.password
        is_portal = portal_group in user.group_ids
        assert is_portal == (login.customer is not None), login.login
        if login.customer is not None:
            assert user.commercial_partner_id.name == login.customer


def test_the_records_described(env: Environment) -> None:
    assert env.ref("base.main_company").name == "Bastion Demo Ltd"  # type: ignore[union-attr]
    customers = env["res.partner"].search([("is_company", "=", True), ("vat", "!=", False)])
    assert len(customers) == 30
    for customer in customers:
        assert 2 <= len(customer.child_ids) <= 3
    assert count(env, "product.product") == 15
    assert count(env, "sale.order") == 150
    for state in ("draft", "sent", "sale", "cancel"):
        assert count(env, "sale.order", [("state", "=", state)]) > 0, state
    rep = env["res.users"].search([("login", "=", "sales.rep")])
    assert count(env, "sale.order", [("user_id", "=", rep.id)]) > 10
    for order in env["sale.order"].search([]):
        assert 1 <= len(order.order_line) <= 5
        assert order.amount_total > 0
    invoices = env["account.move"].search([("move_type", "=", "out_invoice")])
    assert len(invoices) == 100
    posted = invoices.filtered(lambda m: m.state == "posted")
    assert len(posted) > 70
    assert invoices.filtered(lambda m: m.state == "draft")
    assert invoices.filtered(lambda m: m.state == "cancel")
    assert all(str(m.name).startswith("INV/") for m in posted)
    assert invoices.filtered(lambda m: str(m.invoice_origin or "").startswith("S"))
    projects = env["project.project"].search([])
    visibilities = sorted(projects.mapped("privacy_visibility"))
    assert visibilities == ["employees", "followers", "portal", "portal", "portal", "portal"]
    assert 100 <= count(env, "project.task") <= 140
    assert count(env, "project.collaborator") > 0
    tickets = env["helpdesk.ticket"].search([])
    assert len(tickets) == 60
    assert len(tickets.filtered(lambda t: t.internal_note)) > 20
    for ticket in tickets:
        assert 1 <= len(ticket.messages()) <= 4
    assert count(env, "mail.message", [("internal", "=", True)]) > 0


def test_portal_users_see_a_paginated_list_of_their_own_orders(
    demo: tuple[Registry, list[DemoLogin]], env: Environment
) -> None:
    for login in demo[1]:
        if login.customer is None:
            continue
        user = env["res.users"].search([("login", "=", login.login)])
        mine = env.with_user(user)
        orders = mine["sale.order"].search([])
        assert len(orders) >= 25, login.login  # more than one page of 20
        customer = user.commercial_partner_id
        assert {o.partner_id.commercial_partner_id for o in orders.sudo()} == {customer}
        assert orders == env["sale.order"].search([("partner_id", "child_of", customer.id)])
        assert mine["account.move"].search_count([]) > 0
        assert mine["project.project"].search_count([]) == 1
        assert mine["helpdesk.ticket"].search_count([]) >= 8
        assert not mine["mail.message"].search([("internal", "=", True)])


def test_loading_twice_is_refused(env: Environment) -> None:
    with pytest.raises(ValidationError, match="already loaded"):
        create_demo_records(env, random.Random(7))  # noqa: S311 - made-up data


def orders_by_customer(env: Environment) -> dict[str, list[str]]:
    result: dict[str, list[str]] = {}
    for order in env["sale.order"].search([], order="name"):
        customer = str(order.partner_id.commercial_partner_id.name)
        result.setdefault(customer, []).append(str(order.name))
    return result


def test_the_same_seed_gives_the_same_data(env: Environment, tmp_path: Path) -> None:
    registry = fresh_registry(tmp_path)
    try:
        with registry.transaction() as again:
            create_demo_records(again, random.Random(7))  # noqa: S311 - the demo's seed
            assert orders_by_customer(again) == orders_by_customer(env)
            tickets = again["helpdesk.ticket"].search([], order="number")
            assert tickets.mapped("name") == env["helpdesk.ticket"].search(
                [], order="number"
            ).mapped("name")
    finally:
        registry.dispose()
