"""The back office over HTTP: the apps menu, generated lists and forms, create, save,
delete, as anonymous, as a portal user, as a plain internal user and as an access-rights
manager.

Whatever a page shows or accepts is what the data layer allows the user: access
rights, record rules and field groups decide, and the pages only translate. Runs on
SQLite and PostgreSQL; the users and records are committed once per module (the app
opens its own transactions); records a test changes are made by that test.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from html.parser import HTMLParser
from typing import Any

import pytest

from bastion import Command, Environment, Registry
from bastion.auth.accounts import set_password
from conftest import module_database
from webapp import WebClient, csrf_of, make_app

PASSWORD = "backoffice-test-passphrase"
BULK = 45  # partners named "Bulk NN": more than one page of 40


@dataclass
class World:
    registry: Registry
    clerk: int  # base.group_user only
    boss: int  # base.group_erp_manager: unlinks partners, sees res.users.group_ids
    portal_partner: int
    other_customer: int
    clerk_message: int  # a message the clerk wrote, on a partner
    boss_message: int
    far_user: int  # a user of a company the clerk is not allowed in


def _user(env: Environment, login: str, group: str, company: int, **vals: object) -> int:
    user = env["res.users"].create(
        {
            "login": login,
            "name": login.title(),
            "group_ids": [Command.link(env.ref(group).id)],
            "company_id": company,
            "company_ids": [company],
            **vals,
        }
    )
    set_password(user, PASSWORD)
    return int(user.id)


def _populate(env: Environment) -> dict[str, int]:
    main = int(env.ref("base.main_company").id)
    customer = env["res.partner"].create({"name": "Customer A", "is_company": True})
    contact = env["res.partner"].create({"name": "Contact A", "parent_id": customer.id})
    other = env["res.partner"].create({"name": "Customer B", "is_company": True})
    clerk = _user(env, "clerk", "base.group_user", main)
    boss = _user(env, "boss", "base.group_erp_manager", main)
    _user(env, "portal.a", "base.group_portal", main, partner_id=contact.id)
    far = env["res.company"].create({"name": "Far Away Ltd"})
    far_user = env["res.users"].create(
        {"login": "far", "name": "Far User", "company_id": far.id, "company_ids": [far.id]}
    )
    env["res.partner"].create([{"name": f"Bulk {n:02d}"} for n in range(BULK)])
    users = env["res.users"]
    messages = env["mail.message"].create(
        [
            {
                "res_model": "res.partner",
                "res_id": other.id,
                "subject": f"Note by {who}",
                "body": "<p>Hello <b>bold</b></p><script>alert('x')</script>",
                "author_id": users.browse(uid).partner_id.id,
            }
            for who, uid in (("clerk", clerk), ("boss", boss))
        ]
    )
    return {
        "clerk": clerk,
        "boss": boss,
        "portal_partner": int(contact.id),
        "other_customer": int(other.id),
        "clerk_message": int(messages[0].id),
        "boss_message": int(messages[1].id),
        "far_user": int(far_user.id),
    }


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def world(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[World]:
    with module_database(request, tmp_path_factory, "mail", name="backoffice") as registry:
        with registry.transaction() as env:  # committed: the app's transactions see it
            ids = _populate(env)
        yield World(registry, **ids)


@pytest.fixture(scope="module")
def app(world: World) -> object:
    return make_app(world.registry)


def _client(app: object, login: str | None = None) -> WebClient:
    web = WebClient(app)  # type: ignore[arg-type]
    if login is not None:
        web.login(login, PASSWORD)
    return web


# One login per user and backend: the clients keep their session across tests.
@pytest.fixture(scope="module")
def clerk(app: object) -> WebClient:
    return _client(app, "clerk")


@pytest.fixture(scope="module")
def boss(app: object) -> WebClient:
    return _client(app, "boss")


@pytest.fixture(scope="module")
def portal(app: object) -> WebClient:
    return _client(app, "portal.a")


def new_partner(world: World, name: str, **vals: object) -> int:
    with world.registry.transaction() as env:
        return int(env["res.partner"].create({"name": name, **vals}).id)


def stored(world: World, model: str, record_id: int, field: str) -> Any:
    """A value as committed, read by the superuser."""
    with world.registry.transaction() as env:
        return env[model].browse(record_id)[field]


def exists(world: World, model: str, record_id: int) -> bool:
    with world.registry.transaction() as env:
        return bool(env[model].browse(record_id).exists())


class FormReader(HTMLParser):
    """What a browser would send for ``#record-form`` as it stands."""

    def __init__(self) -> None:
        super().__init__()
        self.inside = False
        self.values: dict[str, list[str]] = {}
        self.select: str | None = None
        self.textarea: str | None = None
        self.options: list[tuple[str, bool]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            self.inside = a.get("id") == "record-form"
        elif self.inside and tag == "input" and "name" in a:
            if a.get("type") != "checkbox" or "checked" in a:
                self.values.setdefault(a["name"], []).append(a.get("value", ""))
        elif self.inside and tag == "select":
            self.select, self.options = a["name"], []
        elif self.select is not None and tag == "option":
            self.options.append((a.get("value", ""), "selected" in a))
        elif self.inside and tag == "textarea":
            self.textarea = a["name"]
            self.values[self.textarea] = [""]

    def handle_data(self, data: str) -> None:
        if self.textarea is not None:
            self.values[self.textarea][-1] += data.replace("\n", "\r\n")  # as browsers do

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self.inside = False
        elif tag == "textarea":
            self.textarea = None
        elif tag == "select" and self.select is not None:
            chosen = [value for value, selected in self.options if selected]
            self.values[self.select] = chosen[:1] or [self.options[0][0]]
            self.select = None


def browser_form(html: str, *, with_token: bool = True) -> dict[str, list[str]]:
    reader = FormReader()
    reader.feed(html)
    if not with_token:
        reader.values.pop("csrf_token")
    return reader.values


def token(web: WebClient, path: str = "/odoo") -> str:
    page = web.get(path)
    assert page.status_code == 200, (path, page.status_code)
    return csrf_of(page.text)


# -- who gets in ----------------------------------------------------------------------------
@pytest.mark.parametrize(
    "path", ["/odoo", "/odoo/res.partner", "/odoo/res.partner/1", "/odoo/res.partner/new"]
)
def test_anonymous_is_sent_to_login(app: object, path: str) -> None:
    response = _client(app).get(path)
    assert response.status_code == 303
    assert response.headers["location"].startswith("/web/login?redirect=")


def test_anonymous_posts_are_sent_to_login(app: object, world: World) -> None:
    response = _client(app).post(f"/odoo/res.partner/{world.other_customer}", data={"name": "x"})
    assert response.status_code == 303
    assert response.headers["location"].startswith("/web/login")
    assert stored(world, "res.partner", world.other_customer, "name") == "Customer B"


def test_portal_users_get_the_missing_page_everywhere(portal: WebClient, world: World) -> None:
    missing = portal.get("/odoo/res.partner/987654")
    assert missing.status_code == 404
    own, theirs = world.portal_partner, world.other_customer
    for path in [
        "/odoo",
        "/odoo/res.partner",
        f"/odoo/res.partner/{own}",
        f"/odoo/res.partner/{theirs}",
        "/odoo/res.partner/new",
    ]:
        page = portal.get(path)
        assert page.status_code == 404, path
        assert page.content == missing.content, path  # the same page, byte for byte
    csrf = token(portal, "/my")
    for path in [
        f"/odoo/res.partner/{own}",
        f"/odoo/res.partner/{theirs}",
        "/odoo/res.partner/new",
        f"/odoo/res.partner/{theirs}/delete",
    ]:
        response = portal.post(path, data={"name": "Taken over", "csrf_token": csrf})
        assert response.status_code == 404, path
        assert response.content == missing.content, path
    assert stored(world, "res.partner", own, "name") == "Contact A"
    assert exists(world, "res.partner", theirs)
    assert stored(world, "res.partner", theirs, "name") == "Customer B"


# -- the apps menu and lists --------------------------------------------------------------
def test_apps_menu_lists_what_the_user_may_read_by_addon(clerk: WebClient) -> None:
    page = clerk.get("/odoo")
    assert page.status_code == 200
    for found in [
        'id="app-base"',
        'id="app-mail"',
        'id="model-res.partner"',
        'id="model-res.users"',
        'id="model-mail.message"',
    ]:
        assert found in page.text
    # No access right: not listed. Technical tables: not listed either.
    for absent in [
        "res.users.credential",
        "res.users.session",
        "res.users.recovery.code",
        "res.users.device",
        "ir.rule",
        "ir.model.access",
        "mail.thread",
    ]:
        assert absent not in page.text


def test_list_search_sort_and_pages(clerk: WebClient) -> None:
    rows = re.compile(r'<td class="char"><a href="/odoo/res.partner/\d+">Bulk (\d\d)</a>')
    first = clerk.get("/odoo/res.partner?search=bulk")
    assert first.status_code == 200
    assert f"{BULK} records" in first.text and "Page 1 of 2" in first.text
    assert rows.findall(first.text) == [f"{n:02d}" for n in range(40)]
    second = clerk.get("/odoo/res.partner?search=bulk&page=2")
    assert rows.findall(second.text) == [f"{n:02d}" for n in range(40, BULK)]
    backwards = clerk.get("/odoo/res.partner?search=bulk&order=name+desc")
    assert rows.findall(backwards.text)[:2] == [f"{BULK - 1:02d}", f"{BULK - 2:02d}"]
    assert "descending" in backwards.text
    # Anything but a listed, sortable column is ignored: the model's own order.
    for order in [
        "password_hash",
        "name; drop table res_partner",
        "name desc nulls first",
        "parent_id",
        "id desc",
        "name sideways",
        "name desc extra",
    ]:
        page = clerk.get("/odoo/res.partner", params={"order": order, "search": "bulk"})
        assert page.status_code == 200, order
        assert rows.findall(page.text)[0] == "00", order
    assert clerk.get("/odoo/res.partner?search=bulk&page=99").status_code == 200


def test_new_button_and_create_follow_the_create_right(clerk: WebClient, world: World) -> None:
    assert 'id="new-record"' in clerk.get("/odoo/res.partner").text
    assert 'id="new-record"' not in clerk.get("/odoo/res.users").text
    assert clerk.get("/odoo/res.users/new").status_code == 403
    response = clerk.post(
        "/odoo/res.users/new",
        data={"login": "intruder", "name": "Intruder", "csrf_token": token(clerk)},
    )
    assert response.status_code == 403
    with world.registry.transaction() as env:
        assert not env["res.users"].search([("login", "=", "intruder")])


# -- forms ---------------------------------------------------------------------------------
def test_create_a_partner(clerk: WebClient, world: World) -> None:
    response = clerk.submit(
        "/odoo/res.partner/new",
        "/odoo/res.partner/new",
        {
            "name": "Made in the back office",
            "email": "made@example.com",
            "is_company": "0",
            "parent_id": "",
        },
    )
    assert response.status_code == 303
    found = re.fullmatch(r"/odoo/res\.partner/(\d+)", response.headers["location"])
    assert found is not None
    partner = int(found.group(1))
    assert stored(world, "res.partner", partner, "email") == "made@example.com"
    assert stored(world, "res.partner", partner, "active") is True  # the default applied
    page = clerk.get(response.headers["location"])
    assert "Made in the back office" in page.text


def test_edit_a_partner(clerk: WebClient, world: World) -> None:
    partner = new_partner(world, "Before", is_company=True)
    form = clerk.get(f"/odoo/res.partner/{partner}")
    assert form.status_code == 200
    assert 'name="name"' in form.text and 'id="save"' in form.text
    assert 'name="commercial_partner_id"' not in form.text  # read-only field: no input
    response = clerk.post(
        f"/odoo/res.partner/{partner}",
        data={"name": "After", "is_company": "0", "csrf_token": csrf_of(form.text)},
    )
    assert response.status_code == 303
    assert response.headers["location"] == f"/odoo/res.partner/{partner}"
    assert stored(world, "res.partner", partner, "name") == "After"
    assert stored(world, "res.partner", partner, "is_company") is False
    assert "After" in clerk.get(f"/odoo/res.partner/{partner}").text


@pytest.mark.parametrize("who", ["clerk", "boss"])
def test_an_untouched_form_saves_as_it_was(
    clerk: WebClient, boss: WebClient, world: World, who: str
) -> None:
    web = clerk if who == "clerk" else boss
    partner = new_partner(world, "Round trip", email="trip@example.com", is_company=True)
    paths = [f"/odoo/res.partner/{partner}", f"/odoo/res.users/{world.clerk}"]
    if who == "clerk":
        paths.append(f"/odoo/mail.message/{world.clerk_message}")  # Html, datetime, selection
    for path in paths:
        before = web.get(path)
        response = web.post(path, data=browser_form(before.text))
        if path.startswith("/odoo/res.users/") and who == "clerk":
            assert response.status_code == 403, path  # read-only for them, even unchanged
            continue
        assert response.status_code == 303, (path, response.text[-2000:])
        after = web.get(path)
        assert browser_form(after.text, with_token=False) == browser_form(
            before.text, with_token=False
        ), path
    assert stored(world, "res.partner", partner, "is_company") is True
    assert "<b>bold</b>" in str(stored(world, "mail.message", world.clerk_message, "body"))


def test_many2one_values_must_be_readable_records(clerk: WebClient, world: World) -> None:
    partner = new_partner(world, "Linked")
    path = f"/odoo/res.partner/{partner}"
    with world.registry.transaction() as env:
        far = int(env["res.company"].search([("name", "=", "Far Away Ltd")]).id)
    linked = clerk.submit(path, path, {"parent_id": str(world.other_customer)})
    assert linked.status_code == 303
    assert stored(world, "res.partner", partner, "parent_id").id == world.other_customer
    for value, status in [(str(far), 403), ("987654", 422), ("-4", 400), ("x", 400)]:
        refused = clerk.submit(path, path, {"company_id": value})
        assert refused.status_code == status, value
        assert f'value="{value}"' in refused.text or f'<option value="{value}" selected' in (
            refused.text
        ), value
    assert not stored(world, "res.partner", partner, "company_id")


def test_bad_input_comes_back_with_what_was_typed(clerk: WebClient, world: World) -> None:
    message = world.clerk_message
    response = clerk.submit(
        f"/odoo/mail.message/{message}",
        f"/odoo/mail.message/{message}",
        {"res_id": "abc", "date": "2024-13-45", "subject": "Kept subject"},
    )
    assert response.status_code == 400
    errors = response.text.split('id="form-errors"')[1].split("</div>")[0]
    assert "(res_id): &#39;abc&#39; is not a whole number" in errors
    assert "(date): &#39;2024-13-45&#39; is not a date" in errors
    assert 'value="abc"' in response.text and 'value="Kept subject"' in response.text
    assert stored(world, "mail.message", message, "res_id") == world.other_customer
    assert stored(world, "mail.message", message, "subject") == "Note by clerk"


def test_unknown_and_read_only_fields_are_refused(clerk: WebClient, world: World) -> None:
    partner = new_partner(world, "Untouched")
    path = f"/odoo/res.partner/{partner}"
    unknown = clerk.submit(path, path, {"name": "Changed", "password": "x"})
    assert unknown.status_code == 400
    assert "res.partner has no field &#39;password&#39;" in unknown.text
    readonly = clerk.submit(path, path, {"commercial_partner_id": str(world.other_customer)})
    assert readonly.status_code == 400
    assert "(commercial_partner_id) cannot be changed here" in readonly.text
    assert stored(world, "res.partner", partner, "name") == "Untouched"


def test_writes_the_data_layer_refuses_are_403(clerk: WebClient, world: World) -> None:
    # Internal users may only read res.users: the form has no inputs, a post is refused.
    path = f"/odoo/res.users/{world.boss}"
    form = clerk.get(path)
    assert form.status_code == 200
    assert 'name="name"' not in form.text and 'id="save"' not in form.text
    refused = clerk.post(path, data={"name": "Hacked", "csrf_token": csrf_of(form.text)})
    assert refused.status_code == 403
    assert 'id="record-form"' in refused.text
    assert "You are not allowed to write &#39;User&#39; (res.users) records" in refused.text
    assert stored(world, "res.users", world.boss, "name") == "Boss"
    # A record rule: internal users change only the messages they wrote.
    path = f"/odoo/mail.message/{world.boss_message}"
    refused = clerk.submit(path, path, {"subject": "Rewritten"})
    assert refused.status_code == 403
    assert stored(world, "mail.message", world.boss_message, "subject") == "Note by boss"


def test_delete_needs_the_unlink_right(clerk: WebClient, boss: WebClient, world: World) -> None:
    partner = new_partner(world, "To delete")
    path = f"/odoo/res.partner/{partner}"
    assert 'id="delete-form"' not in clerk.get(path).text
    refused = clerk.post(f"{path}/delete", data={"csrf_token": token(clerk)})
    assert refused.status_code == 403
    assert exists(world, "res.partner", partner)
    assert 'id="delete-form"' in boss.get(path).text
    deleted = boss.post(f"{path}/delete", data={"csrf_token": token(boss)})
    assert deleted.status_code == 303 and deleted.headers["location"] == "/odoo/res.partner"
    assert not exists(world, "res.partner", partner)
    assert boss.get(path).status_code == 404


def test_fields_restricted_by_groups_are_absent(
    clerk: WebClient, boss: WebClient, world: World
) -> None:
    # res.users.group_ids is restricted to base.group_erp_manager.
    as_clerk = clerk.get(f"/odoo/res.users/{world.boss}")
    assert 'id="field-group_ids"' not in as_clerk.text
    assert "Access Rights" not in as_clerk.text  # the boss's group's name
    as_boss = boss.get(f"/odoo/res.users/{world.clerk}")
    assert 'id="field-group_ids"' in as_boss.text and "Internal User" in as_boss.text
    refused = clerk.submit(
        f"/odoo/res.users/{world.clerk}", f"/odoo/res.users/{world.clerk}", {"group_ids": "3"}
    )
    assert refused.status_code == 403
    assert "You may not change the field &#39;group_ids&#39;: it is restricted." in refused.text


def test_form_values_follow_read_rights(clerk: WebClient, world: World) -> None:
    # The far user's company is not one the clerk may read: its name is not shown.
    page = clerk.get(f"/odoo/res.users/{world.far_user}")
    assert page.status_code == 200
    assert "(restricted)" in page.text and "Far Away Ltd" not in page.text
    # Html is shown sanitised, as Html.
    message = clerk.get(f"/odoo/mail.message/{world.boss_message}")
    assert "<p>Hello <b>bold</b></p>" in message.text
    assert "<script>" not in message.text and "alert(" not in message.text


def test_csrf_is_required(clerk: WebClient, boss: WebClient, world: World) -> None:
    partner = new_partner(world, "Guarded")
    path = f"/odoo/res.partner/{partner}"
    for data in [{"name": "No token"}, {"name": "Foreign", "csrf_token": token(boss)}]:
        response = clerk.post(path, data=data)
        assert response.status_code == 403
        assert "the form has expired or did not come from this site" in response.text
        assert 'value="' + data["name"] + '"' in response.text
    assert clerk.post("/odoo/res.partner/new", data={"name": "No token"}).status_code == 403
    assert boss.post(f"{path}/delete", data={"csrf_token": token(clerk)}).status_code == 403
    assert stored(world, "res.partner", partner, "name") == "Guarded"
    assert exists(world, "res.partner", partner)
    with world.registry.transaction() as env:
        assert not env["res.partner"].search([("name", "=", "No token")])


def test_models_without_access_rights_are_never_rendered(
    clerk: WebClient, boss: WebClient, world: World
) -> None:
    with world.registry.transaction() as env:
        credential = int(env["res.users.credential"].search([], limit=1).id)
    for web in (clerk, boss):
        for path in [
            "/odoo/res.users.credential",
            f"/odoo/res.users.credential/{credential}",
            "/odoo/res.users.credential/new",
            "/odoo/res.users.session",
        ]:
            page = web.get(path)
            assert page.status_code in (403, 404), path
            assert "password_hash" not in page.text and "$argon2" not in page.text


def test_unknown_models_and_records_are_missing(clerk: WebClient) -> None:
    for path in [
        "/odoo/not.a.model",
        "/odoo/not.a.model/1",
        "/odoo/mail.thread",
        "/odoo/res.partner/abc",
        "/odoo/res.partner/0",
        "/odoo/res.partner/-3",
        "/odoo/res.partner/99999999",
        f"/odoo/res.partner/{10**12}",
    ]:
        assert clerk.get(path).status_code == 404, path
    assert clerk.post("/odoo/not.a.model/1", data={"name": "x"}).status_code == 404
