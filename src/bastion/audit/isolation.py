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

import datetime as dt
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from bastion.domain import And, Any, Node, Not, Or, Term
from bastion.errors import AccessError, BastionError, MissingError
from bastion.security.policy import SecurityPolicy

if TYPE_CHECKING:
    from bastion.orm import Environment, Model
    from bastion.orm.fields import Field

PARTNER = "res.partner"
# Free-text fields that carry the customer's marker, so that a page showing the
# record can be recognised by its content.
TEXT_TYPES = ("char", "text", "html")
MAX_DEPTH = 4


class _Rollback(Exception):
    pass


@dataclass(frozen=True)
class Customer:
    label: str
    company: Model  # the commercial partner
    contact: Model  # the portal user's own partner, under the company
    user: Model
    # A random word in the texts of every sample of this customer
    marker: str


@dataclass
class Samples:
    # model -> customer label -> ids of that customer's samples
    ids: dict[str, dict[str, list[int]]] = field(default_factory=dict)
    # model -> why no sample could be made
    failed: dict[str, str] = field(default_factory=dict)

    def of(self, model: str, label: str) -> list[int]:
        return self.ids.get(model, {}).get(label, [])

    def add(self, model: str, label: str, record_id: int) -> None:
        self.ids.setdefault(model, {}).setdefault(label, []).append(record_id)


@contextmanager
def simulated_customers(su: Environment) -> Iterator[list[Customer] | None]:
    """Two customers with a portal user each, inside a savepoint that is always rolled
    back (None when there is no portal group)."""
    portal = su.ref("base.group_portal", raise_if_not_found=False)
    company = su.ref("base.main_company", raise_if_not_found=False)
    if portal is None:
        yield None
        return
    try:
        with su.savepoint():  # undoes the records, the caches and the security state
            customers = []
            for label in ("a", "b"):
                marker = f"bastion-audit-{label}-{secrets.token_hex(6)}"
                partners = su[PARTNER]
                commercial = partners.create(
                    {"name": f"Audit customer {marker}", "is_company": True}
                )
                contact = partners.create(
                    {"name": f"Audit contact {marker}", "parent_id": commercial.id}
                )
                vals: dict[str, object] = {
                    "login": f"__audit_portal_{label}",
                    "name": f"Audit {label}",
                    "partner_id": contact.id,
                    "group_ids": [portal.id],
                }
                if company is not None:
                    vals.update(company_id=company.id, company_ids=[company.id])
                user = su["res.users"].create(vals)
                customers.append(Customer(label, commercial, contact, user, marker))
            yield customers
            raise _Rollback
    except _Rollback:
        pass


# -- samples ------------------------------------------------------------------------------
def build_samples(su: Environment, customers: list[Customer], models: list[str]) -> Samples:
    """A sample record of each of ``models`` for each customer, plus a message and an
    attachment on each sample document when the mail addon is installed."""
    samples = Samples()
    for customer in customers:
        # The customers' own partners and users are theirs already.
        samples.add(PARTNER, customer.label, int(customer.company.id))
        samples.add(PARTNER, customer.label, int(customer.contact.id))
        samples.add("res.users", customer.label, int(customer.user.id))
    builder = _Builder(su, set(models), samples)
    for customer in customers:
        for model in models:
            if su.registry.specs[model].access_through is None:
                builder.sample(model, customer)
        for model in models:
            builder.discussion(model, customer)
    return samples


class _Builder:
    def __init__(self, su: Environment, models: set[str], samples: Samples) -> None:
        self.su = su
        self.models = models
        self.samples = samples
        policy = su.registry.security
        assert isinstance(policy, SecurityPolicy)
        self.policy = policy

    def sample(self, model: str, customer: Customer, depth: int = 0) -> int | None:
        """The id of ``customer``'s sample of ``model``, made on first use."""
        made = self.samples.of(model, customer.label)
        if made:
            return made[0]
        if depth > MAX_DEPTH or model in self.samples.failed:
            return None
        full = self._values(model, customer, depth)
        # Then without the optional free texts: some are computed and refused.
        minimal = {k: v for k, v in full.items() if k in self._needed(model)}
        error: BastionError | None = None
        for vals in (full, minimal):
            try:
                with self.su.savepoint():
                    record = self.su[model].create(vals)
            except BastionError as exc:
                error = error or exc
                continue
            self.samples.add(model, customer.label, int(record.id))
            return int(record.id)
        assert error is not None
        self.samples.failed[model] = f"{type(error).__name__}: {error}"
        return None

    def _needed(self, model: str) -> set[str]:
        """The fields a sample cannot do without: required ones and relations."""
        return {
            name
            for name, f in self.su.registry.specs[model].fields.items()
            if f.required or f.comodel_name is not None or f.type == "selection"
        }

    def _values(self, model: str, customer: Customer, depth: int) -> dict[str, object]:
        spec = self.su.registry.specs[model]
        as_owner = self.su.with_user(customer.user)
        hints = _equalities(self.policy.rule_node(as_owner, model, "read"))
        vals: dict[str, object] = {}
        for name, f in spec.fields.items():
            if name == "id" or not f.store:
                continue
            value = self._value(f, customer, depth, hints.get(name))
            if value is not None:
                vals[name] = value
        return vals

    def _value(self, f: Field, customer: Customer, depth: int, hint: object) -> object:
        comodel = f.comodel_name
        if f.type == "many2one" and comodel is not None:
            if comodel == PARTNER:
                return int(customer.contact.id)
            if comodel == "res.users":
                return int(customer.user.id) if f.required else None
            if isinstance(hint, int):
                return hint
            if comodel in self.models and comodel != f.model_name:
                return self.sample(comodel, customer, depth + 1)
            return self._any(comodel) if f.required else None
        if f.type == "many2many" and comodel == PARTNER:
            return [int(customer.contact.id)]
        if f.type in ("one2many", "many2many", "binary"):
            return None
        if hint is not None:
            return hint
        if f.type in TEXT_TYPES and (f.required or f.name == "name" or f.type != "char"):
            return f"<p>{customer.marker}</p>" if f.type == "html" else customer.marker
        if not f.required:
            return None
        return _required_default(f)

    def _any(self, model: str) -> int | None:
        found = self.su[model].search([], limit=1)
        return int(found.id) if found else None

    def discussion(self, model: str, customer: Customer) -> None:
        """A message and an attachment on the customer's sample document: they are
        reached through the document, and must be hidden with it."""
        specs = self.su.registry.specs
        if "message_partner_ids" not in specs[model].fields:
            return
        for doc_id in self.samples.of(model, customer.label):
            document = {"res_model": model, "res_id": doc_id}
            for child, vals in (
                ("mail.message", {"body": f"<p>{customer.marker}</p>", "message_type": "comment"}),
                ("ir.attachment", {"name": f"{customer.marker}.txt", "datas": b"audit"}),
            ):
                if child not in specs or child not in self.models:
                    continue
                try:
                    with self.su.savepoint():
                        made = self.su[child].create({**document, **vals})
                except BastionError as exc:
                    self.samples.failed.setdefault(child, f"{type(exc).__name__}: {exc}")
                    continue
                self.samples.add(child, customer.label, int(made.id))


def _required_default(f: Field) -> object:
    if f.type == "selection":
        return f.selection_values[0] if f.selection_values else None
    if f.type in ("integer", "float", "monetary"):
        return 1
    if f.type == "boolean":
        return False
    if f.type == "date":
        return dt.date.today()
    if f.type == "datetime":
        return dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0)
    return None


def _equalities(node: Node) -> dict[str, object]:
    """Field values a rule compares with a constant (``state = 'posted'``, ``company_id
    in [1, 2]``): the first one seen per field, from every branch. Negations are skipped:
    they say what a value must not be."""
    found: dict[str, object] = {}

    def walk(n: Node) -> None:
        if isinstance(n, Term) and n.operator in ("=", "in"):
            value = n.value
            if isinstance(value, tuple):
                value = value[0] if value else None
            if value is not None and value is not False:
                found.setdefault(n.field, value)
        elif isinstance(n, And | Or):
            for child in n.children:
                walk(child)
        elif isinstance(n, Any | Not):
            return

    walk(node)
    return found


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
