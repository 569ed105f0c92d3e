"""``bastion audit odoo``: a static security audit of Odoo addon trees.

>>> report = audit_odoo([Path("oca/helpdesk")])                    # doctest: +SKIP
>>> [(f.check, f.file, f.line) for f in report.findings][:1]       # doctest: +SKIP
[('BST-ODOO-RULE-GROUPS-GLOBAL', 'helpdesk_mgmt/security/helpdesk_security.xml', 125)]

Nothing of the audited tree is imported, executed or evaluated: manifests and Python
files are read with :mod:`ast`, data files with lxml (entities, DTDs and network off),
rule domains with Bastion's whitelist interpreter. A file that cannot be read is a
finding (``BST-ODOO-MALFORMED-FILE``), never a crash.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .checks import run_security_checks
from .code_checks import check_python
from .findings import CHECKS, CheckSpec, Finding, Severity
from .permissions import Matrix, access_matrix
from .qweb_checks import check_templates
from .workspace import OdooTree, Progress, load_tree


@dataclass(frozen=True)
class AuditReport:
    tree: OdooTree
    findings: list[Finding]
    matrix: Matrix

    def worst(self) -> Severity | None:
        return max((f.severity for f in self.findings), key=lambda s: s.rank, default=None)


def _sort_key(item: Finding) -> tuple[str, int, str, str]:
    return (item.file, item.line or 0, item.check, item.message)


def audit_odoo(paths: list[Path], progress: Progress | None = None) -> AuditReport:
    """Audit the addons under ``paths``; findings sorted by file, line and check."""
    tree = load_tree(paths, progress)
    findings = [*tree.problems, *run_security_checks(tree), *check_templates(tree)]
    for addon in tree.addons:
        findings.extend(check_python(tree.python[addon.name]))
    unique = sorted(set(findings), key=_sort_key)
    return AuditReport(tree, unique, access_matrix(tree))


__all__ = ["CHECKS", "AuditReport", "CheckSpec", "Finding", "Severity", "audit_odoo"]
