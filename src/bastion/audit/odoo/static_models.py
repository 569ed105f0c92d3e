"""Models and fields of an addon, from a static read of its Python files (``ast`` only).

>>> sources, problems = python_sources(addon)                    # doctest: +SKIP
>>> models = read_models(addon, sources)                          # doctest: +SKIP
>>> models[0].name, sorted(models[0].fields)[:2]                  # doctest: +SKIP
('helpdesk.ticket', ['active', 'category_id'])

A class counts as a model when its body assigns ``_name`` or ``_inherit`` a string
(or a list of strings). ``name = fields.Many2one("res.partner", groups="base.group_user")``
gives a field with its type, comodel and groups. Nothing is imported or run: a class
whose attributes are computed at import time is read only as far as its literals go.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field
from pathlib import Path

from .findings import Finding, finding
from .tree import Addon

# Odoo field classes and the type the domain parser knows them as.
FIELD_TYPES = {
    "Char": "char", "Text": "text", "Html": "html", "Integer": "integer", "Float": "float",
    "Monetary": "float", "Boolean": "boolean", "Date": "date", "Datetime": "datetime",
    "Selection": "selection", "Many2one": "many2one", "One2many": "one2many",
    "Many2many": "many2many", "Binary": "char", "Image": "char", "Reference": "char",
    "Json": "text", "Properties": "text", "PropertiesDefinition": "text",
    "Many2oneReference": "integer",
}  # fmt: skip


@dataclass(frozen=True)
class PySource:
    path: Path
    rel: str
    tree: ast.Module


@dataclass(frozen=True)
class StaticField:
    name: str
    type: str
    comodel: str | None
    groups: str | None
    searchable: bool
    rel: str
    line: int


@dataclass
class StaticModel:
    """One class body: ``declares`` is True when it sets ``_name`` (a new model)."""

    name: str
    declares: bool
    parents: tuple[str, ...]
    rel: str
    line: int
    module: str
    fields: dict[str, StaticField] = field(default_factory=dict)


def python_sources(addon: Addon) -> tuple[list[PySource], list[Finding]]:
    """Every ``.py`` file of the addon parsed with ``ast.parse``; syntax errors as findings."""
    sources: list[PySource] = []
    problems: list[Finding] = []
    for path in addon.files(".py"):
        rel = addon.rel(path)
        try:
            text = path.read_text(encoding="utf-8")
            tree = ast.parse(text, filename=rel)
        except (OSError, UnicodeDecodeError) as exc:
            problems.append(finding("BST-ODOO-MALFORMED-FILE", rel, None, f"cannot read: {exc}"))
            continue
        except SyntaxError as exc:
            message = f"Python syntax error: {exc.msg}"
            problems.append(finding("BST-ODOO-MALFORMED-FILE", rel, exc.lineno, message))
            continue
        except (ValueError, RecursionError, MemoryError) as exc:
            message = f"cannot parse: {type(exc).__name__}"
            problems.append(finding("BST-ODOO-MALFORMED-FILE", rel, None, message))
            continue
        sources.append(PySource(path, rel, tree))
    return sources, problems


def read_models(addon: Addon, sources: list[PySource]) -> list[StaticModel]:
    models: list[StaticModel] = []
    for source in sources:
        for node in ast.walk(source.tree):
            if isinstance(node, ast.ClassDef):
                model = _model_of(node, source.rel, addon.name)
                if model is not None:
                    models.append(model)
    return models


def _strings(node: ast.expr) -> tuple[str, ...] | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return (node.value,)
    if isinstance(node, ast.List | ast.Tuple):
        items = [e.value for e in node.elts if isinstance(e, ast.Constant)]
        if len(items) == len(node.elts) and all(isinstance(i, str) for i in items):
            return tuple(str(i) for i in items)
    return None


def _model_of(node: ast.ClassDef, rel: str, module: str) -> StaticModel | None:
    attrs: dict[str, tuple[str, ...]] = {}
    for stmt in node.body:
        if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1:
            target = stmt.targets[0]
            if isinstance(target, ast.Name) and target.id in ("_name", "_inherit"):
                values = _strings(stmt.value)
                if values is not None:
                    attrs[target.id] = values
    names, inherits = attrs.get("_name", ()), attrs.get("_inherit", ())
    if not names and not inherits:
        return None
    name = names[0] if names else inherits[0]
    parents = tuple(p for p in inherits if p != name)
    model = StaticModel(name, bool(names), parents, rel, node.lineno, module)
    for stmt in node.body:
        declared = _field_of(stmt, rel)
        if declared is not None:
            model.fields[declared.name] = declared
    return model


def _field_of(stmt: ast.stmt, rel: str) -> StaticField | None:
    if not (isinstance(stmt, ast.Assign) and len(stmt.targets) == 1):
        return None
    target, call = stmt.targets[0], stmt.value
    if not (isinstance(target, ast.Name) and isinstance(call, ast.Call)):
        return None
    func = call.func
    kind = func.attr if isinstance(func, ast.Attribute) else None
    if not (
        kind in FIELD_TYPES
        and isinstance(func, ast.Attribute)
        and isinstance(func.value, ast.Name)
        and func.value.id == "fields"
    ):
        return None
    keywords = {k.arg: k.value for k in call.keywords if k.arg is not None}
    comodel = _text(keywords.get("comodel_name"))
    if comodel is None and call.args and FIELD_TYPES[kind] in ("many2one", "one2many", "many2many"):
        comodel = _text(call.args[0])
    stored = _literal(keywords.get("store"))
    computed = "compute" in keywords
    searchable = not computed or stored is True or "search" in keywords
    return StaticField(
        target.id,
        FIELD_TYPES[kind],
        comodel,
        _text(keywords.get("groups")),
        searchable,
        rel,
        stmt.lineno,
    )


def _text(node: ast.expr | None) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    return None


def _literal(node: ast.expr | None) -> object:
    if isinstance(node, ast.Constant):
        return node.value
    return None
