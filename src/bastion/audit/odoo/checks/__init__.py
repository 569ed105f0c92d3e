"""The tree-wide checks, one module per family.

>>> findings = run_security_checks(load_tree([Path("addons")]))   # doctest: +SKIP
"""

from __future__ import annotations

from ..findings import Finding
from ..workspace import OdooTree
from .access import check_access
from .groups import check_groups
from .rules import check_rules


def run_security_checks(tree: OdooTree) -> list[Finding]:
    return [*check_groups(tree), *check_access(tree), *check_rules(tree)]


__all__ = ["check_access", "check_groups", "check_rules", "run_security_checks"]
