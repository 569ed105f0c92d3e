"""``__manifest__.py``, read as a Python literal: an addon's manifest is never imported.

>>> read_manifest(Path("addons/sale"))                  # doctest: +SKIP
Manifest(name='sale', depends=('base',), data=('security/ir.model.access.csv', ...))
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

from bastion.errors import LoadError

MANIFEST = "__manifest__.py"


@dataclass(frozen=True)
class Manifest:
    name: str
    path: Path
    title: str
    depends: tuple[str, ...]
    data: tuple[str, ...]


def read_manifest(addon: Path) -> Manifest:
    file = addon / MANIFEST
    where = str(file)
    try:
        text = file.read_text(encoding="utf-8")
    except OSError as exc:
        raise LoadError(f"cannot read the manifest: {exc.strerror}", path=where) from None
    try:
        tree = ast.parse(text, filename=where, mode="eval")
    except SyntaxError as exc:
        raise LoadError(f"not a Python literal: {exc.msg}", path=where, line=exc.lineno) from None
    try:
        value = ast.literal_eval(tree)
    except ValueError as exc:
        line = _first_non_literal(tree)
        raise LoadError(
            f"the manifest must be a plain dict literal ({exc})", path=where, line=line
        ) from None
    if not isinstance(value, dict):
        raise LoadError("the manifest must be a dict", path=where, line=1)
    depends = _strings(value.get("depends", []), "depends", where)
    data = _strings(value.get("data", []), "data", where)
    for item in data:
        target = (addon / item).resolve()
        if not target.is_relative_to(addon.resolve()):
            raise LoadError(f"data file {item!r} lies outside the addon", path=where)
    title = value.get("name", addon.name)
    return Manifest(addon.name, addon, str(title), depends, data)


def _strings(value: object, key: str, where: str) -> tuple[str, ...]:
    if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
        raise LoadError(f"{key!r} must be a list of strings", path=where)
    return tuple(value)


def _first_non_literal(tree: ast.Expression) -> int | None:
    for node in ast.walk(tree):
        if isinstance(node, ast.Name | ast.Call | ast.Attribute | ast.BinOp | ast.Lambda):
            return getattr(node, "lineno", None)
    return None
