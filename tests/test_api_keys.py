"""API keys (created after step-up, shown once, stored hashed, scoped, expiring,
revocable) and the dispatcher every API call goes through (both backends)."""

from __future__ import annotations

import datetime as dt
import re
import subprocess
import sys
from pathlib import Path

import pytest

from bastion import AccessError, Command, Registry
from bastion.api.credentials import api_caller, key_caller
from bastion.api.dispatch import ApiError, UnknownMethod, call
from bastion.auth.accounts import AuthenticationError, set_password
from bastion.auth.apikeys import api_keys_of, check_api_key, create_api_key
from bastion.auth.throttle import LoginThrottle
from bastion.errors import ValidationError
from webapp import WebClient, make_app

PASSWORD = "key-owner-passphrase"
KEY = re.compile(r'<code id="new-api-key">(bst_[A-Za-z0-9_-]+)</code>')


@pytest.fixture
def registry(make_registry: object) -> Registry:
    reg: Registry = make_registry("base")  # type: ignore[operator]
    with reg.transaction() as env:
        for login, group in (("alice", "base.group_user"), ("bob", "base.group_user")):
            user = env["res.users"].create(
                {"login": login, "name": login.title(), "group_ids": [env.ref(group).id]}
            )
            set_password(user, PASSWORD)
    return reg


def user(env: object, login: str) -> object:
    return env["res.users"].search([("login", "=", login)])  # type: ignore[index]


# -- keys ------------------------------------------------------------------------------------
def test_a_key_is_shown_once_and_stored_hashed(registry: Registry) -> None:
    with registry.transaction() as env:
        key = create_api_key(user(env, "alice"), "sync", days=30)  # type: ignore[arg-type]
        assert key.startswith("bst_") and len(key) > 40
        stored = env["res.users.apikey"].search([])
        assert key not in {str(stored.key_hash), str(stored.key_index)}
        info = check_api_key(env, key)
        assert info is not None and info.user_id == user(env, "alice").id  # type: ignore[attr-defined]
        assert check_api_key(env, key[:-1] + ("A" if key[-1] != "A" else "B")) is None
        assert check_api_key(env, "bst_" + "x" * 60) is None


def test_non_administrators_need_an_expiry(registry: Registry) -> None:
    with registry.transaction() as env:
        with pytest.raises(ValidationError, match="needs an expiry"):
            create_api_key(user(env, "alice"), "forever", days=None)  # type: ignore[arg-type]
        with pytest.raises(ValidationError, match="between 1 and 365"):
            create_api_key(user(env, "alice"), "long", days=400)  # type: ignore[arg-type]
        admin = env.ref("base.user_admin")
        assert create_api_key(admin, "ops", days=None).startswith("bst_")  # type: ignore[arg-type]
        with pytest.raises(ValidationError, match="Unknown models"):
            create_api_key(admin, "x", days=1, models=["no.such"])  # type: ignore[arg-type]


def test_expired_and_archived_keys_are_refused(registry: Registry) -> None:
    with registry.transaction() as env:
        alice = user(env, "alice")
        key = create_api_key(alice, "sync", days=30)  # type: ignore[arg-type]
        record = env["res.users.apikey"].search([])
        record.write({"expires_at": dt.datetime(2000, 1, 1)})
        assert check_api_key(env, key) is None
        record.write({"expires_at": dt.datetime(2999, 1, 1)})
        assert check_api_key(env, key) is not None
        alice.write({"active": False})  # type: ignore[attr-defined]
        assert check_api_key(env, key) is None


def test_two_factor_users_call_the_api_with_keys_only(registry: Registry) -> None:
    import pyotp

    from bastion.auth.accounts import enable_totp
    from bastion.auth.totp import new_totp_secret

    throttle = LoginThrottle()
    with registry.transaction() as env:
        alice = user(env, "alice")
        assert api_caller(env, "alice", PASSWORD, ip="1.2.3.4", throttle=throttle).user_id
        secret = new_totp_secret()
        assert enable_totp(alice, secret, pyotp.TOTP(secret).now())  # type: ignore[arg-type]
        with pytest.raises(AuthenticationError) as refused:
            api_caller(env, "alice", PASSWORD, ip="1.2.3.4", throttle=throttle)
        wrong = pytest.raises(AuthenticationError)
        with wrong as also:
            api_caller(env, "alice", "not-the-password", ip="1.2.3.4", throttle=throttle)
        assert str(refused.value) == str(also.value)  # no password oracle past the 2FA
        key = create_api_key(alice, "sync", days=1)  # type: ignore[arg-type]
        assert api_caller(env, "alice", key, ip="1.2.3.4", throttle=throttle).user_id == alice.id  # type: ignore[attr-defined]
        with pytest.raises(AuthenticationError):  # a key is its owner's only
            api_caller(env, "bob", key, ip="1.2.3.4", throttle=throttle)


def test_scopes_narrow_what_a_key_may_do(registry: Registry) -> None:
    throttle = LoginThrottle()
    with registry.transaction() as env:
        alice = user(env, "alice")
        reader = create_api_key(alice, "r", days=1, read_only=True)  # type: ignore[arg-type]
        partners = create_api_key(alice, "p", days=1, models=["res.partner"])  # type: ignore[arg-type]
        as_reader = key_caller(env, reader, ip="1.2.3.4", throttle=throttle).environment(env)
        assert call(as_reader, "res.partner", "search_count", [[]], {})
        with pytest.raises(AccessError, match="does not allow to create"):
            call(as_reader, "res.partner", "create", [{"name": "X"}], {})
        as_partners = key_caller(env, partners, ip="1.2.3.4", throttle=throttle).environment(env)
        created = call(as_partners, "res.partner", "create", [{"name": "Y"}], {})
        assert isinstance(created, int)
        with pytest.raises(AccessError, match="does not allow to read 'res.users'"):
            call(as_partners, "res.users", "search", [[]], {})


# -- the dispatcher -------------------------------------------------------------------------
@pytest.mark.parametrize(
    "method",
    ["_read_format", "__class__", "__init__", "sudo", "with_user", "browse", "env", "_spec",
     "exists", "message_post", "check_access", "write_x"],
)  # fmt: skip
def test_only_crud_and_public_methods_can_be_called(registry: Registry, method: str) -> None:
    with registry.transaction() as env:
        as_alice = env.with_user(user(env, "alice"))  # type: ignore[arg-type]
        with pytest.raises(UnknownMethod):
            call(as_alice, "res.partner", method, [[1]], {})


@pytest.mark.parametrize(
    ("method", "args", "kwargs", "message"),
    [
        ("read", [["1"]], {}, "positive integers"),
        ("read", [[1], ["nope"]], {}, "no field"),
        ("search", [[]], {"limit": 10**9}, "at most"),
        ("search", [[]], {"offset": -1}, "non-negative"),
        ("search", ["name = 'x'"], {}, "list of terms"),
        ("search", [[]], {"sudo": True}, "unexpected argument"),
        ("write", [[1], {"no_field": 1}], {}, "no field"),
        ("create", [[]], {}, "non-empty list"),
        ("check_access_rights", ["drop"], {}, "operation must be"),
        ("read", [list(range(1, 10_002))], {}, "at most"),
    ],
)
def test_bad_arguments_are_clear_errors(
    registry: Registry, method: str, args: list[object], kwargs: dict[str, object], message: str
) -> None:
    with registry.transaction() as env:
        as_alice = env.with_user(user(env, "alice"))  # type: ignore[arg-type]
        with pytest.raises(ApiError, match=message):
            call(as_alice, "res.partner", method, args, kwargs)


def test_unknown_and_abstract_models_do_not_exist(make_registry: object) -> None:
    registry: Registry = make_registry("mail")  # type: ignore[operator]
    with registry.transaction() as env:
        for model in ("no.such.model", "mail.thread"):
            with pytest.raises(ApiError, match="doesn't exist"):
                call(env, model, "search", [[]], {})


def test_results_are_plain(registry: Registry) -> None:
    with registry.transaction() as env:
        as_alice = env.with_user(user(env, "alice"))  # type: ignore[arg-type]
        rows = call(as_alice, "res.users", "search_read", [[("login", "=", "bob")]], {
            "fields": ["login", "partner_id", "company_id"],
        })  # fmt: skip
        assert rows == [
            {"id": user(env, "bob").id, "login": "bob", "partner_id": rows[0]["partner_id"],  # type: ignore[index,attr-defined]
             "company_id": False}
        ]  # fmt: skip
        assert isinstance(rows[0]["partner_id"], list)  # type: ignore[index]
        assert call(as_alice, "res.users", "check_access_rights", ["write"], {
            "raise_exception": False
        }) is False  # fmt: skip


# -- the security page ---------------------------------------------------------------------
def test_keys_are_created_listed_and_revoked_on_the_security_page(registry: Registry) -> None:
    app = make_app(registry)
    alice, bob = WebClient(app), WebClient(app)  # type: ignore[arg-type]
    alice.login("alice", PASSWORD)
    bob.login("bob", PASSWORD)
    page = alice.submit(
        "/my/security", "/my/security/apikeys", {"name": "sync", "days": "30", "read_only": "1"}
    )
    found = KEY.search(page.text)
    assert page.status_code == 200 and found
    assert found.group(1) not in alice.get("/my/security").text  # shown once
    with registry.transaction() as env:
        (key,) = api_keys_of(user(env, "alice"))  # type: ignore[arg-type]
    assert key.read_only and key.name == "sync"
    # Bob cannot revoke Alice's key by its id.
    bob.submit("/my/security", f"/my/security/apikeys/{key.id}/revoke", {})
    with registry.transaction() as env:
        assert check_api_key(env, found.group(1)) is not None
    alice.submit("/my/security", f"/my/security/apikeys/{key.id}/revoke", {})
    with registry.transaction() as env:
        assert check_api_key(env, found.group(1)) is None


def test_key_creation_asks_for_the_password_after_ten_minutes(registry: Registry) -> None:
    client = WebClient(make_app(registry))  # type: ignore[arg-type]
    client.login("alice", PASSWORD)
    with registry.transaction() as env:
        for session in env["res.users.session"].search([]):
            session.write({"auth_at": session.auth_at - dt.timedelta(minutes=11)})
    response = client.submit("/my/security", "/my/security/apikeys", {"name": "x", "days": "1"})
    assert response.headers["location"].startswith("/my/security/confirm")
    with registry.transaction() as env:
        assert not env["res.users.apikey"].search([])


def test_keys_survive_a_password_change_unless_revoked(registry: Registry) -> None:
    with registry.transaction() as env:
        key = create_api_key(user(env, "alice"), "sync", days=30)  # type: ignore[arg-type]
    client = WebClient(make_app(registry))  # type: ignore[arg-type]
    client.login("alice", PASSWORD)
    new = "another-long-passphrase"
    client.submit(
        "/my/security",
        "/my/security/password",
        {"current": PASSWORD, "new": new, "confirm": new},
    )
    with registry.transaction() as env:
        assert check_api_key(env, key) is not None
    response = client.submit(
        "/my/security",
        "/my/security/password",
        {"current": new, "new": PASSWORD, "confirm": PASSWORD, "revoke_keys": "1"},
    )
    assert "1 API key(s) revoked" in response.text
    with registry.transaction() as env:
        assert check_api_key(env, key) is None


# -- the command line -----------------------------------------------------------------------
def bastion(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", "from bastion.cli import main; main()", *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_apikey_commands(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'keys.db'}"
    registry = Registry(url)
    registry.install("base")
    with registry.transaction() as env:
        env["res.users"].create(
            {
                "login": "carol",
                "name": "Carol",
                "group_ids": [Command.link(env.ref("base.group_user").id)],
            }
        )
    registry.dispose()
    created = bastion("apikey", "create", "carol", "--name", "sync", "--read-only", "--db", url)
    assert created.returncode == 0, created.stderr
    key = created.stdout.strip()
    assert key.startswith("bst_")
    listed = bastion("apikey", "list", "carol", "--db", url)
    assert "sync" in listed.stdout and key not in listed.stdout
    no_expiry = bastion("apikey", "create", "carol", "--name", "x", "--days", "0", "--db", url)
    assert no_expiry.returncode == 1 and "between 1 and 365" in no_expiry.stderr
    key_id = re.search(r"│ (\d+)\s+│ sync", listed.stdout)
    assert key_id
    assert bastion("apikey", "revoke", "carol", key_id.group(1), "--db", url).returncode == 0
    again = bastion("apikey", "revoke", "carol", key_id.group(1), "--db", url)
    assert again.returncode == 1 and "has no API key" in again.stderr


def test_domain_values_beyond_integer_columns_are_domain_errors(registry: Registry) -> None:
    from bastion.errors import DomainError

    with registry.transaction() as env:
        as_alice = env.with_user(user(env, "alice"))  # type: ignore[arg-type]
        with pytest.raises(DomainError, match="out of range"):
            call(as_alice, "res.partner", "search", [[("id", "=", 10**12)]], {})
        with pytest.raises(ApiError, match="ids"):
            call(as_alice, "res.partner", "read", [[10**12]], {})


def test_aware_datetimes_in_domains_are_compared_in_utc(registry: Registry) -> None:
    with registry.transaction() as env:
        alice = user(env, "alice")
        session = env["res.users.session"].create(
            {
                "user_id": alice.id,  # type: ignore[attr-defined]
                "token_hash": "x",
                "created_at": dt.datetime(2026, 1, 1, 12, 0, 0),
                "last_seen_at": dt.datetime(2026, 1, 1, 12, 0, 0),
                "expires_at": dt.datetime(2026, 1, 2),
                "auth_at": dt.datetime(2026, 1, 1, 12, 0, 0),
            }
        )
        sessions = env["res.users.session"]
        # 13:00 at +01:00 is 12:00 UTC.
        assert sessions.search([("created_at", "=", "2026-01-01T13:00:00+01:00")]) == session
        assert not sessions.search([("created_at", "=", "2026-01-01T12:00:00+01:00")])
        assert plain_date_text() == "0060-07-11 08:30:00"


def plain_date_text() -> object:
    from bastion.api.dispatch import plain

    return plain(dt.datetime(60, 7, 11, 8, 30))
