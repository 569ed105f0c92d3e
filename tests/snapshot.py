"""Raw snapshot of stored records, in the shape of the reference evaluator's dataset.

>>> data = snapshot(env)                      # doctest: +SKIP
>>> data["test.item"][3]["category_id"]       # doctest: +SKIP
7

Values are read with SQLAlchemy Core straight from the tables, so that they are the
raw stored values (``None`` for NULL, never Odoo's ``False``/``0`` read shapes):
many2one as ``int | None``, x2many as a tuple of ids, scalars as Python values.
Tests may use SQL; ``src`` may not.
"""

from __future__ import annotations

from collections.abc import Iterable

import sqlalchemy as sa

from bastion import Environment

# The models a domain over test.item can reach.
CATALOG_MODELS = (
    "test.item",
    "test.category",
    "test.tag",
    "test.line",
    "res.partner",
    "res.company",
)

Dataset = dict[str, dict[int, dict[str, object]]]


def snapshot(env: Environment, models: Iterable[str] = CATALOG_MODELS) -> Dataset:
    """Every row of ``models`` (active or not), with x2many fields as id tuples."""
    registry = env.registry
    conn = env.cr
    data: Dataset = {}
    for model in models:
        spec = registry.model_info(model)
        table = spec.table
        records: dict[int, dict[str, object]] = {}
        for row in conn.execute(sa.select(table)).mappings():
            records[int(row["id"])] = {name: value for name, value in row.items() if name != "id"}
        for field in spec.fields.values():
            if field.type == "many2many":
                assert field.relation and field.column1 and field.column2
                rel = registry.relation_table(field.relation)
                query = sa.select(rel.c[field.column1], rel.c[field.column2])
            elif field.type == "one2many":
                assert field.comodel_name and field.inverse_name
                comodel = registry.model_info(field.comodel_name).table
                owner = comodel.c[field.inverse_name]
                query = sa.select(owner, comodel.c.id).where(owner.is_not(None))
            else:
                continue
            related: dict[int, list[int]] = {rid: [] for rid in records}
            for owner_id, related_id in conn.execute(query):
                if owner_id in related:
                    related[owner_id].append(int(related_id))
            for rid, ids in related.items():
                records[rid][field.name] = tuple(sorted(ids))
        data[model] = records
    return data
