"""Security records of an addon's XML data files: ``res.groups``, ``ir.rule``,
``ir.model.access`` and ``res.users``, read with entities, DTDs and network off.

>>> data = SecurityData()
>>> read_security_xml(addon, Path("x/security/security.xml"), data)   # doctest: +SKIP
>>> data.rules[0].groups                                               # doctest: +SKIP
('base.group_portal',)

``eval`` attributes go through the whitelist interpreter (:func:`bastion.expr.data_profile`):
``[(4, ref('a'))]``, ``[Command.link(ref('a'))]``, ``[(6, 0, [ref('a'), ref('b')])]``.
Nothing is evaluated with Python's ``eval``; an expression outside the whitelist is a
finding, as is malformed XML or a DOCTYPE.
"""

from __future__ import annotations

import ast
from pathlib import Path

from lxml import etree

from bastion.errors import ExpressionError
from bastion.expr import compile_expression, data_profile

from .findings import finding
from .security_files import (
    OPERATIONS,
    AccessRow,
    Place,
    RuleDef,
    SecurityData,
    UserDef,
    qualify,
    truthy,
)
from .tree import Addon

GROUP_LINKS = {"implied_ids": "implied", "implied_by_ids": "implied_by"}
USER_GROUP_FIELDS = ("groups_id", "group_ids")


def xml_parser() -> etree.XMLParser:
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        remove_comments=True,
        remove_pis=True,
    )


def parse_xml(path: Path, rel: str, data: SecurityData) -> etree._Element | None:
    """The root element, or None after recording why the file cannot be read."""
    try:
        tree = etree.parse(str(path), xml_parser())
    except OSError as exc:
        data.problems.append(finding("BST-ODOO-MALFORMED-FILE", rel, None, f"cannot read: {exc}"))
        return None
    except etree.XMLSyntaxError as exc:
        message = f"malformed XML: {exc.msg}"
        data.problems.append(finding("BST-ODOO-MALFORMED-FILE", rel, exc.lineno, message))
        return None
    if tree.docinfo.doctype:  # type: ignore[union-attr]
        message = "a DOCTYPE is not allowed in data files (entities stay unexpanded)"
        data.problems.append(finding("BST-ODOO-MALFORMED-FILE", rel, 1, message))
        return None
    return tree.getroot()


def line_of(element: etree._Element) -> int | None:
    line: object = element.sourceline
    return line if isinstance(line, int) else None


def read_security_xml(addon: Addon, rel: str, root: etree._Element, data: SecurityData) -> None:
    """Collect the security records of one parsed data file (see :func:`parse_xml`)."""
    for element in root.iter("record"):
        model = element.get("model")
        if model not in ("res.groups", "ir.rule", "ir.model.access", "res.users"):
            continue
        xmlid = qualify(addon.name, element.get("id") or f"anonymous_{line_of(element)}")
        place = Place(rel, line_of(element))
        values = _fields(addon, element, rel, data)
        if model == "res.groups":
            _group(addon, xmlid, values, place, data)
        elif model == "ir.rule":
            data.rules.append(_rule(xmlid, values, place))
        elif model == "ir.model.access":
            data.access.append(_access(xmlid, values, place))
        else:
            groups = next((values[f] for f in USER_GROUP_FIELDS if f in values), [])
            data.users.append(UserDef(xmlid, tuple(_ids(groups)), place))


def _fields(
    addon: Addon, element: etree._Element, rel: str, data: SecurityData
) -> dict[str, object]:
    values: dict[str, object] = {}
    for child in element.iter("field"):
        name = child.get("name")
        if not name:
            continue
        ref, expression = child.get("ref"), child.get("eval")
        if ref is not None:
            values[name] = [("link", qualify(addon.name, ref))]
        elif expression is not None and name == "domain_force":
            values[name] = expression  # a rule expression: checked later, with the rule profile
        elif expression is not None:
            try:
                values[name] = _evaluate(addon.name, expression)
            except ExpressionError as exc:
                message = f"field {name!r}: eval outside the data whitelist: {exc}"
                data.problems.append(
                    finding("BST-ODOO-MALFORMED-FILE", rel, line_of(child), message)
                )
        else:
            values[name] = "".join(str(text) for text in child.itertext())
    return values


def _evaluate(module: str, text: str) -> object:
    """Literals, booleans and x2many commands; ``ref()`` results become XML ids."""
    refs: list[str] = []

    def ref(xmlid: str) -> int:
        refs.append(qualify(module, xmlid))
        return len(refs) - 1

    value = compile_expression(text, data_profile(ref)).evaluate({})
    if isinstance(value, int) and not isinstance(value, bool) and refs:
        return [("link", refs[value])]
    if not isinstance(value, list | tuple):
        return value
    commands: list[tuple[str, str]] = []
    for command in value:
        if not (isinstance(command, tuple | list) and command and isinstance(command[0], int)):
            continue
        code = command[0]
        if code == 4 and len(command) > 1 and isinstance(command[1], int):
            commands.append(("link", refs[command[1]]))
        elif code == 3 and len(command) > 1 and isinstance(command[1], int):
            commands.append(("unlink", refs[command[1]]))
        elif code == 5:
            commands.append(("clear", ""))
        elif code == 6 and len(command) > 2 and isinstance(command[2], list | tuple):
            commands.append(("clear", ""))
            commands.extend(("link", refs[i]) for i in command[2] if isinstance(i, int))
    return commands


def _ids(value: object) -> list[str]:
    """The XML ids a list of commands leaves linked."""
    linked: list[str] = []
    if not isinstance(value, list):
        return linked
    for command in value:
        if not (isinstance(command, tuple) and len(command) == 2):
            continue
        code, xmlid = command
        if code == "link" and xmlid not in linked:
            linked.append(str(xmlid))
        elif code == "unlink" and xmlid in linked:
            linked.remove(str(xmlid))
        elif code == "clear":
            linked.clear()
    return linked


def _flag(value: object, default: bool) -> bool:
    if value is None:
        return default
    if isinstance(value, bool | int):
        return bool(value)
    if isinstance(value, str):
        text = value.strip()
        try:
            return bool(ast.literal_eval(text)) if text else default
        except (ValueError, SyntaxError):
            return truthy(text)
    return bool(value)


def _group(
    addon: Addon, xmlid: str, values: dict[str, object], place: Place, data: SecurityData
) -> None:
    group = data.group(xmlid)
    group.places.append(place)
    added: list[str] = []
    for field_name, attr in GROUP_LINKS.items():
        if field_name in values:
            ids = _ids(values[field_name])
            target = group.implied if attr == "implied" else group.implied_by
            target.extend(i for i in ids if i not in target)
            if attr == "implied":
                added.extend(ids)
    owner = xmlid.partition(".")[0]
    if owner != addon.name and added:
        group.extensions.append((tuple(added), place, addon.name))


def _rule(xmlid: str, values: dict[str, object], place: Place) -> RuleDef:
    model_ids = _ids(values.get("model_id"))
    given = tuple(
        (op, _flag(values[f"perm_{op}"], True)) for op in OPERATIONS if f"perm_{op}" in values
    )
    perms = frozenset(op for op in OPERATIONS if dict(given).get(op, True))
    domain = values.get("domain_force")
    global_value = values.get("global")
    return RuleDef(
        xmlid,
        str(values.get("name") or xmlid).strip(),
        model_ids[0] if model_ids else None,
        tuple(_ids(values.get("groups"))),
        domain.strip() if isinstance(domain, str) and domain.strip() else None,
        perms,
        given,
        None if global_value is None else _flag(global_value, False),
        _flag(values.get("active"), True),
        place,
    )


def _access(xmlid: str, values: dict[str, object], place: Place) -> AccessRow:
    models = _ids(values.get("model_id"))
    groups = _ids(values.get("group_id"))
    perms = frozenset(op for op in OPERATIONS if _flag(values.get(f"perm_{op}"), False))
    model = models[0] if models else "?"
    return AccessRow(xmlid, model, True, groups[0] if groups else None, perms, None, "acl", place)
