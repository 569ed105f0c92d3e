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

from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING

import sqlalchemy as sa

from bastion.domain.sql_members import one_of
from bastion.errors import AccessError, MissingError, ValidationError

from .bulk import unnested_insert, unnests

if TYPE_CHECKING:
    from .fields import Field
    from .model import Model

CommandTuple = tuple[int, int, object]
# Ids per IN list, as crud.CHUNK (crud imports this module).
_CHUNK = 1000


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
    environment, so the user's rights apply to them too. Each command is applied to
    the whole recordset at once: linking N records checks the targets once, reads the
    existing links of all of them in one query and inserts the new ones in one, with
    the result of applying the command record after record.
    """
    assert field.comodel_name is not None
    comodel = records.env[field.comodel_name]
    for code, record_id, payload in commands:
        if code == 0:
            assert isinstance(payload, Mapping)
            _create_linked(records, field, payload)
        elif code == 1:
            assert isinstance(payload, Mapping)
            comodel.browse(record_id).write(payload)
        elif code == 2:
            comodel.browse(record_id).unlink()
        elif field.type == "one2many":
            _apply_one2many(records, field, code, record_id, payload)
        elif code in (3, 4):
            (_unlink if code == 3 else _link)(records, field, [record_id])
        elif code == 5:
            _unlink(records, field, None)
        elif code == 6:
            assert isinstance(payload, list)
            _unlink(records, field, None, keep=payload)
            _link(records, field, payload)


def _apply_one2many(
    records: Model, field: Field, code: int, record_id: int, payload: object
) -> None:
    # A one2many target belongs to one record at a time: applied record after record,
    # the last one keeps it, exactly as a loop of single writes would leave it.
    for record in records:
        if code in (3, 4):
            (_unlink_one2many if code == 3 else _link_one2many)(record, field, [record_id])
        elif code == 5:
            _unlink_one2many(record, field, None)
        elif code == 6:
            assert isinstance(payload, list)
            _unlink_one2many(record, field, None, keep=payload)
            _link_one2many(record, field, payload)


def _create_linked(records: Model, field: Field, values: Mapping[str, object]) -> None:
    """``(0, 0, values)``: one new related record per record, created in one batch
    (in the records' order)."""
    if not records:
        return
    comodel = records.env[field.comodel_name or ""]
    if field.type == "one2many":
        assert field.inverse_name is not None
        inverse = field.inverse_name
        comodel.create([{**values, inverse: rid} for rid in records._ids])
        return
    created = comodel.create([dict(values) for _rid in records._ids])
    _check_targets(records, field, created.ids)
    _insert_links(records, field, list(zip(records._ids, created._ids, strict=True)))


def _check_targets(records: Model, field: Field, ids: list[int]) -> None:
    """Linking is a way to reach a record: a user may link only records they may read;
    a superuser only records that exist."""
    env = records.env
    targets = env[field.comodel_name or ""].browse(ids)
    where = f"{field.model_name}.{field.name}"
    if env.su:
        # Compared as sets: a repeated id must not hide a missing one.
        missing = set(ids) - set(targets.exists().ids)
        if missing:
            raise ValidationError(
                f"{where}: linked {field.comodel_name} records {sorted(missing)} do not exist"
            )
        return
    try:
        targets.check_access("read")
    except AccessError as exc:
        raise AccessError(
            f"{where}: cannot link these records. {exc}",
            model=exc.model,
            operation=exc.operation,
            ids=exc.ids,
            rules=exc.rules,
            groups=exc.groups,
            fields=exc.fields,
        ) from exc
    except MissingError as exc:
        raise MissingError(
            f"{where}: cannot link these records. {exc}", model=exc.model, ids=exc.ids
        ) from exc


def _link(records: Model, field: Field, ids: list[int]) -> None:
    """Add links from every record of ``records`` to each of ``ids`` (many2many)."""
    if not records:
        return
    _check_targets(records, field, ids)
    targets = list(dict.fromkeys(ids))
    _insert_links(records, field, [(owner, rid) for owner in records._ids for rid in targets])


def _insert_links(records: Model, field: Field, pairs: list[tuple[int, int]]) -> None:
    """Insert the (owner, target) pairs not already in the relation: one query for the
    existing pairs and one insert (per chunk of a thousand owners)."""
    env = records.env
    rel = env.registry.relation_table(field.relation or "")
    assert field.column1 and field.column2
    owner, target = rel.c[field.column1], rel.c[field.column2]
    wanted = list(dict.fromkeys(pairs))
    by_owner: dict[int, list[int]] = {}
    for owner_id, target_id in wanted:
        by_owner.setdefault(owner_id, []).append(target_id)
    owners = list(by_owner)
    dialect = env.cr.dialect.name
    existing: set[tuple[int, int]] = set()
    for owner_chunk in _chunks(owners):
        targets = list(dict.fromkeys(rid for oid in owner_chunk for rid in by_owner[oid]))
        for target_chunk in _chunks(targets):
            query = sa.select(owner, target).where(
                one_of(owner, owner_chunk, dialect), one_of(target, target_chunk, dialect)
            )
            existing.update((int(a), int(b)) for a, b in env.cr.execute(query))
    new = [pair for pair in wanted if pair not in existing]
    if new:
        rows = [{field.column1: a, field.column2: b} for a, b in new]
        if unnests(rows, dialect):
            env.cr.execute(unnested_insert(rel, rows))
        else:
            env.cr.execute(sa.insert(rel), rows)
    _invalidate(records, field, owners)


def _unlink(
    records: Model, field: Field, ids: list[int] | None, keep: list[int] | None = None
) -> None:
    """Cut the links of every record of ``records`` to ``ids`` (None: to all), except
    to ``keep`` (many2many)."""
    env = records.env
    owners = list(dict.fromkeys(records._ids))
    if not owners:
        return
    rel = env.registry.relation_table(field.relation or "")
    assert field.column1 and field.column2
    owner, target = rel.c[field.column1], rel.c[field.column2]
    visible: list[int] | None = None
    if not env.su:
        # A user only cuts the links they can see: set/clear keep the links to records
        # hidden from them by the comodel's rules. Only the comodel's read rights count:
        # writing the field needs no read access to the record that holds it.
        from .crud import allowed_ids  # noqa: PLC0415 - crud imports this module

        linked: dict[int, None] = {}
        for owner_chunk in _chunks(owners):
            query = sa.select(target).where(owner.in_(owner_chunk))
            if ids is not None:
                query = query.where(target.in_(ids))
            linked.update(dict.fromkeys(env.cr.scalars(query)))
        comodel = env[field.comodel_name or ""]
        seen = (
            allowed_ids(comodel, "read", list(linked))
            if env.registry.security.model_allowed(env, comodel._name, "read")
            else set()
        )
        visible = [rid for rid in linked if rid in seen and not (keep and rid in keep)]
        if not visible:
            return
    for owner_chunk in _chunks(owners):
        condition: sa.ColumnElement[bool] = owner.in_(owner_chunk)
        if visible is not None:
            condition = sa.and_(condition, target.in_(visible))
        if ids is not None:
            condition = sa.and_(condition, target.in_(ids))
        if keep:
            condition = sa.and_(condition, target.not_in(keep))
        env.cr.execute(sa.delete(rel).where(condition))
    _invalidate(records, field, owners)


def _link_one2many(record: Model, field: Field, ids: list[int]) -> None:
    _check_targets(record, field, ids)
    assert field.inverse_name is not None
    record.env[field.comodel_name or ""].browse(ids).write({field.inverse_name: record.id})


def _unlink_one2many(
    record: Model, field: Field, ids: list[int] | None, keep: list[int] | None = None
) -> None:
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


def _invalidate(records: Model, field: Field, owners: list[int]) -> None:
    # The other side may declare the same relation (users <-> groups): forget both.
    env = records.env
    env.transaction.invalidate(field.model_name, owners)
    env.transaction.invalidate(field.comodel_name or "")


def _chunks(ids: Sequence[int]) -> Iterator[Sequence[int]]:
    for start in range(0, len(ids), _CHUNK):
        yield ids[start : start + _CHUNK]
