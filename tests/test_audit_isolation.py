"""The isolation simulation of ``bastion audit db``: two customers, a sample of every
portal-readable model each, checked through the data layer and the portal's routes.

A clean database reports nothing (tests/test_audit_database.py); here flaws are planted
in the rules and in a route, and the simulation must find them, name the records and
the ways they were reached, and leave nothing behind.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Iterator
from typing import Any

import pytest

from bastion import Environment, Registry
from bastion.audit import isolation
from bastion.audit.database import audit_database
from bastion.web import portal

APPS = ("contacts", "sale", "account", "project", "helpdesk", "portal")
COUNTED = (
    "res.partner",
    "res.users",
    "res.users.session",
    "sale.order",
    "mail.message",
    "ir.attachment",
)


@pytest.fixture
def env(make_registry: Any) -> Iterator[Environment]:
    registry: Registry = make_registry(*APPS)
    with registry.transaction() as env:
        yield env


def isolation_rows(env: Environment, **kw: Any) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for f in audit_database(env, **kw):
        if f.check.startswith("BST-DB-ISOLATION"):
            found[f.check] = f.rows
    return found


def counts(env: Environment) -> dict[str, int]:
    return {model: env[model].search_count([]) for model in COUNTED}


def portal_rule(env: Environment, model: str) -> Any:
    rules = env["ir.rule"].search([("groups", "in", [env.ref("base.group_portal").id])])
    return rules.filtered(lambda r: r.model_id.model == model)


def test_every_portal_model_gets_samples_its_own_customer_reads(env: Environment) -> None:
    with isolation.simulated_customers(env) as customers:
        assert customers is not None
        models = ["sale.order", "sale.order.line", "account.move", "project.project",
                  "project.task", "helpdesk.ticket", "mail.message", "ir.attachment"]  # fmt: skip
        samples = isolation.build_samples(env, customers, models)
        assert samples.failed == {}
        for model in models:
            for customer in customers:
                ids = samples.of(model, customer.label)
                assert ids, (model, customer.label)
                assert isolation.owner_reads_own(env, customer, model, ids)
        leaks, untested = isolation.data_layer_leaks(env, customers, samples)
        assert (leaks, untested) == ([], {})


def test_a_rule_on_company_only_is_reached_through_the_data_layer_and_the_portal(
    env: Environment,
) -> None:
    portal_rule(env, "sale.order").write({"domain_force": "[('company_id', 'in', company_ids)]"})
    before = counts(env)
    rows = isolation_rows(env)["BST-DB-ISOLATION"]
    orders = [r for r in rows if r.startswith("sale.order #")]
    assert len(orders) == 2  # each customer reaches the other's order
    for row in orders:
        assert "search" in row
        assert "GET /my/orders/" in row and "answers 200" in row
        assert "/print answers 200" in row
        assert "'Sales orders: portal reads its own'" in row
    # The list page shows the other customer's order; messages and attachments follow
    # their document.
    assert any(r.startswith("sale.order data") and "GET /my/orders shows" in r for r in rows)
    assert any(r.startswith("mail.message #") for r in rows)
    attachments = [r for r in rows if r.startswith("ir.attachment #")]
    assert attachments and all("GET /my/attachments/" in r for r in attachments)
    assert counts(env) == before  # the simulation is rolled back
    assert not env["res.users"].search([("login", "like", "__audit")])


def test_a_route_that_reads_as_superuser_is_caught_by_the_http_simulation(
    env: Environment, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A planted IDOR: the document page reads with the superuser's environment, as a
    # controller doing request.env[...].sudo().browse(id) would. The data layer alone
    # sees nothing wrong; the portal's routes must.
    honest = portal.page_values

    def sudo_page_values(v: Any, doc: Any, record_id: int, **kw: Any) -> dict[str, Any]:
        return honest(dataclasses.replace(v, env=v.su), doc, record_id, **kw)

    monkeypatch.setattr(portal, "page_values", sudo_page_values)
    assert isolation_rows(env, http=False) == {}

    # Called from a thread whose event loop runs (an async caller; Playwright's sync API
    # keeps one running): the simulation's own loop must not collide with it.
    async def from_a_running_loop() -> dict[str, list[str]]:
        return isolation_rows(env)

    rows = asyncio.run(from_a_running_loop())["BST-DB-ISOLATION"]
    reached = {r.split(",")[0] for r in rows}
    assert {r for r in reached if r.startswith("sale.order #")}
    assert {r for r in reached if r.startswith("helpdesk.ticket #")}
    assert all("search" not in r.split(": ", 1)[1] for r in rows)  # not the data layer
    assert all("answers 200" in r for r in rows)


def test_a_model_the_simulation_cannot_link_is_reported_as_untested(env: Environment) -> None:
    # The rule compares with a value the audit cannot produce from the rule itself.
    portal_rule(env, "helpdesk.ticket").write(
        {"domain_force": "[('partner_id.email', '=', user.login)]"}
    )
    found = isolation_rows(env)
    assert "BST-DB-ISOLATION" not in found
    untested = dict(row.split(": ", 1) for row in found["BST-DB-ISOLATION-UNTESTED"])
    # The ticket's messages and attachments are reached through it: unproven with it.
    assert set(untested) == {"helpdesk.ticket", "mail.message", "ir.attachment"}
    assert "cannot read it" in untested["helpdesk.ticket"]
