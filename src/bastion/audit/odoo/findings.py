"""Findings of the Odoo addon audit, and the catalogue of checks that produce them.

>>> spec = CHECKS["BST-ODOO-ACL-EVERYONE"]
>>> spec.severity
<Severity.HIGH: 'high'>
>>> Finding(spec.id, spec.severity, "sale_x/security/ir.model.access.csv", 3, "...").check
'BST-ODOO-ACL-EVERYONE'

Every check has a stable id (``BST-ODOO-...``), a default severity, a one-line title
and a fix. A finding may carry a different severity than its check's default when the
case is worse or milder (an everyone-row that only reads is milder than one that writes).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass


class Severity(enum.Enum):
    INFO = "info"
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"

    @property
    def rank(self) -> int:
        return _RANKS[self]

    @classmethod
    def parse(cls, text: str) -> Severity:
        """Example: ``Severity.parse("High") is Severity.HIGH``; ValueError names the choices."""
        try:
            return cls(text.strip().lower())
        except ValueError:
            choices = ", ".join(s.value for s in cls)
            raise ValueError(f"unknown severity {text!r} (one of {choices})") from None


_RANKS = {s: i for i, s in enumerate(Severity)}


@dataclass(frozen=True)
class CheckSpec:
    id: str
    severity: Severity
    title: str
    fix: str


@dataclass(frozen=True)
class Finding:
    """One problem, located: ``file`` is relative to the PATH the audit was given."""

    check: str
    severity: Severity
    file: str
    line: int | None
    message: str

    @property
    def fix(self) -> str:
        return CHECKS[self.check].fix

    def as_dict(self) -> dict[str, object]:
        return {
            "check": self.check,
            "severity": self.severity.value,
            "file": self.file,
            "line": self.line,
            "message": self.message,
        }


def _spec(check_id: str, severity: Severity, title: str, fix: str) -> CheckSpec:
    return CheckSpec(check_id, severity, title, fix)


S = Severity
CHECKS: dict[str, CheckSpec] = {
    spec.id: spec
    for spec in (
        _spec(
            "BST-ODOO-MALFORMED-FILE", S.MEDIUM,
            "A manifest, CSV, XML or Python file cannot be read",
            "Fix the syntax; Odoo would refuse to install the addon.",
        ),
        _spec(
            "BST-ODOO-PORTAL-INTERNAL-GROUP", S.CRITICAL,
            "Portal or public users reach an internal or admin group",
            "Remove the implication: portal and public groups must never imply "
            "base.group_user or an admin group, directly or through a chain.",
        ),
        _spec(
            "BST-ODOO-USER-TYPE-MIX", S.CRITICAL,
            "A user record is both portal/public and internal",
            "Give the user exactly one user type; drop the internal groups of portal users.",
        ),
        _spec(
            "BST-ODOO-PORTAL-GROUP-WIDENED", S.HIGH,
            "An addon widens base.group_portal or base.group_public",
            "Do not add implied groups to the portal/public groups; grant portal access with "
            "access rows and record rules on base.group_portal instead.",
        ),
        _spec(
            "BST-ODOO-DEFAULT-USER-WIDENED", S.HIGH,
            "Every new or internal user is given an admin group",
            "Do not add admin groups to base.default_user or to base.group_user's implied "
            "groups; grant them to named administrators.",
        ),
        _spec(
            "BST-ODOO-GROUP-IMPLIES-ADMIN", S.MEDIUM,
            "A group implies an administrator group",
            "Let the group imply only what it needs; administrators should be chosen one by one.",
        ),
        _spec(
            "BST-ODOO-ACL-EVERYONE", S.HIGH,
            "An access row with no group applies to every user, portal and public included",
            "Set group_id (base.group_user for internal users, base.group_portal for portal).",
        ),
        _spec(
            "BST-ODOO-ACL-EXTERNAL-WRITE", S.MEDIUM,
            "Portal or public users may write, create or delete records of a model",
            "Give portal/public read access only; let a controller write after checking "
            "access, or restrict the operation with a record rule that names the user.",
        ),
        _spec(
            "BST-ODOO-ACL-UNKNOWN-MODEL", S.LOW,
            "An access row names a model no addon of the tree defines",
            "Fix the model reference (model_<name with dots as underscores>) or add the "
            "addon that defines the model to depends.",
        ),
        _spec(
            "BST-ODOO-PORTAL-NO-RULE", S.HIGH,
            "Portal users can read a model and no record rule separates one customer from another",
            "Add an ir.rule for base.group_portal whose domain names the user, e.g. "
            "[('partner_id', 'child_of', [user.commercial_partner_id.id])].",
        ),
        _spec(
            "BST-ODOO-PUBLIC-NO-RULE", S.MEDIUM,
            "Public (anonymous) users can read every record of a model",
            "Remove public read access, or add a rule for base.group_public that keeps only "
            "records meant to be published.",
        ),
        _spec(
            "BST-ODOO-RULE-LEAKY", S.HIGH,
            "A portal rule gives the same records to every portal user",
            "Make the domain depend on the user (partner, commercial partner, followers), "
            "not on the company only: group rules are OR-ed, so one open rule opens the model.",
        ),
        _spec(
            "BST-ODOO-RULE-GROUPS-GLOBAL", S.MEDIUM,
            "A rule sets global and groups inconsistently",
            "Drop the global field: Odoo computes it (no groups = global). A rule with groups "
            "is a group rule and is OR-ed with the other group rules.",
        ),
        _spec(
            "BST-ODOO-RULE-NO-PERM", S.MEDIUM,
            "A rule has every perm_* set to false",
            "Set the perm_* fields of the operations the rule restricts; Odoo refuses a rule "
            "with none.",
        ),
        _spec(
            "BST-ODOO-RULE-DOMAIN-INVALID", S.MEDIUM,
            "A rule domain does not parse or uses more than literals, user and company ids",
            "Write the domain as a list of (field, operator, value) terms using only literals, "
            "user.<field>, company_id and company_ids.",
        ),
        _spec(
            "BST-ODOO-RULE-UNKNOWN-FIELD", S.MEDIUM,
            "A rule domain names a field its model does not have",
            "Fix the field name or path; Odoo raises on every access once the rule loads.",
        ),
        _spec(
            "BST-ODOO-SQL-INJECTION", S.HIGH,
            "SQL text built with %, +, format() or an f-string is executed",
            "Pass values as parameters: cr.execute('... WHERE id = %s', (value,)), or build "
            "the query with odoo.tools.SQL.",
        ),
        _spec(
            "BST-ODOO-EVAL-NONCONST", S.HIGH,
            "eval, exec or safe_eval runs a value that is not a constant",
            "Parse data with ast.literal_eval or json; never evaluate field values or input.",
        ),
        _spec(
            "BST-ODOO-GETATTR-NONCONST", S.LOW,
            "getattr with a name that is not a constant",
            "Map the allowed names to callables explicitly, or check the name against a "
            "fixed set before calling getattr.",
        ),
        _spec(
            "BST-ODOO-ROUTE-IDOR", S.HIGH,
            "A route reaches records by an id from the request in sudo mode without an "
            "access check",
            "Check access on the record before using it in sudo mode: "
            "record.check_access('read') (or 'write'), or self._document_check_access(model, "
            "id, access_token); or bind the search to the user "
            "(('partner_id', '=', request.env.user.partner_id.id)).",
        ),
        _spec(
            "BST-ODOO-ROUTE-CSRF-WRITE", S.MEDIUM,
            "A route with csrf=False writes data",
            "Keep CSRF protection on routes that change data; only webhooks with their own "
            "signature check may turn it off.",
        ),
        _spec(
            "BST-ODOO-PUBLIC-METHOD-SUDO-WRITE", S.MEDIUM,
            "A public model method writes in sudo mode without an access check",
            "Prefix helper methods with _ (RPC cannot call them), or check access "
            "(self.check_access('write')) before sudo().",
        ),
        _spec(
            "BST-ODOO-QWEB-RAW", S.MEDIUM,
            "A template outputs a value without escaping (t-raw)",
            "Use t-out; mark trusted HTML as Markup in Python after sanitising it.",
        ),
        _spec(
            "BST-ODOO-MARKUP-NONCONST", S.MEDIUM,
            "Markup() wraps a value that is not a constant, so it is never escaped",
            "Use Markup('<b>%s</b>') % value (which escapes value) or sanitise the HTML first.",
        ),
        _spec(
            "BST-ODOO-PORTAL-INTERNAL-FIELD", S.MEDIUM,
            "A portal template shows a field restricted to internal groups",
            "Remove the field from the portal template, or render it only for users of its "
            "groups.",
        ),
    )
}  # fmt: skip


def finding(
    check: str,
    file: str,
    line: int | None,
    message: str,
    severity: Severity | None = None,
) -> Finding:
    """Example: ``finding("BST-ODOO-RULE-NO-PERM", "a/security.xml", 12, "rule x ...")``."""
    spec = CHECKS[check]
    return Finding(check, severity or spec.severity, file, line, message)
