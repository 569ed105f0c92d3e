"""Access rights, groups, rules and users of an addon, as plain records with their place.

>>> data = SecurityData()
>>> read_access_csv(addon, Path("sale_x/security/ir.model.access.csv"), data)  # doctest: +SKIP
>>> data.access[0].group, sorted(data.access[0].perms)                           # doctest: +SKIP
('base.group_portal', ['read'])

``ir.model.access.csv`` is read in both header forms (``model_id:id`` and
``model_id/id``). Odoo 19's ``ir.access.csv`` (columns ``model_id`` holding a model
name or ``model_id/id`` an XML id, ``group_id/id``, ``operation`` a subset of
``rwcd``, ``domain``) is read too: a row with a group grants (a permission), a row
without a group narrows (a restriction, like a global rule). XML files are read by
:mod:`.security_xml`. Every XML id is qualified with the addon's name when it has no
module part, as Odoo does.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path

from .findings import Finding, finding
from .tree import Addon

OPERATIONS = ("read", "write", "create", "unlink")
LETTERS = {"r": "read", "w": "write", "c": "create", "d": "unlink", "u": "unlink"}
TRUE_TEXT = frozenset({"1", "true", "yes", "y"})


@dataclass(frozen=True)
class Place:
    rel: str
    line: int | None


@dataclass(frozen=True)
class AccessRow:
    """One access line; ``model`` is a model name (Odoo 19 form) or a model XML id."""

    xmlid: str
    model: str
    model_is_xmlid: bool
    group: str | None
    perms: frozenset[str]
    domain: str | None
    kind: str  # "acl" (ir.model.access) or "access" (Odoo 19 ir.access)
    place: Place


@dataclass
class GroupDef:
    xmlid: str
    implied: list[str] = field(default_factory=list)
    implied_by: list[str] = field(default_factory=list)
    places: list[Place] = field(default_factory=list)
    # (added implied ids, place) for records of groups another addon owns
    extensions: list[tuple[tuple[str, ...], Place, str]] = field(default_factory=list)


@dataclass(frozen=True)
class RuleDef:
    xmlid: str
    name: str
    model: str | None  # a model XML id
    groups: tuple[str, ...]
    domain: str | None
    perms: frozenset[str]
    perms_given: tuple[tuple[str, bool], ...]
    global_given: bool | None
    active: bool
    place: Place


@dataclass(frozen=True)
class UserDef:
    xmlid: str
    groups: tuple[str, ...]
    place: Place


@dataclass
class SecurityData:
    access: list[AccessRow] = field(default_factory=list)
    groups: dict[str, GroupDef] = field(default_factory=dict)
    rules: list[RuleDef] = field(default_factory=list)
    users: list[UserDef] = field(default_factory=list)
    problems: list[Finding] = field(default_factory=list)

    def group(self, xmlid: str) -> GroupDef:
        return self.groups.setdefault(xmlid, GroupDef(xmlid))


def qualify(module: str, xmlid: str) -> str:
    """Example: ``qualify("sale_x", "group_a") == "sale_x.group_a"``; dotted ids stay."""
    xmlid = xmlid.strip()
    return xmlid if "." in xmlid else f"{module}.{xmlid}"


def truthy(text: str) -> bool:
    return text.strip().lower() in TRUE_TEXT


def _columns(header: list[str]) -> dict[str, tuple[int, bool]]:
    """Column name without ``:id``/``/id`` -> (index, holds an XML id)."""
    found: dict[str, tuple[int, bool]] = {}
    for index, raw in enumerate(header):
        name = raw.strip()
        is_ref = name.endswith((":id", "/id"))
        found[name[:-3] if is_ref else name] = (index, is_ref)
    return found


def read_access_csv(addon: Addon, path: Path, data: SecurityData) -> None:
    rel = addon.rel(path)
    odoo19 = path.name == "ir.access.csv"
    try:
        with path.open(encoding="utf-8", newline="") as handle:
            rows = list(csv.reader(handle))
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        data.problems.append(finding("BST-ODOO-MALFORMED-FILE", rel, None, f"cannot read: {exc}"))
        return
    if not rows:
        data.problems.append(finding("BST-ODOO-MALFORMED-FILE", rel, 1, "empty CSV file"))
        return
    columns = _columns(rows[0])
    needed = ("id", "model_id", "group_id") + (() if odoo19 else ("perm_read",))
    missing = [name for name in needed if name not in columns]
    if missing:
        message = f"header lacks column(s) {', '.join(missing)}"
        data.problems.append(finding("BST-ODOO-MALFORMED-FILE", rel, 1, message))
        return
    for number, row in enumerate(rows[1:], start=2):
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != len(rows[0]):
            message = f"expected {len(rows[0])} values, found {len(row)}"
            data.problems.append(finding("BST-ODOO-MALFORMED-FILE", rel, number, message))
            continue
        data.access.append(_access_row(addon.name, columns, row, odoo19, Place(rel, number)))


def _access_row(
    module: str, columns: dict[str, tuple[int, bool]], row: list[str], odoo19: bool, place: Place
) -> AccessRow:
    def cell(name: str) -> str:
        index = columns.get(name, (None, False))[0]
        return row[index].strip() if index is not None else ""

    model_index, model_is_ref = columns["model_id"]
    model = row[model_index].strip()
    if model_is_ref:
        model = qualify(module, model)
    group_text = cell("group_id")
    group = qualify(module, group_text) if group_text else None
    if odoo19:
        perms = frozenset(LETTERS[c] for c in cell("operation").lower() if c in LETTERS)
        domain = cell("domain") or None
        kind = "access"
    else:
        perms = frozenset(op for op in OPERATIONS if truthy(cell(f"perm_{op}")))
        domain, kind = None, "acl"
    return AccessRow(
        qualify(module, cell("id") or f"row{place.line}"),
        model,
        model_is_ref,
        group,
        perms,
        domain,
        kind,
        place,
    )
