"""schemathesis against the REST API's own OpenAPI document, on SQLite.

For every model the document describes: GET list and GET one with a portal key of
customer A; POST and PATCH on res.partner (refused for a portal user) and POST on
helpdesk.ticket (allowed). The same writes again with an internal key, which may
make them. Each response must not be a server error, must have a documented status,
content type, headers and body, and a portal key must never receive a record of
customer B (no id of B's records on that model, no name of them anywhere) nor the
value of a field restricted to internal groups.

Besides the generated ids, every operation on one record is tried with the ids of
B's records of its model, and with an id that does not exist. schemathesis's pytest
plugin does not run on this pytest (it reads a removed ``Function._nodeid``), so the
operations are driven through ``as_strategy`` with Hypothesis directly.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from starlette.testclient import TestClient

from bastion import Registry
from bastion.auth.apikeys import create_api_key
from test_api_rest import APPS, MISSING_ID, Customer, make_customer, make_internal_user
from webapp import make_app

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
CONFIG = schemathesis.Config.from_dict(
    # The tests send the key; generated Authorization headers would only test 401s.
    {"generation": {"with-security-parameters": False}}
)
EXAMPLES = 10  # per operation and generation mode: the file stays well under a minute
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
# Values of fields restricted by groups= (partner comments, order internal notes).
RESTRICTED_VALUES = ("PARTNER-COMMENT-SECRET", "ORDER-NOTE-SECRET")
WRITES = {("POST", "res.partner"), ("PATCH", "res.partner"), ("POST", "helpdesk.ticket")}


@dataclass
class World:
    registry: Registry
    a: Customer
    b: Customer
    internal_key: str

    def b_ids(self) -> dict[str, set[int]]:
        b = self.b
        return {
            "res.partner": {b.company, b.contact},
            "res.users": {b.user},
            "sale.order": set(b.orders),
            "sale.order.line": set(b.lines),
            "helpdesk.ticket": set(b.tickets),
        }

    def b_names(self) -> list[str]:
        return [
            "Customer B",
            "Contact B",
            "Portal B",
            "REF-B-",
            "Ticket B",
            "Widget line B",
            *self.b.order_names,
        ]


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    registry = Registry(f"sqlite:///{tmp_path_factory.mktemp('fuzz') / 'fuzz.db'}")
    try:
        registry.install(*APPS)
        with registry.transaction() as env:
            a = make_customer(env, "A", orders=3)
            b = make_customer(env, "B", orders=2)
            internal = create_api_key(make_internal_user(env, "agent"), "fuzz", days=30)
        yield World(registry, a, b, internal)
    finally:
        registry.dispose()


@pytest.fixture(scope="module")
def app(world: World) -> Any:
    # Thousands of requests in a minute: the per-key limit must not be what answers.
    return make_app(world.registry, api_rate_limit="100000 per 1 minute")


@pytest.fixture(scope="module")
def operations(app: Any) -> list[Any]:
    """Every operation of the app's document that these tests run."""
    document = TestClient(app).get("/api/v1/openapi.json").json()
    schema = schemathesis.openapi.from_dict(document, config=CONFIG)
    schema.app = app
    found = []
    for result in schema.get_all_operations():
        operation = result.ok()
        method, model = operation.method.upper(), model_of(operation)
        if method == "GET" or (method, model) in WRITES:
            found.append(operation)
    return found


def model_of(operation: Any) -> str:
    return str(operation.path.split("/")[3])


def records_in(response: Any) -> list[dict[str, Any]]:
    if response.headers.get("content-type") != "application/json" or not response.content:
        return []
    body = json.loads(response.content)
    if isinstance(body, dict) and isinstance(body.get("data"), list):
        return [row for row in body["data"] if isinstance(row, dict)]
    return [body] if isinstance(body, dict) and "id" in body else []


def call(case: Any, key: str) -> Any:
    response = case.call(headers={"Authorization": f"Bearer {key}"})
    case.validate_response(response, checks=CHECKS)
    # A limit or a throttle answering would leave the API itself untested.
    assert response.status_code != 429, response.text
    return response


def fuzz(operation: Any, check: Callable[[Any], None]) -> None:
    """``check`` on generated cases of ``operation``: valid input, then invalid."""
    for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):

        @FUZZ
        @given(case=operation.as_strategy(generation_mode=mode))
        def run(case: Any) -> None:
            check(case)

        run()


def visible_ids(app: Any, model: str, key: str) -> list[int]:
    answer = TestClient(app).get(
        f"/api/v1/{model}", params={"limit": "3"}, headers={"Authorization": f"Bearer {key}"}
    )
    return [row["id"] for row in answer.json()["data"]] if answer.status_code == 200 else []


def assert_nothing_of_b(world: World, operation: Any, response: Any) -> None:
    forbidden = world.b_ids().get(model_of(operation), set())
    leaked = [row["id"] for row in records_in(response) if row.get("id") in forbidden]
    assert not leaked, f"{operation.label} returned B's records {leaked}"
    text = response.content.decode("utf-8", "replace")
    for name in world.b_names():
        assert name not in text, f"{operation.label} returned {name!r}"
    for secret in RESTRICTED_VALUES:
        assert secret not in text, f"{operation.label} returned a restricted field's value"


def test_portal_key_of_customer_a(app: Any, world: World, operations: list[Any]) -> None:
    key = world.a.portal_key
    ids = world.b_ids()
    for operation in operations:

        def check(case: Any, operation: Any = operation) -> None:
            assert_nothing_of_b(world, operation, call(case, key))

        fuzz(operation, check)
        if operation.path.endswith("/{id}") and operation.method.upper() == "GET":
            # Besides the generated ids, which seldom exist: B's ids (each must answer
            # as a missing record) and those A reads (each must conform to the schema).
            model = model_of(operation)
            theirs = sorted(ids.get(model, set())) + [MISSING_ID]
            for rid in theirs + visible_ids(app, model, key):
                response = call(operation.Case(path_parameters={"id": rid}), key)
                if rid in theirs:
                    assert response.status_code in (403, 404), (operation.label, rid)
                assert_nothing_of_b(world, operation, response)


def test_internal_key_writes(app: Any, world: World, operations: list[Any]) -> None:
    writes = [op for op in operations if op.method.upper() in ("POST", "PATCH")]
    assert {(op.method.upper(), model_of(op)) for op in writes} == WRITES

    def check(case: Any) -> None:
        call(case, world.internal_key)

    for operation in writes:
        fuzz(operation, check)


def test_every_model_is_listed_and_read(operations: list[Any]) -> None:
    reads = {(op.path, op.method.upper()) for op in operations if op.method.upper() == "GET"}
    models = {model_of(op) for op in operations}
    assert {"sale.order", "sale.order.line", "res.partner", "helpdesk.ticket"} <= models
    for model in models:
        assert (f"/api/v1/{model}", "GET") in reads and (f"/api/v1/{model}/{{id}}", "GET") in reads
