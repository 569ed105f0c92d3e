"""Fields a portal user may read that look internal, by name or by declaration.

>>> internal_looking_fields(portal_env, ["sale.order"])         # doctest: +SKIP
['sale.order.margin (name: margin)']

A field restricted with ``groups=`` to internal users is invisible to the portal and
never listed; the check finds those that were forgotten: margins and costs, internal
notes, secrets. It reads declarations only (names, labels, help texts), never values.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bastion.orm import Environment

# Parts of a field name that say what the field holds.
INTERNAL_WORDS = frozenset(
    {
        "margin",
        "cost",
        "costs",
        "internal",
        "private",
        "confidential",
        "salary",
        "wage",
        "commission",
        "secret",
        "token",
        "password",
        "hash",
        "totp",
    }
)
INTERNAL_NAMES = frozenset({"standard_price", "purchase_price", "comment"})
# Words in a field's label or help that declare it internal. "Internal Reference" is
# Odoo's label of a product's code, printed on customers' documents: not internal.
DECLARED = re.compile(
    r"\b(internal(?! reference)|private|confidential|not shown to customers)\b", re.I
)


def why_internal(name: str, string: str | None, help_text: str | None) -> str | None:
    """Why a field looks internal, or None."""
    if name in INTERNAL_NAMES:
        return f"name: {name}"
    words = set(name.lower().split("_")) & INTERNAL_WORDS
    if words:
        return f"name: {', '.join(sorted(words))}"
    for text in (string, help_text):
        if text and (match := DECLARED.search(text)):
            return f"declared {match.group(0).lower()!r}"
    return None


def internal_looking_fields(portal_env: Environment, models: list[str]) -> list[str]:
    """``model.field (why)`` for every field of ``models`` that ``portal_env``'s user
    may read and that looks internal. Booleans are left out: a flag (a message's
    ``internal``) tells which records are internal, it holds no internal data."""
    policy = portal_env.registry.security
    rows = []
    for model in models:
        spec = portal_env.registry.specs[model]
        names = [n for n, f in spec.fields.items() if f.type != "boolean"]
        for name in policy.visible_fields(portal_env, model, names):
            f = spec.fields[name]
            why = why_internal(name, f.string, f.help)
            if why is not None:
                rows.append(f"{model}.{name} ({why})")
    return rows


__all__ = ["internal_looking_fields", "why_internal"]
