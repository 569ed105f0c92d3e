"""The REST API over HTTP (``/api/v1``), on SQLite and PostgreSQL.

Customers A and B each have a portal user with an API key; an internal sales manager
has keys of every scope. The data is committed once per module (every request is its
own transaction); each test gets a fresh app, so rate limits and throttles start from
zero. Checked: CRUD, isolation (B's record answers A exactly as a missing one),
restricted fields, key scopes, refused credentials, bad input of every kind (always a
JSON error with a stable code, never a 500), ETags, pagination and rate limits.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
import redis
from starlette.testclient import TestClient

from bastion import Command, Environment, Registry
from bastion.auth.apikeys import create_api_key, revoke_api_key
from bastion.auth.tokens import token_hash
from conftest import module_database
from webapp import make_app

APPS = ("contacts", "sale", "account", "project", "helpdesk", "portal")
MISSING_ID = 987654


@dataclass
class Customer:
    company: int
    contact: int
    user: int
    portal_key: str
    orders: list[int] = field(default_factory=list)
    lines: list[int] = field(default_factory=list)
    order_names: list[str] = field(default_factory=list)
    tickets: list[int] = field(default_factory=list)


@dataclass
class World:
    registry: Registry
    a: Customer
    b: Customer
    manager: str  # internal: sales manager, helpdesk user
    read_only: str
    partners_only: str
    revoked: str
    expired: str
    archived_owner: str


def make_customer(env: Environment, name: str, orders: int) -> Customer:
    company = env["res.partner"].create(
        {"name": f"Customer {name}", "is_company": True, "comment": "PARTNER-COMMENT-SECRET"}
    )
    contact = env["res.partner"].create({"name": f"Contact {name}", "parent_id": company.id})
    user = env["res.users"].create(
        {
            "login": f"portal.{name.lower()}",
            "name": f"Portal {name}",
            "partner_id": contact.id,
            "group_ids": [Command.link(env.ref("base.group_portal").id)],
            "company_id": env.ref("base.main_company").id,
            "company_ids": [env.ref("base.main_company").id],
        }
    )
    key = create_api_key(user, "sync", days=30)
    found = Customer(int(company.id), int(contact.id), int(user.id), key)
    product = env["product.product"].create({"name": f"Widget {name}", "list_price": 10.0})
    for n in range(orders):
        order = env["sale.order"].create(
            {
                "partner_id": contact.id,
                "client_order_ref": f"REF-{name}-{n:02d}",
                "internal_note": "ORDER-NOTE-SECRET",
                "order_line": [
                    Command.create(
                        {
                            "product_id": product.id,
                            "name": f"Widget line {name}",
                            "product_uom_qty": 2.0,
                            "price_unit": 10.0,
                            "purchase_price": 3.0,
                        }
                    )
                ],
            }
        )
        found.orders.append(int(order.id))
        found.lines.extend(order.order_line.ids)
        found.order_names.append(str(order.name))
    ticket = env["helpdesk.ticket"].create({"name": f"Ticket {name}", "partner_id": contact.id})
    found.tickets.append(int(ticket.id))
    return found


def make_internal_user(env: Environment, login: str) -> Any:
    return env["res.users"].create(
        {
            "login": login,
            "name": login.title(),
            "company_id": env.ref("base.main_company").id,
            "company_ids": [env.ref("base.main_company").id],
            "group_ids": [
                Command.link(env.ref("helpdesk.group_helpdesk_user").id),
                Command.link(env.ref("sale.group_sale_manager").id),
                Command.link(env.ref("base.group_erp_manager").id),  # deletes partners
            ],
        }
    )


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def world(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[World]:
    with module_database(request, tmp_path_factory, *APPS, name="rest") as registry:
        with registry.transaction() as env:
            a = make_customer(env, "A", orders=7)
            b = make_customer(env, "B", orders=2)
            agent = make_internal_user(env, "agent")
            revoked = create_api_key(agent, "old", days=30)
            revoke_api_key(agent, env["res.users.apikey"].search([("name", "=", "old")]).id)
            expired = create_api_key(agent, "expired", days=1)
            env["res.users.apikey"].search([("key_hash", "=", token_hash(expired))]).write(
                {"expires_at": dt.datetime(2020, 1, 1)}
            )
            leaver = make_internal_user(env, "leaver")
            archived_owner = create_api_key(leaver, "sync", days=30)
            leaver.write({"active": False})
            world = World(
                registry,
                a,
                b,
                manager=create_api_key(agent, "all", days=30),
                read_only=create_api_key(agent, "reports", days=30, read_only=True),
                partners_only=create_api_key(agent, "crm", days=30, models=["res.partner"]),
                revoked=revoked,
                expired=expired,
                archived_owner=archived_owner,
            )
        yield world


class Api(TestClient):
    """A client that sends one API key with every request."""

    def __init__(self, app: Any, key: str | None) -> None:
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        super().__init__(app, headers=headers, follow_redirects=False)


@pytest.fixture
def app(world: World) -> Any:
    return make_app(world.registry)


def error_code(response: Any) -> str:
    """The stable code of a JSON error answer (and a check that it is one)."""
    assert response.headers["content-type"] == "application/json", response.text[:300]
    body = response.json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message"}
    assert body["error"]["message"]
    code: str = body["error"]["code"]
    return code


# -- CRUD -------------------------------------------------------------------------------------
def test_internal_user_creates_reads_writes_and_deletes_partners(app: Any, world: World) -> None:
    api = Api(app, world.manager)
    created = api.post("/api/v1/res.partner", json={"name": "Rest Probe", "email": "p@example.com"})
    assert created.status_code == 201, created.text
    record = created.json()
    assert record["name"] == "Rest Probe" and record["email"] == "p@example.com"
    assert record["parent_id"] is False and record["child_ids"] == []
    assert created.headers["location"] == f"/api/v1/res.partner/{record['id']}"

    got = api.get(created.headers["location"])
    assert got.status_code == 200 and got.json() == record
    listed = api.get("/api/v1/res.partner", params={"domain": '[["name", "=", "Rest Probe"]]'})
    assert [row["id"] for row in listed.json()["data"]] == [record["id"]]

    patched = api.patch(
        created.headers["location"], json={"phone": "+1 555", "parent_id": world.a.company}
    )
    assert patched.status_code == 200, patched.text
    assert patched.json()["phone"] == "+1 555"
    assert patched.json()["parent_id"] == [world.a.company, "Customer A"]

    assert api.delete(created.headers["location"]).status_code == 204
    gone = api.get(created.headers["location"])
    assert gone.status_code == 404 and error_code(gone) == "not_found"


def test_list_selects_fields_and_orders(app: Any, world: World) -> None:
    api = Api(app, world.manager)
    answer = api.get(
        "/api/v1/sale.order",
        params={
            "domain": json.dumps([["partner_id", "=", world.a.contact]]),
            "fields": "name, client_order_ref",
            "order": "client_order_ref desc",
        },
    )
    assert answer.status_code == 200, answer.text
    rows = answer.json()["data"]
    assert [set(row) for row in rows] == [{"id", "name", "client_order_ref"}] * 7
    assert [row["client_order_ref"] for row in rows] == [f"REF-A-{n:02d}" for n in range(6, -1, -1)]


def test_datetimes_are_rfc3339_in_utc(app: Any, world: World) -> None:
    api = Api(app, world.manager)
    order = api.get(f"/api/v1/sale.order/{world.a.orders[0]}", params={"fields": "date_order"})
    value = order.json()["date_order"]
    assert value.endswith("Z") and "T" in value
    dt.datetime.fromisoformat(value)
    partner = api.post("/api/v1/res.partner", json={"name": "Time Zone Probe"})
    created = api.post(
        "/api/v1/sale.order",
        json={"partner_id": partner.json()["id"], "date_order": "2024-05-01T10:00:00+02:00"},
    )
    assert created.status_code == 201, created.text
    assert created.json()["date_order"] == "2024-05-01T08:00:00Z"
    ancient = api.patch(created.headers["location"], json={"date_order": "0060-07-11T07:05:04Z"})
    assert ancient.json()["date_order"] == "0060-07-11T07:05:04Z"
    assert api.delete(created.headers["location"]).status_code == 204
    assert api.delete(partner.headers["location"]).status_code == 204


# -- isolation --------------------------------------------------------------------------------
def test_portal_key_lists_only_its_customers_orders(app: Any, world: World) -> None:
    for customer in (world.a, world.b):
        answer = Api(app, customer.portal_key).get("/api/v1/sale.order")
        assert answer.status_code == 200, answer.text
        assert sorted(row["id"] for row in answer.json()["data"]) == sorted(customer.orders)
        assert answer.json()["count"] == len(customer.orders)


def test_another_customers_record_answers_as_a_missing_one(app: Any, world: World) -> None:
    api = Api(app, world.a.portal_key)
    assert api.get(f"/api/v1/sale.order/{world.a.orders[0]}").status_code == 200
    for method in ("GET", "PATCH", "DELETE"):
        body = {"client_order_ref": "X"} if method == "PATCH" else None
        theirs = api.request(method, f"/api/v1/sale.order/{world.b.orders[0]}", json=body)
        missing = api.request(method, f"/api/v1/sale.order/{MISSING_ID}", json=body)
        assert theirs.status_code == missing.status_code == 404, method
        assert theirs.content == missing.content, method
        assert error_code(theirs) == "not_found"
    ticket = api.get(f"/api/v1/helpdesk.ticket/{world.b.tickets[0]}")
    assert ticket.status_code == 404
    # Nor through a domain naming B's ids.
    found = api.get(
        "/api/v1/sale.order", params={"domain": json.dumps([["id", "in", world.b.orders]])}
    )
    assert found.json()["data"] == [] and found.json()["count"] == 0


def test_portal_key_cannot_write_its_own_orders(app: Any, world: World) -> None:
    api = Api(app, world.a.portal_key)
    location = f"/api/v1/sale.order/{world.a.orders[0]}"
    patched = api.patch(location, json={"client_order_ref": "CHANGED"})
    assert patched.status_code == 403 and error_code(patched) == "access_denied"
    deleted = api.delete(location)
    assert deleted.status_code == 403 and error_code(deleted) == "access_denied"
    assert api.get(location).json()["client_order_ref"] == "REF-A-00"
    created = api.post("/api/v1/res.partner", json={"name": "Intruder"})
    assert created.status_code == 403 and error_code(created) == "access_denied"


def test_portal_key_creates_a_ticket_only_its_customer_sees(app: Any, world: World) -> None:
    created = Api(app, world.a.portal_key).post(
        "/api/v1/helpdesk.ticket", json={"name": "Printer on fire", "partner_id": world.a.contact}
    )
    assert created.status_code == 201, created.text
    assert Api(app, world.a.portal_key).get(created.headers["location"]).status_code == 200
    assert Api(app, world.b.portal_key).get(created.headers["location"]).status_code == 404


def test_restricted_fields_never_reach_a_portal_key(app: Any, world: World) -> None:
    api = Api(app, world.a.portal_key)
    for path in (
        "/api/v1/sale.order",
        f"/api/v1/sale.order/{world.a.orders[0]}",
        "/api/v1/sale.order.line",
        f"/api/v1/res.partner/{world.a.company}",
    ):
        answer = api.get(path)
        assert answer.status_code == 200, (path, answer.text)
        for secret in ("PARTNER-COMMENT-SECRET", "ORDER-NOTE-SECRET"):
            assert secret not in answer.text, path
        assert '"margin"' not in answer.text and '"purchase_price"' not in answer.text
    for params in ({"fields": "margin"}, {"fields": "name,internal_note"}):
        denied = api.get(f"/api/v1/sale.order/{world.a.orders[0]}", params=params)
        assert denied.status_code == 403 and error_code(denied) == "access_denied"
    by_margin = api.get("/api/v1/sale.order", params={"domain": '[["margin", ">", 0]]'})
    assert by_margin.status_code == 403 and error_code(by_margin) == "access_denied"
    manager = Api(app, world.manager).get(f"/api/v1/sale.order/{world.a.orders[0]}")
    assert "margin" in manager.json() and "internal_note" in manager.json()


# -- credentials and scopes -------------------------------------------------------------------
@pytest.mark.parametrize(
    "credential",
    ["none", "basic", "garbage", "unknown", "revoked", "expired", "archived_owner"],
)
def test_refused_credentials_answer_401(app: Any, world: World, credential: str) -> None:
    headers = {
        "none": {},
        "basic": {"Authorization": "Basic YWRtaW46YWRtaW4="},
        "garbage": {"Authorization": "Bearer not-a-key"},
        "unknown": {"Authorization": "Bearer bst_abcdefgh" + "x" * 43},
        "revoked": {"Authorization": f"Bearer {world.revoked}"},
        "expired": {"Authorization": f"Bearer {world.expired}"},
        "archived_owner": {"Authorization": f"Bearer {world.archived_owner}"},
    }[credential]
    answer = TestClient(app).get("/api/v1/res.partner", headers=headers)
    assert answer.status_code == 401
    assert error_code(answer) == "unauthorized"
    assert answer.headers["www-authenticate"] == "Bearer"
    assert "Customer" not in answer.text


def test_read_only_key_reads_but_never_writes(app: Any, world: World) -> None:
    api = Api(app, world.read_only)
    location = f"/api/v1/res.partner/{world.a.company}"
    assert api.get(location).status_code == 200
    for answer in (
        api.patch(location, json={"phone": "0"}),
        api.post("/api/v1/res.partner", json={"name": "Nope"}),
        api.delete(location),
    ):
        assert answer.status_code == 403 and error_code(answer) == "access_denied"
    assert "phone" in api.get(location).json() and api.get(location).json()["phone"] is False


def test_key_scoped_to_partners_reaches_nothing_else(app: Any, world: World) -> None:
    api = Api(app, world.partners_only)
    assert api.get("/api/v1/res.partner").status_code == 200
    for path in ("/api/v1/sale.order", f"/api/v1/sale.order/{world.a.orders[0]}"):
        answer = api.get(path)
        assert answer.status_code == 403 and error_code(answer) == "access_denied"
        assert "API key" in answer.json()["error"]["message"]


# -- bad input --------------------------------------------------------------------------------
BAD_LISTS = [
    ({"domain": "not json"}, "invalid_arguments"),
    ({"domain": '[["name", "=", \'x\']]'}, "invalid_arguments"),
    ({"domain": '{"name": "x"}'}, "invalid_arguments"),
    ({"domain": '"[]"'}, "invalid_arguments"),
    ({"domain": "[" * 5000 + "]" * 5000}, "invalid_arguments"),
    ({"domain": '[["id", "=", NaN]]'}, "invalid_arguments"),
    ({"domain": '[["id", "=", 1e999]]'}, "invalid_arguments"),
    ({"domain": '[["id", "=", 123456789012345678901234567890]]'}, "invalid_arguments"),
    ({"domain": '[["name", "=", "a\\u0000b"]]'}, "invalid_arguments"),
    ({"domain": '[["name", "=", "\\ud800"]]'}, "invalid_arguments"),
    ({"domain": '[["nope", "=", 1]]'}, "invalid_domain"),
    ({"domain": '[["parent_id.nope", "=", 1]]'}, "invalid_domain"),
    ({"domain": '[["name", "=", {"$gt": ""}]]'}, "invalid_domain"),
    ({"domain": '[["name", "union select", "x"]]'}, "invalid_domain"),
    ({"domain": '[["id", "in", [1, [2]]]]'}, "invalid_domain"),
    ({"domain": '[["id", "=", "1; drop table res_partner"]]'}, "invalid_domain"),
    ({"domain": '["|", ["id", "=", 1]]'}, "invalid_domain"),
    ({"domain": "[[1, 2, 3]]"}, "invalid_domain"),
    ({"domain": '[["__class__", "=", 1]]'}, "invalid_domain"),
    ({"limit": str(10**9)}, "invalid_arguments"),
    ({"limit": "0"}, "invalid_arguments"),
    ({"limit": "-1"}, "invalid_arguments"),
    ({"limit": "ten"}, "invalid_arguments"),
    ({"offset": "-5"}, "invalid_arguments"),
    ({"offset": "1e3"}, "invalid_arguments"),
    ({"fields": "nope"}, "unknown_field"),
    ({"fields": "name,__class__"}, "unknown_field"),
    ({"order": "name; drop table res_partner"}, "invalid_arguments"),
    ({"order": "nope desc"}, "invalid_arguments"),
    ({"order": "child_ids"}, "invalid_arguments"),
    ({"order": "name\x00"}, "invalid_arguments"),
    ({"count": "1"}, "invalid_arguments"),
]


@pytest.mark.parametrize(("params", "code"), BAD_LISTS, ids=[str(p) for p, _ in BAD_LISTS])
def test_bad_list_arguments_answer_422(
    app: Any, world: World, params: dict[str, str], code: str
) -> None:
    answer = Api(app, world.manager).get("/api/v1/res.partner", params=params)
    assert answer.status_code == 422, answer.text
    assert error_code(answer) == code


def test_a_parameter_given_twice_is_refused(app: Any, world: World) -> None:
    answer = Api(app, world.manager).get("/api/v1/res.partner?limit=1&limit=2")
    assert answer.status_code == 422 and error_code(answer) == "invalid_arguments"


BAD_BODIES: list[tuple[str, bytes, str]] = [
    ("not json", b"name=x", "invalid_arguments"),
    ("array", b'[{"name": "x"}]', "invalid_arguments"),
    ("unknown field", b'{"name": "x", "nope": 1}', "unknown_field"),
    ("dunder field", b'{"name": "x", "__class__": 1}', "unknown_field"),
    ("wrong type", b'{"name": 5}', "validation_error"),
    ("required emptied", b'{"name": false}', "validation_error"),
    ("missing parent", b'{"name": "x", "parent_id": 987654}', "validation_error"),
    ("bad parent", b'{"name": "x", "parent_id": "1"}', "validation_error"),
    ("bad x2many", b'{"name": "x", "child_ids": [[9, 0, 0]]}', "validation_error"),
    ("nul", b'{"name": "a\\u0000b"}', "invalid_arguments"),
    ("huge integer", b'{"name": "x", "parent_id": 99999999999999999999999}', "invalid_arguments"),
    ("reserved id", b'{"name": "x", "id": 1}', "validation_error"),
    ("not utf-8", b'{"name": "\xff"}', "invalid_arguments"),
]


@pytest.mark.parametrize(
    ("body", "code"), [b[1:] for b in BAD_BODIES], ids=[b[0] for b in BAD_BODIES]
)
def test_bad_bodies_answer_422_and_write_nothing(
    app: Any, world: World, body: bytes, code: str
) -> None:
    api = Api(app, world.manager)
    before = api.get("/api/v1/res.partner", params={"limit": "1"}).json()["count"]
    for answer in (
        api.post("/api/v1/res.partner", content=body),
        api.patch(f"/api/v1/res.partner/{world.b.company}", content=body),
    ):
        assert answer.status_code == 422, answer.text
        assert error_code(answer) == code
    assert api.get("/api/v1/res.partner", params={"limit": "1"}).json()["count"] == before
    partner = api.get(f"/api/v1/res.partner/{world.b.company}").json()
    assert partner["name"] == "Customer B" and partner["parent_id"] is False


@pytest.mark.parametrize(
    ("method", "path", "status", "code"),
    [
        ("GET", "/api/v1/no.such.model", 404, "not_found"),
        ("GET", "/api/v1/no.such.model/1", 404, "not_found"),
        ("POST", "/api/v1/no.such.model", 404, "not_found"),
        ("GET", "/api/v1/mail.thread", 404, "not_found"),
        ("GET", "/api/v1/res.users.apikey", 403, "access_denied"),
        ("GET", "/api/v1/res.users.credential/1", 403, "access_denied"),
        ("GET", "/api/v1/res.partner/abc", 404, "not_found"),
        ("GET", "/api/v1/res.partner/0", 404, "not_found"),
        ("GET", "/api/v1/res.partner/-1", 404, "not_found"),
        ("GET", "/api/v1/res.partner/1.5", 404, "not_found"),
        ("GET", "/api/v1/res.partner/99999999999999999999999", 404, "not_found"),
        ("PATCH", "/api/v1/res.partner/abc", 404, "not_found"),
        ("DELETE", "/api/v1/res.partner/abc", 404, "not_found"),
        ("GET", "/api/v1/res.partner/1/extra", 404, "not_found"),
        ("GET", "/api/v1", 404, "not_found"),
        ("PUT", "/api/v1/res.partner/1", 405, "method_not_allowed"),
        ("DELETE", "/api/v1/res.partner", 405, "method_not_allowed"),
        ("HEAD", "/api/v1/res.partner", 405, "method_not_allowed"),
    ],
)
def test_paths_that_name_nothing_answer_json(
    app: Any, world: World, method: str, path: str, status: int, code: str
) -> None:
    answer = Api(app, world.manager).request(method, path, json={} if method == "PATCH" else None)
    assert answer.status_code == status, answer.text
    if method != "HEAD":
        assert error_code(answer) == code


def test_missing_and_unreadable_records_share_one_body(app: Any, world: World) -> None:
    api = Api(app, world.a.portal_key)
    bodies = {
        api.get(f"/api/v1/sale.order/{rid}").content
        for rid in (world.b.orders[0], world.b.orders[1], MISSING_ID, 10**12)
    }
    assert len(bodies) == 1


# -- ETag, pagination -------------------------------------------------------------------------
def test_etag_answers_304_until_the_record_changes(app: Any, world: World) -> None:
    api = Api(app, world.manager)
    location = f"/api/v1/res.partner/{world.b.contact}"
    first = api.get(location)
    etag = first.headers["etag"]
    assert etag.startswith('"') and etag.endswith('"')
    assert api.get(location).headers["etag"] == etag  # the same body, the same tag
    unchanged = api.get(location, headers={"If-None-Match": etag})
    assert unchanged.status_code == 304 and unchanged.content == b""
    assert api.get(location, headers={"If-None-Match": f'"other", W/{etag}'}).status_code == 304
    assert api.get(location, headers={"If-None-Match": '"other"'}).status_code == 200

    stale = api.patch(location, json={"phone": "1"}, headers={"If-Match": '"other"'})
    assert stale.status_code == 412 and error_code(stale) == "precondition_failed"
    assert api.get(location).headers["etag"] == etag  # nothing written
    fresh = api.patch(location, json={"phone": "1"}, headers={"If-Match": etag})
    assert fresh.status_code == 200
    changed = api.get(location, headers={"If-None-Match": etag})
    assert changed.status_code == 200 and changed.headers["etag"] != etag
    assert api.patch(location, json={"phone": False}).status_code == 200


def test_pages_link_to_each_other(app: Any, world: World) -> None:
    api = Api(app, world.a.portal_key)
    seen: list[int] = []
    url: str | None = "/api/v1/sale.order?limit=3&order=id"
    pages = 0
    while url is not None:
        answer = api.get(url)
        assert answer.status_code == 200, answer.text
        page = answer.json()
        assert page["count"] == 7 and page["limit"] == 3 and page["offset"] == pages * 3
        seen += [row["id"] for row in page["data"]]
        links = page["links"]
        assert (links["prev"] is None) == (pages == 0)
        if links["next"]:
            assert f'<{links["next"]}>; rel="next"' in answer.headers["link"]
        url = links["next"]
        pages += 1
    assert pages == 3 and seen == sorted(world.a.orders)
    back = api.get(page["links"]["prev"]).json()
    assert back["offset"] == 3 and back["links"]["self"] == page["links"]["prev"]


# -- rate limits ------------------------------------------------------------------------------
def test_rate_limit_per_key(world: World) -> None:
    app = make_app(world.registry, api_rate_limit="5 per 1 minute")
    api = Api(app, world.manager)
    remaining = []
    for _ in range(5):
        answer = api.get("/api/v1/res.company")
        assert answer.status_code == 200
        assert answer.headers["x-ratelimit-limit"] == "5"
        remaining.append(int(answer.headers["x-ratelimit-remaining"]))
    assert remaining == [4, 3, 2, 1, 0]
    refused = api.get("/api/v1/res.company")
    assert refused.status_code == 429 and error_code(refused) == "rate_limited"
    assert 1 <= int(refused.headers["retry-after"]) <= 60
    assert refused.headers["x-ratelimit-remaining"] == "0"
    assert int(refused.headers["x-ratelimit-reset"]) > 0
    # Another key has a window of its own.
    assert Api(app, world.read_only).get("/api/v1/res.company").status_code == 200


def test_rate_limit_counts_in_redis_under_its_own_prefix(world: World, redis_url: str) -> None:
    first = Api(
        make_app(world.registry, api_rate_limit="3 per 1 minute", redis_url=redis_url),
        world.partners_only,
    )
    second = Api(
        make_app(world.registry, api_rate_limit="3 per 1 minute", redis_url=redis_url),
        world.partners_only,
    )
    assert [first.get("/api/v1/res.partner").status_code for _ in range(2)] == [200, 200]
    assert second.get("/api/v1/res.partner").status_code == 200  # the same window
    assert second.get("/api/v1/res.partner").status_code == 429
    keys = [k.decode() for k in redis.Redis.from_url(redis_url).keys("*")]
    assert keys and all(k.startswith("bastion:") for k in keys)
    assert any(k.startswith("bastion:api") for k in keys)


def test_a_valid_key_is_not_throttled_like_failed_logins(app: Any, world: World) -> None:
    # The login throttle's address tier allows 20 attempts a minute: it must count
    # failures, not every call an integration makes.
    api = Api(app, world.partners_only)
    statuses = {
        api.get("/api/v1/res.partner", params={"limit": "1"}).status_code for _ in range(30)
    }
    assert statuses == {200}


# -- the OpenAPI document ---------------------------------------------------------------------
def test_openapi_document_describes_models_without_restricted_fields(app: Any) -> None:
    answer = TestClient(app).get("/api/v1/openapi.json")
    assert answer.status_code == 200 and answer.headers["content-type"] == "application/json"
    document = answer.json()
    assert document["openapi"].startswith("3.1")
    schemas = document["components"]["schemas"]
    order = schemas["sale.order"]["properties"]
    assert {"name", "partner_id", "date_order", "state"} <= set(order)
    assert "margin" not in order and "internal_note" not in order
    assert "margin" not in schemas["sale.order-create"]["properties"]
    assert "comment" not in schemas["res.partner"]["properties"]
    assert "purchase_price" not in json.dumps(schemas["sale.order.line"])
    assert schemas["sale.order"]["properties"]["state"]["anyOf"][0]["enum"] == [
        "draft",
        "sent",
        "sale",
        "cancel",
    ]
    assert schemas["sale.order"]["properties"]["date_order"]["format"] == "date-time"
    assert schemas["sale.order-create"]["required"] == ["partner_id"]
    paths = document["paths"]
    assert set(paths["/api/v1/sale.order"]) == {"get", "post"}
    assert {"get", "patch", "delete"} <= set(paths["/api/v1/sale.order/{id}"])
    # Abstract models and models no access right names are not served.
    assert "/api/v1/mail.thread" not in paths and "/api/v1/res.users.apikey" not in paths
    assert document["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"
    assert document["security"] == [{"bearerAuth": []}]
    assert "MARGIN" not in answer.text and "margin" not in answer.text
