"""x2many values: Odoo's command tuples and the ``Command`` helper.

>>> env["res.users"].create({"login": "bob", "group_ids": [Command.link(portal.id)]})
>>> user.write({"group_ids": [(6, 0, [portal.id])]})     # the same, as a raw tuple

========================  ==================  ====================================
helper                    tuple               effect
========================  ==================  ====================================
``Command.create(vals)``  ``(0, 0, vals)``    create a related record and link it
``Command.update(id, v)`` ``(1, id, vals)``   write on a related record
``Command.delete(id)``    ``(2, id, 0)``      delete the related record
``Command.unlink(id)``    ``(3, id, 0)``      cut the link (record kept)
``Command.link(id)``      ``(4, id, 0)``      add a link
``Command.clear()``       ``(5, 0, 0)``       cut every link
``Command.set(ids)``      ``(6, 0, ids)``     replace the links by ``ids``
========================  ==================  ====================================

A plain list of ids (or a recordset) means ``set``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING

import sqlalchemy as sa

from bastion.errors import ValidationError

if TYPE_CHECKING:
    from .fields import Field
    from .model import Model

CommandTuple = tuple[int, int, object]


class Command:
    CREATE, UPDATE, DELETE, UNLINK, LINK, CLEAR, SET = range(7)

    @staticmethod
    def create(values: Mapping[str, object]) -> CommandTuple:
        return (0, 0, dict(values))

    @staticmethod
    def update(record_id: int, values: Mapping[str, object]) -> CommandTuple:
        return (1, record_id, dict(values))

    @staticmethod
    def delete(record_id: int) -> CommandTuple:
        return (2, record_id, 0)

    @staticmethod
    def unlink(record_id: int) -> CommandTuple:
        return (3, record_id, 0)

    @staticmethod
    def link(record_id: int) -> CommandTuple:
        return (4, record_id, 0)

    @staticmethod
    def clear() -> CommandTuple:
        return (5, 0, 0)

    @staticmethod
    def set(record_ids: Iterable[int]) -> CommandTuple:
        return (6, 0, list(record_ids))


def normalize_commands(field: Field, value: object) -> list[CommandTuple]:
    """Any accepted x2many value as a list of command tuples, checked."""
    from .model import Model  # noqa: PLC0415 - avoid an import cycle

    where = f"{field.model_name}.{field.name}"
    if value is False or value is None:
        return [(5, 0, 0)]
    if isinstance(value, Model):
        return [(6, 0, list(value.ids))]
    if not isinstance(value, list | tuple):
        raise ValidationError(f"{where}: expected a list of commands or ids, got {value!r}")
    if all(isinstance(v, int) and not isinstance(v, bool) for v in value):
        return [(6, 0, list(value))]
    commands: list[CommandTuple] = []
    for item in value:
        if not isinstance(item, list | tuple) or not item or not isinstance(item[0], int):
            raise ValidationError(f"{where}: invalid command {item!r}")
        code = item[0]
        padded = tuple(item) + (0, 0)
        if code in (0,) and not isinstance(padded[2], Mapping):
            raise ValidationError(f"{where}: command {item!r} needs a dict of values")
        if code == 1 and not (_is_id(padded[1]) and isinstance(padded[2], Mapping)):
            raise ValidationError(f"{where}: command {item!r} needs an id and values")
        if code in (2, 3, 4) and not _is_id(padded[1]):
            raise ValidationError(f"{where}: command {item!r} needs a record id")
        if code == 6:
            ids = padded[2]
            if not isinstance(ids, list | tuple) or not all(_is_id(i) for i in ids):
                raise ValidationError(f"{where}: command {item!r} needs a list of ids")
            padded = (6, 0, list(ids))
        if code not in range(7):
            raise ValidationError(f"{where}: unknown command code {code}")
        commands.append((code, padded[1] if code in (1, 2, 3, 4) else 0, padded[2]))
    return commands


def _is_id(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value > 0


def apply_commands(records: Model, field: Field, commands: list[CommandTuple]) -> None:
    """Apply ``commands`` to ``field`` on every record of ``records``.

    Related records are created, written and deleted through the ORM in the same
    environment, so the user's rights apply to them too.
    """
    assert field.comodel_name is not None
    comodel = records.env[field.comodel_name]
    for code, record_id, payload in commands:
        if code == 0:
            assert isinstance(payload, Mapping)
            for record in records:
                vals = dict(payload)
                if field.type == "one2many":
                    assert field.inverse_name is not None
                    vals[field.inverse_name] = record.id
                    comodel.create(vals)
                else:
                    _link(record, field, [comodel.create(vals).ids[0]])
        elif code == 1:
            assert isinstance(payload, Mapping)
            comodel.browse(record_id).write(payload)
        elif code == 2:
            comodel.browse(record_id).unlink()
        elif code in (3, 4):
            for record in records:
                (_unlink if code == 3 else _link)(record, field, [record_id])
        elif code == 5:
            for record in records:
                _unlink(record, field, None)
        elif code == 6:
            assert isinstance(payload, list)
            for record in records:
                _unlink(record, field, None, keep=payload)
                _link(record, field, payload)


def _link(record: Model, field: Field, ids: list[int]) -> None:
    env = record.env
    comodel = env[field.comodel_name or ""]
    targets = comodel.browse(ids)
    if not env.su:
        # Linking is a way to reach a record: only records the user may read.
        targets.check_access("read")
    elif len(targets.exists()) != len(set(ids)):
        raise ValidationError(f"{field.model_name}.{field.name}: linked records {ids} do not exist")
    if field.type == "one2many":
        assert field.inverse_name is not None
        targets.write({field.inverse_name: record.id})
        return
    rel = env.registry.relation_table(field.relation or "")
    assert field.column1 and field.column2
    existing = set(
        env.cr.scalars(
            sa.select(rel.c[field.column2]).where(
                rel.c[field.column1] == record.id, rel.c[field.column2].in_(ids)
            )
        )
    )
    new = [rid for rid in dict.fromkeys(ids) if rid not in existing]
    if new:
        env.cr.execute(
            sa.insert(rel),
            [{field.column1: record.id, field.column2: rid} for rid in new],
        )
    _invalidate(record, field)


def _unlink(
    record: Model, field: Field, ids: list[int] | None, keep: list[int] | None = None
) -> None:
    env = record.env
    if field.type == "one2many":
        assert field.inverse_name is not None
        current = record[field.name]
        targets = current if ids is None else current.browse(ids) & current
        if keep is not None:
            targets = targets.browse([rid for rid in targets.ids if rid not in keep])
        comodel_field = targets._field(field.inverse_name)
        if comodel_field.required or comodel_field.cascades:
            targets.unlink()
        else:
            targets.write({field.inverse_name: False})
        return
    rel = env.registry.relation_table(field.relation or "")
    assert field.column1 and field.column2
    condition = rel.c[field.column1] == record.id
    if not env.su:
        # A user only cuts the links they can see: set/clear keep the links to records
        # hidden from them by the comodel's rules. Only the comodel's read rights count:
        # writing the field needs no read access to the record that holds it.
        from .crud import allowed_ids  # noqa: PLC0415 - crud imports this module

        linked = list(env.cr.scalars(sa.select(rel.c[field.column2]).where(condition)))
        comodel = env[field.comodel_name or ""]
        seen = (
            allowed_ids(comodel, "read", linked)
            if env.registry.security.model_allowed(env, comodel._name, "read")
            else set()
        )
        visible = [
            rid
            for rid in linked
            if rid in seen and (ids is None or rid in ids) and not (keep and rid in keep)
        ]
        if not visible:
            return
        condition = sa.and_(condition, rel.c[field.column2].in_(visible))
    if ids is not None:
        condition = sa.and_(condition, rel.c[field.column2].in_(ids))
    if keep:
        condition = sa.and_(condition, rel.c[field.column2].not_in(keep))
    env.cr.execute(sa.delete(rel).where(condition))
    _invalidate(record, field)


def _invalidate(record: Model, field: Field) -> None:
    # The other side may declare the same relation (users <-> groups): forget both.
    env = record.env
    env.transaction.invalidate(field.model_name, [int(record.id)])
    env.transaction.invalidate(field.comodel_name or "")
