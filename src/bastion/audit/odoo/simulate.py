"""Evaluate a rule's domain for two portal users of the same company, without Odoo.

>>> outcome = simulate_rule("[('partner_id', '=', user.partner_id.id)]", schema)
>>> outcome.separates, outcome.error
(True, None)
>>> simulate_rule("[('company_id', '=', user.company_id.id)]", schema).separates
False

The text is compiled by :func:`bastion.expr.compile_expression` with the rule profile
(literals, ``user.<field>``, ``company_id``, ``company_ids``, whitelisted calls) and
evaluated with fake users: every record reached from the user gets an id of its own
per user, except what is reached through the company, which both users share. A rule
*separates* customers when the two domains differ; one that does not (company only,
``[(1, '=', 1)]``, a flag) gives every portal user the same records.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from bastion.errors import ExpressionError
from bastion.expr import RULE_PROFILE, SchemaLookup, compile_expression

SHARED = ("company_id", "company_ids")
COMPANY_ID = 1


@dataclass
class _Ids:
    table: dict[tuple[str, tuple[str, ...]], int] = field(default_factory=dict)

    def of(self, owner: str, path: tuple[str, ...]) -> int:
        key = ("shared", path) if path and path[0] in SHARED else (owner, path)
        return self.table.setdefault(key, 100 + len(self.table))


@dataclass(frozen=True)
class FakeRecord:
    """A record reached from a fake user: any field is another fake record."""

    owner: str
    path: tuple[str, ...]
    ids: _Ids

    def expr_field(self, name: str) -> object:
        if name == "id":
            return self.ids.of(self.owner, self.path)
        if name == "ids":
            return [self.ids.of(self.owner, self.path)]
        return FakeRecord(self.owner, (*self.path, name), self.ids)


@dataclass(frozen=True)
class RuleOutcome:
    """``domains``: the domain for each fake user (None when evaluation failed)."""

    separates: bool
    error: ExpressionError | None
    domains: tuple[object, object] | None


def _plain(value: object) -> object:
    """Records become their ids, so that a domain compares and parses as Odoo's would."""
    if isinstance(value, FakeRecord):
        return value.expr_field("id")
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, tuple):
        return tuple(_plain(v) for v in value)
    return value


def simulate_rule(text: str, schema: SchemaLookup | None = None) -> RuleOutcome:
    try:
        compiled = compile_expression(text, RULE_PROFILE, schema=schema)
        ids = _Ids()
        domains = tuple(
            _plain(
                compiled.evaluate(
                    {
                        "user": FakeRecord(owner, (), ids),
                        "company_id": COMPANY_ID,
                        "company_ids": [COMPANY_ID],
                    }
                )
            )
            for owner in ("alice", "bob")
        )
    except ExpressionError as exc:
        return RuleOutcome(False, exc, None)
    first, second = domains
    return RuleOutcome(first != second, None, (first, second))
