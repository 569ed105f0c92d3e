"""An Odoo addon tree read statically: addons in dependency order, models, security
records, parsed Python and XML, and the problems met while reading.

>>> tree = load_tree([Path("oca")])                        # doctest: +SKIP
>>> tree.model_name("helpdesk_mgmt.model_helpdesk_ticket")  # doctest: +SKIP
'helpdesk.ticket'

Only the files a manifest lists under ``data`` are security data, as for Odoo; every
``.py`` file (tests and migrations left out) is read for models and code checks, every
listed XML file also for templates.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from lxml import etree

from .catalog import BASE_FIELDS, CATALOG_PARENTS, CLOSED_MODELS, OPEN_MODELS
from .findings import Finding, finding
from .security_files import SecurityData, read_access_csv
from .security_xml import parse_xml, read_security_xml
from .static_models import PySource, StaticField, StaticModel, python_sources, read_models
from .tree import Addon, discover_addons

ACCESS_FILES = ("ir.model.access.csv", "ir.access.csv")


@dataclass(frozen=True)
class XmlSource:
    addon: Addon
    rel: str
    root: etree._Element


@dataclass
class MergedModel:
    """A model as the whole tree defines it: fields of every class that names it."""

    name: str
    declared: bool = False
    parents: set[str] = field(default_factory=set)
    fields: dict[str, StaticField] = field(default_factory=dict)
    classes: list[StaticModel] = field(default_factory=list)


@dataclass
class OdooTree:
    addons: list[Addon] = field(default_factory=list)
    models: dict[str, MergedModel] = field(default_factory=dict)
    security: SecurityData = field(default_factory=SecurityData)
    python: dict[str, list[PySource]] = field(default_factory=dict)
    xml: list[XmlSource] = field(default_factory=list)
    problems: list[Finding] = field(default_factory=list)

    def model_name(self, ref: str) -> str | None:
        """The model an ``ir.model`` XML id stands for (``x.model_sale_order`` -> sale.order)."""
        suffix = ref.rpartition(".")[2]
        if not suffix.startswith("model_"):
            return None
        return self._model_index().get(suffix)

    def _model_index(self) -> dict[str, str]:
        names = [*self.models, *CLOSED_MODELS, *OPEN_MODELS]
        return {"model_" + name.replace(".", "_"): name for name in names}

    def closed(self, model: str, _seen: frozenset[str] = frozenset()) -> bool:
        """True when every field of ``model`` is known: declared here, mixins known."""
        if model in CLOSED_MODELS:
            return True
        merged = self.models.get(model)
        if merged is None or not merged.declared or model in _seen:
            return False
        return all(self.closed(parent, _seen | {model}) for parent in merged.parents)

    def fields_of(self, model: str, _seen: frozenset[str] = frozenset()) -> dict[str, StaticField]:
        """Known fields of ``model``, those of its parents included."""
        found: dict[str, StaticField] = {}
        for name, (ftype, comodel) in {**BASE_FIELDS, **CLOSED_MODELS.get(model, {}),
                                       **OPEN_MODELS.get(model, {})}.items():  # fmt: skip
            found[name] = StaticField(name, ftype, comodel, None, True, "", 0)
        for parent in CATALOG_PARENTS.get(model, ()):
            found.update(self.fields_of(parent, _seen | {model}))
        merged = self.models.get(model)
        if merged is not None and model not in _seen:
            for parent in sorted(merged.parents):
                found.update(self.fields_of(parent, _seen | {model}))
            found.update(merged.fields)
        return found


Progress = Callable[[Addon], None]


def load_tree(paths: list[Path], progress: Progress | None = None) -> OdooTree:
    addons, problems = discover_addons(paths)
    tree = OdooTree(addons=addons, problems=problems)
    for addon in addons:
        if progress is not None:
            progress(addon)
        sources, py_problems = python_sources(addon)
        tree.python[addon.name] = sources
        tree.problems.extend(py_problems)
        for model in read_models(addon, sources):
            merged = tree.models.setdefault(model.name, MergedModel(model.name))
            merged.declared |= model.declares
            merged.parents.update(model.parents)
            merged.fields.update(model.fields)
            merged.classes.append(model)
        _read_data(addon, tree)
    tree.problems.extend(tree.security.problems)
    tree.security.problems.clear()
    return tree


def _read_data(addon: Addon, tree: OdooTree) -> None:
    for item in addon.data:
        path = addon.path / item
        if not path.is_file():
            message = f"the manifest lists {item!r}, which does not exist"
            manifest = addon.rel(addon.path / "__manifest__.py")
            tree.problems.append(finding("BST-ODOO-MALFORMED-FILE", manifest, None, message))
            continue
        if path.name in ACCESS_FILES:
            read_access_csv(addon, path, tree.security)
        elif path.suffix == ".xml":
            rel = addon.rel(path)
            root = parse_xml(path, rel, tree.security)
            if root is not None:
                read_security_xml(addon, rel, root, tree.security)
                tree.xml.append(XmlSource(addon, rel, root))
