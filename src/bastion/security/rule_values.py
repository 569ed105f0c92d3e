"""Where the user values bound into record rules come from, so that they can be kept
across transactions and bound again exactly when they may have changed.

>>> sources = ValueSources.of_rules(rules, registry)          # doctest: +SKIP
>>> sources.watches("res.partner", {"parent_id"}, existing=True)
False

A rule such as ``[('partner_id', 'child_of', [user.commercial_partner_id.id])]`` reads
``res.users.commercial_partner_id``. Its value for a user is kept for as long as the
database's *values token* stays the same; a write to a field some rule reads (or to a
record a rule's many2one points at, or to a model whose records a rule lists through an
x2many) changes the token. The fields come from the rule texts alone, so every worker
watches the same ones, whether or not it evaluated a rule itself.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from bastion.expr import SchemaLookup
from bastion.orm.fields import Many2one

if TYPE_CHECKING:
    from bastion.orm.registry import ModelRegistry

    from .state import RuleDef


@dataclass(frozen=True)
class ValueSources:
    """``fields``: per model, the fields rules read (a write to one of them matters;
    an empty set: only deleting one of its records does, a many2one points there).
    ``whole``: models read through an x2many, where creating a record matters too
    (it joins an existing record's list through its inverse). ``cascading``: models
    no rule reads whose deletion the database carries into records rules read
    (``ondelete="cascade"`` deletes them, ``"set null"`` empties a field read)."""

    fields: dict[str, frozenset[str]]
    whole: frozenset[str]
    cascading: frozenset[str] = frozenset()

    @classmethod
    def of_rules(cls, rules: Iterable[RuleDef], registry: ModelRegistry) -> ValueSources:
        from .state import RegistrySchema  # noqa: PLC0415 - state imports this module

        schema: SchemaLookup = RegistrySchema(registry)
        fields: dict[str, set[str]] = {}
        whole: set[str] = set()
        for rule in rules:
            if rule.expression is None:
                continue
            for model, name in rule.expression.field_reads(schema):
                fields.setdefault(model, set()).add(name)
                field = registry.specs[model].fields[name]
                target = field.comodel_name
                if target is None:
                    continue
                if field.type == "many2one":
                    fields.setdefault(target, set())
                else:
                    whole.add(target)
        return cls(
            {m: frozenset(names) for m, names in fields.items()},
            frozenset(whole),
            frozenset(_cascading_into(registry, fields, whole)),
        )

    def reads_from(self, model: str, *, deleting: bool = False) -> bool:
        """Whether a rule value may be read from records of ``model`` at all, or
        (``deleting``) change when the database deletes some."""
        return model in self.fields or model in self.whole or (deleting and model in self.cascading)

    def watches(self, model: str, written: set[str] | None, *, existing: bool) -> bool:
        """Whether a change may alter values already bound: ``written`` the fields
        written (None: records deleted), ``existing`` False when every record touched
        was created in the same transaction (no other transaction could have read it)."""
        if model in self.whole:
            return True
        if not existing:
            return False
        if written is None and model in self.cascading:
            return True
        read = self.fields.get(model)
        if read is None:
            return False
        return written is None or bool(written & read)


def _cascading_into(
    registry: ModelRegistry, fields: dict[str, set[str]], whole: set[str]
) -> set[str]:
    """The models outside ``fields`` and ``whole`` whose deletion changes what rules
    read through the database's foreign keys, however many cascades away."""
    links = [
        (model, name, field.comodel_name, field.cascades)
        for model, spec in registry.specs.items()
        for name, field in spec.fields.items()
        if isinstance(field, Many2one) and field.has_column and field.ondelete != "restrict"
    ]
    found: set[str] = set()

    def matters(model: str) -> bool:  # deleting one of its records
        return model in fields or model in whole or model in found

    grown = True
    while grown:
        grown = False
        for model, name, target, cascades in links:
            if target is None or matters(target):
                continue
            if (cascades and matters(model)) or (
                not cascades and (name in fields.get(model, ()) or model in whole)
            ):
                found.add(target)
                grown = True
    return found
