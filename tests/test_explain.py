"""``explain``: a decision taken apart (groups and their chains, access rights, rules
term by term, field groups, a verdict that agrees with the data layer)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from bastion import Command, Environment, Model, Registry
from bastion.security.explain import explain, top_level_parts


@pytest.fixture
def env(make_registry: object) -> Environment:
    registry: Registry = make_registry("sale")  # type: ignore[operator]
    with registry.transaction() as env:
        yield env


def portal(env: Environment, name: str) -> tuple[Model, Model]:
    company = env["res.partner"].create({"name": f"Customer {name}", "is_company": True})
    contact = env["res.partner"].create({"name": f"Contact {name}", "parent_id": company.id})
    user = env["res.users"].create(
        {
            "login": f"portal.{name}",
            "name": name,
            "partner_id": contact.id,
            "group_ids": [Command.link(env.ref("base.group_portal").id)],
            "company_id": env.ref("base.main_company").id,
            "company_ids": [env.ref("base.main_company").id],
        }
    )
    order = env["sale.order"].create({"partner_id": contact.id})
    return user, order


def test_a_refusal_names_the_rule_and_the_failing_term(env: Environment) -> None:
    alice, _mine = portal(env, "a")
    _bob, theirs = portal(env, "b")
    found = explain(env, alice, "sale.order", "read", theirs.id)
    assert not found.allowed
    assert found.access_granted
    assert "refused by the record rule(s)" in found.sentence
    portal_rules = [r for r in found.group_rules if "child_of" in r.domain]
    assert portal_rules and portal_rules[0].matches is False
    assert [t.matches for t in portal_rules[0].terms] == [False]
    # The verdict is the data layer's: it agrees with what the user's environment does.
    assert env.with_user(alice)["sale.order"].browse(theirs.id).has_access("read") is False
    assert "Contact b" not in json.dumps(found.__dict__, default=str)  # no record values


def test_an_allowed_read_and_the_groups_it_comes_from(env: Environment) -> None:
    alice, mine = portal(env, "a")
    found = explain(env, alice, "sale.order", "read", mine.id)
    assert found.allowed and "may read sale.order" in found.sentence
    assert any(g.name.endswith("Portal") for g in found.groups)
    granting = [row for row in found.access_rows if row.grants]
    assert granting and all(row.applies for row in granting)
    assert {f.field: f.visible for f in found.fields}["margin"] is False


def test_implied_groups_show_their_chain(env: Environment) -> None:
    manager = env["res.users"].create(
        {
            "login": "manager",
            "name": "Manager",
            "group_ids": [Command.link(env.ref("sale.group_sale_manager").id)],
        }
    )
    found = explain(env, manager, "sale.order", "unlink")
    chains = {g.name: g.chain for g in found.groups}
    internal = next(name for name in chains if name.endswith("Internal User"))
    assert len(chains[internal]) >= 3  # manager -> ... -> internal user
    assert found.allowed


def test_no_access_right_is_said_plainly(env: Environment) -> None:
    alice, mine = portal(env, "a")
    found = explain(env, alice, "sale.order", "write", mine.id)
    assert not found.allowed
    assert "no access right grants write" in found.sentence


def test_missing_records_and_unknown_models(env: Environment) -> None:
    alice, _mine = portal(env, "a")
    assert "does not exist" in explain(env, alice, "sale.order", "read", 999_999).sentence
    from bastion.errors import BastionError

    with pytest.raises(BastionError, match="unknown model"):
        explain(env, alice, "no.such", "read")


def test_top_level_parts_split_the_implicit_and() -> None:
    a, b, c = ("a", "=", 1), ("b", "=", 2), ("c", "=", 3)
    assert top_level_parts([a, b]) == [[a], [b]]
    assert top_level_parts(["|", a, b, c]) == [["|", a, b], [c]]
    assert top_level_parts(["!", a, "&", b, c]) == [["!", a], ["&", b, c]]


def test_explain_command(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'explain.db'}"
    registry = Registry(url)
    registry.install("sale")
    with registry.transaction() as env:
        alice, mine = portal(env, "a")
        _bob, theirs = portal(env, "b")
        ids = (mine.id, theirs.id)
    registry.dispose()

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-c", "from bastion.cli import main; main()", "explain", *args],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )

    allowed = run("--user", "portal.a", "--model", "sale.order", "--id", str(ids[0]), "--db", url)
    assert allowed.returncode == 0, allowed.stderr
    assert "may read sale.order" in allowed.stdout
    denied = run(
        "--user", "portal.a", "--model", "sale.order", "--id", str(ids[1]), "--json", "--db", url
    )
    assert denied.returncode == 1
    assert json.loads(denied.stdout)["allowed"] is False


def test_the_matrix_of_a_user_type_and_of_a_user(env: Environment) -> None:
    from bastion.errors import BastionError
    from bastion.security.matrix import access_matrix

    alice, _mine = portal(env, "a")
    cells = {(c.model, c.operation): c for c in access_matrix(env, user_type="portal")}
    order_read = cells[("sale.order", "read")]
    assert order_read.allowed and any("portal" in name for name in order_read.rules)
    assert not cells[("sale.order", "write")].allowed
    assert not cells[("res.users.credential", "read")].allowed
    assert cells[("ir.attachment", "read")].rules[-1].startswith("through its document")
    mine = {(c.model, c.operation): c.allowed for c in access_matrix(env, user=alice)}
    assert mine == {key: cell.allowed for key, cell in cells.items()}
    with pytest.raises(BastionError, match="unknown user type"):
        access_matrix(env, user_type="admin")
