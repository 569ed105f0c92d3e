"""The isolation simulation of ``bastion audit db``: two customers, a sample record of
every portal-readable model for each, and proof that neither customer's user reaches
the other's records.

>>> with simulated_customers(su) as customers:                    # doctest: +SKIP
...     samples = build_samples(su, customers, portal_models)
...     leaks, untested = data_layer_leaks(su, customers, samples)

Samples are linked the way the model links them, so far as the model says: every field
pointing at a partner points into the sample's customer, followers are that customer's
contact, other relations point at the same customer's samples, and the values the
portal rules compare with constants (``privacy_visibility = 'portal'``, ``state =
'posted'``) are taken from the rules themselves. Whether that worked is checked, not
assumed: a sample its own customer's user cannot read proves nothing, and is reported
as untested rather than as isolated.

Everything happens inside a savepoint that is rolled back (``simulated_customers``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from bastion.errors import AccessError, MissingError
from bastion.security.policy import SecurityPolicy

from .isolation_samples import Customer, Samples, build_samples, simulated_customers

if TYPE_CHECKING:
    from bastion.orm import Environment, Model


# -- the data layer's answer --------------------------------------------------------------
@dataclass(frozen=True)
class Leak:
    model: str
    reader: str  # the customer whose user reached the record
    owner: str
    record_id: int
    how: str
    rules: tuple[str, ...]


def rules_applied(su: Environment, user: Model, model: str) -> tuple[str, ...]:
    policy = su.registry.security
    assert isinstance(policy, SecurityPolicy)
    through = su.registry.specs[model].access_through
    if through is not None:
        return (f"through its document ({'/'.join(through)})",)
    global_rules, group_rules = policy.applicable_rules(su.with_user(user), model, "read")
    return tuple(r.name for r in (*global_rules, *group_rules))


def leak_rows(leaks: list[Leak]) -> list[str]:
    """One row per record reached (or page), with every way it was reached."""
    ways: dict[tuple[str, int, str, str], list[str]] = {}
    rules: dict[tuple[str, int, str, str], tuple[str, ...]] = {}
    for leak in leaks:
        key = (leak.model, leak.record_id, leak.owner, leak.reader)
        ways.setdefault(key, [])
        if leak.how not in ways[key]:
            ways[key].append(leak.how)
        rules.setdefault(key, leak.rules)
    rows = []
    for key in sorted(ways):
        model, record_id, owner, reader = key
        what = f"{model} #{record_id}" if record_id else f"{model} data"
        applied = ", ".join(repr(r) for r in rules[key]) or "no rule"
        rows.append(
            f"{what} of customer {owner}, reached by customer {reader}'s portal user: "
            f"{'; '.join(ways[key])} (rules applied: {applied})"
        )
    return rows


def owner_reads_own(su: Environment, customer: Customer, model: str, ids: list[int]) -> bool:
    """Whether the customer's user reads its own samples: the simulation's control."""
    as_owner = su.with_user(customer.user)
    return as_owner[model].search_count([("id", "in", ids)]) == len(ids)


def data_layer_leaks(
    su: Environment, customers: list[Customer], samples: Samples
) -> tuple[list[Leak], dict[str, str]]:
    """Leaks through the data layer, and the models whose isolation stays unproven
    (with the reason)."""
    leaks: list[Leak] = []
    untested: dict[str, str] = dict(samples.failed)
    for model in sorted(samples.ids):
        for owner in customers:
            ids = samples.of(model, owner.label)
            if not ids:
                continue
            if not owner_reads_own(su, owner, model, ids):
                untested.setdefault(
                    model,
                    "the sample's own customer cannot read it: the audit could not link it "
                    "the way the rules expect",
                )
            for reader in customers:
                if reader is not owner:
                    leaks += _reached(su, model, ids, owner, reader, samples)
    return leaks, {m: why for m, why in untested.items() if m not in {k.model for k in leaks}}


def _reached(
    su: Environment,
    model: str,
    ids: list[int],
    owner: Customer,
    reader: Customer,
    samples: Samples,
) -> list[Leak]:
    env = su.with_user(reader.user)
    records = env[model]

    def leak(record_id: int, how: str) -> Leak:
        return Leak(
            model, reader.label, owner.label, record_id, how, rules_applied(su, reader.user, model)
        )

    found = [leak(int(r), "search") for r in records.search([("id", "in", ids)]).ids]
    counted = records.search_count([("id", "in", ids)])
    if counted and not found:  # a count that disagrees with the search: report it too
        found.append(leak(ids[0], f"search_count says {counted}"))
    for rid in ids:
        try:
            records.browse([rid]).read(["id"])
        except (AccessError, MissingError):
            continue
        if not any(x.record_id == rid for x in found):
            found.append(leak(rid, "read"))
    # Through a relation: the reader's own records must not point at the owner's.
    spec = su.registry.specs[model]
    own = samples.of(model, reader.label)
    for name, f in spec.fields.items():
        if f.comodel_name is None or f.comodel_name not in samples.ids:
            continue
        theirs = set(samples.of(f.comodel_name, owner.label))
        if not theirs:
            continue
        try:
            linked = records.search([(name, "in", sorted(theirs))]).ids
        except AccessError:
            linked = []
        for rid in linked:
            if rid not in ids:  # the owner's own samples are reported as such
                found.append(leak(int(rid), f"links to the other's {f.comodel_name} by {name}"))
        if own:
            try:
                values = records.browse(own).read([name])
            except AccessError:
                continue
            for row in values:
                for target in _ids_of(row[name]):
                    if target in theirs:
                        found.append(
                            Leak(
                                f.comodel_name,
                                reader.label,
                                owner.label,
                                target,
                                f"through {model}.{name} of its own record #{row['id']}",
                                rules_applied(su, reader.user, f.comodel_name),
                            )
                        )
    return found


def _ids_of(value: object) -> list[int]:
    if isinstance(value, list | tuple):
        if len(value) == 2 and isinstance(value[0], int) and isinstance(value[1], str):
            return [value[0]]  # a many2one as (id, display name)
        return [v for v in value if isinstance(v, int)]
    return [value] if isinstance(value, int) and not isinstance(value, bool) else []


__all__ = [
    "Customer",
    "Leak",
    "Samples",
    "build_samples",
    "data_layer_leaks",
    "leak_rows",
    "owner_reads_own",
    "rules_applied",
    "simulated_customers",
]
