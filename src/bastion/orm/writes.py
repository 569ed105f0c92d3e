"""The ORM's writes: create, write, unlink (the reads are in ``crud``).

- ``create``: access right and field groups first, rules on the new rows after the
  insert, inside a savepoint;
- ``write``: access right, field groups, rules before and after, in a savepoint;
- ``unlink``: access right, rules before, in a savepoint; the records whose access
  follows the deleted ones (``_access_through``: messages, attachments, share links)
  are deleted with them.

A superuser environment (``env.su``) skips the checks, as in Odoo.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from bastion.domain import SqlCompiler, Term
from bastion.domain.sql_members import one_of
from bastion.errors import ValidationError

from .bulk import unnested_insert, unnests
from .commands import apply_commands, normalize_commands
from .crud import RESERVED, check_rules, chunks
from .fields import NOT_SET
from .unique import unique_violations

if TYPE_CHECKING:
    from .model import Model


def _check_keys(records: Model, keys: Sequence[str]) -> None:
    for key in keys:
        if key in RESERVED:
            raise ValidationError(f"{records._name}.{key} is maintained by Bastion, not written")
        if key not in records._spec.fields:
            raise ValidationError(f"{records._name} has no field {key!r}")


def _convert(
    records: Model, vals: Mapping[str, object]
) -> tuple[dict[str, object], dict[str, Any]]:
    """Split ``vals`` into column values (converted) and x2many commands."""
    columns: dict[str, object] = {}
    x2many: dict[str, Any] = {}
    for name, value in vals.items():
        field = records._spec.fields[name]
        if field.type in ("one2many", "many2many"):
            x2many[name] = normalize_commands(field, value)
            continue
        if not field.store:
            raise ValidationError(f"{records._name}.{name} is not stored and cannot be written")
        try:
            columns[name] = field.to_python(value)
        except (TypeError, ValueError) as exc:
            raise ValidationError(f"{records._name}.{name}: {exc}") from None
        if field.required and columns[name] is None:
            raise ValidationError(f"{records._name}.{name} is required")
    return columns, x2many


def _check_references(records: Model, rows: Sequence[Mapping[str, object]]) -> None:
    """Every many2one value must exist; a user may only point at records they can
    read (one query per field, not per row)."""
    env = records.env
    for name, field in records._spec.fields.items():
        if field.type != "many2one":
            continue
        ids = sorted({v for row in rows if isinstance(v := row.get(name), int)})
        if not ids:
            continue
        assert field.comodel_name is not None
        targets = env[field.comodel_name].browse(ids)
        if not env.su:
            targets.check_access("read")
            continue
        missing = set(ids) - set(targets.exists().ids)
        if missing:
            raise ValidationError(
                f"{records._name}.{name}: {field.comodel_name} records {sorted(missing)} "
                "do not exist"
            )


def _defaults(records: Model, vals: Mapping[str, object]) -> dict[str, object]:
    full = dict(vals)
    for name, field in records._spec.fields.items():
        if name in full or field.default is NOT_SET:
            continue
        default = field.default
        full[name] = default(records) if callable(default) else default
    return full


def _invalidate_inverses(records: Model, names: set[str]) -> None:
    """A many2one written here changes the one2many that mirrors it elsewhere."""
    for model in records.env.registry.one2many_mirrors(records._name, names):
        records.env.transaction.invalidate(model)


def create(records: Model, batch: list[Mapping[str, object]]) -> tuple[int, ...]:
    env = records.env
    spec = records._spec
    security = env.registry.security
    if not env.su:
        security.check_model(env, records._name, "create")
    prepared: list[tuple[dict[str, object], dict[str, Any]]] = []
    written: set[str] = set()
    for vals in batch:
        if not isinstance(vals, Mapping):
            raise ValidationError(f"{records._name}.create expects dicts of values, got {vals!r}")
        _check_keys(records, list(vals))
        if not env.su:
            security.check_fields(env, records._name, list(vals), "write")
        columns, x2many = _convert(records, _defaults(records, vals))
        for field in spec.column_fields:
            if field.required and columns.get(field.name) is None:
                raise ValidationError(f"{records._name}.{field.name} is required")
            columns.setdefault(field.name, None)
        prepared.append((columns, x2many))
        written.update(vals)
    if not prepared:
        return ()
    _check_references(records, [columns for columns, _x2many in prepared])
    security.changing(env, records._name)
    with unique_violations(records._name, spec.table, spec.unique), env.savepoint():
        ids = _insert_rows(records, [columns for columns, _x2many in prepared])
        env.transaction.created.setdefault(records._name, set()).update(ids)
        for run, x2many in _x2many_runs(records, ids, [x2many for _c, x2many in prepared]):
            for name, commands in x2many.items():
                apply_commands(records.browse(run), spec.fields[name], commands)
        _invalidate_inverses(records, written)
        check_rules(records, "create", ids)
        security.changed(env, records._name, written, ids)
    return ids


def _insert_rows(records: Model, rows: list[dict[str, object]]) -> tuple[int, ...]:
    """Insert ``rows``; their new ids, in the rows' order."""
    env = records.env
    table = records._spec.table
    if len(rows) > 1 and env.cr.dialect.name == "sqlite":
        # SQLite cannot return new ids in the rows' order (SQLAlchemy would then send
        # one INSERT per row). A Bastion transaction on SQLite holds the write lock from
        # its BEGIN IMMEDIATE (registry.create_engine), so the ids after the largest are
        # free, and they are the ones SQLite itself would give: number the rows, then
        # send them in one executemany.
        last = env.cr.scalar(sa.select(sa.func.max(table.c.id))) or 0
        ids = tuple(range(last + 1, last + 1 + len(rows)))
        env.cr.execute(
            sa.insert(table), [{**row, "id": rid} for row, rid in zip(rows, ids, strict=True)]
        )
        return ids
    if unnests(rows, env.cr.dialect.name):
        # The id sequence numbers the rows in the order unnest gives them, the arrays'
        # order: sorted, the ids are the rows' in the rows' order.
        query = unnested_insert(table, rows).returning(table.c.id)
        return tuple(sorted(int(rid) for rid in env.cr.scalars(query)))
    query = sa.insert(table).returning(table.c.id, sort_by_parameter_order=True)
    return tuple(int(rid) for rid in env.cr.scalars(query, rows))


# Commands that only add or cut many2many links: applying them to a run of new
# records at once leaves the rows that applying them record by record would.
_LINK_CODES = frozenset({3, 4, 5, 6})


def _x2many_runs(
    records: Model, ids: tuple[int, ...], x2many: list[dict[str, Any]]
) -> Iterator[tuple[tuple[int, ...], dict[str, Any]]]:
    """The new records' x2many values as (ids, commands by field): consecutive records
    given the same many2many links share one application of them. Anything that
    creates, writes or deletes related records, or touches a one2many, stays per record,
    so related records are created in the order of the given values."""
    fields = records._spec.fields
    run: list[int] = []
    shared: dict[str, Any] | None = None
    for rid, commands in zip(ids, x2many, strict=True):
        if not commands:
            continue
        batchable = all(
            fields[name].type == "many2many" and all(c[0] in _LINK_CODES for c in cmds)
            for name, cmds in commands.items()
        )
        if batchable and shared is not None and commands == shared:
            run.append(rid)
            continue
        if shared is not None:
            yield tuple(run), shared
        run, shared = [rid], commands
        if not batchable:
            yield tuple(run), shared
            run, shared = [], None
    if shared is not None:
        yield tuple(run), shared


def write(records: Model, vals: dict[str, object]) -> None:
    if not records:
        return
    env = records.env
    spec = records._spec
    security = env.registry.security
    _check_keys(records, list(vals))
    if not env.su:
        security.check_model(env, records._name, "write")
        security.check_fields(env, records._name, list(vals), "write")
        check_rules(records, "write")
    columns, x2many = _convert(records, vals)
    _check_references(records, [columns])
    ids = list(records._ids)
    table = spec.table
    security.changing(env, records._name)
    with unique_violations(records._name, table, spec.unique), env.savepoint():
        if columns:
            for chunk in chunks(ids):
                selected = one_of(table.c.id, chunk, env.cr.dialect.name)
                env.cr.execute(sa.update(table).where(selected).values(columns))
        if spec.parent_name is not None and spec.parent_name in columns:
            _check_no_cycle(records, columns[spec.parent_name])
        env.transaction.invalidate(records._name, ids)
        _invalidate_inverses(records, set(columns))
        for name, commands in x2many.items():
            apply_commands(records, spec.fields[name], commands)
        check_rules(records, "write", ids)
        security.changed(env, records._name, set(vals), ids)


def unlink(records: Model) -> None:
    if not records:
        return
    env = records.env
    security = env.registry.security
    if not env.su:
        security.check_model(env, records._name, "unlink")
        check_rules(records, "unlink")
    table = records._spec.table
    security.changing(env, records._name)
    with env.savepoint():
        try:
            for chunk in chunks(list(records._ids)):
                env.cr.execute(
                    sa.delete(table).where(one_of(table.c.id, chunk, env.cr.dialect.name))
                )
        except sa.exc.IntegrityError as exc:
            raise ValidationError(
                f"cannot delete {records._name} records {list(records._ids)}: "
                "other records still refer to them"
            ) from exc
        env.transaction.invalidate()
        security.changed(env, records._name, None, records._ids)
        _unlink_dependents(records)


def _unlink_dependents(records: Model) -> None:
    """Delete, as superuser, the records that belong to ``records`` through
    ``(res_model, res_id)``, as Odoo deletes a document's messages with it. Left
    behind, they would belong to whatever record gets the id next: SQLite gave a
    deleted document's id to the next one created, and with it the messages, files
    and share links of another customer's document."""
    su = records.env(su=True)
    ids = list(records._ids)
    for name, spec in su.registry.specs.items():
        if spec.access_through is None or spec.abstract:
            continue
        model_field, id_field = spec.access_through
        domain: list[object] = [(model_field, "=", records._name), (id_field, "in", ids)]
        if "active" in spec.fields:
            domain.append(("active", "in", [True, False]))
        dependents = su[name].search(domain)
        if dependents:
            dependents.unlink()


# -- hierarchy -----------------------------------------------------------------------
def _check_no_cycle(records: Model, parent: object) -> None:
    """Refuse to make a record its own ancestor (checked after the update, in the
    savepoint, so the walk sees the new parent)."""
    if not isinstance(parent, int):
        return
    walk = Term("id", "parent_of", (parent,))
    query = SqlCompiler(records.env.registry).hierarchy_ids(walk, records._spec)
    looped = set(records.env.cr.scalars(query)) & set(records._ids)
    if looped:
        raise ValidationError(
            f"{records._name}({min(looped)}) cannot become its own ancestor (recursive hierarchy)"
        )
