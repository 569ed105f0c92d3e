"""Security and data XML in Odoo's shape, parsed with entities, DTDs and network off.

>>> load_xml(env, "sale", Path("addons/sale/security/sale_security.xml"))  # doctest: +SKIP

Supported: ``<odoo>``/``<openerp>`` roots, ``<data>`` wrappers, and ``<record
id= model=>`` with ``<field name= ref=|eval=|text>``. ``eval`` goes through the
whitelist interpreter of :mod:`bastion.expr` (literals, ``ref()``, ``Command.*``).
Any other element is refused with its line, and a file loads whole or not at all.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from lxml import etree

from bastion.errors import BastionError, LoadError
from bastion.expr import compile_expression, data_profile

from .records import field_name, resolve_ref, save_record

if TYPE_CHECKING:
    from bastion.orm import Environment

ROOTS = ("odoo", "openerp")
TRUE_TEXT = frozenset({"1", "true", "True"})


def _parser() -> etree.XMLParser:
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        remove_comments=True,
        remove_pis=True,
    )


def _line(element: etree._Element) -> int | None:
    line: object = element.sourceline
    return line if isinstance(line, int) else None


def load_xml(env: Environment, module: str, path: Path) -> None:
    where = str(path)
    try:
        tree = etree.parse(str(path), _parser())
    except OSError as exc:
        raise LoadError(f"cannot read: {exc}", path=where) from None
    except etree.XMLSyntaxError as exc:
        raise LoadError(f"malformed XML: {exc.msg}", path=where, line=exc.lineno) from None
    if tree.docinfo.doctype:  # type: ignore[union-attr]
        # No DOCTYPE at all: entity expansion (billion laughs) and external
        # entities (XXE) have no way in.
        raise LoadError("a DOCTYPE is not allowed in data files", path=where, line=1)
    root = tree.getroot()
    if root.tag not in ROOTS:
        raise LoadError(
            f"root element must be <odoo>, not <{root.tag}>", path=where, line=_line(root)
        )
    with env.savepoint():
        _load_children(env, module, root, where)


def _load_children(env: Environment, module: str, parent: etree._Element, where: str) -> None:
    for element in parent:
        tag: object = element.tag
        if not isinstance(tag, str):  # an entity reference left unresolved
            raise LoadError(
                "entities are not allowed in data files", path=where, line=_line(element)
            )
        if element.tag == "data":
            _load_children(env, module, element, where)
        elif element.tag == "record":
            _load_record(env, module, element, where)
        else:
            raise LoadError(
                f"unsupported element <{element.tag}> (Bastion loads <record> elements)",
                path=where,
                line=_line(element),
            )


def _load_record(env: Environment, module: str, element: etree._Element, where: str) -> None:
    model = element.get("model")
    line = _line(element)
    if not model:
        raise LoadError("<record> needs a model attribute", path=where, line=line)
    if model not in env:
        raise LoadError(f"unknown model {model!r}", path=where, line=line)
    vals: dict[str, object] = {}
    for child in element:
        tag: object = child.tag
        if not isinstance(tag, str):
            raise LoadError("entities are not allowed in data files", path=where, line=_line(child))
        if child.tag != "field":
            raise LoadError(
                f"unsupported element <{child.tag}> inside <record>",
                path=where,
                line=_line(child),
            )
        try:
            name, value = _field_value(env, module, model, child)
        except LoadError as exc:
            raise LoadError(str(exc), path=where, line=_line(child)) from None
        except BastionError as exc:
            raise LoadError(str(exc), path=where, line=_line(child)) from exc
        if name is not None:
            vals[name] = value
    try:
        save_record(env, module, model, element.get("id"), vals)
    except LoadError as exc:
        raise LoadError(str(exc), path=where, line=line) from None
    except BastionError as exc:
        raise LoadError(f"{model}: {exc}", path=where, line=line) from exc


def _field_value(
    env: Environment, module: str, model: str, element: etree._Element
) -> tuple[str | None, object]:
    raw_name = element.get("name")
    if not raw_name:
        raise LoadError("<field> needs a name attribute")
    name = field_name(model, raw_name)
    if name is None:
        return None, None
    fields = env.registry.model_info(model).fields
    field = fields.get(name)
    if field is None:
        raise LoadError(f"{model} has no field {raw_name!r}")
    if element.get("ref") is not None:
        target = resolve_ref(env, module, str(element.get("ref")), field.comodel_name)
        if field.type == "many2one":
            return name, target
        if field.type in ("one2many", "many2many"):
            return name, [(6, 0, [target])]
        return name, target
    if element.get("eval") is not None:
        text = str(element.get("eval"))
        compiled = compile_expression(text, data_profile(lambda x: resolve_ref(env, module, x)))
        return name, compiled.evaluate({})
    if element.get("search") is not None:
        raise LoadError(f"{raw_name}: search= is not supported; use ref= or eval=")
    text = element.text or ""
    if field.type == "boolean":
        return name, text.strip() in TRUE_TEXT
    if field.type in ("integer", "many2one"):
        try:
            return name, int(text.strip()) if text.strip() else False
        except ValueError:
            raise LoadError(f"{raw_name}: {text.strip()!r} is not an integer") from None
    if field.type == "float":
        try:
            return name, float(text.strip()) if text.strip() else False
        except ValueError:
            raise LoadError(f"{raw_name}: {text.strip()!r} is not a number") from None
    return name, text.strip() if field.type in ("char", "selection") else text
