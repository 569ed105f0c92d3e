"""``bastion verify``: policy assertions from YAML, checked with the data layer's own
decisions; clear errors for malformed files."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from bastion import Command, Environment, Registry
from bastion.audit.verify import PolicyError, load_policy, verify

POLICY = """
assertions:
  - user: portal.a
    can: read
    model: sale.order
    where: [["partner_id.name", "=", "Contact a"]]
  - user: portal.a
    cannot: read
    model: sale.order
    where: [["partner_id.name", "=", "Contact b"]]
  - type: portal
    cannot: write
    model: "*"
  - user: portal.a
    cannot: read
    model: sale.order
    field: margin
"""
WRONG = """
assertions:
  - user: portal.a
    can: read
    model: sale.order
    where: [["partner_id.name", "=", "Contact b"]]
  - type: portal
    can: unlink
    model: sale.order
  - name: portal sees margins (wrong)
    user: portal.a
    can: read
    model: sale.order
    field: margin
"""


def build(env: Environment) -> None:
    for name in ("a", "b"):
        company = env["res.partner"].create({"name": f"Customer {name}", "is_company": True})
        contact = env["res.partner"].create({"name": f"Contact {name}", "parent_id": company.id})
        env["res.users"].create(
            {
                "login": f"portal.{name}",
                "name": name,
                "partner_id": contact.id,
                "group_ids": [Command.link(env.ref("base.group_portal").id)],
                "company_id": env.ref("base.main_company").id,
                "company_ids": [env.ref("base.main_company").id],
            }
        )
        env["sale.order"].create({"partner_id": contact.id})


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "policy.yaml"
    path.write_text(text)
    return path


def test_true_assertions_pass_and_false_ones_say_why(make_registry: object, tmp_path: Path) -> None:
    registry: Registry = make_registry("sale")  # type: ignore[operator]
    with registry.transaction() as env:
        build(env)
        assert all(o.passed for o in verify(env, load_policy(write(tmp_path, POLICY))))
        outcomes = verify(env, load_policy(write(tmp_path, WRONG)))
    assert [o.passed for o in outcomes] == [False, False, False]
    assert "portal.a may not read sale.order records" in outcomes[0].failures[0]
    assert "unlink on sale.order is not granted" in outcomes[1].failures[0]
    assert outcomes[2].assertion.text == "portal sees margins (wrong)"
    assert "portal.a cannot read sale.order.margin" in outcomes[2].failures[0]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("- a\n", "a list under 'assertions'"),
        ("assertions:\n  - {user: x, model: m}\n", "exactly one of 'can' and 'cannot'"),
        ("assertions:\n  - {user: x, can: drop, model: m}\n", "operation must be one of"),
        ("assertions:\n  - {can: read, model: m}\n", "exactly one of 'user' and 'type'"),
        ("assertions:\n  - {type: admin, can: read, model: m}\n", "'type' is one of"),
        ("assertions:\n  - {user: x, can: read, model: m, colour: red}\n", "unknown key"),
        ("assertions: [\n", "not YAML"),
    ],
)
def test_malformed_policies_name_the_assertion(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(PolicyError, match=message):
        load_policy(write(tmp_path, text))


def test_verify_command_exit_codes(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'verify.db'}"
    registry = Registry(url)
    registry.install("sale")
    with registry.transaction() as env:
        build(env)
    registry.dispose()

    def run(text: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-c", "from bastion.cli import main; main()", "verify",
             str(write(tmp_path, text)), "--db", url],
            capture_output=True, text=True, timeout=120, check=False,
        )  # fmt: skip

    good = run(POLICY)
    assert good.returncode == 0, good.stdout + good.stderr
    assert "4 passed, 0 failed" in good.stdout
    bad = run(WRONG)
    assert bad.returncode == 1 and "FAIL" in bad.stdout and "0 passed, 3 failed" in bad.stdout
