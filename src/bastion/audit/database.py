"""``bastion audit db``: the security configuration of a Bastion database, checked.

>>> findings = audit_database(env, require_2fa_groups=["base.group_user"])  # doctest: +SKIP
>>> [f.check for f in findings]
['BST-DB-ACL-EVERYONE', 'BST-DB-RULE-LEAKY']

Each finding has an id, a severity, what is wrong, the exact offending rows and a fix.
Customer isolation is checked by simulation (``isolation.py``, ``isolation_http.py``):
inside a savepoint that is rolled back, two customers with a portal user each get a
sample of every portal-readable model, and neither user may reach the other's samples,
through the data layer or the portal's routes. Nothing the audit creates survives it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from bastion.auth.accounts import has_second_factor, utcnow
from bastion.auth.passwords import verify_password
from bastion.domain import FALSE, TRUE
from bastion.security.groups import USER_TYPES, closure
from bastion.security.policy import SecurityPolicy
from bastion.security.state import direct_groups

from .isolation import Leak, build_samples, data_layer_leaks, leak_rows, simulated_customers
from .portal_fields import internal_looking_fields

if TYPE_CHECKING:
    from bastion.orm import Environment
    from bastion.security.state import SecurityState

SEVERITIES = ("info", "low", "medium", "high", "critical")
# Admin passwords are tried against the most common ones only: each try is an Argon2
# verification (~50 ms).
ADMIN_PASSWORDS_TRIED = 25


@dataclass
class DbFinding:
    check: str
    severity: str
    message: str
    fix: str
    rows: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, object]:
        return {
            "check": self.check,
            "severity": self.severity,
            "message": self.message,
            "fix": self.fix,
            "rows": self.rows,
        }


def audit_database(
    env: Environment, *, require_2fa_groups: Sequence[str] = (), http: bool = True
) -> list[DbFinding]:
    """Every check's findings, most severe first. ``http`` also runs the isolation
    simulation through the portal's routes (in-process, on the audit's transaction)."""
    su = env(su=True)
    policy = su.registry.security
    assert isinstance(policy, SecurityPolicy)
    state = policy.state(su)
    findings: list[DbFinding] = []
    findings += _user_type_mix(su, state)
    findings += _acl_everyone(state)
    findings += _portal_models(su, policy, state, http=http)
    findings += _broken_rules(su, policy, state)
    findings += _two_factor(su, policy, list(require_2fa_groups))
    findings += _admin_passwords(su, policy)
    findings += _stale_credentials(su)
    findings.sort(key=lambda f: (-SEVERITIES.index(f.severity), f.check))
    return findings


def _user_type_mix(su: Environment, state: SecurityState) -> list[DbFinding]:
    """Bastion refuses these writes; the check proves no such user exists (an import
    through SQL, or a database from elsewhere, could still hold one)."""
    types = {x: state.group_id(x) for x in USER_TYPES}
    rows = []
    for uid, direct in direct_groups(su).items():  # every user: inactive ones too
        groups = closure(state.groups.implied, direct)
        held = [x for x, gid in types.items() if gid is not None and gid in groups]
        if len(held) > 1:
            rows.append(f"res.users({uid}): {', '.join(held)}")
    if not rows:
        return []
    return [
        DbFinding(
            "BST-DB-USER-TYPE-MIX",
            "critical",
            "users hold several user types (a portal or public user is also internal)",
            "remove the group that implies the other type from these users",
            rows,
        )
    ]


def _acl_everyone(state: SecurityState) -> list[DbFinding]:
    writing: list[str] = []
    reading: list[str] = []
    for model, rows in sorted(state.access.items()):
        for row in rows:
            if row.group_id is not None:
                continue
            line = f"ir.model.access {row.name!r} on {model}: {', '.join(sorted(row.perms))}"
            (writing if row.perms - {"read"} else reading).append(line)
    fix = "give the row a group (base.group_user for employees), or delete it"
    found = []
    if writing:
        found.append(
            DbFinding(
                "BST-DB-ACL-EVERYONE",
                "high",
                "access rights with no group grant write/create/unlink to everyone, "
                "portal and public users included",
                fix,
                writing,
            )
        )
    if reading:
        found.append(
            DbFinding(
                "BST-DB-ACL-EVERYONE",
                "medium",
                "access rights with no group let everyone read",
                fix,
                reading,
            )
        )
    return found


def _portal_models(
    su: Environment, policy: SecurityPolicy, state: SecurityState, *, http: bool
) -> list[DbFinding]:
    portal = state.group_id("base.group_portal")
    if portal is None:
        return []
    groups = closure(state.groups.implied, [portal])
    readable = sorted(
        model
        for model, rows in state.access.items()
        if any("read" in r.perms and (r.group_id is None or r.group_id in groups) for r in rows)
        and su.registry.specs.get(model) is not None
    )
    unrestricted: list[str] = []
    leaky: list[str] = []
    simulated: list[str] = []
    leaks: list[Leak] = []
    untested: dict[str, str] = {}
    internal: list[str] = []
    with simulated_customers(su) as customers:
        for model in readable:
            if su.registry.specs[model].access_through is not None:
                simulated.append(model)  # reached through its document: simulated with it
                continue
            rules = [
                r
                for r in state.rules.get(model, ())
                if "read" in r.perms and (r.is_global or r.groups & groups)
            ]
            if not rules:
                unrestricted.append(model)
                continue
            if customers is None:
                continue
            as_a, as_b = (su.with_user(c.user) for c in customers)
            if any(r.groups & groups and policy.rule_domain(as_a, r) == TRUE for r in rules):
                continue  # a portal rule [(1, '=', 1)]: shared with customers on purpose
            simulated.append(model)
            node = policy.rule_node(as_a, model, "read")
            # FALSE denies every record: not a leak (a rule that fails is reported apart).
            if node != FALSE and node == policy.rule_node(as_b, model, "read"):
                leaky.append(f"{model}: {', '.join(repr(r.name) for r in rules)}")
        if customers is not None:
            internal = internal_looking_fields(su.with_user(customers[0].user), readable)
            samples = build_samples(su, customers, simulated)
            leaks, untested = data_layer_leaks(su, customers, samples)
            if http:
                from .isolation_http import portal_leaks  # noqa: PLC0415 - the web stack

                more, unproven = portal_leaks(su, customers, samples)
                leaks += more
                for model, why in unproven.items():
                    untested.setdefault(model, why)
    found = []
    if unrestricted:
        found.append(
            DbFinding(
                "BST-DB-PORTAL-NO-RULE",
                "high",
                "portal users may read these models and no record rule restricts them: "
                "every customer reads every record (if that is meant, e.g. a catalogue, "
                "say so with a rule [(1, '=', 1)] for the portal group)",
                "add a portal rule such as [('partner_id', 'child_of', "
                "[user.commercial_partner_id.id])]",
                unrestricted,
            )
        )
    if leaky:
        found.append(
            DbFinding(
                "BST-DB-RULE-LEAKY",
                "high",
                "the rules of these portal-readable models come out the same for two "
                "portal users of different customers: they do not keep customers apart "
                "(e.g. a rule on company_id only)",
                "make the portal rule depend on the user, e.g. on user.commercial_partner_id",
                leaky,
            )
        )
    if internal:
        found.append(
            DbFinding(
                "BST-DB-PORTAL-INTERNAL-FIELD",
                "medium",
                "portal users may read these fields, whose name or declaration says they "
                "hold internal data",
                "restrict the field to internal users with groups='base.group_user' "
                "(or rename it if it is meant for customers)",
                internal,
            )
        )
    if leaks:
        found.append(
            DbFinding(
                "BST-DB-ISOLATION",
                "critical",
                "in the simulation (two new customers with a portal user each, rolled "
                "back), one customer's user reached the other customer's records",
                "restrict the model's portal rule to the user's own records (e.g. "
                "[('partner_id', 'child_of', [user.commercial_partner_id.id])]), and make "
                "routes read in the visitor's environment, never as superuser",
                leak_rows(leaks),
            )
        )
    if untested:
        found.append(
            DbFinding(
                "BST-DB-ISOLATION-UNTESTED",
                "info",
                "the simulation could not make a record of these models that its own "
                "customer reads, so their isolation is not proven",
                "check these models' portal rules by hand, or state them in a policy for "
                "bastion verify",
                [f"{model}: {why}" for model, why in sorted(untested.items())],
            )
        )
    return found


def _broken_rules(su: Environment, policy: SecurityPolicy, state: SecurityState) -> list[DbFinding]:
    rows = []
    empty = []
    admin = su.ref("base.user_admin", raise_if_not_found=False)
    users = [su] + ([su.with_user(admin)] if admin is not None else [])
    for model, rules in sorted(state.rules.items()):
        for rule in rules:
            where = f"ir.rule({rule.id}) {rule.name!r} on {model}"
            try:
                policy.evaluated_domain(su, rule)
            except Exception as exc:  # noqa: BLE001 - any failure of a rule is the finding
                rows.append(f"{where}: {exc}")
                continue
            if all(policy.rule_domain(env, rule) == FALSE for env in users):
                empty.append(f"{where}: {rule.text}")
    found = []
    if rows:
        found.append(
            DbFinding(
                "BST-DB-RULE-ERROR",
                "medium",
                "these rules do not evaluate; Bastion treats them as denying everything",
                "fix the domain (bastion explain shows it per user) or deactivate the rule",
                rows,
            )
        )
    if empty:
        found.append(
            DbFinding(
                "BST-DB-RULE-DENIES-ALL",
                "low",
                "these rules match no record, whoever asks (the superuser's and the "
                "administrator's values tried): the users they apply to reach nothing of "
                "the model through them; a global one locks every user out",
                "remove the rule, or give it the domain it was meant to have "
                "(an empty list of ids, [(0, '=', 1)] and contradictions match nothing)",
                empty,
            )
        )
    return found


def _two_factor(su: Environment, policy: SecurityPolicy, required: list[str]) -> list[DbFinding]:
    if not required:
        return []
    spec = ",".join(required)
    rows = [
        f"res.users({u.id}) {u.login}"
        for u in su["res.users"].search([])
        if policy.user_in(su.with_user(u), spec) and not has_second_factor(u)
    ]
    if not rows:
        return []
    return [
        DbFinding(
            "BST-DB-2FA-MISSING",
            "medium",
            f"users of {spec} have no second factor although a setting requires it "
            "(they are sent to enrol at their next login)",
            "ask them to enrol at /my/security, or end their sessions",
            rows,
        )
    ]


def _admin_passwords(su: Environment, policy: SecurityPolicy) -> list[DbFinding]:
    tried = _most_common()
    rows = []
    for user in su["res.users"].search([]):
        if not policy.user_in(su.with_user(user), "base.group_system"):
            continue
        credential = su["res.users.credential"].search([("user_id", "=", user.id)], limit=1)
        stored = str(credential.password_hash) if credential and credential.password_hash else None
        if stored and any(verify_password(stored, p).ok for p in tried):
            rows.append(f"res.users({user.id}) {user.login}")
    if not rows:
        return []
    return [
        DbFinding(
            "BST-DB-ADMIN-COMMON-PASSWORD",
            "critical",
            "administrators whose password is one of the most common passwords",
            "change these passwords (bastion user passwd LOGIN) and turn on 2FA",
            rows,
        )
    ]


def _most_common() -> list[str]:
    # The shipped list starts with the most common ones, in order.
    from importlib.resources import files  # noqa: PLC0415

    text = files("bastion.auth").joinpath("common_passwords.txt").read_text(encoding="utf-8")
    words = [w.strip() for w in text.splitlines() if w.strip() and not w.startswith("#")]
    return words[:ADMIN_PASSWORDS_TRIED]


def _stale_credentials(su: Environment) -> list[DbFinding]:
    archived = su["res.users"].search([("active", "=", False)]).ids
    found = []
    rows = [
        f"{model}({r.id}) of res.users({r.user_id.id})"
        for model in ("res.users.session", "res.users.apikey")
        for r in su[model].search([("user_id", "in", archived)])
    ]
    if rows:
        found.append(
            DbFinding(
                "BST-DB-ARCHIVED-CREDENTIALS",
                "medium",
                "sessions or API keys of archived users are still stored (they are "
                "refused, but should not exist)",
                "delete them (bastion apikey revoke; sessions end with bastion user passwd)",
                rows,
            )
        )
    if "portal.share" in su:
        stale = su["portal.share"].search(
            ["|", ("expires_at", "<", utcnow()), ("revoked", "=", True)]
        )
        if stale:
            found.append(
                DbFinding(
                    "BST-DB-STALE-SHARE-LINKS",
                    "low",
                    "expired or revoked share links are still stored",
                    "delete them; they open nothing, but the audit trail keeps their use",
                    [f"portal.share({s.id}) on {s.res_model}({s.res_id})" for s in stale],
                )
            )
    return found
