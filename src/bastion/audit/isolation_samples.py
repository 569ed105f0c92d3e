"""The two simulated customers of the isolation simulation and their sample records
(see ``isolation``): linked the way each model links them, inside a savepoint that is
always rolled back.
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from bastion.domain import And, Any, Node, Not, Or, Term
from bastion.errors import BastionError
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


__all__ = ["Customer", "Samples", "build_samples", "simulated_customers"]
