"""``bastion audit odoo`` on the planted-flaw corpus of tests/audit_fixtures.

Every fixture addon holds ``expected.json``: the exact (check, file, line) findings the
audit must report. ``*_clean`` addons are the twins of the flawed ones and expect none.
"""

from __future__ import annotations

import json
import textwrap
from collections import Counter
from pathlib import Path

import pytest

from bastion.audit.odoo import CHECKS, Severity, audit_odoo

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


# The request-driven shapes of code_flaws_idor: (line, check, what the message must say).
IDOR_FILE = "code_flaws_idor/controllers/main.py"
IDOR_SHAPES = [
    (7, "BST-ODOO-ROUTE-IDOR", "find_docs(), called by route export (auth='public') at line 97"),
    (11, "BST-ODOO-SQL-INJECTION", "called by route count (auth='user') at line 113"),
    (25, "BST-ODOO-ROUTE-IDOR", "with search() on id from the request in sudo mode and writes it"),
    (33, "BST-ODOO-ROUTE-IDOR", "route names (auth='public') finds x.doc with search_read() on id"),
    (40, "BST-ODOO-ROUTE-IDOR", "finds x.order with search() on partner_id from the request"),
    (47, "BST-ODOO-ROUTE-IDOR", "finds x.doc with search_fetch() on id from the request"),
    (53, "BST-ODOO-ROUTE-IDOR", "writes it (record.sudo().name = ..., line 54)"),
    (59, "BST-ODOO-ROUTE-IDOR", "writes it (doc['name'] = ..., line 60)"),
    (66, "BST-ODOO-ROUTE-CSRF-WRITE", "route title has csrf=False and assigns doc.name"),
    (72, "BST-ODOO-ROUTE-CSRF-WRITE", "assigns request.env.user.partner_id.email"),
    (76, "BST-ODOO-ROUTE-CSRF-WRITE", "assigns doc.active in _archive()"),
    (93, "BST-ODOO-ROUTE-IDOR", "_get_ticket(), called by route stage (auth='user') at line 88"),
    (
        107,
        "BST-ODOO-ROUTE-IDOR",
        "_find(), called by route preview (auth='user') at line 101 through",
    ),
    (120, "BST-ODOO-SQL-INJECTION", "called by route sorted_docs (auth='user') at line 117"),
    (129, "BST-ODOO-SQL-INJECTION", "called by route tree (auth='user') at line 125"),
]


def test_request_values_are_followed_into_searches_writes_and_helpers() -> None:
    report = audit_odoo([FIXTURES / "code_flaws_idor"])
    found = {(f.line, f.check): f for f in report.findings if f.file == IDOR_FILE}
    assert sorted(found) == sorted((line, check) for line, check, _m in IDOR_SHAPES)
    for line, check, fragment in IDOR_SHAPES:
        assert fragment in found[line, check].message, (line, found[line, check].message)
    # A query built from request input is worse than one built from other values.
    assert {f.severity for f in found.values() if f.check == "BST-ODOO-SQL-INJECTION"} == {
        Severity.CRITICAL
    }


def test_assignments_on_sudo_records_count_as_writes_in_public_methods() -> None:
    report = audit_odoo([FIXTURES / "code_flaws_idor"])
    models = [f for f in report.findings if f.file.endswith("models.py")]
    assert [(f.check, f.line) for f in models] == [
        ("BST-ODOO-PUBLIC-METHOD-SUDO-WRITE", 13),
        ("BST-ODOO-PUBLIC-METHOD-SUDO-WRITE", 17),
        ("BST-ODOO-PUBLIC-METHOD-SUDO-WRITE", 21),
    ]
    assert "assigns doc.state on a sudo record" in models[1].message


def _controller(tmp_path: Path, body: str) -> list[tuple[str, int | None]]:
    addon = tmp_path / "tree" / "ctl"
    (addon / "controllers").mkdir(parents=True)
    (addon / "__manifest__.py").write_text('{"name": "ctl", "depends": [], "data": []}\n')
    header = "from odoo import http\nfrom odoo.http import request\n\n\n"
    (addon / "controllers" / "main.py").write_text(header + textwrap.dedent(body))
    return [(f.check, f.line) for f in audit_odoo([tmp_path / "tree"]).findings]


def test_helpers_are_followed_three_calls_deep_and_recursion_ends(tmp_path: Path) -> None:
    body = """
    class C(http.Controller):
        @http.route("/three", auth="user")
        def three(self, doc_id):
            return self._one(doc_id)

        @http.route("/four", auth="user")
        def four(self, doc_id):
            return self._zero(doc_id)

        def _zero(self, doc_id):
            return self._one(doc_id)

        def _one(self, doc_id):
            return self._two(doc_id) or self._one(doc_id)

        def _two(self, doc_id):
            return self._three(doc_id)

        def _three(self, doc_id):
            return request.env["x.doc"].sudo().search([("id", "=", doc_id)])
    """
    # Only /three is reported: from /four, _three is four calls away.
    found = _controller(tmp_path, body)
    assert found == [("BST-ODOO-ROUTE-IDOR", 25)]
    addon = tmp_path / "tree" / "ctl" / "controllers" / "main.py"
    report = audit_odoo([tmp_path / "tree"])
    assert "called by route three (auth='user') at line 9" in report.findings[0].message
    assert addon.read_text().splitlines()[24].strip().startswith("return request.env")


def test_an_access_check_in_a_helper_clears_the_route(tmp_path: Path) -> None:
    body = """
    class C(http.Controller):
        @http.route("/a", auth="public")
        def a(self, doc_id, token):
            doc = request.env["x.doc"].sudo().browse(doc_id)
            self._verify(doc, token)
            doc.name = "seen"

        def _verify(self, doc, token):
            if not doc._check_access_token(token):
                raise ValueError(token)
    """
    assert _controller(tmp_path, body) == []


def test_a_helper_reached_from_two_routes_is_reported_once(tmp_path: Path) -> None:
    body = """
    class C(http.Controller):
        @http.route("/a", auth="user")
        def a(self, doc_id):
            return self._doc(doc_id)

        @http.route("/b", auth="public")
        def b(self, **kw):
            return self._doc(kw["id"])

        def _doc(self, doc_id):
            return request.env["x.doc"].sudo().browse(int(doc_id))
    """
    assert _controller(tmp_path, body) == [("BST-ODOO-ROUTE-IDOR", 16)]
