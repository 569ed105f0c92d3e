"""``bastion audit db``: planted flaws are found with their rows, a clean database
(the demo) reports nothing, and the simulation leaves nothing behind."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from pathlib import Path

import pytest

from bastion import Command, Environment, Registry
from bastion.audit.database import audit_database
from bastion.auth.accounts import import_password_hash, set_password
from bastion.auth.apikeys import create_api_key
from bastion.auth.passwords import hash_password
from test_security_scenarios import add_acl, add_rule, model_id

APPS = ("contacts", "sale", "account", "project", "helpdesk", "portal")


@pytest.fixture
def env(make_registry: object) -> Environment:
    registry: Registry = make_registry(*APPS)  # type: ignore[operator]
    with registry.transaction() as env:
        yield env


def checks(env: Environment, **kw: object) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for f in audit_database(env, **kw):  # type: ignore[arg-type]
        found.setdefault(f"{f.check}/{f.severity}", []).extend(f.rows)
    return found


def test_the_built_in_apps_audit_clean(env: Environment) -> None:
    assert checks(env) == {}
    assert not env["res.users"].search([("login", "like", "__audit")])


def test_planted_flaws_are_found_with_their_rows(env: Environment) -> None:
    add_acl(env, "helpdesk.ticket", None, "rw")  # everyone writes tickets
    add_acl(env, "project.collaborator", None, "r")
    # a portal rule on company only: every customer of the company sees every order line
    env["ir.rule"].search([("name", "ilike", "portal reads its own")]).filtered(
        lambda r: r.model_id.model == "sale.order.line"
    ).write({"domain_force": "[('order_id.company_id', 'in', company_ids)]"})
    portal = env.ref("base.group_portal")
    env["ir.model.access"].create(
        {
            "name": "attachments of products for portal",
            "model_id": model_id(env, "res.users.apikey"),
            "group_id": portal.id,
            "perm_read": True,
        }
    )
    admin = env.ref("base.user_admin")
    import_password_hash(admin, hash_password("123456"))
    gone = env["res.users"].create(
        {
            "login": "gone",
            "name": "Gone",
            "group_ids": [Command.link(env.ref("base.group_user").id)],
        }
    )
    create_api_key(gone, "old", days=5)
    gone.write({"active": False})
    order = env["sale.order"].create({"partner_id": env.ref("base.main_partner").id})
    env["portal.share"].create(
        {
            "res_model": "sale.order",
            "res_id": order.id,
            "token_hash": "x",
            "expires_at": dt.datetime(2020, 1, 1),
        }
    )
    found = checks(env, require_2fa_groups=["base.group_system"])
    assert any("helpdesk.ticket" in row for row in found["BST-DB-ACL-EVERYONE/high"])
    assert any("project.collaborator" in row for row in found["BST-DB-ACL-EVERYONE/medium"])
    assert any(r.startswith("sale.order.line") for r in found["BST-DB-RULE-LEAKY/high"])
    assert found["BST-DB-PORTAL-NO-RULE/high"] == ["res.users.apikey"]
    assert found["BST-DB-ADMIN-COMMON-PASSWORD/critical"] == [f"res.users({admin.id}) admin"]
    assert any("admin" in row for row in found["BST-DB-2FA-MISSING/medium"])
    assert any("res.users.apikey" in row for row in found["BST-DB-ARCHIVED-CREDENTIALS/medium"])
    assert len(found["BST-DB-STALE-SHARE-LINKS/low"]) == 1
    assert not env["res.users"].search([("login", "like", "__audit")])
    set_password(admin, "a-strong-passphrase-for-root")


def test_a_rule_that_no_longer_evaluates_is_reported(env: Environment) -> None:
    rule = add_rule(env, "helpdesk.ticket", "[('name', '=', user.name)]")
    # Written under the data layer (as an import would): the name points at nothing.
    table = env.registry.specs["ir.rule"].table
    env.cr.execute(
        table.update().where(table.c.id == rule.id).values(domain_force="[('x', '=', user.nope)]")
    )
    env.transaction.invalidate("ir.rule")
    env.registry.security.changed(env, "ir.rule", None)
    assert "BST-DB-RULE-ERROR/medium" in checks(env)


def test_audit_db_command(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'audit.db'}"
    registry = Registry(url)
    registry.install(*APPS)
    with registry.transaction() as env:
        add_acl(env, "helpdesk.ticket", None, "rw")
    registry.dispose()

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-c", "from bastion.cli import main; main()", "audit", "db",
             "--db", url, *args],
            capture_output=True, text=True, timeout=120, check=False,
        )  # fmt: skip

    failing = run("--json")
    assert failing.returncode == 1
    assert {f["check"] for f in json.loads(failing.stdout)} == {"BST-DB-ACL-EVERYONE"}
    assert run("--fail-on", "critical").returncode == 0
    assert "fix:" in run("--fail-on", "none").stdout


def test_rules_that_match_nothing_are_reported(env: Environment) -> None:
    add_rule(env, "helpdesk.ticket", "[(0, '=', 1)]")
    add_rule(env, "project.task", "[('id', 'in', [])]")
    add_rule(env, "sale.order", "[('user_id', '=', user.id)]")  # empty for some: not this
    rows = checks(env)["BST-DB-RULE-DENIES-ALL/low"]
    assert [row.split(" on ")[1].split(":")[0] for row in rows] == [
        "helpdesk.ticket",
        "project.task",
    ]


def test_fields_that_look_internal_and_that_portal_reads_are_reported(env: Environment) -> None:
    from bastion.audit.portal_fields import why_internal

    assert why_internal("margin", None, None) == "name: margin"
    assert why_internal("x_cost_price", None, None) == "name: cost"
    assert why_internal("notes", "Private notes", None) == "declared 'private'"
    assert why_internal("default_code", "Internal Reference", None) is None
    assert why_internal("client_order_ref", "Customer Reference", None) is None
    # margin is restricted with groups= to sales users: lifting that exposes it.
    margin = env.registry.specs["sale.order"].fields["margin"]
    groups, margin.groups = margin.groups, None
    try:
        env.registry.security.changed(env, "res.groups", None)
        rows = checks(env)["BST-DB-PORTAL-INTERNAL-FIELD/medium"]
    finally:
        margin.groups = groups
    assert rows == ["sale.order.margin (name: margin)"]
