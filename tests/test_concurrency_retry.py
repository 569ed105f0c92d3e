"""A transaction that lost a race to another one runs again (``bastion.orm.concurrency``):
a deadlock between two invoice counters, and a page, an RPC call and a REST request
that meet a locked row. PostgreSQL only: SQLite takes its write lock as a transaction
begins, so no transaction of it loses a race half-way.

The locked row is held by a connection of the test; PostgreSQL's ``lock_timeout`` is
set short on the registry's connections, so a request waiting for the row fails
with "lock not available" (``55P03``), and the holder lets go when the first retry
is logged: the try after it succeeds.
"""

from __future__ import annotations

import logging
import threading
import xmlrpc.client
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
import sqlalchemy as sa
from starlette.testclient import TestClient

from bastion import Command, Environment, Registry
from bastion.auth.accounts import set_password
from bastion.auth.apikeys import create_api_key
from bastion.orm import concurrency
from bastion.orm.concurrency import RetriesExhausted, lost_a_race, retrying
from conftest import RegistryFactory
from webapp import WebClient, make_app

pytestmark = pytest.mark.parametrize("backend", ["postgresql"])

PASSWORD = "a-long-passphrase-2026"


class RetryLog(logging.Handler):
    """Counts the retries noted by ``bastion.orm.concurrency``; calls ``on_first`` at
    the first (from whichever thread noted it)."""

    def __init__(self, on_first: Callable[[], None] = lambda: None) -> None:
        super().__init__(logging.INFO)
        self.on_first = on_first
        self.retries: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.retries.append(record.getMessage())
        if len(self.retries) == 1:
            self.on_first()


@contextmanager
def retry_log(on_first: Callable[[], None] = lambda: None) -> Iterator[RetryLog]:
    handler = RetryLog(on_first)
    logger = logging.getLogger(concurrency.__name__)
    level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        yield handler
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)


def short_lock_timeout(registry: Registry) -> None:
    """Every new connection of the registry waits at most 100 ms for a row lock."""

    @sa.event.listens_for(registry.engine, "connect")
    def _set(dbapi_connection: Any, _record: Any) -> None:
        with dbapi_connection.cursor() as cursor:
            cursor.execute("SET lock_timeout = '100ms'")
        dbapi_connection.commit()

    registry.engine.dispose()


class RowLock:
    """A row of ``table`` locked FOR UPDATE by a transaction of the test's own."""

    def __init__(self, registry: Registry, table: str, row_id: int) -> None:
        self.engine = sa.create_engine(registry.url)
        self.connection = self.engine.connect()
        self.connection.begin()
        locked = sa.table(table, sa.column("id"))
        query = sa.select(locked.c.id).where(locked.c.id == row_id).with_for_update()
        assert self.connection.execute(query).scalar() == row_id
        self.released = False

    def release(self) -> None:
        if not self.released:
            self.released = True
            self.connection.commit()

    def close(self) -> None:
        self.release()
        self.connection.close()
        self.engine.dispose()


@pytest.fixture
def apps(make_registry: RegistryFactory) -> Registry:
    return make_registry("sale", "account")


@pytest.fixture
def world(apps: Registry) -> Registry:
    """``apps`` with two users, whose connections wait at most 100 ms for a lock."""
    registry = apps
    with registry.transaction() as env:
        for login, group in (("alice", "base.group_portal"), ("ivan", "base.group_user")):
            user = env["res.users"].create(
                {
                    "login": login,
                    "name": login.title(),
                    "group_ids": [Command.link(env.ref(group).id)],
                }
            )
            set_password(user, PASSWORD)
    short_lock_timeout(registry)
    return registry


def _uid(registry: Registry, login: str) -> int:
    with registry.transaction() as env:
        return int(env["res.users"].search([("login", "=", login)]).id)


def _partner_of(registry: Registry, login: str) -> int:
    with registry.transaction() as env:
        return int(env["res.users"].search([("login", "=", login)]).partner_id.id)


@contextmanager
def locked(registry: Registry, table: str, row_id: int) -> Iterator[RowLock]:
    lock = RowLock(registry, table, row_id)
    try:
        yield lock
    finally:
        lock.close()


# -- the mechanism -------------------------------------------------------------------------
def _posted_invoice(env: Environment, partner: int, company: int) -> str:
    move = env["account.move"].create(
        {
            "move_type": "out_invoice",
            "partner_id": partner,
            "company_id": company,
            "invoice_date": "2026-10-01",
            "invoice_line_ids": [Command.create({"name": "Desk", "price_unit": 100.0})],
        }
    )
    move.action_post()
    return str(move.name)


def test_two_companies_invoices_posted_in_opposite_orders_both_land(apps: Registry) -> None:
    """Each transaction holds one company's invoice counter and waits for the other's:
    PostgreSQL fails one with a deadlock, which runs again after the other commits."""
    with apps.transaction() as env:
        partner = int(env["res.partner"].create({"name": "Customer", "is_company": True}).id)
        companies = (
            int(env.ref("base.main_company").id),
            int(env["res.company"].create({"name": "Second Company"}).id),
        )
        for company in companies:  # both counters exist before the race
            _posted_invoice(env, partner, company)
    holding = [threading.Event(), threading.Event()]
    failures: list[BaseException] = []

    def post_both(me: int) -> None:
        with apps.transaction() as env:
            _posted_invoice(env, partner, companies[me])
            holding[me].set()
            # Already set when the loser runs again: only the first tries meet.
            assert holding[1 - me].wait(timeout=30)
            _posted_invoice(env, partner, companies[1 - me])

    def run(me: int) -> None:
        try:
            retrying(lambda: post_both(me))
        except BaseException as exc:  # noqa: BLE001 - reported by the test
            failures.append(exc)

    with retry_log() as log:
        threads = [threading.Thread(target=run, args=(me,)) for me in (0, 1)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
    assert not failures
    assert len(log.retries) == 1 and "DeadlockDetected" in log.retries[0]
    with apps.transaction() as env:
        for company in companies:
            moves = env["account.move"].search([("company_id", "=", company)], order="name")
            # The loser's numbers were given back with its rollback: no gaps.
            assert moves.mapped("name") == [f"INV/2026/0000{n}" for n in (1, 2, 3)]


def test_other_failures_are_not_tried_again(world: Registry) -> None:
    tries: list[int] = []

    def divide_by_zero() -> None:
        tries.append(1)
        with world.transaction() as env:
            env.cr.execute(sa.select(sa.literal(1) / sa.literal(0)))

    with pytest.raises(sa.exc.DataError) as raised:
        retrying(divide_by_zero)
    assert len(tries) == 1 and not lost_a_race(raised.value)


def test_the_last_lost_race_is_reported_and_changes_nothing(world: Registry) -> None:
    partner = _partner_of(world, "ivan")

    def rename() -> None:
        with world.transaction() as env:
            env["res.partner"].browse(partner).write({"name": "Renamed"})

    with locked(world, "res_partner", partner), retry_log() as log:
        with pytest.raises(RetriesExhausted, match="3 tries in a row; nothing was saved"):
            retrying(rename, attempts=3, sleep=lambda _s: None)
    assert len(log.retries) == 2
    with world.transaction() as env:
        assert env["res.partner"].browse(partner).name == "Ivan"


# -- pages, RPC, REST ------------------------------------------------------------------------
def test_a_login_that_meets_a_locked_user_is_served_again(world: Registry) -> None:
    """The session row refers to the user's, which the test holds locked: the first
    try fails; the form, replayed, logs in at the next."""
    client = WebClient(make_app(world))
    with locked(world, "res_users", _uid(world, "alice")) as lock:
        with retry_log(on_first=lock.release) as log:
            client.login("alice", PASSWORD)
    assert len(log.retries) == 1 and "LockNotAvailable" in log.retries[0]
    assert client.get("/my").status_code == 200


def test_a_page_that_keeps_losing_answers_503_and_saves_nothing(world: Registry) -> None:
    client = WebClient(make_app(world))
    with locked(world, "res_users", _uid(world, "alice")), retry_log() as log:
        response = client.login("alice", PASSWORD, expect=503)
    assert len(log.retries) == concurrency.ATTEMPTS - 1
    assert "Nothing of it was saved" in response.text
    assert response.headers["retry-after"] == "1"
    assert "bastion_session" not in response.headers.get("set-cookie", "")
    with world.transaction() as env:
        assert not env["res.users.session"].search([])


def _xmlrpc(client: TestClient, service: str, method: str, *params: object) -> Any:
    body = xmlrpc.client.dumps(params, method)
    response = client.post(
        f"/xmlrpc/2/{service}", content=body, headers={"Content-Type": "text/xml"}
    )
    assert response.status_code == 200
    return xmlrpc.client.loads(response.content)[0][0]


def test_an_rpc_write_on_a_locked_record_is_run_again(world: Registry) -> None:
    client = TestClient(make_app(world))
    uid, partner = _uid(world, "ivan"), _partner_of(world, "ivan")
    call = ("bastion", uid, PASSWORD, "res.partner", "write")
    with locked(world, "res_partner", partner) as lock:
        with retry_log(on_first=lock.release) as log:
            done = _xmlrpc(client, "object", "execute_kw", *call, [[partner], {"name": "Renamed"}])
    assert done is True and len(log.retries) == 1
    with world.transaction() as env:
        assert env["res.partner"].browse(partner).name == "Renamed"

    with locked(world, "res_partner", partner):
        with pytest.raises(xmlrpc.client.Fault) as fault:
            _xmlrpc(client, "object", "execute_kw", *call, [[partner], {"name": "Again"}])
    assert fault.value.faultCode == 1
    assert fault.value.faultString.startswith("odoo.exceptions.ConcurrencyError: the data was")
    with world.transaction() as env:
        assert env["res.partner"].browse(partner).name == "Renamed"


def test_a_rest_update_on_a_locked_record_is_run_again_and_counted_once(
    world: Registry,
) -> None:
    with world.transaction() as env:
        key = create_api_key(env["res.users"].search([("login", "=", "ivan")]), "t", days=1)
    partner = _partner_of(world, "ivan")
    client = TestClient(make_app(world), headers={"Authorization": f"Bearer {key}"})
    with locked(world, "res_partner", partner) as lock:
        with retry_log(on_first=lock.release) as log:
            response = client.patch(f"/api/v1/res.partner/{partner}", json={"name": "Renamed"})
    assert response.status_code == 200, response.text
    assert len(log.retries) == 1
    before = int(response.headers["x-ratelimit-remaining"])
    assert int(client.get(f"/api/v1/res.partner/{partner}").headers["x-ratelimit-remaining"]) == (
        before - 1
    )

    with locked(world, "res_partner", partner):
        response = client.patch(f"/api/v1/res.partner/{partner}", json={"name": "Again"})
    assert response.status_code == 503
    assert response.json()["error"]["code"] == "busy"
    with world.transaction() as env:
        assert env["res.partner"].browse(partner).name == "Renamed"
