"""Odoo's external API against a live server: ``xmlrpc.client`` exactly as Odoo's
documentation uses it, JSON-RPC over HTTP, and the ``odoorpc`` package.

Runs on SQLite and PostgreSQL. The data is committed once per module (the server opens
its own transactions); every test gets a fresh app, hence a fresh login throttle, on
its own uvicorn server on 127.0.0.1. Tests that write use records of their own.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import xmlrpc.client
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import odoorpc
import pyotp
import pytest

from bastion import Command, Environment, Model, Registry
from bastion.auth.accounts import enable_totp, set_password, utcnow
from bastion.auth.apikeys import INDEX_LENGTH, PREFIX, create_api_key, revoke_api_key
from bastion.auth.totp import new_totp_secret
from bastion.web.context import SESSION_COOKIE
from browser import LiveServer, ServeApp
from conftest import module_database
from webapp import WebClient, make_app

APPS = ("contacts", "sale", "account", "project", "helpdesk", "portal", "test_rpc_public")
TEST_ADDONS = Path(__file__).parent / "addons"
DB = "bastion"  # Settings.db_name's default
PASSWORD = "rpc-test-passphrase-4417"
B_SECRETS = ("REF-B-SECRET-0916", "Customer B")  # B's data: never in A's answers

Fault = xmlrpc.client.Fault


@dataclass
class World:
    registry: Registry
    uids: dict[str, int] = field(default_factory=dict)
    keys: dict[str, str] = field(default_factory=dict)
    orders: dict[str, list[int]] = field(default_factory=dict)
    counters: list[int] = field(default_factory=list)


def _user(env: Environment, login: str, *groups: str, partner: int | None = None) -> Model:
    company = env.ref("base.main_company").id
    vals: dict[str, object] = {
        "login": login,
        "name": login.title(),
        "group_ids": [Command.link(env.ref(g).id) for g in groups],
        "company_id": company,
        "company_ids": [company],
    }
    if partner is not None:
        vals["partner_id"] = partner
    user = env["res.users"].create(vals)
    set_password(user, PASSWORD)
    return user


def _customer(env: Environment, world: World, key: str, orders: int) -> None:
    company = env["res.partner"].create({"name": f"Customer {key}", "is_company": True})
    contact = env["res.partner"].create({"name": f"Contact {key}", "parent_id": company.id})
    user = _user(env, f"portal.{key.lower()}", "base.group_portal", partner=int(contact.id))
    world.uids[f"portal.{key.lower()}"] = int(user.id)
    world.orders[key] = [
        int(
            env["sale.order"]
            .create({"partner_id": contact.id, "client_order_ref": f"REF-{key}-SECRET-0916"})
            .id
        )
        for _ in range(orders)
    ]


def _key_index(key: str) -> str:
    return key[len(PREFIX) : len(PREFIX) + INDEX_LENGTH]


def _populate(env: Environment, world: World) -> None:
    _customer(env, world, "A", orders=2)
    _customer(env, world, "B", orders=1)
    employee = _user(env, "employee", "sale.group_sale_salesman")  # implies group_user
    manager = _user(env, "manager", "base.group_erp_manager")
    totp_user = _user(env, "totp.user", "base.group_user")
    leaver = _user(env, "leaver", "base.group_user")
    locked = _user(env, "locked", "base.group_user")
    for user in (employee, manager, totp_user, leaver, locked):
        world.uids[str(user.login)] = int(user.id)
    keys = world.keys
    keys["full"] = keys["employee"] = create_api_key(employee, "full", days=30)
    keys["manager"] = create_api_key(manager, "manager", days=30)
    portal_a = env["res.users"].browse(world.uids["portal.a"])
    keys["portal.a"] = create_api_key(portal_a, "portal a", days=30)
    keys["read_only"] = create_api_key(employee, "read only", days=30, read_only=True)
    keys["partners_only"] = create_api_key(employee, "partners", days=30, models=["res.partner"])
    keys["revoked"] = create_api_key(employee, "revoked", days=30)
    keys["expired"] = create_api_key(employee, "expired", days=30)
    keys["totp"] = create_api_key(totp_user, "totp", days=30)
    keys["leaver"] = create_api_key(leaver, "leaver", days=30)
    apikeys = env["res.users.apikey"]
    revoked = apikeys.search([("key_index", "=", _key_index(keys["revoked"]))])
    assert revoke_api_key(employee, int(revoked.id))
    expired = apikeys.search([("key_index", "=", _key_index(keys["expired"]))])
    expired.write({"expires_at": utcnow() - dt.timedelta(hours=1)})
    secret = new_totp_secret()
    assert enable_totp(totp_user, secret, pyotp.TOTP(secret).now())
    leaver.write({"active": False})
    counters = env["test.rpc.counter"].create([{"name": f"counter {n}"} for n in range(3)])
    world.counters = list(counters.ids)


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def world(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[World]:
    with module_database(
        request, tmp_path_factory, *APPS, name="rpc", addons_path=[TEST_ADDONS]
    ) as registry:
        found = World(registry)
        with registry.transaction() as env:
            _populate(env, found)
        yield found


@dataclass
class Rpc:
    """The two XML-RPC endpoints of a live server, as Odoo's documentation opens them."""

    world: World
    url: str
    common: Any
    models: Any

    def uid(self, login: str) -> int:
        return self.world.uids[login]

    def key(self, login: str) -> str:
        """The user's API key: as fast to check as a hash, unlike a password."""
        return self.world.keys[login]

    def execute_kw(self, login: str, secret: str, *call: Any) -> Any:
        return self.models.execute_kw(DB, self.uid(login), secret, *call)

    def fault(self, login: str, secret: str, *call: Any) -> xmlrpc.client.Fault:
        with pytest.raises(Fault) as info:
            self.execute_kw(login, secret, *call)
        return info.value


@pytest.fixture
def server(world: World, live_server_factory: ServeApp) -> LiveServer:
    return live_server_factory(make_app(world.registry))


@pytest.fixture
def rpc(world: World, server: LiveServer) -> Iterator[Rpc]:
    url = server.url
    with (
        xmlrpc.client.ServerProxy(f"{url}/xmlrpc/2/common") as common,
        xmlrpc.client.ServerProxy(f"{url}/xmlrpc/2/object") as models,
    ):
        yield Rpc(world, url, common, models)


def assert_fault(fault: xmlrpc.client.Fault, code: int, name: str, *fragments: str) -> None:
    text = fault.faultString
    assert fault.faultCode == code, text
    assert text.startswith(f"odoo.exceptions.{name}: "), text
    for fragment in fragments:
        assert fragment in text, text
    assert "Traceback" not in text


# -- common ------------------------------------------------------------------------------
def test_version_names_odoo_17_and_bastion(rpc: Rpc) -> None:
    version = rpc.common.version()
    assert version["server_version"] == "17.0+bastion"
    assert version["server_version_info"][:2] == [17, 0]
    assert version["server_serie"] == "17.0"
    assert version["protocol_version"] == 1


def test_authenticate_with_password_and_with_key(rpc: Rpc) -> None:
    uid = rpc.uid("employee")
    assert rpc.common.authenticate(DB, "employee", PASSWORD, {}) == uid
    assert rpc.common.authenticate(DB, "employee", rpc.world.keys["full"], {}) == uid
    assert rpc.common.login(DB, "employee", PASSWORD) == uid
    assert rpc.common.authenticate(DB, "employee", "wrong password", {}) is False
    assert rpc.common.authenticate(DB, "nobody", PASSWORD, {}) is False
    # Another user's key does not open this account.
    assert rpc.common.authenticate(DB, "manager", rpc.world.keys["full"], {}) is False


def test_wrong_database_is_a_fault(rpc: Rpc) -> None:
    with pytest.raises(Fault) as info:
        rpc.common.authenticate("other", "employee", PASSWORD, {})
    assert_fault(info.value, 2, "UserError", "database 'other' does not exist")
    with pytest.raises(Fault) as info:
        rpc.models.execute_kw("other", rpc.uid("employee"), PASSWORD, "res.partner", "search", [[]])
    assert_fault(info.value, 2, "UserError", "database 'other' does not exist")


# -- CRUD as an internal user ------------------------------------------------------------
def test_partner_crud_as_internal_user(rpc: Rpc) -> None:
    call = rpc.execute_kw
    new = call("employee", PASSWORD, "res.partner", "create", [{"name": "RPC Partner"}])
    assert isinstance(new, int)
    found = call(
        "employee",
        PASSWORD,
        "res.partner",
        "search_read",
        [[["name", "=", "RPC Partner"]]],
        {"fields": ["name", "is_company"], "limit": 5},
    )
    assert found == [{"id": new, "name": "RPC Partner", "is_company": False}]
    key = rpc.key("employee")  # the password for create and search_read, a key for the rest
    assert call("employee", key, "res.partner", "write", [[new], {"email": "x@example.com"}])
    [record] = call("employee", key, "res.partner", "read", [[new]], {"fields": ["email"]})
    assert record == {"id": new, "email": "x@example.com"}
    # Unlinking partners needs base.group_erp_manager.
    fault = rpc.fault("employee", key, "res.partner", "unlink", [[new]])
    assert_fault(fault, 4, "AccessError", "unlink", "res.partner")
    assert call("employee", key, "res.partner", "search_count", [[["id", "=", new]]]) == 1
    assert call("manager", rpc.key("manager"), "res.partner", "unlink", [[new]]) is True
    assert call("employee", key, "res.partner", "search_count", [[["id", "=", new]]]) == 0


def test_execute_with_positional_arguments(rpc: Rpc) -> None:
    uid = rpc.uid("employee")
    domain = [["name", "=", "Customer A"]]
    ids = rpc.models.execute(DB, uid, PASSWORD, "res.partner", "search", domain)
    assert len(ids) == 1
    [row] = rpc.models.execute(DB, uid, PASSWORD, "res.partner", "read", ids, ["name"])
    assert row == {"id": ids[0], "name": "Customer A"}


def test_check_access_rights_and_fields_get(rpc: Rpc) -> None:
    call = rpc.execute_kw
    assert (
        call("employee", rpc.key("employee"), "res.partner", "check_access_rights", ["write"])
        is True
    )
    assert (
        call(
            "employee",
            rpc.key("employee"),
            "res.partner",
            "check_access_rights",
            ["unlink"],
            {"raise_exception": False},
        )
        is False
    )
    described = call(
        "employee", rpc.key("employee"), "res.partner", "fields_get", [], {"attributes": ["type"]}
    )
    assert described["name"] == {"type": "char"}


# -- portal users --------------------------------------------------------------------------
def test_portal_user_reads_only_own_orders(rpc: Rpc) -> None:
    a_orders, b_orders = rpc.world.orders["A"], rpc.world.orders["B"]
    rows = rpc.execute_kw(
        "portal.a",
        rpc.key("portal.a"),
        "sale.order",
        "search_read",
        [[]],
        {"fields": ["name", "client_order_ref"]},
    )
    assert sorted(row["id"] for row in rows) == sorted(a_orders)
    assert all(row["client_order_ref"] == "REF-A-SECRET-0916" for row in rows)
    assert rpc.execute_kw("portal.a", rpc.key("portal.a"), "sale.order", "search", [[]]) != []
    for ids in (b_orders, [*a_orders, *b_orders]):
        fault = rpc.fault(
            "portal.a",
            rpc.key("portal.a"),
            "sale.order",
            "read",
            [ids],
            {"fields": ["client_order_ref"]},
        )
        assert_fault(fault, 4, "AccessError", "sale.order")
        for secret in B_SECRETS:
            assert secret not in fault.faultString


def test_portal_user_cannot_write_own_order(rpc: Rpc) -> None:
    order = rpc.world.orders["A"][0]
    fault = rpc.fault(
        "portal.a", rpc.key("portal.a"), "sale.order", "write", [[order], {"note": "x"}]
    )
    assert_fault(fault, 4, "AccessError", "sale.order")


# -- what cannot be called -------------------------------------------------------------------
REFUSED_METHODS = (
    "_compute_x",
    "_read_format",
    "action_nonexistent",
    "sudo",
    "with_user",
    "browse",
    "exists",
    "__class__",
    "__init__",
    "env",
    "_spec",
    "search_fetch",
)


@pytest.mark.parametrize("method", REFUSED_METHODS)
def test_method_outside_the_api_is_an_access_fault(rpc: Rpc, method: str) -> None:
    fault = rpc.fault("employee", rpc.key("employee"), "res.partner", method, [[1]])
    assert_fault(fault, 4, "AccessError", f"{method!r}", "cannot be called through the API")


def test_unknown_model_is_a_fault(rpc: Rpc) -> None:
    fault = rpc.fault("employee", rpc.key("employee"), "no.such.model", "search", [[]])
    assert_fault(fault, 2, "UserError", "Object 'no.such.model' doesn't exist")


HOSTILE_CALLS: dict[str, tuple[str, Any, dict[str, Any], str]] = {
    "unknown field in domain": ("search", [[["nope", "=", 1]]], {}, "unknown field 'nope'"),
    "struct as a char value": (
        "search",
        [[["name", "=", {"a": 1}]]],
        {},
        "does not fit field 'name'",
    ),
    "SQL in an id list": ("search", [[["id", "in", "1;DROP"]]], {}, "does not fit field 'id'"),
    "unknown operator": ("search", [[["name", "bogus", 1]]], {}, "unknown operator 'bogus'"),
    "dangling operator": ("search", [["|"]], {}, "needs two operands"),
    "domain not a list": ("search", ["x"], {}, "a domain is a list of terms"),
    "field not in the model": ("search_read", [[]], {"fields": ["nope"]}, "no field(s) 'nope'"),
    "ids as strings": ("read", [["1", "2"]], {}, "ids must be positive integers"),
    "negative id": ("read", [[-4]], {}, "ids must be positive integers"),
    "huge limit": ("search", [[]], {"limit": 10**9}, "limit must be at most 10000"),
    "negative offset": ("search", [[]], {"offset": -1}, "offset must be a non-negative"),
    "order with SQL": ("search", [[]], {"order": "name; DROP TABLE x"}, "invalid order"),
    "unknown keyword": ("search", [[]], {"bogus": 1}, "unexpected argument 'bogus'"),
    "too many arguments": ("search", [[], 0, 1, "name", False, "extra"], {}, "too many"),
    "create unknown field": ("create", [{"nope": 1}], {}, "has no field 'nope'"),
    "write values not a mapping": ("write", [[1], "name"], {}, "values must be a mapping"),
    "args not a list": ("search", "x", {}, "args must be a list"),
}


@pytest.mark.parametrize("case", list(HOSTILE_CALLS))
def test_hostile_arguments_are_clear_faults(rpc: Rpc, case: str) -> None:
    method, args, kwargs, fragment = HOSTILE_CALLS[case]
    fault = rpc.fault("employee", rpc.key("employee"), "res.partner", method, args, kwargs)
    assert_fault(fault, 2, "UserError", fragment)


def test_deeply_nested_domain_is_answered(rpc: Rpc) -> None:
    every = rpc.execute_kw(
        "employee", rpc.key("employee"), "res.partner", "search", [[["id", ">", 0]]]
    )
    nested = ["&"] * 200 + [["id", ">", 0]] * 201
    assert (
        rpc.execute_kw("employee", rpc.key("employee"), "res.partner", "search", [nested]) == every
    )
    # Far deeper: whatever the database makes of it, an answer, never SQL text.
    deeper = ["&"] * 3000 + [["id", ">", 0]] * 3001
    try:
        result = rpc.execute_kw("employee", rpc.key("employee"), "res.partner", "search", [deeper])
    except Fault as fault:
        assert "SELECT" not in fault.faultString and "Traceback" not in fault.faultString
    else:
        assert result == every


# -- credentials -------------------------------------------------------------------------
def test_wrong_password_is_access_denied(rpc: Rpc) -> None:
    fault = rpc.fault("employee", "wrong password", "res.partner", "search", [[]])
    assert_fault(fault, 3, "AccessDenied", "Access Denied")
    with pytest.raises(Fault) as info:
        rpc.models.execute_kw(DB, 999_999, PASSWORD, "res.partner", "search", [[]])
    assert_fault(info.value, 3, "AccessDenied", "Access Denied")


@pytest.mark.parametrize(("key", "login"), [("revoked", "employee"), ("expired", "employee")])
def test_dead_key_is_refused(rpc: Rpc, key: str, login: str) -> None:
    secret = rpc.world.keys[key]
    assert rpc.common.authenticate(DB, login, secret, {}) is False
    assert_fault(rpc.fault(login, secret, "res.partner", "search", [[]]), 3, "AccessDenied")


def test_key_of_archived_user_is_refused(rpc: Rpc) -> None:
    secret = rpc.world.keys["leaver"]
    assert rpc.common.authenticate(DB, "leaver", secret, {}) is False
    assert_fault(rpc.fault("leaver", secret, "res.partner", "search", [[]]), 3, "AccessDenied")


def test_two_factor_user_needs_a_key(rpc: Rpc) -> None:
    assert rpc.common.authenticate(DB, "totp.user", PASSWORD, {}) is False
    fault = rpc.fault("totp.user", PASSWORD, "res.partner", "search", [[]])
    assert_fault(fault, 3, "AccessDenied", "API key")
    secret = rpc.world.keys["totp"]
    assert rpc.common.authenticate(DB, "totp.user", secret, {}) == rpc.uid("totp.user")
    assert rpc.execute_kw("totp.user", secret, "res.partner", "search_count", [[]]) > 0


def test_read_only_key_cannot_write(rpc: Rpc) -> None:
    secret = rpc.world.keys["read_only"]
    assert rpc.execute_kw("employee", secret, "res.partner", "search_count", [[]]) > 0
    fault = rpc.fault("employee", secret, "res.partner", "create", [{"name": "Nope"}])
    assert_fault(fault, 4, "AccessError", "This API key does not allow")
    partner = rpc.execute_kw("employee", secret, "res.partner", "search", [[]], {"limit": 1})
    fault = rpc.fault("employee", secret, "res.partner", "write", [partner, {"name": "Nope"}])
    assert_fault(fault, 4, "AccessError", "This API key does not allow")


def test_key_limited_to_partners_cannot_read_orders(rpc: Rpc) -> None:
    secret = rpc.world.keys["partners_only"]
    assert rpc.execute_kw("employee", secret, "res.partner", "search_count", [[]]) > 0
    # The user may read orders; the key may not.
    assert rpc.execute_kw("employee", PASSWORD, "sale.order", "search_count", [[]]) > 0
    fault = rpc.fault("employee", secret, "sale.order", "search", [[]])
    assert_fault(fault, 4, "AccessError", "This API key does not allow", "sale.order")


def test_repeated_wrong_passwords_lock_the_account(rpc: Rpc) -> None:
    faults = [rpc.fault("locked", f"guess {n}", "res.partner", "search", [[]]) for n in range(20)]
    assert all(f.faultCode == 3 for f in faults)
    assert "Too many failed attempts" in faults[-1].faultString
    fault = rpc.fault("locked", PASSWORD, "res.partner", "search", [[]])
    assert_fault(fault, 3, "AccessDenied", "Too many failed attempts")
    with pytest.raises(Fault) as info:
        rpc.common.authenticate(DB, "locked", PASSWORD, {})
    assert_fault(info.value, 3, "AccessDenied", "Too many failed attempts")


def test_many_successful_calls_from_one_address(rpc: Rpc) -> None:
    """Only failures count against an address: an integration may call all day."""
    secret = rpc.world.keys["full"]
    for _ in range(30):
        assert rpc.execute_kw("employee", secret, "res.partner", "search_count", [[]]) > 0


# -- methods marked @public ------------------------------------------------------------------
def _hits(rpc: Rpc) -> dict[int, int]:
    rows = rpc.execute_kw(
        "employee",
        rpc.key("employee"),
        "test.rpc.counter",
        "read",
        [rpc.world.counters],
        {"fields": ["hits"]},
    )
    return {row["id"]: row["hits"] for row in rows}


def test_public_method_is_callable_on_the_given_records(rpc: Rpc) -> None:
    first, second, _third = rpc.world.counters
    before = _hits(rpc)
    done = rpc.execute_kw(
        "employee", rpc.key("employee"), "test.rpc.counter", "action_hit", [[first], 5]
    )
    assert done == [first]
    after = _hits(rpc)
    assert after[first] == before[first] + 5
    assert after[second] == before[second]
    fault = rpc.fault(
        "employee", rpc.key("employee"), "test.rpc.counter", "action_reset", [[first]]
    )
    assert_fault(fault, 4, "AccessError", "'action_reset'", "cannot be called through the API")
    # A public method runs with the caller's rights: portal users have none here.
    fault = rpc.fault("portal.a", rpc.key("portal.a"), "test.rpc.counter", "action_hit", [[first]])
    assert_fault(fault, 4, "AccessError", "test.rpc.counter")
    assert _hits(rpc) == after


def test_failed_call_writes_nothing(rpc: Rpc) -> None:
    before = _hits(rpc)
    fault = rpc.fault(
        "employee",
        rpc.key("employee"),
        "test.rpc.counter",
        "action_hit_then_refuse",
        [rpc.world.counters],
    )
    assert_fault(fault, 2, "ValidationError", "refused after writing")
    assert _hits(rpc) == before


def test_unexpected_error_is_logged_not_shown(rpc: Rpc, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.ERROR, logger="bastion.api.rpc"):
        fault = rpc.fault(
            "employee",
            rpc.key("employee"),
            "test.rpc.counter",
            "action_crash",
            [rpc.world.counters[:1]],
        )
    assert fault.faultCode == 1
    assert "Internal server error" in fault.faultString
    assert "DEADBEEF" not in fault.faultString and "Traceback" not in fault.faultString
    logged = [r for r in caplog.records if r.name == "bastion.api.rpc"]
    assert logged and logged[0].exc_info is not None
    assert "0xDEADBEEF" in str(logged[0].exc_info[1])
    assert "test.rpc.counter" in logged[0].getMessage()
    assert rpc.key("employee") not in logged[0].getMessage()


def test_result_xmlrpc_cannot_carry_is_a_fault(rpc: Rpc, server: LiveServer) -> None:
    ids = rpc.world.counters[:1]
    fault = rpc.fault(
        "employee", rpc.key("employee"), "test.rpc.counter", "action_big_number", [ids]
    )
    assert fault.faultCode == 1 and "Internal server error" in fault.faultString
    _, answer = jsonrpc(
        server,
        "object",
        "execute_kw",
        DB,
        rpc.uid("employee"),
        rpc.key("employee"),
        "test.rpc.counter",
        "action_big_number",
        [ids],
    )
    assert answer["result"] == 2**40


# -- the XML-RPC transport -------------------------------------------------------------------
def _post(server: LiveServer, path: str, body: bytes, content_type: str) -> httpx.Response:
    return httpx.post(
        server.url + path, content=body, headers={"Content-Type": content_type}, timeout=30
    )


def _xml_fault(response: httpx.Response) -> xmlrpc.client.Fault:
    assert response.headers["content-type"].startswith("text/xml")
    with pytest.raises(Fault) as info:
        xmlrpc.client.loads(response.content)
    return info.value


BILLION_LAUGHS = (
    '<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "aaaaaaaaaa">'
    '<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>'
    "<methodCall><methodName>version</methodName><params><param><value>&b;</value>"
    "</param></params></methodCall>"
)
# The same declaration in UTF-16: invisible to a search for the bytes "<!DOCTYPE".
UTF16_LAUGHS = BILLION_LAUGHS.replace('"1.0"?>', '"1.0" encoding="utf-16"?>').encode("utf-16")


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        (BILLION_LAUGHS.encode(), "DOCTYPE"),
        (UTF16_LAUGHS, "DOCTYPE"),
        (b"not xml at all", "not a valid XML document"),
        (b"<methodCall><params></params></methodCall>", "names no method"),
        (xmlrpc.client.dumps((1,), methodresponse=True).encode(), "names no method"),
        (xmlrpc.client.dumps(Fault(1, "x"), methodresponse=True).encode(), "cannot be a fault"),
        (
            b"<methodCall><methodName>version</methodName><params><param><value><int>x</int>"
            b"</value></param></params></methodCall>",
            "not a valid XML-RPC request",
        ),
    ],
)
def test_malformed_xml_is_a_fault(server: LiveServer, body: bytes, fragment: str) -> None:
    response = _post(server, "/xmlrpc/2/common", body, "text/xml")
    assert response.status_code == 200
    fault = _xml_fault(response)
    assert_fault(fault, 2, "UserError", fragment)


def _chunks(total: int) -> Iterator[bytes]:
    """A body sent without Content-Length (chunked): the server counts what it reads."""
    yield b"<methodCall>"
    for _ in range(total // 65536 + 1):
        yield b" " * 65536


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
def test_oversized_xml_body_is_refused(server: LiveServer, chunked: bool) -> None:
    size = 10 * 1024 * 1024 + 1
    body: Any = _chunks(size) if chunked else b"<methodCall>" + b" " * size
    response = httpx.post(
        server.url + "/xmlrpc/2/common", content=body, headers={"Content-Type": "text/xml"}
    )
    assert response.status_code == 413
    assert "larger than 10 MB" in _xml_fault(response).faultString


def test_unknown_service_and_method_are_faults(rpc: Rpc) -> None:
    with xmlrpc.client.ServerProxy(f"{rpc.url}/xmlrpc/2/db") as db:
        with pytest.raises(Fault) as info:
            db.list()
    assert_fault(info.value, 2, "UserError", "unknown service 'db'")
    with pytest.raises(Fault) as info:
        rpc.common.about()
    assert_fault(info.value, 2, "UserError", "no method 'about'")
    with pytest.raises(Fault) as info:
        rpc.models.execute_kw(DB, rpc.uid("employee"), PASSWORD, "res.partner")
    assert_fault(info.value, 2, "UserError", "execute_kw takes")


def test_xmlrpc_answers_post_only_and_never_html(server: LiveServer) -> None:
    response = httpx.get(server.url + "/xmlrpc/2/common")
    assert response.status_code == 405
    assert response.headers["allow"] == "POST"
    assert "RPC endpoints answer POST only" in _xml_fault(response).faultString


def test_results_carry_no_nil_and_dates_as_strings(rpc: Rpc) -> None:
    order = rpc.world.orders["A"][0]
    [row] = rpc.execute_kw(
        "portal.a",
        rpc.key("portal.a"),
        "sale.order",
        "read",
        [[order]],
        {"fields": ["date_order", "note"]},
    )
    assert row["note"] is False
    dt.datetime.strptime(row["date_order"], "%Y-%m-%d %H:%M:%S")  # naive UTC


# -- JSON-RPC ------------------------------------------------------------------------------
def jsonrpc(
    server: LiveServer, service: str, method: str, *args: Any, path: str = "/jsonrpc"
) -> tuple[int, dict[str, Any]]:
    payload = {
        "jsonrpc": "2.0",
        "method": "call",
        "params": {"service": service, "method": method, "args": list(args)},
        "id": 41,
    }
    response = _post(server, path, json.dumps(payload).encode(), "application/json")
    assert response.headers["content-type"] == "application/json"
    answer: dict[str, Any] = response.json()
    return response.status_code, answer


def test_jsonrpc_calls(server: LiveServer, world: World) -> None:
    status, answer = jsonrpc(server, "common", "version")
    assert status == 200 and answer["id"] == 41 and answer["jsonrpc"] == "2.0"
    assert answer["result"]["server_version"] == "17.0+bastion"
    _, answer = jsonrpc(server, "common", "login", DB, "employee", world.keys["full"])
    uid = answer["result"]
    assert uid == world.uids["employee"]
    _, answer = jsonrpc(
        server,
        "object",
        "execute_kw",
        DB,
        uid,
        world.keys["full"],
        "res.partner",
        "search_read",
        [[["name", "=", "Customer A"]]],
        {"fields": ["name"]},
    )
    assert [row["name"] for row in answer["result"]] == ["Customer A"]


def test_jsonrpc_error_has_odoo_shape(server: LiveServer, world: World) -> None:
    order = world.orders["B"][0]
    status, answer = jsonrpc(
        server,
        "object",
        "execute_kw",
        DB,
        world.uids["portal.a"],
        PASSWORD,
        "sale.order",
        "read",
        [[order]],
    )
    assert status == 200
    assert set(answer) == {"jsonrpc", "id", "error"} and answer["id"] == 41
    error = answer["error"]
    assert error["code"] == 200 and error["message"] == "Odoo Server Error"
    data = error["data"]
    assert data["name"] == "odoo.exceptions.AccessError"
    assert "sale.order" in data["message"] and data["arguments"] == [data["message"]]
    assert data["debug"] == "" and data["context"] == {}
    assert not any(secret in json.dumps(answer) for secret in B_SECRETS)


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"name": "a\u0000b"}, "res.partner.name: text may not hold NUL characters"),
        ({"name": "x", "parent_id": 2**40}, "res.partner.parent_id: 1099511627776 is beyond"),
    ],
)
def test_jsonrpc_values_no_column_holds_are_validation_errors(
    server: LiveServer, world: World, values: dict[str, Any], message: str
) -> None:
    """JSON carries what XML-RPC cannot: the same refusal on both backends, before
    any statement, rather than the database's error as an internal one."""
    _, answer = jsonrpc(
        server,
        "object",
        "execute_kw",
        DB,
        world.uids["employee"],
        world.keys["full"],
        "res.partner",
        "create",
        [values],
    )
    data = answer["error"]["data"]
    assert data["name"] == "odoo.exceptions.ValidationError", data
    assert message in data["message"]


def test_jsonrpc_wrong_password_and_wrong_db(server: LiveServer, world: World) -> None:
    uid = world.uids["employee"]
    _, answer = jsonrpc(server, "object", "execute", DB, uid, "nope", "res.partner", "search", [])
    assert answer["error"]["data"]["name"] == "odoo.exceptions.AccessDenied"
    _, answer = jsonrpc(
        server, "common", "authenticate", "other", "employee", world.keys["employee"], {}
    )
    assert answer["error"]["data"]["message"] == "database 'other' does not exist"


@pytest.mark.parametrize(
    "content_type", ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data", ""]
)
def test_jsonrpc_refuses_bodies_a_form_can_send(server: LiveServer, content_type: str) -> None:
    body = json.dumps({"params": {"service": "common", "method": "version", "args": []}})
    response = _post(server, "/jsonrpc", body.encode(), content_type)
    assert response.status_code == 415
    assert response.json()["error"]["data"]["message"].startswith("JSON-RPC requests are sent")


@pytest.mark.parametrize(
    ("body", "status", "fragment"),
    [
        (b"{not json", 400, "Invalid JSON data"),
        (b'{"params": {"args": [NaN]}}', 400, "NaN is not a JSON value"),
        (b"[1, 2]", 400, "one object"),
        (b"[" * 100_000 + b"]" * 100_000, 400, "Invalid JSON data"),
        (b'{"params": [1]}', 200, "params must be an object"),
        (b'{"params": {"service": "common"}}', 200, "needs a service and a method"),
        (b'{"params": {"service": "common", "method": "version", "args": 1}}', 200, "a list"),
        (b'{"params": {"service": "db", "method": "list", "args": []}}', 200, "unknown service"),
    ],
)
def test_jsonrpc_malformed_requests(
    server: LiveServer, body: bytes, status: int, fragment: str
) -> None:
    response = _post(server, "/jsonrpc", body, "application/json")
    assert response.status_code == status
    assert response.headers["content-type"] == "application/json"
    assert fragment in response.json()["error"]["data"]["message"]


def test_jsonrpc_answers_post_only_and_never_html(server: LiveServer) -> None:
    for path in ("/jsonrpc", "/web/webclient/version_info"):
        response = httpx.get(server.url + path)
        assert response.status_code == 405
        assert response.headers["content-type"] == "application/json"
    body = b"{" + b'"a": 1,' * (2 * 1024 * 1024) + b'"b": 2}'
    response = _post(server, "/jsonrpc", body, "application/json")
    assert response.status_code == 413
    assert "larger than 10 MB" in response.json()["error"]["data"]["message"]


def test_webclient_version_info(server: LiveServer) -> None:
    status, answer = jsonrpc(server, "common", "version", path="/web/webclient/version_info")
    assert status == 200 and answer["result"]["server_serie"] == "17.0"


def test_web_session_authenticates_no_rpc_call(world: World) -> None:
    """The endpoints read credentials from the body only: a browser's session cookie
    gives a cross-site page nothing to ride on."""
    with WebClient(make_app(world.registry)) as browser:
        browser.login("employee", PASSWORD)
        assert browser.cookies.get(SESSION_COOKIE)
        call = ["res.partner", "search", [[]]]
        for uid, secret in ((world.uids["employee"], ""), (False, False)):
            body = {
                "params": {
                    "service": "object",
                    "method": "execute_kw",
                    "args": [DB, uid, secret, *call],
                }
            }
            response = browser.post("/jsonrpc", json=body)
            assert response.status_code == 200
            assert response.json()["error"]["data"]["name"] == "odoo.exceptions.AccessDenied"


# -- odoorpc ---------------------------------------------------------------------------------
@pytest.fixture
def odoo(server: LiveServer) -> odoorpc.ODOO:
    return odoorpc.ODOO(server.host, port=server.port, timeout=30)


def test_odoorpc_login_and_crud(odoo: odoorpc.ODOO, world: World) -> None:
    assert odoo.version == "17.0+bastion"
    odoo.login(DB, "manager", world.keys["manager"])  # odoorpc sends it with every call
    assert odoo.env.context["uid"] == odoo.env.uid
    partners = odoo.env["res.partner"]
    ids = partners.search([])
    assert ids and all(isinstance(i, int) for i in ids)
    names = {row["name"] for row in partners.read(ids, ["name"])}
    assert {"Customer A", "Customer B"} <= names
    new = partners.create({"name": "From odoorpc"})
    assert partners.write([new], {"email": "odoorpc@example.com"}) is True
    assert partners.read([new], ["email"]) == [{"id": new, "email": "odoorpc@example.com"}]
    assert partners.unlink([new]) is True
    assert partners.search([("id", "=", new)]) == []


def test_odoorpc_shows_bastion_refusals(odoo: odoorpc.ODOO, world: World) -> None:
    with pytest.raises(odoorpc.error.RPCError, match="Wrong login ID or password"):
        odoo.login(DB, "employee", "wrong password")
    odoo.login(DB, "employee", PASSWORD)
    assert odoo.env.uid == world.uids["employee"]
    odoo.login(DB, "employee", world.keys["employee"])
    partners = odoo.env["res.partner"]
    new = partners.create({"name": "Not deletable by an employee"})
    with pytest.raises(odoorpc.error.RPCError, match="not allowed to unlink") as info:
        partners.unlink([new])
    assert info.value.info["data"]["name"] == "odoo.exceptions.AccessError"
    with pytest.raises(odoorpc.error.RPCError, match="cannot be called through the API"):
        partners.sudo([new])


def test_odoorpc_record_objects(odoo: odoorpc.ODOO, world: World) -> None:
    """odoorpc's browse() and env.user read with Odoo's ``load`` argument."""
    odoo.login(DB, "manager", world.keys["manager"])
    assert odoo.env.user.login == "manager"
    partners = odoo.env["res.partner"]
    first = partners.browse(partners.search([("name", "=", "Customer A")]))
    assert [p.name for p in first] == ["Customer A"]
