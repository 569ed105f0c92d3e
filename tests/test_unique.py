"""Unique constraints (``_sql_constraints``, ``bastion.orm.unique``), on SQLite and
PostgreSQL: a duplicate is a ValidationError with the declared message and the
transaction goes on; two transactions creating one login at once do not both succeed;
a database whose rows already break a new constraint still starts."""

from __future__ import annotations

import logging
import threading

import pytest
import sqlalchemy as sa

from bastion import ConstructionError, Model, Registry, ValidationError, fields
from bastion.orm.registry import ModelRegistry
from conftest import RegistryFactory
from pg import wait_for_a_lock_wait


@pytest.fixture
def codes(make_registry: RegistryFactory) -> Registry:
    return make_registry("test_unique")


def test_a_duplicate_is_refused_with_the_declared_message(codes: Registry) -> None:
    with codes.transaction() as env:
        main = int(env.ref("base.main_company").id)
        other = int(env["res.company"].create({"name": "Other"}).id)
        env["test.code"].create({"code": "A", "company_id": main, "reference": "R1"})
        message = r"A code is used once per company\. \(test\.code: code, company_id\)"
        with pytest.raises(ValidationError, match=message):
            env["test.code"].create({"code": "A", "company_id": main})
        # The savepoint undid the insert: the transaction goes on.
        twin = env["test.code"].create({"code": "A", "company_id": other})
        with pytest.raises(ValidationError, match=r"References are unique\. \(test\.code: ref"):
            twin.write({"reference": "R1"})
        assert twin.reference is False
        # Empty values are not values: any number of codes without a reference.
        env["test.code"].create([{"code": f"N{n}", "company_id": main} for n in range(3)])
    with codes.transaction() as env:
        assert env["test.code"].search_count([]) == 5


@pytest.mark.parametrize("backend", ["postgresql"])
def test_one_login_created_by_two_transactions_at_once_is_refused_once(
    make_registry: RegistryFactory,
) -> None:
    """The second transaction's Python check cannot see the first one's uncommitted
    user; its insert waits for the first to commit, then breaks the index."""
    registry = make_registry("base")
    first_created = threading.Event()
    outcome: list[BaseException | None] = []

    def second() -> None:
        assert first_created.wait(timeout=30)
        try:
            with registry.transaction() as env:
                env["res.users"].create({"login": "dup", "name": "Second"})
            outcome.append(None)
        except BaseException as exc:  # noqa: BLE001 - reported by the test
            outcome.append(exc)

    worker = threading.Thread(target=second)
    worker.start()
    with registry.transaction() as env:
        env["res.users"].create({"login": "dup", "name": "First"})
        first_created.set()
        wait_for_a_lock_wait(registry.url)  # the second insert, behind the index
    worker.join(timeout=30)
    assert len(outcome) == 1 and isinstance(outcome[0], ValidationError)
    assert "Two users cannot have the same login. (res.users: login)" in str(outcome[0])
    with registry.transaction() as env:
        assert env["res.users"].search([("login", "=", "dup")]).mapped("name") == ["First"]


def test_rows_that_break_a_new_constraint_leave_it_off_with_a_warning(
    codes: Registry, caplog: pytest.LogCaptureFixture
) -> None:
    """A database made before the constraint, holding duplicates: the registry starts,
    warns, and creates the index once the duplicates are gone."""
    with codes.engine.begin() as conn:
        conn.execute(sa.text("DROP INDEX test_code_reference_uniq"))
    with codes.transaction() as env:
        env["test.code"].create([{"code": c, "reference": "same"} for c in ("A", "B")])
    with caplog.at_level(logging.WARNING, logger="bastion.orm.registry"):
        codes.create_schema()
    assert "the unique constraint test_code_reference_uniq is not enforced" in caplog.text
    assert "test_code_reference_uniq" not in _indexes(codes)

    with codes.transaction() as env:
        env["test.code"].search([("code", "=", "B")]).write({"reference": "other"})
    codes.create_schema()
    assert "test_code_reference_uniq" in _indexes(codes)
    with codes.transaction() as env, pytest.raises(ValidationError, match="References are"):
        env["test.code"].create({"code": "C", "reference": "same"})


def _indexes(registry: Registry) -> set[str]:
    with registry.engine.connect() as conn:
        return {str(ix["name"]) for ix in sa.inspect(conn).get_indexes("test_code")}


@pytest.mark.parametrize(
    ("declared", "message"),
    [
        (
            [("amount_positive", "CHECK (amount > 0)", "Positive.")],
            r"test\.thing: _sql_constraints 'amount_positive': only UNIQUE \(field, \.\.\.\) "
            r"is supported, not 'CHECK \(amount > 0\)'; write other checks in Python",
        ),
        (
            [("name_uniq", "UNIQUE (name, colour)", "Once.")],
            r"test\.thing: _sql_constraints 'name_uniq': 'colour' is not a stored field",
        ),
        (
            [("name_uniq", "UNIQUE (name, name)", "Once.")],
            r"'name_uniq': a field is named twice in 'UNIQUE \(name, name\)'",
        ),
        (
            [("Name Key", "UNIQUE (name)", "Once.")],
            r"'Name Key': a constraint's name is lower-case letters, digits and _",
        ),
        (
            [("name_uniq", "UNIQUE (name)")],
            r"each _sql_constraints entry is \(name, definition, message\), not \('name_uniq'",
        ),
    ],
)
def test_constraints_that_cannot_be_enforced_are_refused_when_declared(
    declared: list[tuple[str, ...]], message: str
) -> None:
    class Thing(Model):
        _name = "test.thing"
        _sql_constraints = declared  # type: ignore[assignment]
        name = fields.Char()
        amount = fields.Integer()

    registry = ModelRegistry("sqlite://")
    with pytest.raises(ConstructionError, match=message):
        registry.add_models("test", [Thing])
