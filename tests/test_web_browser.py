"""The portal in a real browser (Debian Chromium through Playwright) over the demo data.

A portal user sees exactly their customer's orders and the 404 page for another
customer's; XSS payloads posted by a customer run nothing when staff read them; a
second factor is enrolled and used; a password change in one browser ends the session
of another. Set ``BASTION_SCREENSHOTS=docs/img`` to refresh the README's screenshots.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pyotp
import pytest
from playwright.sync_api import BrowserContext, Page

from bastion import Registry
from bastion.demo import BY_LOGIN, load_demo
from browser import LiveServer, NewContext, PageWatch, screenshot
from test_sanitize import XSS_PAYLOADS
from webapp import make_app


@dataclass
class Demo:
    registry: Registry
    url: str


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    registry = Registry(f"sqlite:///{tmp_path_factory.mktemp('browser') / 'demo.db'}")
    load_demo(registry)
    with LiveServer(make_app(registry)) as server:
        yield Demo(registry, server.url)
    registry.dispose()


def log_in(context: BrowserContext, demo: Demo, login: str) -> Page:
    page = context.new_page()
    page.goto(f"{demo.url}/web/login")
    page.fill("input[name=login]", login)
    page.fill("input[name=password]", BY_LOGIN[login].password)
    page.click("main button[type=submit]")
    return page


def customer_order_names(demo: Demo, login: str) -> set[str]:
    with demo.registry.transaction() as env:
        user = env["res.users"].search([("login", "=", login)])
        orders = env["sale.order"].search(
            [("partner_id", "child_of", [user.commercial_partner_id.id])]
        )
        return {str(o.name) for o in orders}


def shots() -> Path | None:
    folder = os.environ.get("BASTION_SCREENSHOTS")
    return Path(folder) if folder else None


def test_portal_user_sees_exactly_their_orders(demo: Demo, new_context: NewContext) -> None:
    page = log_in(new_context(), demo, "portal.northwind")
    watch = PageWatch(page, demo.url)
    page.wait_for_url(f"{demo.url}/my")
    if shots():
        screenshot(page, shots() / "portal-home.png")  # type: ignore[operator]
    mine = customer_order_names(demo, "portal.northwind")
    theirs = customer_order_names(demo, "portal.bluebird")
    seen: set[str] = set()
    page.click("#tile-orders")
    while True:
        seen |= set(page.locator("#document-list tbody tr td:first-child a").all_inner_texts())
        following = page.locator("a[rel=next]")
        if following.count() == 0:
            break
        following.click()
    assert seen == mine
    page.locator("#document-list tbody a").first.click()
    page.wait_for_selector("#lines")
    if shots():
        screenshot(page, shots() / "portal-order.png")  # type: ignore[operator]
    watch.assert_clean()  # before the 404 below, which the console reports as an error
    with demo.registry.transaction() as env:
        other = env["sale.order"].search([("name", "in", sorted(theirs))], limit=1).id
    response = page.goto(f"{demo.url}/my/orders/{other}")
    assert response is not None and response.status == 404
    assert page.locator("h1").inner_text() == "Page not found"


def test_xss_payloads_posted_by_a_customer_run_nothing(demo: Demo, new_context: NewContext) -> None:
    customer = log_in(new_context(), demo, "portal.bluebird")
    customer.wait_for_url(f"{demo.url}/my")
    customer.goto(f"{demo.url}/my/tickets")
    customer.locator("#document-list tbody a").first.click()
    ticket_url = customer.url
    batches = [XSS_PAYLOADS[i : i + 15] for i in range(0, len(XSS_PAYLOADS), 15)]
    for batch in batches:
        customer.fill("textarea[name=body]", "\n\n".join(batch))
        customer.click("#post-message button[type=submit]")
        customer.wait_for_url(re.compile(r".*/my/tickets/\d+#messages$"))
    ticket_id = int(ticket_url.rsplit("/", 1)[1])
    with demo.registry.transaction() as env:
        # Staff-written rich text goes through the same sanitiser.
        env["helpdesk.ticket"].browse(ticket_id).write({"description": "".join(XSS_PAYLOADS)})
    staff = log_in(new_context(), demo, "support")
    watch = PageWatch(staff, demo.url)
    staff.wait_for_url(f"{demo.url}/odoo")
    for path in (f"/my/tickets/{ticket_id}", f"/odoo/helpdesk.ticket/{ticket_id}"):
        response = staff.goto(f"{demo.url}{path}")
        assert response is not None and response.status == 200, path
        staff.wait_for_timeout(300)  # give timers and late handlers a chance to fire
        assert staff.locator("script").count() == 0
        assert staff.locator("img, svg, iframe, object, embed").count() == 0
        if path.startswith("/my"):
            # The customer's messages are there, shown as text rather than run.
            assert staff.locator(".message-body", has_text="onerror").count() >= 1
    watch.assert_clean()


def test_two_factor_enrolment_and_login(demo: Demo, new_context: NewContext) -> None:
    page = log_in(new_context(), demo, "portal.copperleaf")
    page.wait_for_url(f"{demo.url}/my")
    page.goto(f"{demo.url}/my/security")
    page.click("#enable-totp")
    secret = page.locator("#totp-secret").inner_text()
    page.fill("input[name=code]", pyotp.TOTP(secret).now())
    page.click("main button[type=submit]")
    assert page.locator("#recovery-codes li").count() == 10
    page.click("header button:has-text('Log out')")
    page.wait_for_url(f"{demo.url}/web/login")
    again = log_in(new_context(), demo, "portal.copperleaf")
    again.wait_for_url(re.compile(r".*/web/login/totp.*"))
    # The enrolment spent the current time step; a code is never accepted twice.
    again.fill("input[name=code]", pyotp.TOTP(secret).at(time.time() + 30))
    again.click("main button[type=submit]")
    again.wait_for_url(f"{demo.url}/my")
    assert "Your documents" in again.locator("h1").inner_text()


def test_password_change_in_one_browser_ends_the_other(demo: Demo, new_context: NewContext) -> None:
    first = log_in(new_context(), demo, "portal.juniper")
    second = log_in(new_context(), demo, "portal.juniper")
    for page in (first, second):
        page.wait_for_url(f"{demo.url}/my")
    first.goto(f"{demo.url}/my/security")
    first.fill("input[name=current]", BY_LOGIN["portal.juniper"].password)
    first.fill("input[name=new]", "juniper-new-passphrase-26")
    first.fill("input[name=confirm]", "juniper-new-passphrase-26")
    first.click("button:has-text('Change password')")
    assert "Password changed" in first.locator(".notice").inner_text()
    second.goto(f"{demo.url}/my/orders")
    assert second.url.startswith(f"{demo.url}/web/login")
    first.goto(f"{demo.url}/my/orders")
    assert first.url == f"{demo.url}/my/orders"
