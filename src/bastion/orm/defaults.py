"""Helpers that business models share: default values, batches, numbering.

>>> class SaleOrder(Model):
...     date_order = fields.Datetime(default=now)
...     company_id = fields.Many2one("res.company", default=current_company)
>>> next_names(env["sale.order"], "S", 2)        # doctest: +SKIP
['S00042', 'S00043']
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from bastion.errors import ValidationError

from .numbering import take_numbers

if TYPE_CHECKING:
    from .model import Model


def now(_records: Model) -> dt.datetime:
    """Naive UTC to the second, as Datetime columns store it."""
    return dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0)


def current_company(records: Model) -> object:
    """``env.company``'s id (False: none), from the ids themselves: the recordsets
    ``env.company`` builds took 10 µs of every created record (issue 3's creates)."""
    ids = records.env.company_ids
    return ids[0] if ids else False


def current_user(records: Model) -> int:
    return records.env.uid


def as_batch(
    vals_list: Mapping[str, object] | Sequence[Mapping[str, object]],
) -> list[dict[str, Any]]:
    """What ``create`` was given, as a list of dicts (copies: overrides may add keys)."""
    if isinstance(vals_list, Mapping):
        return [dict(vals_list)]
    return [dict(vals) for vals in vals_list]


def refuse_computed(model: str, vals: Mapping[str, object], names: Iterable[str]) -> None:
    for name in names:
        if name in vals:
            raise ValidationError(f"{model}.{name} is computed, not written")


def next_names(
    records: Model,
    prefix: str,
    count: int,
    *,
    field: str = "name",
    width: int = 5,
    gaps: bool = False,
    company: int | None = None,
) -> list[str]:
    """``count`` new names ``<prefix><digits>``, never given before (a deleted
    document's included): the prefix's counter (``bastion.orm.numbering``) starts after
    the highest such name in ``field`` when the prefix has none yet. ``gaps``: a
    rolled-back document's number is not given again, and others numbering meanwhile
    do not wait for this transaction (``take_numbers``). ``company``: numbered apart
    from other companies' documents, which may bear the same names."""
    if count == 0:
        return []

    def highest() -> int:
        # LIKE's "_" is exactly one character: only names of the numbered shape compete.
        domain: list[Any] = [(field, "=like", prefix + "_" * width)]
        if company is not None:
            domain.append(("company_id", "=", company))
        found = records.sudo().search(domain, order=f"{field} desc", limit=20)
        names = found.mapped(field)
        return next((int(s) for n in names if (s := n[len(prefix) :]).isdigit()), 0)

    first = take_numbers(records.env, prefix, count, highest, gaps=gaps, company=company)
    return [f"{prefix}{number:0{width}d}" for number in range(first, first + count)]
