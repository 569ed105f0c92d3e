"""``bastion audit odoo`` on the planted-flaw corpus of tests/audit_fixtures.

Every fixture addon holds ``expected.json``: the exact (check, file, line) findings the
audit must report. ``*_clean`` addons are the twins of the flawed ones and expect none.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from bastion.audit.odoo import CHECKS, audit_odoo

FIXTURES = Path(__file__).parent / "audit_fixtures"
ADDONS = sorted(p.name for p in FIXTURES.iterdir() if (p / "__manifest__.py").is_file())


def _expected(name: str) -> list[tuple[str, str, int | None]]:
    rows = json.loads((FIXTURES / name / "expected.json").read_text(encoding="utf-8"))
    return [(check, file, line) for check, file, line in rows]


@pytest.mark.parametrize("name", ADDONS)
def test_fixture_findings_are_exactly_the_planted_flaws(name: str) -> None:
    report = audit_odoo([FIXTURES / name])
    found = [(f.check, f.file, f.line) for f in report.findings]
    assert found == _expected(name)


def test_every_check_has_three_planted_flaws_and_a_clean_twin() -> None:
    planted = Counter(check for name in ADDONS for check, _f, _l in _expected(name))
    assert {check: planted[check] for check in CHECKS if planted[check] < 3} == {}
    clean = [name for name in ADDONS if name.endswith("_clean")]
    assert len(clean) >= 6
    assert all(_expected(name) == [] for name in clean)


def test_the_whole_corpus_at_once_finds_the_same_flaws() -> None:
    # Group analysis is tree-wide, so only per-file checks are compared here.
    together = audit_odoo([FIXTURES]).findings
    code = {(f.check, f.file, f.line) for f in together if f.file.endswith(".py")}
    alone = {row for name in ADDONS for row in _expected(name) if row[1].endswith(".py")}
    assert code == alone


def test_nothing_of_the_audited_tree_runs(tmp_path: Path) -> None:
    canary = tmp_path / "ran"
    addon = tmp_path / "tree" / "trap"
    (addon / "models").mkdir(parents=True)
    (addon / "__manifest__.py").write_text('{"name": "trap", "depends": [], "data": []}\n')
    (addon / "models" / "trap.py").write_text(
        f"from pathlib import Path\nPath({str(canary)!r}).write_text('x')\n"
        "class T:\n    _name = 'x.trap'\n"
    )
    (addon / "__init__.py").write_text("from . import models\n")
    report = audit_odoo([tmp_path / "tree"])
    assert [a.name for a in report.tree.addons] == ["trap"]
    assert "x.trap" in report.tree.models
    assert not canary.exists()


def test_files_are_relative_to_the_path_given() -> None:
    report = audit_odoo([FIXTURES / "acl_flaws"])
    assert {f.file for f in report.findings} == {"acl_flaws/security/ir.model.access.csv"}
    whole = audit_odoo([FIXTURES])
    assert any(f.file == "acl_flaws/security/ir.model.access.csv" for f in whole.findings)
