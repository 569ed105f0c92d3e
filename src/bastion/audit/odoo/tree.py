"""Find the addons under the paths given and order them by their dependencies.

>>> addons, problems = discover_addons([Path("oca/helpdesk")])     # doctest: +SKIP
>>> [a.name for a in addons]                                        # doctest: +SKIP
['helpdesk_mgmt', 'helpdesk_portal_restriction']

An addon is a folder holding ``__manifest__.py``. The manifest is read as a literal
(:func:`bastion.loaders.manifest.read_manifest`), never imported. File names in
findings are relative to the PATH given; when the PATH is an addon itself they are
relative to its parent, so they still start with the addon's name.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

from bastion.errors import LoadError
from bastion.loaders.manifest import MANIFEST, Manifest, read_manifest

from .findings import Finding, finding

SKIPPED_DIRS = frozenset({"node_modules", "__pycache__", "static", ".git"})


@dataclass(frozen=True)
class Addon:
    name: str
    path: Path
    base: Path  # what file names are relative to
    depends: tuple[str, ...]
    data: tuple[str, ...]

    def rel(self, file: Path) -> str:
        """Example: ``addon.rel(addon.path / "security/x.csv") == "sale_x/security/x.csv"``."""
        try:
            return file.relative_to(self.base).as_posix()
        except ValueError:
            return file.as_posix()

    def files(self, suffix: str, *, skip: tuple[str, ...] = ("tests", "migrations")) -> list[Path]:
        """Every file of the addon ending in ``suffix``, sorted, test folders left out."""
        found: list[Path] = []
        for folder, dirs, names in os.walk(self.path):
            dirs[:] = sorted(d for d in dirs if d not in SKIPPED_DIRS and d not in skip)
            found.extend(Path(folder) / n for n in names if n.endswith(suffix))
        return sorted(found)


def discover_addons(paths: list[Path]) -> tuple[list[Addon], list[Finding]]:
    """The addons under ``paths`` in dependency order, and the manifests that failed."""
    addons: dict[str, Addon] = {}
    problems: list[Finding] = []
    for given in paths:
        if (given / MANIFEST).is_file():
            folders, base = [given], given.parent
        else:
            folders, base = _addon_folders(given), given
        for folder in folders:
            rel = (folder / MANIFEST).relative_to(base).as_posix()
            try:
                manifest = read_manifest(folder)
            except LoadError as exc:
                message = _load_message(exc)
                problems.append(finding("BST-ODOO-MALFORMED-FILE", rel, exc.line, message))
                continue
            if manifest.name not in addons:
                addons[manifest.name] = _addon(manifest, base)
    return dependency_order(addons), problems


def _load_message(exc: LoadError) -> str:
    """The error without its file/line prefix (the finding carries them) or object ids."""
    text = str(exc)
    for prefix in (f"{exc.path}:{exc.line}: ", f"{exc.path}: "):
        text = text.removeprefix(prefix)
    return re.sub(r"<ast\.(\w+) object at 0x[0-9a-f]+>", r"\1", text)


def _addon(manifest: Manifest, base: Path) -> Addon:
    return Addon(manifest.name, manifest.path, base, manifest.depends, manifest.data)


def _addon_folders(root: Path) -> list[Path]:
    found: list[Path] = []
    for folder, dirs, names in os.walk(root):
        if MANIFEST in names:
            found.append(Path(folder))
            dirs[:] = []  # addons do not nest
            continue
        dirs[:] = sorted(d for d in dirs if d not in SKIPPED_DIRS and not d.startswith("."))
    return sorted(found)


def dependency_order(addons: dict[str, Addon]) -> list[Addon]:
    """Dependencies first, ties by name; addons outside the tree are taken as installed.

    A dependency cycle cannot be installed by Odoo either: its members come last, by name.
    """
    done: list[Addon] = []
    placed: set[str] = set()
    pending = sorted(addons)
    while pending:
        ready = [
            name
            for name in pending
            if all(dep in placed or dep not in addons for dep in addons[name].depends)
        ]
        if not ready:
            ready = pending  # a cycle
        for name in ready:
            done.append(addons[name])
            placed.add(name)
        pending = [name for name in pending if name not in placed]
    return done
