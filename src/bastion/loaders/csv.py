"""CSV data files in Odoo's shape: the file name is the model
(``ir.model.access.csv``), ``id`` is the XML id, ``field:id`` / ``field/id`` columns
hold XML ids of related records.

>>> load_csv(env, "sale", Path("addons/sale/security/ir.model.access.csv"))  # doctest: +SKIP

A file loads whole or not at all: any error rolls it back and raises LoadError with
the file and line.
"""

from __future__ import annotations

import csv as csvlib
from pathlib import Path
from typing import TYPE_CHECKING

from bastion.errors import BastionError, LoadError

from .records import resolve_ref, save_record

if TYPE_CHECKING:
    from bastion.orm import Environment

TRUE_TEXT = frozenset({"1", "true", "True", "TRUE", "yes"})
FALSE_TEXT = frozenset({"", "0", "false", "False", "FALSE", "no"})


def load_csv(env: Environment, module: str, path: Path) -> None:
    model = path.stem
    where = str(path)
    if model not in env:
        raise LoadError(f"unknown model {model!r} (taken from the file name)", path=where)
    try:
        handle = path.open(encoding="utf-8", newline="")
    except OSError as exc:
        raise LoadError(f"cannot read: {exc.strerror}", path=where) from None
    with handle, env.savepoint():
        reader = csvlib.reader(handle)
        header = next(reader, None)
        if not header:
            raise LoadError("empty file: a header line is required", path=where, line=1)
        columns = [_column(env, model, name.strip(), where) for name in header]
        for row in reader:
            line = reader.line_num
            if not any(cell.strip() for cell in row):
                continue
            if len(row) != len(columns):
                raise LoadError(
                    f"expected {len(columns)} values, found {len(row)}", path=where, line=line
                )
            xmlid: str | None = None
            vals: dict[str, object] = {}
            for (name, is_ref), cell in zip(columns, row, strict=True):
                if name == "id":
                    xmlid = cell.strip() or None
                    continue
                try:
                    vals[name] = _value(env, model, module, name, is_ref, cell.strip())
                except LoadError as exc:
                    raise LoadError(str(exc), path=where, line=line) from None
            try:
                save_record(env, module, model, xmlid, vals)
            except BastionError as exc:
                raise LoadError(f"{model}: {exc}", path=where, line=line) from exc


def _column(env: Environment, model: str, name: str, where: str) -> tuple[str, bool]:
    for suffix in (":id", "/id"):
        if name.endswith(suffix):
            field = name.removesuffix(suffix)
            _check_field(env, model, field, where)
            return field, True
    if name != "id":
        _check_field(env, model, name, where)
    return name, False


def _check_field(env: Environment, model: str, name: str, where: str) -> None:
    if name not in env.registry.model_info(model).fields:
        raise LoadError(f"{model} has no field {name!r} (column header)", path=where, line=1)


def _value(env: Environment, model: str, module: str, name: str, is_ref: bool, cell: str) -> object:
    field = env.registry.model_info(model).fields[name]
    if is_ref:
        if not cell:
            return False
        ids = [
            resolve_ref(env, module, part.strip(), field.comodel_name) for part in cell.split(",")
        ]
        return ids[0] if field.type == "many2one" else [(6, 0, ids)]
    if field.type == "boolean":
        if cell in TRUE_TEXT:
            return True
        if cell in FALSE_TEXT:
            return False
        raise LoadError(f"{name}: {cell!r} is not a boolean (use 1 or 0)")
    if not cell:
        return False
    if field.type in ("integer", "many2one"):
        try:
            return int(cell)
        except ValueError:
            raise LoadError(f"{name}: {cell!r} is not an integer") from None
    if field.type == "float":
        try:
            return float(cell)
        except ValueError:
            raise LoadError(f"{name}: {cell!r} is not a number") from None
    return cell
