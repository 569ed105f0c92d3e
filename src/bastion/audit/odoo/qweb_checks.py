"""QWeb template checks: unescaped output, and internal fields shown on portal pages.

>>> [f.check for f in check_templates(tree)]                       # doctest: +SKIP
['BST-ODOO-QWEB-RAW', 'BST-ODOO-PORTAL-INTERNAL-FIELD']

``t-raw`` outputs its value unescaped: flagged unless the value is a string literal.
``t-out``/``t-esc`` escape, except a value wrapped in ``Markup(...)`` in the template.
A template is a portal page when its id, its ``inherit_id`` or a ``t-call`` inside it
names ``portal``; on such a page, ``record.field`` where ``field`` is declared with
``groups=`` of internal groups only (or has a name that usually holds internal data) is
flagged.
"""

from __future__ import annotations

import ast

from lxml import etree

from .catalog import INTERNAL_FIELD_NAMES
from .findings import Finding, Severity, finding
from .permissions import user_type_groups
from .security_xml import line_of
from .workspace import OdooTree, XmlSource

OUTPUT_ATTRS = ("t-out", "t-esc", "t-field", "t-raw")


def _expression(text: str) -> ast.expr | None:
    try:
        return ast.parse(text.strip(), mode="eval").body
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None


def check_templates(tree: OdooTree) -> list[Finding]:
    external = user_type_groups(tree)["portal"] | user_type_groups(tree)["public"]
    restricted = _restricted_fields(tree, external)
    found: list[Finding] = []
    for source in tree.xml:
        for template in _templates(source.root):
            portal = _is_portal(template)
            for element in template.iter():
                tag: object = element.tag
                if not isinstance(tag, str):  # comments and entities carry no attributes
                    continue
                found.extend(_element(source, element, portal, restricted))
    return found


def _templates(root: etree._Element) -> list[etree._Element]:
    found = list(root.iter("template"))
    for record in root.iter("record"):
        if record.get("model") == "ir.ui.view":
            found.append(record)
    return found


def _is_portal(template: etree._Element) -> bool:
    names = [template.get("id") or "", template.get("inherit_id") or ""]
    for element in template.iter():
        if isinstance(element.tag, str):
            names.append(element.get("t-call") or "")
            if element.tag == "field" and element.get("name") == "inherit_id":
                names.append(element.get("ref") or "")
    return any("portal" in name for name in names)


def _restricted_fields(tree: OdooTree, external: frozenset[str]) -> dict[str, str]:
    """Field name -> its groups, for fields no portal or public group may read."""
    found: dict[str, str] = {}
    for merged in tree.models.values():
        for name, declared in merged.fields.items():
            if declared.groups is None:
                continue
            allowed = {
                g.strip() for g in declared.groups.split(",") if not g.strip().startswith("!")
            }
            if allowed and not allowed & external:
                found[name] = declared.groups
    return found


def _element(
    source: XmlSource, element: etree._Element, portal: bool, restricted: dict[str, str]
) -> list[Finding]:
    found: list[Finding] = []
    line = line_of(element)
    for attr in OUTPUT_ATTRS:
        text = element.get(attr)
        if text is None:
            continue
        node = _expression(text)
        literal = isinstance(node, ast.Constant)
        if attr == "t-raw" and not literal:
            message = f't-raw="{text.strip()[:60]}" outputs the value without escaping'
            found.append(finding("BST-ODOO-QWEB-RAW", source.rel, line, message))
        if node is None:
            continue
        if attr in ("t-out", "t-esc") and _wraps_markup(node):
            message = f'{attr}="{text.strip()[:60]}" marks a computed value as safe HTML'
            found.append(finding("BST-ODOO-MARKUP-NONCONST", source.rel, line, message))
        if portal:
            found.extend(_internal_fields(source, line, attr, node, restricted))
    return found


def _wraps_markup(node: ast.expr) -> bool:
    for part in ast.walk(node):
        if isinstance(part, ast.Call) and isinstance(part.func, ast.Name | ast.Attribute):
            name = part.func.id if isinstance(part.func, ast.Name) else part.func.attr
            if name == "Markup" and part.args and not isinstance(part.args[0], ast.Constant):
                return True
    return False


def _internal_fields(
    source: XmlSource, line: int | None, attr: str, node: ast.expr, restricted: dict[str, str]
) -> list[Finding]:
    found: list[Finding] = []
    for part in ast.walk(node):
        if not (isinstance(part, ast.Attribute) and isinstance(part.value, ast.Name)):
            continue
        name = part.attr
        if name in restricted:
            message = (
                f"portal template shows {part.value.id}.{name} ({attr}), a field restricted to "
                f"{restricted[name]}"
            )
            found.append(finding("BST-ODOO-PORTAL-INTERNAL-FIELD", source.rel, line, message))
        elif name in INTERNAL_FIELD_NAMES:
            message = (
                f"portal template shows {part.value.id}.{name} ({attr}); the name suggests "
                "internal data"
            )
            found.append(
                finding("BST-ODOO-PORTAL-INTERNAL-FIELD", source.rel, line, message, Severity.LOW)
            )
    return found
