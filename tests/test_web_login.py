"""Login, sessions, step-up and two-factor authentication over HTTP (both backends).

Seed 000's "brief physical access" flaw: a copied session cookie must stop working the
moment its owner changes the password, turns two-factor on, or logs out.
"""

from __future__ import annotations

import datetime as dt
import re
import time

import pyotp
import pytest

from bastion import Command, Registry
from bastion.auth.accounts import import_password_hash, set_password
from bastion.auth.passwords import odoo_pbkdf2_hash
from webapp import WebClient, csrf_of, make_app

PASSWORD = "first-passphrase-2026"
NEW_PASSWORD = "second-passphrase-2026"


@pytest.fixture
def registry(make_registry: object) -> Registry:
    reg: Registry = make_registry("base")  # type: ignore[operator]
    with reg.transaction() as env:
        for login, group in (("alice", "base.group_portal"), ("bob", "base.group_portal")):
            user = env["res.users"].create(
                {
                    "login": login,
                    "name": login.title(),
                    "group_ids": [Command.link(env.ref(group).id)],
                }
            )
            set_password(user, PASSWORD)
    return reg


@pytest.fixture
def app(registry: Registry) -> object:
    return make_app(registry)


def web(app: object) -> WebClient:
    return WebClient(app)  # type: ignore[arg-type]


def _age_sessions(registry: Registry, login: str, **fields: dt.timedelta) -> None:
    """Move the user's session timestamps into the past, as time passing would."""
    with registry.transaction() as env:
        user = env["res.users"].search([("login", "=", login)])
        for session in env["res.users.session"].search([("user_id", "=", user.id)]):
            session.write({name: session[name] - delta for name, delta in fields.items()})


# -- logging in ---------------------------------------------------------------------------
def test_unknown_login_and_wrong_password_get_the_same_answer(app: object) -> None:
    wrong = web(app).login("alice", "not-the-password", expect=401)
    unknown = web(app).login("nobody-here", "not-the-password", expect=401)
    message = "Wrong login or password."
    assert message in wrong.text and message in unknown.text
    assert wrong.status_code == unknown.status_code
    assert 'value="alice"' in wrong.text  # the login typed is kept, not the password
    assert "not-the-password" not in wrong.text


def test_login_without_csrf_token_is_refused(app: object) -> None:
    client = web(app)
    response = client.post("/web/login", data={"login": "alice", "password": PASSWORD})
    assert response.status_code == 403
    assert "bastion_session" not in response.headers.get("set-cookie", "")


def test_twenty_wrong_passwords_lock_the_account_even_for_the_right_one(app: object) -> None:
    client = web(app)
    # Five wrong passwords answer 401; from then on the account is locked (429).
    for n in range(20):
        client.login("alice", f"wrong-{n}", expect=401 if n < 5 else 429)
    locked = client.login("alice", PASSWORD, expect=429)
    assert "Too many failed attempts" in locked.text
    assert int(locked.headers["retry-after"]) > 0
    # The address is throttled too: guessing across accounts from it stops.
    web(app).login("bob", PASSWORD, expect=429)


def test_odoo_hashes_log_in_and_are_rehashed(app: object, registry: Registry) -> None:
    with registry.transaction() as env:
        user = env["res.users"].search([("login", "=", "bob")])
        import_password_hash(user, odoo_pbkdf2_hash("imported-odoo-pass", rounds=2000))
    web(app).login("bob", "imported-odoo-pass")
    with registry.transaction() as env:
        user = env["res.users"].search([("login", "=", "bob")])
        stored = env["res.users.credential"].search([("user_id", "=", user.id)]).password_hash
        assert str(stored).startswith("$argon2id$")


def test_redirect_after_login_stays_on_this_site(app: object) -> None:
    client = web(app)
    page = client.get("/web/login")
    response = client.post(
        "/web/login",
        data={
            "login": "alice",
            "password": PASSWORD,
            "redirect": "//evil.example/x",
            "csrf_token": csrf_of(page.text),
        },
    )
    assert response.headers["location"] == "/my"


def test_login_gives_a_new_session_id(app: object) -> None:
    """A session id fixed before login (session fixation) is worthless after it."""
    client = web(app)
    client.login("alice", PASSWORD)
    first = client.cookies["bastion_session"]
    client.login("alice", PASSWORD)
    assert client.cookies["bastion_session"] != first
    stale = web(app)
    stale.cookies.set("bastion_session", first)
    assert stale.get("/my").status_code == 303


def test_archived_users_lose_their_sessions(app: object, registry: Registry) -> None:
    client = web(app)
    client.login("alice", PASSWORD)
    with registry.transaction() as env:
        env["res.users"].search([("login", "=", "alice")]).write({"active": False})
    assert client.get("/my").status_code == 303
    web(app).login("alice", PASSWORD, expect=401)


# -- session lifetime ---------------------------------------------------------------------
def test_idle_and_absolute_timeouts(app: object, registry: Registry) -> None:
    client = web(app)
    client.login("alice", PASSWORD)
    assert client.get("/my").status_code == 200
    _age_sessions(registry, "alice", last_seen_at=dt.timedelta(hours=3))
    assert client.get("/my").status_code == 303
    client.login("alice", PASSWORD)
    _age_sessions(registry, "alice", expires_at=dt.timedelta(hours=25))
    assert client.get("/my").status_code == 303


def test_logout_ends_every_session_of_the_user(app: object) -> None:
    laptop, stolen = web(app), web(app)
    laptop.login("alice", PASSWORD)
    stolen.cookies.set("bastion_session", laptop.cookies["bastion_session"])
    other = web(app)
    other.login("alice", PASSWORD)
    response = laptop.submit("/my", "/web/logout", {})
    assert response.status_code == 303
    for client in (laptop, stolen, other):
        assert client.get("/my").status_code == 303


def test_password_change_ends_the_other_sessions(app: object) -> None:
    mine, copied = web(app), web(app)
    mine.login("alice", PASSWORD)
    copied.cookies.set("bastion_session", mine.cookies["bastion_session"])
    elsewhere = web(app)
    elsewhere.login("alice", PASSWORD)
    old_cookie = mine.cookies["bastion_session"]
    response = mine.submit(
        "/my/security",
        "/my/security/password",
        {"current": PASSWORD, "new": NEW_PASSWORD, "confirm": NEW_PASSWORD},
    )
    assert response.status_code == 200 and "Password changed" in response.text
    assert mine.cookies["bastion_session"] != old_cookie  # rotated
    assert mine.get("/my").status_code == 200
    assert copied.get("/my").status_code == 303  # the copy of the old cookie is dead
    assert elsewhere.get("/my").status_code == 303
    web(app).login("alice", PASSWORD, expect=401)
    web(app).login("alice", NEW_PASSWORD)


def test_password_change_is_checked(app: object) -> None:
    client = web(app)
    client.login("alice", PASSWORD)
    wrong = client.submit(
        "/my/security",
        "/my/security/password",
        {"current": "nope", "new": NEW_PASSWORD, "confirm": NEW_PASSWORD},
    )
    assert wrong.status_code == 400 and "current password is not correct" in wrong.text
    weak = client.submit(
        "/my/security",
        "/my/security/password",
        {"current": PASSWORD, "new": "password123", "confirm": "password123"},
    )
    assert weak.status_code == 400 and "common" in weak.text
    differ = client.submit(
        "/my/security",
        "/my/security/password",
        {"current": PASSWORD, "new": NEW_PASSWORD, "confirm": NEW_PASSWORD + "x"},
    )
    assert differ.status_code == 400 and "differ" in differ.text
    web(app).login("alice", PASSWORD)


def test_users_list_and_end_only_their_own_sessions(app: object, registry: Registry) -> None:
    alice, alice_phone, bob = web(app), web(app), web(app)
    alice.login("alice", PASSWORD)
    alice_phone.login("alice", PASSWORD)
    bob.login("bob", PASSWORD)
    with registry.transaction() as env:
        sessions = env["res.users.session"].search([])
        by_user = {s.id: str(s.user_id.login) for s in sessions}
    bob_session = next(sid for sid, login in by_user.items() if login == "bob")
    phone_session = [sid for sid, login in by_user.items() if login == "alice"]
    page = alice.get("/my/security")
    assert page.text.count("/my/security/sessions/") >= 2
    assert f"/my/security/sessions/{bob_session}/end" not in page.text
    # Ending Bob's session id from Alice's account does nothing.
    alice.submit("/my/security", f"/my/security/sessions/{bob_session}/end", {})
    assert bob.get("/my").status_code == 200
    for sid in phone_session:
        alice.submit("/my/security", f"/my/security/sessions/{sid}/end", {})
    assert alice_phone.get("/my").status_code == 303


# -- two-factor -----------------------------------------------------------------------------
SECRET = re.compile(r'<code id="totp-secret">([A-Z2-7]+)</code>')


def next_code(secret: str) -> str:
    """The code of the next 30 s step: the current one was spent on enrolment, and a
    code is never accepted twice (replay)."""
    return pyotp.TOTP(secret).at(time.time() + 30)


def _enrol(client: WebClient) -> tuple[str, list[str]]:
    page = client.get("/my/security/totp")
    assert page.status_code == 200, page.text[:300]
    assert "<svg" in page.text
    secret = SECRET.search(page.text)
    assert secret
    pending = re.search(r'name="pending" value="([^"]+)"', page.text)
    assert pending
    done = client.post(
        "/my/security/totp",
        data={
            "code": pyotp.TOTP(secret.group(1)).now(),
            "pending": pending.group(1),
            "csrf_token": csrf_of(page.text),
        },
    )
    assert done.status_code == 200 and "Two-factor authentication is on" in done.text
    codes = re.findall(r"<li><code>([a-z0-9-]+)</code></li>", done.text)
    assert len(codes) == 10
    return secret.group(1), codes


def test_totp_enrolment_then_login_needs_the_code(app: object) -> None:
    client, other = web(app), web(app)
    client.login("alice", PASSWORD)
    other.login("alice", PASSWORD)
    secret, codes = _enrol(client)
    assert other.get("/my").status_code == 303  # 2FA change ends other sessions
    fresh = web(app)
    step = fresh.login("alice", PASSWORD)
    assert step.headers["location"].startswith("/web/login/totp")
    assert fresh.get("/my").status_code == 303  # no session until the second factor
    page = fresh.get("/web/login/totp")
    wrong = fresh.post("/web/login/totp", data={"code": "000000", "csrf_token": csrf_of(page.text)})
    assert wrong.status_code == 401
    ok = fresh.post(
        "/web/login/totp",
        data={"code": next_code(secret), "csrf_token": csrf_of(page.text)},
    )
    assert ok.status_code == 303 and fresh.get("/my").status_code == 200
    # A recovery code works once.
    for expected in (303, 401):
        again = web(app)
        again.login("alice", PASSWORD)
        page = again.get("/web/login/totp")
        result = again.post(
            "/web/login/totp", data={"code": codes[0], "csrf_token": csrf_of(page.text)}
        )
        assert result.status_code == expected


def test_trusted_device_skips_the_second_factor(app: object) -> None:
    client = web(app)
    client.login("alice", PASSWORD)
    secret, _codes = _enrol(client)
    device = web(app)
    device.login("alice", PASSWORD)
    page = device.get("/web/login/totp")
    device.post(
        "/web/login/totp",
        data={"code": next_code(secret), "trust": "1", "csrf_token": csrf_of(page.text)},
    )
    device.cookies.delete("bastion_session")
    assert device.login("alice", PASSWORD).headers["location"] == "/my"


def test_second_factor_page_needs_a_login_ticket(app: object) -> None:
    client = web(app)
    assert client.get("/web/login/totp").headers["location"] == "/web/login"
    forged = web(app)
    forged.cookies.set("bastion_login_ticket", "eyJ1aWQiOjJ9.forged.sig")
    assert forged.get("/web/login/totp").headers["location"] == "/web/login"


def test_stale_password_check_asks_again_before_2fa_changes(
    app: object, registry: Registry
) -> None:
    client = web(app)
    client.login("alice", PASSWORD)
    _age_sessions(registry, "alice", auth_at=dt.timedelta(minutes=11))
    response = client.get("/my/security/totp")
    assert response.headers["location"].startswith("/my/security/confirm")
    wrong = client.submit(
        "/my/security/confirm?next=/my/security/totp",
        "/my/security/confirm",
        {"password": "nope", "next": "/my/security/totp"},
    )
    assert wrong.status_code == 400
    right = client.submit(
        "/my/security/confirm?next=/my/security/totp",
        "/my/security/confirm",
        {"password": PASSWORD, "next": "/my/security/totp"},
    )
    assert right.headers["location"] == "/my/security/totp"
    assert client.get("/my/security/totp").status_code == 200


def test_a_setting_can_require_two_factor_for_a_group(registry: Registry) -> None:
    app = make_app(registry, require_2fa_groups=["base.group_portal"])
    client = web(app)
    client.login("alice", PASSWORD)
    assert client.get("/my").headers["location"] == "/my/security/totp"
    assert client.get("/my/orders").headers["location"] == "/my/security/totp"
    _enrol(client)
    assert client.get("/my").status_code == 200
    refused = client.submit("/my/security", "/my/security/totp/disable", {})
    assert refused.status_code == 403 and "required for your account" in refused.text


def test_workers_sharing_redis_share_the_login_throttle(registry: Registry, redis_url: str) -> None:
    """Two app instances (two workers) on one Redis: failures seen by one count for
    the other, so more workers do not multiply the allowance (as Odoo's per-process
    cooldown does)."""
    first, second = (web(make_app(registry, redis_url=redis_url)) for _ in range(2))
    for n in range(3):
        first.login("alice", f"wrong-{n}", expect=401)
    for n in range(2):
        second.login("alice", f"wrong-more-{n}", expect=401)
    second.login("alice", PASSWORD, expect=429)
    first.login("alice", PASSWORD, expect=429)
