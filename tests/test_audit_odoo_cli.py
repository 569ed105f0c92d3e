"""The ``audit odoo`` command: formats, --output, --fail-on, escaping in HTML."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from bastion.audit.odoo.cli import audit_app

FIXTURES = Path(__file__).parent / "audit_fixtures"
runner = CliRunner()


def _run(*args: str) -> tuple[int, str]:
    result = runner.invoke(audit_app, ["odoo", *args])
    return result.exit_code, result.output


def test_json_lists_findings_with_the_five_keys() -> None:
    code, output = _run(str(FIXTURES / "acl_flaws"), "--format", "json", "--fail-on", "none")
    assert code == 0
    findings = json.loads(output)
    assert len(findings) == 9
    assert set(findings[0]) == {"check", "severity", "file", "line", "message"}
    assert findings[0]["file"] == "acl_flaws/security/ir.model.access.csv"


def test_fail_on_sets_the_exit_code() -> None:
    assert _run(str(FIXTURES / "acl_flaws"))[0] == 1  # default: high
    assert _run(str(FIXTURES / "acl_clean"))[0] == 0
    assert _run(str(FIXTURES / "qweb_flaws"), "--fail-on", "high")[0] == 0
    assert _run(str(FIXTURES / "qweb_flaws"), "--fail-on", "medium")[0] == 1
    code, output = _run(str(FIXTURES / "acl_clean"), "--fail-on", "bad")
    assert code == 2 and "unknown severity" in output


def test_sarif_is_2_1_0_with_a_rule_per_check(tmp_path: Path) -> None:
    out = tmp_path / "audit.sarif"
    code, _ = _run(str(FIXTURES / "rules_flaws"), "--format", "sarif", "--output", str(out))
    assert code == 1
    document = json.loads(out.read_text())
    assert document["version"] == "2.1.0"
    run = document["runs"][0]
    rules = [r["id"] for r in run["tool"]["driver"]["rules"]]
    assert len(rules) == len(set(rules))
    for result in run["results"]:
        assert rules[result["ruleIndex"]] == result["ruleId"]
        location = result["locations"][0]["physicalLocation"]
        assert location["artifactLocation"]["uri"].startswith("rules_flaws/")


def test_html_escapes_what_comes_from_the_audited_files(tmp_path: Path) -> None:
    addon = tmp_path / "evil"
    (addon / "security").mkdir(parents=True)
    (addon / "__manifest__.py").write_text(
        '{"name": "evil", "depends": [], "data": ["security/ir.model.access.csv"]}'
    )
    (addon / "security" / "ir.model.access.csv").write_text(
        "id,name,model_id:id,group_id:id,perm_read,perm_write,perm_create,perm_unlink\n"
        "<script>alert(1)</script>,n,model_res_partner,,1,1,1,1\n"
    )
    out = tmp_path / "audit.html"
    code, _ = _run(str(addon), "--format", "html", "--output", str(out))
    html = out.read_text()
    assert code == 1
    assert "<script>alert" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert 'class="granted"' in html  # the heat map shows what everyone may do


def test_text_report_and_missing_path(tmp_path: Path) -> None:
    code, output = _run(str(FIXTURES / "grp_users"), "--fail-on", "none")
    assert code == 0 and "BST-ODOO-USER-TYPE-MIX" in output and "8 findings" in output
    assert _run(str(tmp_path / "nope"))[0] == 2
