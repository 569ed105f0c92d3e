"""Access-right checks: rows for everyone, portal/public rows that write, rows that name
a model the addon does not define or extend.

>>> [f.check for f in check_access(tree)]                            # doctest: +SKIP
['BST-ODOO-ACL-EVERYONE', 'BST-ODOO-ACL-EXTERNAL-WRITE']
"""

from __future__ import annotations

from ..findings import Finding, Severity, finding
from ..permissions import access_model, user_type_groups
from ..security_files import OPERATIONS, AccessRow
from ..simulate import simulate_rule
from ..workspace import OdooTree

WRITES = frozenset({"write", "create", "unlink"})


def _ops(perms: frozenset[str]) -> str:
    return ", ".join(op for op in OPERATIONS if op in perms)


def check_access(tree: OdooTree) -> list[Finding]:
    found: list[Finding] = []
    types = user_type_groups(tree)
    for row in tree.security.access:
        model = access_model(tree, row)
        place = row.place
        if row.kind == "acl" and row.group is None and row.perms:
            severity = Severity.HIGH if row.perms & WRITES else Severity.MEDIUM
            message = (
                f"{row.xmlid} has no group: every user, portal and public included, may "
                f"{_ops(row.perms)} {model}"
            )
            found.append(finding("BST-ODOO-ACL-EVERYONE", place.rel, place.line, message, severity))
        writes = row.perms & WRITES
        if row.group is not None and writes and not _separated(row):
            for kind in ("public", "portal"):
                if row.group in types[kind]:
                    severity = Severity.HIGH if kind == "public" else Severity.MEDIUM
                    message = f"{row.xmlid} lets {kind} users ({row.group}) {_ops(writes)} {model}"
                    found.append(
                        finding(
                            "BST-ODOO-ACL-EXTERNAL-WRITE", place.rel, place.line, message, severity
                        )
                    )
                    break
        unknown = _unknown_model(tree, row)
        if unknown:
            found.append(finding("BST-ODOO-ACL-UNKNOWN-MODEL", place.rel, place.line, unknown))
    return found


def _separated(row: AccessRow) -> bool:
    """An Odoo 19 access row whose domain names the user limits each user to their records."""
    return row.domain is not None and simulate_rule(row.domain).separates


def _unknown_model(tree: OdooTree, row: AccessRow) -> str | None:
    module = row.xmlid.partition(".")[0]
    if not row.model_is_xmlid or row.model.partition(".")[0] != module:
        return None
    name = tree.model_name(row.model)
    own = {
        cls.name for merged in tree.models.values() for cls in merged.classes
        if cls.module == module
    }  # fmt: skip
    if name is not None and name in own:
        return None
    local = row.model.partition(".")[2]
    return (
        f"{row.xmlid} names {local}, but addon {module} neither defines nor extends that "
        "model (Odoo fails to install it)"
    )
